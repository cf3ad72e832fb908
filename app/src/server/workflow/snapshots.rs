//! What a test's audit entries record: the fields of each section as JSON, and the writers of
//! edit and transition entries (in the shape `domain::audit::TestEvent` defines).
use crate::domain::audit::{Section, TestEvent, diff};
use crate::domain::workflow::TestState;
use crate::error::AppResult;
use crate::server::entities::{remediation_step, security_test};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};
use uuid::Uuid;

/// The fields `test.create` and `test.update` record.
pub fn general_fields(m: &security_test::Model) -> Value {
    json!({
        "title": m.title,
        "technique_id": m.technique_id,
        "description": m.description,
        "objective": m.objective,
        "target_environment": m.target_environment,
        "severity": m.severity,
        "platform": m.platform,
        "campaign_id": m.campaign_id,
        "retest_of": m.retest_of,
        "procedure": m.procedure,
        "expected_detection": m.expected_detection,
        "suggested_tools": m.suggested_tools,
        "assigned_red_id": m.assigned_red_id,
        "assigned_blue_id": m.assigned_blue_id,
    })
}

pub fn red_fields(m: &security_test::Model) -> Value {
    json!({
        "tool_used": m.tool_used,
        "command_executed": m.command_executed,
        "output_observed": m.output_observed,
        "red_notes": m.red_notes,
        "attacker_ip": m.attacker_ip,
        "target_ip": m.target_ip,
        "start_time": m.start_time,
        "end_time": m.end_time,
    })
}

pub fn blue_fields(m: &security_test::Model) -> Value {
    json!({
        "detection_result": m.detection_result,
        "detection_notes": m.detection_notes,
        "alert_fired": m.alert_fired,
        "alert_name": m.alert_name,
        "response_action": m.response_action,
        "time_to_detect_seconds": m.time_to_detect_seconds,
        "blue_notes": m.blue_notes,
    })
}

pub fn remediation_fields(m: &security_test::Model) -> Value {
    json!({
        "remediation_status": m.remediation_status,
        "remediation_notes": m.remediation_notes,
        "remediation_owner": m.remediation_owner,
        "remediation_due_date": m.remediation_due_date,
    })
}

/// A remediation step as the steps' audit entry records it.
pub fn step_value(step: &remediation_step::Model) -> Value {
    json!({"id": step.id, "title": step.title, "status": step.status, "assignee_id": step.assignee_id})
}

/// The fields of `section`.
pub fn fields(section: Section, m: &security_test::Model) -> Value {
    match section {
        Section::General => general_fields(m),
        Section::Red => red_fields(m),
        Section::Blue => blue_fields(m),
        Section::Remediation => remediation_fields(m),
    }
}

/// The edit of `section` from `before` to `after` as an event; `None` when nothing changed.
pub fn edit_event(section: Section, before: &Value, after: &Value) -> Option<TestEvent> {
    let (changed, old, new) = diff(before, after);
    (!changed.is_empty()).then_some(TestEvent::Edited {
        section,
        changed,
        before: old,
        after: new,
    })
}

/// Records an edit of one section; `false` when nothing changed.
pub async fn audit_edit(
    txn: &DatabaseTransaction,
    actor: &Actor,
    section: Section,
    id: Uuid,
    before: &Value,
    after: &Value,
) -> AppResult<bool> {
    let Some(event) = edit_event(section, before, after) else {
        return Ok(false);
    };
    audit::record(txn, actor, AuditRecord::test_event(id, &event)).await?;
    Ok(true)
}

pub async fn audit_transition(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    from: TestState,
    to: TestState,
) -> AppResult<()> {
    audit::record(
        txn,
        actor,
        AuditRecord::test_event(id, &TestEvent::Transition { from, to }),
    )
    .await
}
