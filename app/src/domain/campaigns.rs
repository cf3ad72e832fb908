//! Campaigns: their statuses, which tests may join one, when one is complete, and how a
//! recurring campaign's periods follow each other (what the `recurring_campaigns` job spawns).
use crate::domain::coverage::{CoverageStatus, TestOutcome, coverage_status};
use crate::domain::rbac::Role;
use crate::domain::values::{DetectionResult, string_enum};
use crate::domain::workflow::TestState;
use chrono::{Datelike, Duration, Months, NaiveDate};
use std::collections::BTreeMap;

/// Longest campaign name.
pub const NAME_MAX: usize = 200;
/// Most tests one `add tests` call or one `generate` creates.
pub const BATCH_MAX: usize = 1_000;

string_enum! {
    /// Where a campaign stands.
    #[derive(Default)]
    pub enum CampaignStatus ("campaign status") {
        #[default]
        Planned = "planned" / "Planned",
        Active = "active" / "Active",
        Completed = "completed" / "Completed",
        Cancelled = "cancelled" / "Cancelled",
    }
}

impl CampaignStatus {
    /// Completed and cancelled campaigns take no more tests.
    pub fn is_open(self) -> bool {
        matches!(self, CampaignStatus::Planned | CampaignStatus::Active)
    }
}

/// Who may own a campaign: a lead or an admin.
pub fn may_own(role: Role) -> bool {
    role == Role::Admin || role.is_lead()
}

/// A campaign ends on or after the day it starts.
pub fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), String> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(format!(
            "The end date ({end}) is before the start date ({start})"
        )),
        _ => Ok(()),
    }
}

/// A recurring campaign needs the day its first period starts.
pub fn check_recurrence(
    recurrence: Option<Recurrence>,
    start: Option<NaiveDate>,
) -> Result<(), String> {
    match (recurrence, start) {
        (Some(recurrence), None) => {
            recurrence.check()?;
            Err("A recurring campaign needs a start date: its first period starts then".into())
        }
        (Some(recurrence), Some(_)) => recurrence.check().map(|_| ()),
        (None, _) => Ok(()),
    }
}

/// Each technique's coverage within a campaign: the coverage rule over the campaign's own
/// tests of it (`(technique, state, detection)`), with their number.
pub fn technique_coverage(
    tests: &[(String, TestState, Option<DetectionResult>)],
) -> BTreeMap<String, (CoverageStatus, u64)> {
    let mut outcomes: BTreeMap<String, Vec<TestOutcome>> = BTreeMap::new();
    for (technique, state, detection) in tests {
        outcomes
            .entry(technique.clone())
            .or_default()
            .push(TestOutcome::of(*state, *detection));
    }
    outcomes
        .into_iter()
        .map(|(technique, outcomes)| {
            let n = outcomes.len() as u64;
            (technique, (coverage_status(outcomes), n))
        })
        .collect()
}

/// Tests added to a campaign must not be under way yet (or be finished as rejected), as the
/// lifecycle document's "add to campaigns" in draft says.
pub fn may_join(state: TestState) -> Result<(), String> {
    match state {
        TestState::Draft | TestState::Rejected => Ok(()),
        other => Err(format!(
            "Only draft or rejected tests join a campaign; this one is {other}"
        )),
    }
}

/// A campaign completes when it has tests and every one is validated or rejected.
pub fn is_complete(states: &[TestState]) -> bool {
    !states.is_empty() && states.iter().all(|s| !s.is_active())
}

/// How often a campaign recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "every", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Recurrence {
    Weekly,
    Monthly,
    Quarterly,
    /// Every `days` days (1 to [`DAYS_MAX`]).
    Days {
        days: u32,
    },
}

/// Longest "every N days".
pub const DAYS_MAX: u32 = 366;

impl Recurrence {
    pub fn check(self) -> Result<Self, String> {
        match self {
            Recurrence::Days { days } if days == 0 || days > DAYS_MAX => {
                Err(format!("Every 1 to {DAYS_MAX} days"))
            }
            other => Ok(other),
        }
    }

    /// The first day of period `n` (0 is the one starting on `start`); month arithmetic
    /// keeps to the last day of shorter months (31 January, then 28 or 29 February).
    pub fn period_start(self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        match self {
            Recurrence::Weekly => start.checked_add_signed(Duration::weeks(i64::from(n))),
            Recurrence::Monthly => start.checked_add_months(Months::new(n)),
            Recurrence::Quarterly => start.checked_add_months(Months::new(n.checked_mul(3)?)),
            Recurrence::Days { days } => {
                start.checked_add_signed(Duration::days(i64::from(days) * i64::from(n)))
            }
        }
    }

    /// The period that contains `today` (the last that has begun), `None` before `start`.
    pub fn current_period(self, start: NaiveDate, today: NaiveDate) -> Option<u32> {
        if today < start {
            return None;
        }
        // An estimate from the average length, then corrected: exact and bounded.
        let approx_days = match self {
            Recurrence::Weekly => 7.0,
            Recurrence::Monthly => 30.44,
            Recurrence::Quarterly => 91.31,
            Recurrence::Days { days } => f64::from(days.max(1)),
        };
        let elapsed = (today - start).num_days() as f64;
        let mut n = (elapsed / approx_days).floor().max(0.0) as u32;
        while n > 0 && self.period_start(start, n).is_none_or(|d| d > today) {
            n -= 1;
        }
        while self.period_start(start, n + 1).is_some_and(|d| d <= today) {
            n += 1;
        }
        Some(n)
    }

    /// How a period is named in the spawned campaign's title: `2026-W49`, `2026-12`,
    /// `2026-Q4`, or its first day.
    pub fn period_label(self, period_start: NaiveDate) -> String {
        match self {
            Recurrence::Weekly => {
                let week = period_start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Recurrence::Monthly => format!("{}-{:02}", period_start.year(), period_start.month()),
            Recurrence::Quarterly => format!(
                "{}-Q{}",
                period_start.year(),
                (period_start.month() - 1) / 3 + 1
            ),
            Recurrence::Days { .. } => period_start.format("%Y-%m-%d").to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn only_draft_or_rejected_tests_join() {
        assert!(may_join(TestState::Draft).is_ok());
        assert!(may_join(TestState::Rejected).is_ok());
        for state in [
            TestState::RedExecuting,
            TestState::BlueEvaluating,
            TestState::InReview,
            TestState::Validated,
        ] {
            assert!(may_join(state).is_err(), "{state}");
        }
    }

    #[test]
    fn a_campaign_completes_when_every_test_is_finished() {
        assert!(!is_complete(&[]));
        assert!(is_complete(&[TestState::Validated, TestState::Rejected]));
        assert!(!is_complete(&[TestState::Validated, TestState::InReview]));
        assert!(CampaignStatus::Active.is_open());
        assert!(!CampaignStatus::Cancelled.is_open());
    }

    #[test]
    fn owners_dates_and_recurrence_are_checked() {
        assert!(may_own(Role::Admin) && may_own(Role::RedLead) && may_own(Role::BlueLead));
        assert!(!may_own(Role::RedTech) && !may_own(Role::Viewer));
        assert!(check_dates(Some(day(2026, 1, 2)), Some(day(2026, 1, 2))).is_ok());
        assert!(check_dates(None, Some(day(2026, 1, 2))).is_ok());
        let err = check_dates(Some(day(2026, 1, 2)), Some(day(2026, 1, 1))).unwrap_err();
        assert!(err.contains("before the start"), "{err}");
        assert!(check_recurrence(Some(Recurrence::Weekly), None).is_err());
        assert!(check_recurrence(Some(Recurrence::Weekly), Some(day(2026, 1, 1))).is_ok());
        assert!(
            check_recurrence(Some(Recurrence::Days { days: 0 }), Some(day(2026, 1, 1)))
                .unwrap_err()
                .contains("Every 1 to")
        );
        assert!(check_recurrence(None, None).is_ok());
    }

    #[test]
    fn a_technique_is_covered_within_a_campaign_by_its_tests_there() {
        use DetectionResult::*;
        let tests = vec![
            ("T1".to_owned(), TestState::Validated, Some(Partial)),
            ("T1".to_owned(), TestState::Validated, Some(Detected)),
            ("T2".to_owned(), TestState::Validated, Some(NotDetected)),
            ("T3".to_owned(), TestState::Draft, None),
            ("T4".to_owned(), TestState::Rejected, None),
        ];
        let coverage = technique_coverage(&tests);
        assert_eq!(coverage["T1"], (CoverageStatus::Validated, 2));
        assert_eq!(coverage["T2"], (CoverageStatus::Partial, 1));
        assert_eq!(coverage["T3"], (CoverageStatus::InProgress, 1));
        assert_eq!(coverage["T4"], (CoverageStatus::NotCovered, 1));
        assert!(technique_coverage(&[]).is_empty());
    }

    #[test]
    fn periods_follow_the_calendar() {
        let start = day(2026, 1, 31);
        assert_eq!(
            Recurrence::Monthly.period_start(start, 1),
            Some(day(2026, 2, 28))
        );
        assert_eq!(
            Recurrence::Monthly.period_start(start, 2),
            Some(day(2026, 3, 31))
        );
        assert_eq!(
            Recurrence::Quarterly.period_start(start, 1),
            Some(day(2026, 4, 30))
        );
        assert_eq!(
            Recurrence::Weekly.period_start(start, 2),
            Some(day(2026, 2, 14))
        );
        assert_eq!(
            Recurrence::Days { days: 10 }.period_start(start, 3),
            Some(day(2026, 3, 2))
        );
    }

    #[test]
    fn the_current_period_is_the_last_begun() {
        let start = day(2026, 1, 31);
        assert_eq!(
            Recurrence::Monthly.current_period(start, day(2026, 1, 30)),
            None
        );
        assert_eq!(Recurrence::Monthly.current_period(start, start), Some(0));
        assert_eq!(
            Recurrence::Monthly.current_period(start, day(2026, 2, 27)),
            Some(0)
        );
        assert_eq!(
            Recurrence::Monthly.current_period(start, day(2026, 2, 28)),
            Some(1)
        );
        assert_eq!(
            Recurrence::Monthly.current_period(start, day(2028, 12, 31)),
            Some(35)
        );
        assert_eq!(
            Recurrence::Weekly.current_period(day(2026, 12, 1), day(2026, 12, 14)),
            Some(1)
        );
        // Every answer agrees with the periods themselves, day by day over three years.
        for recurrence in [
            Recurrence::Weekly,
            Recurrence::Monthly,
            Recurrence::Quarterly,
            Recurrence::Days { days: 13 },
        ] {
            let mut today = start;
            while today < day(2029, 2, 1) {
                let n = recurrence.current_period(start, today).unwrap();
                assert!(recurrence.period_start(start, n).unwrap() <= today);
                assert!(recurrence.period_start(start, n + 1).unwrap() > today);
                today = today.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn periods_are_named_and_checked() {
        assert_eq!(
            Recurrence::Weekly.period_label(day(2026, 12, 1)),
            "2026-W49"
        );
        assert_eq!(
            Recurrence::Monthly.period_label(day(2026, 2, 28)),
            "2026-02"
        );
        assert_eq!(
            Recurrence::Quarterly.period_label(day(2026, 11, 30)),
            "2026-Q4"
        );
        assert_eq!(
            Recurrence::Days { days: 3 }.period_label(day(2026, 3, 2)),
            "2026-03-02"
        );
        assert!(Recurrence::Days { days: 0 }.check().is_err());
        assert!(Recurrence::Days { days: 367 }.check().is_err());
        assert!(Recurrence::Days { days: 14 }.check().is_ok());
        let wire: Recurrence = serde_json::from_str(r#"{"every": "days", "days": 14}"#).unwrap();
        assert_eq!(wire, Recurrence::Days { days: 14 });
        let wire: Recurrence = serde_json::from_str(r#"{"every": "quarterly"}"#).unwrap();
        assert_eq!(wire, Recurrence::Quarterly);
    }
}
