//! The audit rows: the seeded users' creation, each test's history, and everyday activity.
//! Test entries are typed `TestEvent`s written with `AuditRecord::test_event`, and edits are
//! `snapshots::edit_event` over the section's fields before and after, so every entry has the
//! shape the services write; each row is turned into an `audit_logs` row and counted as
//! `platform::audit::record` does.
use super::clock::{MINUTE, at, within};
use super::generate::Generator;
use super::plan::{Plan, vote_notes};
use super::vocabulary::{
    ENVIRONMENTS, EVIDENCE_FILES, REMEDIATION_STATUSES, REMEDIATION_STEPS, SEVERITIES, TOOLS,
};
use super::write::Rows;
use app::domain::audit::{
    AuditAction, Section, TEST_ENTITY, TestEvent, UploadPayload, VotePayload,
};
use app::domain::rbac::Team;
use app::domain::values::RemediationStatus;
use app::domain::workflow::{TestState, review_outcome};
use app::server::admin::users;
use app::server::entities::{audit_log, evidence, security_test, user};
use app::server::platform::audit::AuditRecord;
use app::server::workflow::rows::step_row;
use app::server::workflow::snapshots::step_value;
use app::server::workflow::snapshots::{edit_event, fields, general_fields};
use chrono::{DateTime, Duration as Span, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use serde_json::{Value, json};
use uuid::Uuid;

/// The edit of `section` from `before` to `after`, as the edit services record it.
fn section_edit(
    section: Section,
    before: &security_test::Model,
    after: &security_test::Model,
) -> Option<TestEvent> {
    edit_event(section, &fields(section, before), &fields(section, after))
}

/// A one-field edit, as the edit services record it when only `field` changed.
fn field_edit(section: Section, field: &str, old: Value, new: Value) -> TestEvent {
    TestEvent::Edited {
        section,
        changed: vec![field.to_owned()],
        before: json!({ field: old }),
        after: json!({ field: new }),
    }
}

impl Generator<'_> {
    /// One audit row, as `audit::record` writes it for this actor (`None`: the seeder itself).
    fn record(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: Option<usize>,
        record: AuditRecord,
    ) {
        let person = actor.map(|i| &self.staff.people[i]);
        let username = person.map_or_else(|| "seed-demo".to_owned(), |p| p.username.clone());
        self.activity.add(
            at,
            person.map(|p| p.id),
            Some(&username),
            record.action.as_str(),
            record.after.as_ref(),
        );
        let row = audit_log::Model {
            id: self.rng.uuid(),
            occurred_at: at,
            actor_id: person.map(|p| p.id),
            actor_username: Some(username),
            action: record.action.as_str().to_owned(),
            entity_type: record.entity_type.to_owned(),
            entity_id: record.entity_id,
            before_value: record.before,
            after_value: record.after,
            client_ip: person.map(|p| p.ip.clone()),
            request_id: Some(self.rng.uuid().to_string()),
            via_token: None,
        };
        out.push(row.into_active_model().reset_all());
    }

    /// A row of the users' and tests' own history.
    fn history(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: usize,
        record: AuditRecord,
    ) {
        self.history_rows += 1;
        self.record(out, at, Some(actor), record);
    }

    /// A history row about test `id`.
    fn event(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: usize,
        id: Uuid,
        event: &TestEvent,
    ) {
        self.history(out, at, actor, AuditRecord::test_event(id, event));
    }

    /// The `user.create` entries of the users the seeder adds.
    pub(super) fn users_created(
        &mut self,
        created: &[user::Model],
    ) -> anyhow::Result<Vec<audit_log::ActiveModel>> {
        let mut audit = Vec::new();
        for model in created {
            let dto = users::to_dto(model).map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            self.history_rows += 1;
            self.record(
                &mut audit,
                model.created_at,
                None,
                AuditRecord::new(AuditAction::UserCreate, users::ENTITY, model.id).after(&dto),
            );
        }
        Ok(audit)
    }

    /// The audit history of the test `plan` drew, from its `draft` to the finished `model`,
    /// with its evidence and remediation steps. Returns the moments the row was saved (one
    /// version each) and when it was rejected, if it was.
    pub(super) fn test_history(
        &mut self,
        plan: &Plan,
        draft: &security_test::Model,
        model: &security_test::Model,
        rows: &mut Rows,
    ) -> (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let staff = self.staff;
        let id = plan.id;
        let (red, blue, red_lead, blue_lead) = (plan.red, plan.blue, plan.red_lead, plan.blue_lead);
        let mut audit = std::mem::take(&mut rows.audit);
        let mut saves = Vec::new();
        let created = TestEvent::Created {
            after: general_fields(draft),
        };
        self.event(&mut audit, plan.created, plan.creator, id, &created);
        if let Some((from, to)) = plan.red_window() {
            let start = TestEvent::Transition {
                from: TestState::Draft,
                to: TestState::RedExecuting,
            };
            self.event(&mut audit, from, red, id, &start);
            saves.push(from);
            if plan.pause {
                let (paused, resumed) = (within(from, to, 0.3), within(from, to, 0.45));
                let elapsed_seconds = (paused - from).num_seconds();
                for (event, moment) in [
                    (TestEvent::TimerPaused { elapsed_seconds }, paused),
                    (TestEvent::TimerResumed { elapsed_seconds }, resumed),
                ] {
                    self.event(&mut audit, moment, red, id, &event);
                    saves.push(moment);
                }
            }
            if let Some(paused) = model.timer_paused_at {
                let elapsed_seconds = (paused - from).num_seconds();
                let event = TestEvent::TimerPaused { elapsed_seconds };
                self.event(&mut audit, paused, red, id, &event);
                saves.push(paused);
            }
            if plan.red_filled {
                let moment = within(from, to, 0.8);
                if let Some(event) = section_edit(Section::Red, draft, model) {
                    self.event(&mut audit, moment, red, id, &event);
                }
                saves.push(moment);
            }
            // With the blue team's uploads below: evidence for about half the executed tests.
            if self.rng.chance(0.4) {
                let files = 1 + self.rng.below(3);
                self.upload(rows, &mut audit, id, Team::Red, red, (from, to), files);
            }
            if plan.red_done {
                let submit = TestEvent::Transition {
                    from: TestState::RedExecuting,
                    to: TestState::BlueEvaluating,
                };
                self.event(&mut audit, to, red, id, &submit);
                saves.push(to);
            }
        }
        if let Some((from, to)) = plan.blue_window() {
            if plan.detection.is_some() {
                let moment = within(from, to, 0.7);
                if let Some(event) = section_edit(Section::Blue, draft, model) {
                    self.event(&mut audit, moment, blue, id, &event);
                }
                saves.push(moment);
            }
            if self.rng.chance(0.25) {
                let files = 1 + self.rng.below(2);
                self.upload(rows, &mut audit, id, Team::Blue, blue, (from, to), files);
            }
            if plan.blue_done {
                let submit = TestEvent::Transition {
                    from: TestState::BlueEvaluating,
                    to: TestState::InReview,
                };
                self.event(&mut audit, to, blue, id, &submit);
                saves.push(to);
            }
        }
        let mut outcome_red = None;
        let mut outcome_blue = None;
        let mut rejected_at = None;
        for (&(team, status), &moment) in plan.votes.iter().zip(&plan.time.votes) {
            let voter = match team {
                Team::Red => red_lead,
                Team::Blue => blue_lead,
            };
            let vote = TestEvent::Vote(VotePayload {
                team,
                status,
                notes: vote_notes(status).unwrap_or_default(),
            });
            self.event(&mut audit, moment, voter, id, &vote);
            saves.push(moment);
            match team {
                Team::Red => outcome_red = Some(status),
                Team::Blue => outcome_blue = Some(status),
            }
            let outcome = review_outcome(outcome_red, outcome_blue);
            if outcome != TestState::InReview {
                // The services stamp the transition just after the vote, in the same change.
                let decided = TestEvent::Transition {
                    from: TestState::InReview,
                    to: outcome,
                };
                self.event(
                    &mut audit,
                    moment + Span::milliseconds(1),
                    voter,
                    id,
                    &decided,
                );
                if outcome == TestState::Rejected {
                    rejected_at = Some(moment);
                }
            }
        }
        if let Some(moment) = plan.time.reopened {
            let lead = if self.rng.chance(0.5) {
                red_lead
            } else {
                blue_lead
            };
            let reopen = TestEvent::Transition {
                from: TestState::Rejected,
                to: TestState::Draft,
            };
            self.event(&mut audit, moment, lead, id, &reopen);
            saves.push(moment);
        }
        let mut step_rows = Vec::new();
        if let (Some(moment), Some(_)) = (plan.time.remediation, plan.owner) {
            let lead = blue_lead;
            if plan.step_count > 0 {
                let mut after_steps = Vec::new();
                for position in 0..plan.step_count {
                    let step_id = self.rng.uuid();
                    let title = REMEDIATION_STEPS[(position
                        + self.rng.below(REMEDIATION_STEPS.len()))
                        % REMEDIATION_STEPS.len()];
                    let status = match plan.remediation_status {
                        RemediationStatus::Done => RemediationStatus::Done,
                        RemediationStatus::NotStarted => RemediationStatus::NotStarted,
                        _ => REMEDIATION_STATUSES[self.rng.below(3)],
                    };
                    let assignee = *self.rng.pick(&staff.blue_techs);
                    let step = step_row(
                        step_id,
                        id,
                        position as i32 + 1,
                        title.to_owned(),
                        String::new(),
                        status,
                        Some(staff.people[assignee].id),
                        model.remediation_due_date,
                        moment,
                        moment,
                    );
                    after_steps.push(step_value(&step));
                    step_rows.push(step);
                }
                // As the remediation service records a new list of steps.
                self.history(
                    &mut audit,
                    moment,
                    lead,
                    AuditRecord::new(AuditAction::TestRemediationUpdate, TEST_ENTITY, id)
                        .before(json!({ "steps": [] }))
                        .after(json!({ "steps": after_steps, "changed": ["steps"] })),
                );
            }
            if let Some(event) = section_edit(Section::Remediation, draft, model) {
                self.event(&mut audit, moment, lead, id, &event);
            }
            saves.push(moment);
        }
        rows.audit = audit;
        self.steps += step_rows.len();
        rows.steps.extend(
            step_rows
                .into_iter()
                .map(|s| s.into_active_model().reset_all()),
        );
        (saves, rejected_at)
    }

    /// Evidence rows (metadata only, under keys shaped like the store's) with their
    /// `evidence.upload` entries, spread over the team's window.
    #[allow(clippy::too_many_arguments)]
    fn upload(
        &mut self,
        rows: &mut Rows,
        audit: &mut Vec<audit_log::ActiveModel>,
        test_id: Uuid,
        team: Team,
        uploader: usize,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        files: usize,
    ) {
        for i in 0..files {
            let (name, content_type) = *self.rng.pick(&EVIDENCE_FILES);
            let row = evidence::Model {
                id: self.rng.uuid(),
                test_id,
                team,
                filename: if i == 0 {
                    name.to_owned()
                } else {
                    format!("{}-{}", i + 1, name)
                },
                content_type: content_type.to_owned(),
                size_bytes: self.rng.wait(2_000, 50_000_000),
                sha256: self.rng.sha256_hex(),
                storage_key: format!("evidence/{test_id}/{}", self.rng.uuid()),
                description: String::new(),
                uploaded_by: self.staff.people[uploader].id,
                uploaded_at: within(from, to, 0.05 + 0.9 * self.rng.unit()),
            };
            let event = TestEvent::EvidenceUploaded(UploadPayload {
                evidence_id: row.id,
                team: row.team,
                filename: row.filename.clone(),
                size_bytes: row.size_bytes,
                sha256: row.sha256.clone(),
            });
            self.event(audit, row.uploaded_at, uploader, test_id, &event);
            self.evidence += 1;
            rows.evidence.push(row.into_active_model().reset_all());
        }
    }

    /// Everyday activity: sign-ins, and edits of tests in the phase that allows them.
    pub(super) fn filler(&mut self, out: &mut Vec<audit_log::ActiveModel>) {
        let kind = self.rng.below(100);
        if kind < 45 || self.lives.is_empty() {
            let person = self.rng.below(self.staff.people.len());
            let moment = at(self.now, -self.rng.between(MINUTE, self.span));
            let latest = self.last_login.entry(person).or_insert(moment);
            *latest = (*latest).max(moment);
            let jti = self.rng.uuid().simple().to_string();
            self.record(
                out,
                moment,
                Some(person),
                AuditRecord::new(AuditAction::AuthLogin, "session", jti),
            );
            return;
        }
        let life = &self.lives[self.rng.below(self.lives.len())];
        let (id, creator, red) = (life.id, life.creator, life.red);
        let (created, draft_end, execution) = (life.created, life.draft_end, life.execution);
        match execution {
            Some((from, to)) if kind >= 80 => {
                let moment = within(from, to, self.rng.unit());
                let (field, old, new) = match self.rng.below(3) {
                    0 => (
                        "red_notes",
                        Value::Null,
                        json!("Second run after the first was interrupted."),
                    ),
                    1 => (
                        "output_observed",
                        json!("Completed"),
                        json!("Completed, exit code 0"),
                    ),
                    _ => {
                        let (old, new) = self.rng.change(&TOOLS);
                        ("tool_used", json!(old), json!(new))
                    }
                };
                let event = field_edit(Section::Red, field, old, new);
                self.record(out, moment, Some(red), AuditRecord::test_event(id, &event));
            }
            _ => {
                let moment = within(created, draft_end, self.rng.unit());
                let (field, old, new) = match self.rng.below(3) {
                    0 => (
                        "objective",
                        json!("Check detection"),
                        json!("Check detection and the alert's routing to the SOC"),
                    ),
                    1 => {
                        let (old, new) = self.rng.change(&SEVERITIES);
                        ("severity", json!(old), json!(new))
                    }
                    _ => {
                        let (old, new) = self.rng.change(&ENVIRONMENTS);
                        ("target_environment", json!(old), json!(new))
                    }
                };
                let event = field_edit(Section::General, field, old, new);
                self.record(
                    out,
                    moment,
                    Some(creator),
                    AuditRecord::test_event(id, &event),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_look_like_audit_edit() {
        let event = field_edit(Section::General, "severity", json!("low"), json!("high"));
        let entry = event.entry();
        assert_eq!(entry.action, AuditAction::TestUpdate);
        let (before, after) = (entry.before.unwrap(), entry.after.unwrap());
        assert_eq!(before, json!({"severity": "low"}));
        assert_eq!(after, json!({"severity": "high", "changed": ["severity"]}));
        // The same event the edit services derive from the fields before and after.
        let derived = edit_event(
            Section::General,
            &json!({"severity": "low", "title": "t"}),
            &json!({"severity": "high", "title": "t"}),
        );
        assert_eq!(derived, Some(event));
    }
}
