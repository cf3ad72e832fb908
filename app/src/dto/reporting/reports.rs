//! Reports (JSON and CSV) and ATT&CK Navigator technique sets.
use crate::domain::coverage::CoverageStatus;
use crate::domain::values::{DetectionResult, RemediationStatus, Severity};
use crate::domain::workflow::{TestState, Vote};
use crate::dto::reporting::metrics::StatusCounts;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Filters of the report endpoints; each report uses the ones that apply to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportQuery {
    /// Only the tests of this campaign (its id), and the techniques they exercise.
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub tactic: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    /// A technique set (an imported Navigator layer), by id or name.
    #[serde(default)]
    pub technique_set: Option<String>,
    /// Test results: a lifecycle state.
    #[serde(default)]
    pub state: Option<String>,
    /// Remediation status report: `not_started`, `in_progress`, `done` or `wont_fix`.
    #[serde(default)]
    pub status: Option<String>,
    /// `YYYY-MM-DD`, inclusive; test results are filtered by creation date.
    #[serde(default)]
    pub date_from: Option<String>,
    #[serde(default)]
    pub date_to: Option<String>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
    /// At most this many rows (a preview); all rows when absent.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Navigator layer: what the scores and colours show (`domain::heat::HeatMode`:
    /// status, score, priority, gap, visibility).
    #[serde(default)]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoverageRow {
    pub mitre_id: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub platforms: Vec<String>,
    pub is_subtechnique: bool,
    pub parent_mitre_id: Option<String>,
    pub coverage_status: CoverageStatus,
    pub tests_total: u64,
    pub tests_validated: u64,
    pub tests_rejected: u64,
    pub tests_active: u64,
    /// When a test of this technique was last validated.
    pub last_validated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoverageReport {
    pub generated_at: DateTime<Utc>,
    pub totals: StatusCounts,
    pub coverage_percent: f64,
    pub techniques: Vec<CoverageRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestResultRow {
    pub id: Uuid,
    pub title: String,
    pub technique_id: String,
    pub state: TestState,
    pub severity: Severity,
    pub platform: Option<String>,
    pub created_at: DateTime<Utc>,
    pub red_assignee: Option<String>,
    pub tool_used: Option<String>,
    pub red_submitted_at: Option<DateTime<Utc>>,
    pub blue_assignee: Option<String>,
    pub detection_result: Option<DetectionResult>,
    pub alert_fired: Option<bool>,
    pub alert_name: Option<String>,
    pub time_to_detect_seconds: Option<i64>,
    pub blue_submitted_at: Option<DateTime<Utc>>,
    pub red_validation_status: Option<Vote>,
    pub red_validated_by: Option<String>,
    pub blue_validation_status: Option<Vote>,
    pub blue_validated_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub evidence_count: u64,
    /// Minutes logged in the test's worklog.
    #[serde(default)]
    pub worklog_minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RemediationRow {
    pub test_id: Uuid,
    pub title: String,
    pub technique_id: String,
    pub state: TestState,
    pub detection_result: Option<DetectionResult>,
    pub remediation_status: RemediationStatus,
    pub owner: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub steps_total: u64,
    pub steps_done: u64,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueSetSummary {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub technique_count: u64,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueSetItem {
    pub technique_id: String,
    /// False when Aegis's knowledge base does not hold the technique (yet).
    pub known: bool,
    pub score: Option<f64>,
    pub comment: String,
    pub color: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueSetDetail {
    #[serde(flatten)]
    pub summary: TechniqueSetSummary,
    pub techniques: Vec<TechniqueSetItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LayerImportReport {
    pub set: TechniqueSetSummary,
    /// A set of that name existed and its techniques were replaced.
    pub replaced: bool,
    pub imported: u64,
    /// Valid ATT&CK ids the knowledge base does not hold: kept, and listed here.
    pub unknown_techniques: Vec<String>,
    /// Entries left out, each with the reason.
    pub skipped: Vec<String>,
}

/// `POST /reports/navigator-layer?name=…&description=…`: the layer is the body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LayerImportQuery {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}
