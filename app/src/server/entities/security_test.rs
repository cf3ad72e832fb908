use crate::domain::values::{DetectionResult, RemediationStatus, Severity};
use crate::domain::workflow::{TestState, Vote};
use sea_orm::entity::prelude::*;

/// One security test (table `tests`). `state` is a `TestState`; `version` grows with every
/// change, so a client holding an older version is refused instead of overwriting newer work.
/// `technique_id` is the ATT&CK id; `suggested_tools` a JSON list of strings.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub technique_id: String,
    pub objective: String,
    pub target_environment: String,
    pub severity: Severity,
    pub platform: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub retest_of: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub procedure: String,
    pub expected_detection: String,
    pub suggested_tools: Json,
    pub assigned_red_id: Option<Uuid>,
    pub assigned_blue_id: Option<Uuid>,
    pub state: TestState,
    pub version: i32,
    pub created_by: Uuid,
    pub tool_used: Option<String>,
    pub command_executed: Option<String>,
    pub output_observed: Option<String>,
    pub red_notes: Option<String>,
    pub attacker_ip: Option<String>,
    pub target_ip: Option<String>,
    pub start_time: Option<DateTimeUtc>,
    pub end_time: Option<DateTimeUtc>,
    pub detection_result: Option<DetectionResult>,
    pub detection_notes: Option<String>,
    pub alert_fired: Option<bool>,
    pub alert_name: Option<String>,
    pub response_action: Option<String>,
    pub time_to_detect_seconds: Option<i64>,
    pub blue_notes: Option<String>,
    pub red_validation_status: Option<Vote>,
    pub red_validation_notes: Option<String>,
    pub red_validated_by: Option<Uuid>,
    pub red_validated_at: Option<DateTimeUtc>,
    pub blue_validation_status: Option<Vote>,
    pub blue_validation_notes: Option<String>,
    pub blue_validated_by: Option<Uuid>,
    pub blue_validated_at: Option<DateTimeUtc>,
    pub timer_started_at: Option<DateTimeUtc>,
    pub timer_paused_at: Option<DateTimeUtc>,
    pub timer_paused_seconds: i64,
    pub timer_stopped_at: Option<DateTimeUtc>,
    pub remediation_status: RemediationStatus,
    pub remediation_notes: String,
    pub remediation_owner: Option<Uuid>,
    pub remediation_due_date: Option<Date>,
    pub red_submitted_at: Option<DateTimeUtc>,
    pub blue_submitted_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
