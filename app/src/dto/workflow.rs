//! Wire types of the red/blue test workflow: tests, their evidence, remediation and timeline.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::domain::rbac::Team;
use crate::domain::values::{DetectionResult, RemediationStatus, Severity};
use crate::domain::workflow::{Action, TestState, Vote};

/// For PATCH fields that may be cleared: absent → `None` (leave as is), `null` →
/// `Some(None)` (clear), a value → `Some(Some(v))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestSummary {
    pub id: Uuid,
    pub title: String,
    pub technique_id: String,
    pub technique_name: Option<String>,
    pub severity: Severity,
    pub platform: Option<String>,
    pub state: TestState,
    pub version: i32,
    pub created_by: Uuid,
    pub created_by_name: Option<String>,
    pub assigned_red_id: Option<Uuid>,
    pub assigned_blue_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub retest_of: Option<Uuid>,
    pub detection_result: Option<DetectionResult>,
    pub red_validation_status: Option<Vote>,
    pub blue_validation_status: Option<Vote>,
    pub remediation_status: RemediationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of tests, with the number of tests per state under the same filters (ignoring the
/// state filter), for the counters above the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestPage {
    pub items: Vec<TestSummary>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestQuery {
    pub state: Option<String>,
    /// ATT&CK id, e.g. `T1059.001`.
    pub technique: Option<String>,
    pub platform: Option<String>,
    pub creator: Option<Uuid>,
    /// `red` or `blue`: tests in review still waiting for that side's vote.
    pub pending_validation_side: Option<String>,
    pub campaign: Option<Uuid>,
    pub search: Option<String>,
    /// Only the tests the caller must act on next ("my pending tasks").
    pub mine: Option<bool>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimerDto {
    pub started_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_seconds: i64,
    pub stopped_at: Option<DateTime<Utc>>,
    pub running: bool,
    /// Execution time as of the response, pauses excluded.
    pub elapsed_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EvidenceDto {
    pub id: Uuid,
    pub test_id: Uuid,
    pub team: Team,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub description: String,
    pub uploaded_by: Uuid,
    pub uploaded_by_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

/// `GET /evidence/{id}`: metadata and a time-limited download URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EvidenceDownload {
    #[serde(flatten)]
    pub evidence: EvidenceDto,
    pub download_url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RemediationStepDto {
    pub id: Uuid,
    pub position: i32,
    pub title: String,
    pub notes: String,
    pub status: RemediationStatus,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestDetail {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub technique_id: String,
    pub technique_name: Option<String>,
    pub objective: String,
    pub target_environment: String,
    pub severity: Severity,
    pub platform: Option<String>,
    pub campaign_id: Option<Uuid>,
    /// The campaign's name, when it has one.
    #[serde(default)]
    pub campaign_name: Option<String>,
    pub retest_of: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub procedure: String,
    pub expected_detection: String,
    pub suggested_tools: Vec<String>,
    pub assigned_red_id: Option<Uuid>,
    pub assigned_red_name: Option<String>,
    pub assigned_blue_id: Option<Uuid>,
    pub assigned_blue_name: Option<String>,
    pub state: TestState,
    pub version: i32,
    pub created_by: Uuid,
    pub created_by_name: Option<String>,
    // Red team
    pub tool_used: Option<String>,
    pub command_executed: Option<String>,
    pub output_observed: Option<String>,
    pub red_notes: Option<String>,
    pub attacker_ip: Option<String>,
    pub target_ip: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    // Blue team
    pub detection_result: Option<DetectionResult>,
    pub detection_notes: Option<String>,
    pub alert_fired: Option<bool>,
    pub alert_name: Option<String>,
    pub response_action: Option<String>,
    pub time_to_detect_seconds: Option<i64>,
    pub blue_notes: Option<String>,
    // Validation
    pub red_validation_status: Option<Vote>,
    pub red_validation_notes: Option<String>,
    pub red_validated_by: Option<Uuid>,
    pub red_validated_at: Option<DateTime<Utc>>,
    pub blue_validation_status: Option<Vote>,
    pub blue_validation_notes: Option<String>,
    pub blue_validated_by: Option<Uuid>,
    pub blue_validated_at: Option<DateTime<Utc>>,
    pub timer: TimerDto,
    // Remediation
    pub remediation_status: RemediationStatus,
    pub remediation_notes: String,
    pub remediation_owner: Option<Uuid>,
    pub remediation_owner_name: Option<String>,
    pub remediation_due_date: Option<NaiveDate>,
    pub remediation_steps: Vec<RemediationStepDto>,
    pub red_evidence: Vec<EvidenceDto>,
    pub blue_evidence: Vec<EvidenceDto>,
    pub red_submitted_at: Option<DateTime<Utc>>,
    pub blue_submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now (`Action::slug`s), from the workflow rules.
    pub allowed_actions: Vec<Action>,
    /// ATT&CK's mitigations of the test's technique (of its parent when it has none of its
    /// own), offered as remediation steps.
    #[serde(default)]
    pub mitigations: Vec<crate::dto::knowledge::TechniqueMitigation>,
    /// Who worked on the test, when and for how long, oldest first.
    #[serde(default)]
    pub worklog: Vec<WorklogEntryDto>,
    /// The worklog's minutes in all.
    #[serde(default)]
    pub worklog_minutes: i64,
    /// D3FEND's countermeasures of the test's technique, offered as remediation steps too.
    #[serde(default)]
    pub countermeasures: Vec<crate::dto::d3fend::Countermeasure>,
    /// The detection rules the blue team says fired.
    #[serde(default)]
    pub fired_rules: Vec<crate::dto::detection::RuleSummary>,
    /// The rules it may name as fired (mapped to the technique or its parent, or custom).
    #[serde(default)]
    pub rule_choices: Vec<crate::dto::detection::RuleSummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTestRequest {
    pub title: String,
    pub technique_id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub objective: Option<String>,
    #[serde(default)]
    pub target_environment: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    #[serde(default)]
    pub retest_of: Option<Uuid>,
    #[serde(default)]
    pub procedure: Option<String>,
    #[serde(default)]
    pub expected_detection: Option<String>,
    #[serde(default)]
    pub suggested_tools: Option<Vec<String>>,
    #[serde(default)]
    pub assigned_red_id: Option<Uuid>,
    #[serde(default)]
    pub assigned_blue_id: Option<Uuid>,
}

/// `POST /tests/from-template`: a draft pre-filled from a catalog template. Values for the
/// template's input arguments are filled into its command; the rest override the template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FromTemplateRequest {
    pub template_id: Uuid,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub input_arguments: BTreeMap<String, String>,
    #[serde(default)]
    pub objective: Option<String>,
    #[serde(default)]
    pub target_environment: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    #[serde(default)]
    pub retest_of: Option<Uuid>,
    #[serde(default)]
    pub assigned_red_id: Option<Uuid>,
    #[serde(default)]
    pub assigned_blue_id: Option<Uuid>,
}

/// `PATCH /tests/{id}`: general fields, in `draft`. `version`, when given, must be current.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTestRequest {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub technique_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub objective: Option<String>,
    #[serde(default)]
    pub target_environment: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub platform: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub campaign_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub retest_of: Option<Option<Uuid>>,
    #[serde(default)]
    pub procedure: Option<String>,
    #[serde(default)]
    pub expected_detection: Option<String>,
    #[serde(default)]
    pub suggested_tools: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub assigned_red_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub assigned_blue_id: Option<Option<Uuid>>,
}

/// `PATCH /tests/{id}/red`. Text fields: `null` or `""` clears.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RedUpdateRequest {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub tool_used: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub command_executed: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub output_observed: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub red_notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub attacker_ip: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub target_ip: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_time: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub end_time: Option<Option<DateTime<Utc>>>,
}

/// `PATCH /tests/{id}/blue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BlueUpdateRequest {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub detection_result: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub detection_notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub alert_fired: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    pub alert_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub response_action: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub time_to_detect_seconds: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub blue_notes: Option<Option<String>>,
    /// The detection rules that fired: the list given replaces the test's (rules mapped to the
    /// test's technique or its parent, or custom rules).
    #[serde(default)]
    pub fired_rule_ids: Option<Vec<Uuid>>,
}

/// One step in `PATCH /tests/{id}/remediation`'s `steps`: the list given replaces the steps,
/// in order; a step with the `id` of an existing one updates it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemediationStepInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub title: String,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemediationUpdateRequest {
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub remediation_status: Option<String>,
    #[serde(default)]
    pub remediation_notes: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub remediation_owner: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub remediation_due_date: Option<Option<NaiveDate>>,
    #[serde(default)]
    pub steps: Option<Vec<RemediationStepInput>>,
}

/// `POST /validate-red` and `/validate-blue`. The spec's field names
/// (`red_validation_status`, …) and the short ones (`status`, `notes`) are both accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoteRequest {
    #[serde(alias = "red_validation_status", alias = "blue_validation_status")]
    pub status: Vote,
    #[serde(
        default,
        alias = "red_validation_notes",
        alias = "blue_validation_notes"
    )]
    pub notes: Option<String>,
}

/// Transition bodies are optional; `version`, when given, must be current.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransitionRequest {
    #[serde(default)]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_username: Option<String>,
    /// The audit action, e.g. `test.transition`, `test.vote`, `evidence.upload`.
    pub action: String,
    /// One line for people.
    pub summary: String,
    pub from_state: Option<TestState>,
    pub to_state: Option<TestState>,
    pub details: Option<serde_json::Value>,
}

/// One worklog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorklogEntryDto {
    pub id: Uuid,
    pub test_id: Uuid,
    pub author_id: Uuid,
    pub author_name: Option<String>,
    pub minutes: i64,
    pub note: String,
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /tests/{id}/worklog`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorklogInput {
    pub minutes: i64,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
}

/// `PATCH /tests/{id}/worklog/{entry_id}`: the fields given change (`started_at: null` clears).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorklogUpdate {
    #[serde(default)]
    pub minutes: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub started_at: Option<Option<DateTime<Utc>>>,
}
