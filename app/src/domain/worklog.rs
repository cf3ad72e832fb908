//! The worklog of a test: who may log time on it, who may change an entry, and what an entry
//! may say.
use crate::domain::rbac::Role;
use crate::domain::workflow::TestState;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Longest single entry: one day.
pub const MINUTES_MAX: i32 = 24 * 60;
/// Longest note.
pub const NOTE_MAX: usize = 2000;
/// Entries one test may hold.
pub const ENTRIES_MAX: u64 = 1000;
/// How far in the future a start may be (clock skew).
const FUTURE_SLACK_MINUTES: i64 = 5;

/// May `role` log time on a test in `state`? Everyone who works on tests (not viewers), while
/// the test is active (not validated or rejected).
pub fn may_log(role: Role, state: TestState) -> Result<(), String> {
    if role == Role::Viewer {
        return Err("Viewers do not log work".into());
    }
    if !state.is_active() {
        return Err(format!("The test is {state}: its worklog is closed"));
    }
    Ok(())
}

/// May the caller change (edit or delete) an entry? Only its author, while the test is active.
pub fn may_change(is_author: bool, state: TestState) -> Result<(), String> {
    if !is_author {
        return Err("Only the author of a worklog entry may change it".into());
    }
    if !state.is_active() {
        return Err(format!("The test is {state}: its worklog is closed"));
    }
    Ok(())
}

/// The field errors of an entry: minutes from 1 to [`MINUTES_MAX`], a note of at most
/// [`NOTE_MAX`] characters, a start not in the future.
pub fn check(
    minutes: i64,
    note: &str,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    if minutes < 1 || minutes > i64::from(MINUTES_MAX) {
        errors.insert(
            "minutes".into(),
            format!("Between 1 and {MINUTES_MAX} minutes"),
        );
    }
    if note.chars().count() > NOTE_MAX {
        errors.insert("note".into(), format!("At most {NOTE_MAX} characters"));
    }
    if started_at.is_some_and(|s| s > now + Duration::minutes(FUTURE_SLACK_MINUTES)) {
        errors.insert("started_at".into(), "Cannot start in the future".into());
    }
    errors
}

/// `95` → `1 h 35 min`.
pub fn duration_text(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_log_and_change() {
        assert!(may_log(Role::RedTech, TestState::RedExecuting).is_ok());
        assert!(may_log(Role::BlueLead, TestState::Draft).is_ok());
        assert!(may_log(Role::Viewer, TestState::Draft).is_err());
        assert!(
            may_log(Role::Admin, TestState::Validated)
                .unwrap_err()
                .contains("closed")
        );
        assert!(may_log(Role::RedLead, TestState::Rejected).is_err());
        assert!(may_change(true, TestState::InReview).is_ok());
        assert!(may_change(false, TestState::InReview).is_err());
        assert!(may_change(true, TestState::Validated).is_err());
    }

    #[test]
    fn entries_are_bounded() {
        let now = Utc::now();
        assert!(check(30, "Ran the payload", None, now).is_empty());
        assert!(check(MINUTES_MAX.into(), "", Some(now), now).is_empty());
        assert!(check(0, "", None, now).contains_key("minutes"));
        assert!(check(-5, "", None, now).contains_key("minutes"));
        assert!(check(i64::from(MINUTES_MAX) + 1, "", None, now).contains_key("minutes"));
        assert!(check(5, &"é".repeat(NOTE_MAX), None, now).is_empty());
        assert!(check(5, &"é".repeat(NOTE_MAX + 1), None, now).contains_key("note"));
        assert!(check(5, "", Some(now + Duration::minutes(4)), now).is_empty());
        assert!(check(5, "", Some(now + Duration::hours(1)), now).contains_key("started_at"));
    }

    #[test]
    fn durations_read_as_hours_and_minutes() {
        assert_eq!(duration_text(45), "45 min");
        assert_eq!(duration_text(120), "2 h");
        assert_eq!(duration_text(95), "1 h 35 min");
    }
}
