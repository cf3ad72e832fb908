//! The filters the metrics and reports share (tactic, platform, technique set, campaign, date
//! range), resolved once and turned into SQL conditions over techniques (alias `t`) and tests
//! (alias `s`). Unknown tactics, sets and campaigns are a 400; malformed dates and ids a 422
//! naming the field. A campaign keeps its tests and the techniques they exercise.
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::tactic;
use crate::server::knowledge::reads;
use crate::server::knowledge::technique_sets;
use crate::server::platform::db::json_list_contains;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

/// The longest date range a query may ask for.
const MAX_RANGE_DAYS: i64 = 3_660;

#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub tactic: Option<tactic::Model>,
    pub platform: Option<String>,
    pub technique_set: Option<Uuid>,
    pub campaign: Option<Uuid>,
    /// Inclusive first and last day; either may be open.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn parse_day(field: &str, value: &Option<String>, errors: &mut FieldErrors) -> Option<NaiveDate> {
    let text = trimmed(value)?;
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) => Some(day),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("'{text}' is not a date; expected YYYY-MM-DD"),
            );
            None
        }
    }
}

/// Parses `date_from`/`date_to` (inclusive), checking their order and span.
pub fn date_range(
    date_from: &Option<String>,
    date_to: &Option<String>,
) -> AppResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    let mut errors = FieldErrors::new();
    let from = parse_day("date_from", date_from, &mut errors);
    let to = parse_day("date_to", date_to, &mut errors);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.insert("date_to".into(), "Must not be before date_from".into());
        } else if (to - from).num_days() > MAX_RANGE_DAYS {
            errors.insert(
                "date_from".into(),
                format!("The range may span at most {MAX_RANGE_DAYS} days"),
            );
        }
    }
    AppError::invalid("Invalid date range", errors)?;
    Ok((from, to))
}

/// A closed range: the given days, or the `default_days` ending today.
pub fn closed_range(
    date_from: &Option<String>,
    date_to: &Option<String>,
    default_days: i64,
) -> AppResult<(NaiveDate, NaiveDate)> {
    let (from, to) = date_range(date_from, date_to)?;
    let to = to.unwrap_or_else(|| Utc::now().date_naive());
    let from = from.unwrap_or(to - Duration::days(default_days - 1));
    if from > to {
        return Err(AppError::field("date_from", "Must not be after date_to"));
    }
    Ok((from, to))
}

/// Midnight UTC at the start of `day`.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl Scope {
    pub async fn resolve(
        conn: &impl ConnectionTrait,
        tactic: &Option<String>,
        platform: &Option<String>,
        technique_set: &Option<String>,
        campaign: &Option<String>,
        date_from: &Option<String>,
        date_to: &Option<String>,
    ) -> AppResult<Self> {
        let tactic = match trimmed(tactic) {
            Some(key) => Some(reads::resolve_tactic(conn, key).await?),
            None => None,
        };
        let technique_set = match trimmed(technique_set) {
            Some(key) => Some(technique_sets::resolve(conn, key).await?.id),
            None => None,
        };
        let campaign = match trimmed(campaign) {
            Some(key) => {
                let id = Uuid::parse_str(key)
                    .map_err(|_| AppError::field("campaign", "Not a campaign id"))?;
                crate::server::campaigns::find(conn, id)
                    .await
                    .map_err(|_| AppError::BadRequest(format!("Unknown campaign '{key}'")))?;
                Some(id)
            }
            None => None,
        };
        let (from, to) = date_range(date_from, date_to)?;
        Ok(Self {
            tactic,
            platform: trimmed(platform).map(str::to_lowercase),
            technique_set,
            campaign,
            from,
            to,
        })
    }

    /// Conditions on active techniques (`t`) for the tactic, platform and set filters.
    pub fn technique_sql(&self, values: &mut Vec<Value>) -> String {
        let mut parts = vec!["t.deprecated = ?".to_owned(), "t.revoked = ?".to_owned()];
        values.push(false.into());
        values.push(false.into());
        if let Some(tactic) = &self.tactic {
            let (sql, value) = json_list_contains("t.tactics", &tactic.shortname);
            parts.push(sql);
            values.push(value);
        }
        if let Some(platform) = &self.platform {
            let (sql, value) = json_list_contains("t.platforms", platform);
            parts.push(sql);
            values.push(value);
        }
        if let Some(set) = self.technique_set {
            parts.push(
                "t.mitre_id IN (SELECT i.technique_id FROM technique_set_items i \
                 WHERE i.set_id = ?)"
                    .into(),
            );
            values.push(set.into());
        }
        if let Some(campaign) = self.campaign {
            parts.push(
                "t.mitre_id IN (SELECT c.technique_id FROM tests c WHERE c.campaign_id = ?)".into(),
            );
            values.push(campaign.into());
        }
        parts.join(" AND ")
    }

    /// Conditions on tests (`s`): their technique within the tactic and set, their own
    /// platform, and their creation day within the range.
    pub fn test_sql(&self, values: &mut Vec<Value>) -> String {
        let mut parts = vec!["1 = 1".to_owned()];
        if self.tactic.is_some() || self.technique_set.is_some() {
            let technique_filter = Scope {
                platform: None,
                campaign: None,
                ..self.clone()
            };
            let inner = technique_filter.technique_sql(values);
            parts.push(format!(
                "s.technique_id IN (SELECT t.mitre_id FROM techniques t WHERE {inner})"
            ));
        }
        if let Some(campaign) = self.campaign {
            parts.push("s.campaign_id = ?".into());
            values.push(campaign.into());
        }
        if let Some(platform) = &self.platform {
            parts.push("s.platform = ?".into());
            values.push(platform.clone().into());
        }
        if let Some(from) = self.from {
            parts.push("s.created_at >= ?".into());
            values.push(start_of(from).into());
        }
        if let Some(to) = self.to {
            parts.push("s.created_at < ?".into());
            values.push(start_of(to + Duration::days(1)).into());
        }
        parts.join(" AND ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn date_ranges_are_checked() {
        assert_eq!(
            date_range(&some("2026-01-02"), &some("2026-01-05")).unwrap(),
            (
                NaiveDate::from_ymd_opt(2026, 1, 2),
                NaiveDate::from_ymd_opt(2026, 1, 5)
            )
        );
        let err = date_range(&some("2026-13-01"), &None).unwrap_err();
        assert!(err.fields().contains_key("date_from"));
        let err = date_range(&some("2026-02-01"), &some("2026-01-01")).unwrap_err();
        assert!(err.fields().contains_key("date_to"));
        let err = date_range(&some("2000-01-01"), &some("2026-01-01")).unwrap_err();
        assert!(err.fields().contains_key("date_from"));
        assert_eq!(date_range(&some(" "), &None).unwrap(), (None, None));
    }

    #[test]
    fn closed_ranges_default_to_the_days_ending_today() {
        let (from, to) = closed_range(&None, &None, 30).unwrap();
        assert_eq!(to, Utc::now().date_naive());
        assert_eq!((to - from).num_days(), 29);
        let (from, to) = closed_range(&None, &some("2026-03-31"), 7).unwrap();
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 3, 25).unwrap());
        assert_eq!(to, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
    }
}
