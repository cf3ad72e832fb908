//! Reading form text into values: what every server function of a form shares.
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDateTime, Utc};

/// `None` for blank form text.
pub fn text(value: String) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A chosen user or test id; blank is none.
pub fn id(field: &str, value: String) -> AppResult<Option<uuid::Uuid>> {
    text(value)
        .map(|v| uuid::Uuid::parse_str(&v).map_err(|_| AppError::field(field, "Not a valid id")))
        .transpose()
}

/// A `datetime-local` value (UTC, as the form says) or RFC 3339.
pub fn time(field: &str, value: String) -> AppResult<Option<DateTime<Utc>>> {
    let Some(value) = text(value) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&value) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&value, format) {
            return Ok(Some(t.and_utc()));
        }
    }
    Err(AppError::field(field, "Not a date and time"))
}

/// A `date` input (`YYYY-MM-DD`); blank is none.
pub fn date(field: &str, value: String) -> AppResult<Option<chrono::NaiveDate>> {
    text(value)
        .map(|v| {
            chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map_err(|_| AppError::field(field, "Not a date (YYYY-MM-DD)"))
        })
        .transpose()
}

/// A whole number of minutes.
pub fn minutes(value: &str) -> AppResult<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::field("minutes", "A whole number of minutes"))
}
