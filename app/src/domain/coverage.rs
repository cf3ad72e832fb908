//! How a technique's coverage status follows from its tests. The one place this rule lives:
//! the test workflow calls [`coverage_status`] whenever a test changes state.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    Validated,
    Partial,
    InProgress,
    NotCovered,
}

impl CoverageStatus {
    pub const ALL: [CoverageStatus; 4] = [
        CoverageStatus::Validated,
        CoverageStatus::Partial,
        CoverageStatus::InProgress,
        CoverageStatus::NotCovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Validated => "validated",
            CoverageStatus::Partial => "partial",
            CoverageStatus::InProgress => "in_progress",
            CoverageStatus::NotCovered => "not_covered",
        }
    }

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

    pub fn label(self) -> &'static str {
        match self {
            CoverageStatus::Validated => "Validated",
            CoverageStatus::Partial => "Partially covered",
            CoverageStatus::InProgress => "In progress",
            CoverageStatus::NotCovered => "Not covered",
        }
    }
}

impl fmt::Display for CoverageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CoverageStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CoverageStatus::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            format!("Unknown coverage status '{s}'; expected validated, partial, in_progress or not_covered")
        })
    }
}

/// What the blue team saw when the attack ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Detected,
    Partial,
    NotDetected,
}

/// Where one test of a technique stands, as far as coverage cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    /// Draft, executing, evaluating or in review.
    Active,
    /// Approved by both leads, with the blue team's detection result.
    Validated(Detection),
    /// Rejected: says nothing about coverage until reopened.
    Rejected,
}

/// The coverage rule (README, "Coverage"): `validated` when a validated test detected the
/// technique; `partial` when validated tests exist but detection was only partial or missed
/// (the technique has been exercised, and the gap is known); `in_progress` while tests are
/// under way; `not_covered` otherwise. Rejected tests count for nothing until reopened.
pub fn coverage_status(outcomes: impl IntoIterator<Item = TestOutcome>) -> CoverageStatus {
    let mut best = CoverageStatus::NotCovered;
    for outcome in outcomes {
        let status = match outcome {
            TestOutcome::Validated(Detection::Detected) => return CoverageStatus::Validated,
            TestOutcome::Validated(Detection::Partial | Detection::NotDetected) => {
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
            coverage_status([Active, Validated(Detection::Detected)]),
            CoverageStatus::Validated
        );
        assert_eq!(
            coverage_status([Validated(Detection::Partial), Active]),
            CoverageStatus::Partial
        );
        assert_eq!(
            coverage_status([Active, Rejected]),
            CoverageStatus::InProgress
        );
        assert_eq!(coverage_status([Rejected]), CoverageStatus::NotCovered);
        assert_eq!(
            coverage_status([Validated(Detection::NotDetected)]),
            CoverageStatus::Partial,
            "a validated miss is a known gap: partial"
        );
        assert_eq!(
            coverage_status([Validated(Detection::NotDetected), Active]),
            CoverageStatus::Partial
        );
        assert_eq!(
            coverage_status([
                Validated(Detection::NotDetected),
                Validated(Detection::Partial)
            ]),
            CoverageStatus::Partial
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
