//! How a technique's coverage status follows from its tests. The one place this rule lives:
//! the test workflow calls [`coverage_status`] whenever a test changes state.
use crate::domain::values::{DetectionResult, string_enum};
use crate::domain::workflow::TestState;

string_enum! {
    /// A technique's coverage, ordered strongest first.
    pub enum CoverageStatus ("coverage status") {
        Validated = "validated" / "Validated",
        Partial = "partial" / "Partially covered",
        InProgress = "in_progress" / "In progress",
        NotCovered = "not_covered" / "Not covered",
    }
}

impl CoverageStatus {
    /// The status colour as hex, for charts and exported Navigator layers (the matrix cells'
    /// Tailwind colours).
    pub fn color(self) -> &'static str {
        match self {
            CoverageStatus::Validated => "#10b981",
            CoverageStatus::Partial => "#fcd34d",
            CoverageStatus::InProgress => "#7dd3fc",
            CoverageStatus::NotCovered => "#e2e8f0",
        }
    }

    /// A Navigator layer score: how far the technique is covered, 0–100.
    pub fn score(self) -> u8 {
        match self {
            CoverageStatus::Validated => 100,
            CoverageStatus::Partial => 50,
            CoverageStatus::InProgress => 25,
            CoverageStatus::NotCovered => 0,
        }
    }
}

/// Where one test of a technique stands, as far as coverage cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    /// Draft, executing, evaluating or in review.
    Active,
    /// Approved by both leads, with the blue team's detection result.
    Validated(DetectionResult),
    /// Rejected: says nothing about coverage until reopened.
    Rejected,
}

impl TestOutcome {
    /// A test's outcome from its state and the blue team's result. A validated test without
    /// a recorded result counts as a miss (submit-blue requires one, so only old data lacks it).
    pub fn of(state: TestState, detection: Option<DetectionResult>) -> TestOutcome {
        match state {
            TestState::Validated => {
                TestOutcome::Validated(detection.unwrap_or(DetectionResult::NotDetected))
            }
            TestState::Rejected => TestOutcome::Rejected,
            _ => TestOutcome::Active,
        }
    }
}

/// The coverage rule (README, "Coverage"): `validated` when a validated test detected the
/// technique; `partial` when validated tests exist but detection was only partial or missed
/// (the technique has been exercised, and the gap is known); `in_progress` while tests are
/// under way; `not_covered` otherwise. Rejected tests count for nothing until reopened.
pub fn coverage_status(outcomes: impl IntoIterator<Item = TestOutcome>) -> CoverageStatus {
    let mut best = CoverageStatus::NotCovered;
    for outcome in outcomes {
        let status = match outcome {
            TestOutcome::Validated(DetectionResult::Detected) => return CoverageStatus::Validated,
            TestOutcome::Validated(DetectionResult::Partial | DetectionResult::NotDetected) => {
                CoverageStatus::Partial
            }
            TestOutcome::Active => CoverageStatus::InProgress,
            TestOutcome::Rejected => CoverageStatus::NotCovered,
        };
        // The enum is ordered strongest first.
        best = best.min(status);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use TestOutcome::*;

    #[test]
    fn no_tests_means_not_covered() {
        assert_eq!(coverage_status([]), CoverageStatus::NotCovered);
    }

    #[test]
    fn strongest_evidence_wins() {
        assert_eq!(
            coverage_status([Active, Validated(DetectionResult::Detected)]),
            CoverageStatus::Validated
        );
        assert_eq!(
            coverage_status([Validated(DetectionResult::Partial), Active]),
            CoverageStatus::Partial
        );
        assert_eq!(
            coverage_status([Active, Rejected]),
            CoverageStatus::InProgress
        );
        assert_eq!(coverage_status([Rejected]), CoverageStatus::NotCovered);
        assert_eq!(
            coverage_status([Validated(DetectionResult::NotDetected)]),
            CoverageStatus::Partial,
            "a validated miss is a known gap: partial"
        );
        assert_eq!(
            coverage_status([Validated(DetectionResult::NotDetected), Active]),
            CoverageStatus::Partial
        );
        assert_eq!(
            coverage_status([
                Validated(DetectionResult::NotDetected),
                Validated(DetectionResult::Partial)
            ]),
            CoverageStatus::Partial
        );
    }

    #[test]
    fn outcome_of_every_state() {
        for state in TestState::ALL {
            for detection in [
                None,
                Some(DetectionResult::Detected),
                Some(DetectionResult::Partial),
            ] {
                let outcome = TestOutcome::of(state, detection);
                let expected = match state {
                    TestState::Validated => {
                        Validated(detection.unwrap_or(DetectionResult::NotDetected))
                    }
                    TestState::Rejected => Rejected,
                    _ => Active,
                };
                assert_eq!(outcome, expected, "{state} {detection:?}");
            }
        }
        assert_eq!(
            TestOutcome::of(TestState::Validated, None),
            Validated(DetectionResult::NotDetected)
        );
    }

    #[test]
    fn statuses_parse_and_print() {
        for status in CoverageStatus::ALL {
            assert_eq!(status.as_str().parse::<CoverageStatus>(), Ok(status));
        }
        assert!("covered".parse::<CoverageStatus>().is_err());
    }
}
