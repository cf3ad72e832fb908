//! Dashboard metrics: coverage, the test pipeline, team activity and validation rates.
use crate::dto::workflow::TestSummary;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Filters shared by the metrics endpoints; each endpoint uses the ones that apply to it.
/// Dates are `YYYY-MM-DD`, both ends inclusive, in UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricsQuery {
    /// Only the tests of this campaign (its id), and the techniques they exercise.
    #[serde(default)]
    pub campaign: Option<String>,
    /// Tactic shortname (`execution`) or ATT&CK id (`TA0002`).
    #[serde(default)]
    pub tactic: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub date_from: Option<String>,
    #[serde(default)]
    pub date_to: Option<String>,
    /// `day` (default) or `week`, for team activity.
    #[serde(default)]
    pub granularity: Option<String>,
    /// A technique set (an imported Navigator layer), by id or name.
    #[serde(default)]
    pub technique_set: Option<String>,
}

/// Techniques per coverage status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    pub total: u64,
    pub validated: u64,
    pub partial: u64,
    pub in_progress: u64,
    pub not_covered: u64,
}

impl StatusCounts {
    /// Counts `n` techniques under `status`.
    pub fn add(&mut self, status: crate::domain::coverage::CoverageStatus, n: u64) {
        use crate::domain::coverage::CoverageStatus::*;
        self.total += n;
        match status {
            Validated => self.validated += n,
            Partial => self.partial += n,
            InProgress => self.in_progress += n,
            NotCovered => self.not_covered += n,
        }
    }

    /// Validated techniques as a share of all, in percent with one decimal (the same figure
    /// the weekly snapshots keep).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.validated as f64 * 1000.0 / self.total as f64).round() / 10.0
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateCount {
    pub state: crate::domain::workflow::TestState,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricsSummary {
    pub techniques: StatusCounts,
    pub coverage_percent: f64,
    /// Parent techniques only (sub-techniques left out).
    pub top_level: StatusCounts,
    pub top_level_coverage_percent: f64,
    /// Every lifecycle state, in lifecycle order, zeros included.
    pub tests_by_state: Vec<StateCount>,
    pub total_tests: u64,
    /// Tests whose blue side found a gap (not detected or partial) or that have a remediation
    /// owner, with the remediation not started or in progress.
    pub open_remediations: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TacticMetrics {
    pub tactic: String,
    pub mitre_id: String,
    pub name: String,
    pub techniques: StatusCounts,
    pub coverage_percent: f64,
    pub top_level: StatusCounts,
    pub top_level_coverage_percent: f64,
    pub tests_by_state: Vec<StateCount>,
    pub total_tests: u64,
}

/// One stage of the funnel: `count` tests are in this state now, `reached` got at least this
/// far (a rejected test reached review).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipelineStage {
    pub state: String,
    pub label: String,
    pub count: u64,
    pub reached: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestPipeline {
    pub stages: Vec<PipelineStage>,
    pub rejected: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityCounts {
    pub red_executions: u64,
    pub blue_evaluations: u64,
    pub red_evidence_uploads: u64,
    pub blue_evidence_uploads: u64,
}

/// One day or week; `period` is its first day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityPoint {
    pub period: NaiveDate,
    #[serde(flatten)]
    pub counts: ActivityCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserActivity {
    pub user_id: Option<Uuid>,
    pub username: String,
    pub display_name: String,
    pub role: Option<String>,
    #[serde(flatten)]
    pub counts: ActivityCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamActivity {
    pub granularity: String,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    /// Every period of the range, zeros included, oldest first.
    pub series: Vec<ActivityPoint>,
    pub totals: ActivityCounts,
    /// Most active first.
    pub by_user: Vec<UserActivity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ValidationCounts {
    pub approved: u64,
    pub rejected: u64,
    /// Approvals as a share of votes, in percent with one decimal; `None` without votes.
    pub approval_rate: Option<f64>,
}

impl ValidationCounts {
    pub fn new(approved: u64, rejected: u64) -> Self {
        let votes = approved + rejected;
        Self {
            approved,
            rejected,
            approval_rate: (votes > 0)
                .then(|| (approved as f64 * 1000.0 / votes as f64).round() / 10.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LeadValidation {
    pub user_id: Option<Uuid>,
    pub username: String,
    pub display_name: String,
    /// `red` or `blue`: the side the vote was cast for.
    pub side: String,
    #[serde(flatten)]
    pub counts: ValidationCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SideValidation {
    pub side: String,
    #[serde(flatten)]
    pub counts: ValidationCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ValidationRate {
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub by_lead: Vec<LeadValidation>,
    pub by_side: Vec<SideValidation>,
}

/// One weekly snapshot, for coverage over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoveragePoint {
    pub taken_at: DateTime<Utc>,
    pub coverage_percent: f64,
    /// The mean score weighted by priority (`domain::scoring`); none in snapshots taken
    /// before scoring existed.
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(flatten)]
    pub counts: StatusCounts,
}

/// Everything the dashboard shows, in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub summary: MetricsSummary,
    pub by_tactic: Vec<TacticMetrics>,
    pub pipeline: TestPipeline,
    pub activity: TeamActivity,
    pub validation: ValidationRate,
    pub recent: Vec<TestSummary>,
    pub history: Vec<CoveragePoint>,
    pub pending: Vec<TestSummary>,
    pub pending_total: u64,
}
