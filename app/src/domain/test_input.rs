//! The rules for what people type into a test: titles, platforms, addresses, choices, times.
//! Pure, so the form and the server say the same thing; the checks that need the database
//! (techniques, assignees, retest links) live in the workflow service and build on these.
use crate::domain::validation::check_text;
use crate::domain::values::Choice;
use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::str::FromStr;

pub const TITLE_MAX: usize = 300;
pub const PLATFORM_MAX: usize = 64;
pub const STEP_TITLE_MAX: usize = 500;

/// `None` for blank text: an empty field is no value.
pub fn text(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// A value from a fixed set, typed in any case; a field error naming the choices otherwise.
pub fn choice<T>(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<T>
where
    T: Choice,
{
    match raw.trim().to_lowercase().parse::<T>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("Must be one of: {}", T::choices().join(", ")),
            );
            None
        }
    }
}

pub fn check_title(title: &str, errors: &mut FieldErrors) {
    let title = title.trim();
    if title.is_empty() {
        errors.insert("title".into(), "Title is required".into());
    } else if title.chars().count() > TITLE_MAX {
        errors.insert(
            "title".into(),
            format!("Title must be at most {TITLE_MAX} characters"),
        );
    }
}

/// Trimmed and lower-cased; at most [`PLATFORM_MAX`] characters.
pub fn clean_platform(platform: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let platform = text(platform).map(|p| p.trim().to_lowercase());
    if platform
        .as_ref()
        .is_some_and(|p| p.chars().count() > PLATFORM_MAX)
    {
        errors.insert(
            "platform".into(),
            format!("At most {PLATFORM_MAX} characters"),
        );
    }
    platform
}

/// An IPv4 or IPv6 address, in its canonical form; blank clears.
pub fn check_ip(field: &str, value: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let value = text(value)?;
    match IpAddr::from_str(value.trim()) {
        Ok(ip) => Some(ip.to_string()),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("'{value}' is not an IPv4 or IPv6 address"),
            );
            Some(value)
        }
    }
}

/// The red team's execution window must not end before it starts.
pub fn check_window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    errors: &mut FieldErrors,
) {
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        errors.insert(
            "end_time".into(),
            format!("end_time ({end}) must not be before start_time ({start})"),
        );
    }
}

pub fn check_time_to_detect(seconds: Option<i64>, errors: &mut FieldErrors) {
    if seconds.is_some_and(|s| s < 0) {
        errors.insert(
            "time_to_detect_seconds".into(),
            "Must be 0 or more seconds".into(),
        );
    }
}

/// A remediation step needs a title of at most [`STEP_TITLE_MAX`] characters.
pub fn check_step_title(field: &str, title: &str, errors: &mut FieldErrors) {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > STEP_TITLE_MAX {
        errors.insert(
            field.into(),
            format!("A step needs a title of at most {STEP_TITLE_MAX} characters"),
        );
    }
}

/// An optional free-text field: checked when given, blank clears.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    errors: &mut FieldErrors,
) -> Option<String> {
    if let Some(v) = &value {
        check_text(field, v, errors);
    }
    text(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::{DetectionResult, Severity};

    #[test]
    fn titles() {
        let mut errors = FieldErrors::new();
        check_title("  ", &mut errors);
        assert_eq!(errors["title"], "Title is required");
        let mut errors = FieldErrors::new();
        check_title(&"x".repeat(TITLE_MAX + 1), &mut errors);
        assert!(errors["title"].contains("at most 300"));
        let mut errors = FieldErrors::new();
        check_title(&"é".repeat(TITLE_MAX), &mut errors);
        assert!(errors.is_empty(), "characters, not bytes");
    }

    #[test]
    fn choices_in_any_case_or_a_field_error() {
        let mut errors = FieldErrors::new();
        assert_eq!(
            choice::<Severity>("severity", " High ", &mut errors),
            Some(Severity::High)
        );
        assert_eq!(
            choice::<DetectionResult>("detection_result", "maybe", &mut errors),
            None
        );
        assert_eq!(
            errors["detection_result"],
            "Must be one of: detected, not_detected, partial"
        );
    }

    #[test]
    fn platforms_ips_and_windows() {
        let mut errors = FieldErrors::new();
        assert_eq!(
            clean_platform(Some(" Windows ".into()), &mut errors),
            Some("windows".into())
        );
        assert_eq!(clean_platform(Some("  ".into()), &mut errors), None);
        clean_platform(Some("x".repeat(PLATFORM_MAX + 1)), &mut errors);
        assert!(errors.contains_key("platform"));

        let mut errors = FieldErrors::new();
        assert_eq!(
            check_ip("attacker_ip", Some(" 10.0.0.1 ".into()), &mut errors),
            Some("10.0.0.1".into())
        );
        assert_eq!(
            check_ip("target_ip", Some("::0001".into()), &mut errors),
            Some("::1".into())
        );
        assert_eq!(check_ip("target_ip", Some("".into()), &mut errors), None);
        assert!(errors.is_empty());
        check_ip("target_ip", Some("300.1.1.1".into()), &mut errors);
        assert!(errors["target_ip"].contains("not an IPv4 or IPv6"));

        let mut errors = FieldErrors::new();
        let now = Utc::now();
        check_window(Some(now), Some(now), &mut errors);
        check_window(Some(now), None, &mut errors);
        assert!(errors.is_empty());
        check_window(
            Some(now),
            Some(now - chrono::Duration::seconds(1)),
            &mut errors,
        );
        assert!(errors.contains_key("end_time"));
    }

    #[test]
    fn times_steps_and_texts() {
        let mut errors = FieldErrors::new();
        check_time_to_detect(Some(0), &mut errors);
        check_time_to_detect(None, &mut errors);
        assert!(errors.is_empty());
        check_time_to_detect(Some(-1), &mut errors);
        assert!(errors.contains_key("time_to_detect_seconds"));

        let mut errors = FieldErrors::new();
        check_step_title("steps[0].title", "Patch", &mut errors);
        assert!(errors.is_empty());
        check_step_title("steps[1].title", " ", &mut errors);
        check_step_title("steps[2].title", &"x".repeat(501), &mut errors);
        assert_eq!(errors.len(), 2);

        let mut errors = FieldErrors::new();
        assert_eq!(optional_text("notes", Some(" ".into()), &mut errors), None);
        assert_eq!(
            optional_text("notes", Some("ok".into()), &mut errors),
            Some("ok".into())
        );
        assert!(errors.is_empty());
    }
}
