//! Audit events, defined once. [`AuditAction`] names every kind of audit entry Aegis writes;
//! [`TestEvent`] is the typed payload of the entries about a test. The audit writer turns a
//! `TestEvent` into its entry with [`TestEvent::entry`], and the readers (the test timeline,
//! the activity counters, the demo seeder) read entries back with [`TestEvent::parse`], so the
//! JSON shape of an entry is written in exactly one place.
use crate::domain::rbac::Team;
use crate::domain::values::string_enum;
use crate::domain::workflow::{TestState, Vote};
use serde::{Deserialize, Serialize};
use serde_json::Value;

string_enum! {
    /// Every kind of audit entry. The wire form is the entry's `action`.
    pub enum AuditAction ("audit action") {
        AuthLogin = "auth.login" / "Signed in",
        AuthLoginFailed = "auth.login_failed" / "Sign-in failed",
        AuthLogout = "auth.logout" / "Signed out",
        AuthSsoFailed = "auth.sso_failed" / "Single sign-on refused",
        ApiTokenCreate = "api_token.create" / "Created an API token",
        ApiTokenRevoke = "api_token.revoke" / "Revoked an API token",
        UserCreate = "user.create" / "Created a user",
        UserUpdate = "user.update" / "Updated a user",
        UserPasswordChange = "user.password_change" / "Changed a password",
        UserSsoLink = "user.sso_link" / "Linked an account to the identity provider",
        UserSsoRole = "user.sso_role" / "Role set from the identity provider's groups",
        AttackImport = "attack.import" / "Imported ATT&CK",
        TechniqueCreate = "technique.create" / "Created a custom technique",
        TechniqueUpdate = "technique.update" / "Updated a technique",
        TechniqueReview = "technique.review" / "Reviewed a technique",
        TechniqueSetImport = "technique_set.import" / "Imported a technique set",
        TechniqueSetDelete = "technique_set.delete" / "Deleted a technique set",
        TemplatesImport = "templates.import" / "Imported templates",
        DetectionRulesImport = "detection_rules.import" / "Imported detection rules",
        DetectionRuleCreate = "detection_rule.create" / "Created a detection rule",
        DetectionRuleUpdate = "detection_rule.update" / "Updated a detection rule",
        D3fendImport = "d3fend.import" / "Imported D3FEND countermeasures",
        TemplateCreate = "template.create" / "Created a template",
        TemplateUpdate = "template.update" / "Updated a template",
        TemplateActivate = "template.activate" / "Activated a template",
        TemplateDeactivate = "template.deactivate" / "Deactivated a template",
        GtfobinsMappingUpdate = "gtfobins.mapping_update" / "Changed the GTFOBins technique mapping",
        IntelFeedCreate = "intel_feed.create" / "Added a threat-intel feed",
        IntelFeedUpdate = "intel_feed.update" / "Updated a threat-intel feed",
        IntelFeedDelete = "intel_feed.delete" / "Removed a threat-intel feed",
        IntelScan = "intel.scan" / "Scanned a threat-intel feed",
        IntelItemUpdate = "intel.update" / "Triaged an intel item",
        CampaignCreate = "campaign.create" / "Created a campaign",
        CampaignUpdate = "campaign.update" / "Updated a campaign",
        CampaignTestsAdd = "campaign.tests_add" / "Added tests to a campaign",
        CampaignTestRemove = "campaign.test_remove" / "Removed a test from a campaign",
        CampaignGenerate = "campaign.generate" / "Generated a campaign's tests",
        CampaignComplete = "campaign.completed" / "Completed a campaign",
        CampaignSpawn = "campaign.spawn" / "Started a recurring campaign's next run",
        WebhookCreate = "webhook.create" / "Added a webhook",
        WebhookUpdate = "webhook.update" / "Updated a webhook",
        WebhookDelete = "webhook.delete" / "Removed a webhook",
        WebhookPing = "webhook.ping" / "Sent a webhook test ping",
        ScoringConfigUpdate = "scoring.config_update" / "Changed the scoring configuration",
        ScoringConfigRestore = "scoring.config_restore" / "Restored a scoring configuration",
        DataComponentUpdate = "data_component.update" / "Updated a data component's collection",
        ComplianceImport = "compliance.import" / "Imported a compliance framework mapping",
        JobRun = "job.run" / "Started a job",
        TestCreate = "test.create" / "Created the test",
        TestUpdate = "test.update" / "Edited the test",
        TestRedUpdate = "test.red_update" / "Edited the red team's fields",
        TestBlueUpdate = "test.blue_update" / "Edited the blue team's fields",
        TestRemediationUpdate = "test.remediation_update" / "Edited the remediation",
        TestTransition = "test.transition" / "Moved the test on",
        TestVote = "test.vote" / "Voted",
        TestTimerPause = "test.timer_pause" / "Paused the timer",
        TestTimerResume = "test.timer_resume" / "Resumed the timer",
        EvidenceUpload = "evidence.upload" / "Uploaded evidence",
        WorklogCreate = "worklog.create" / "Logged work",
        WorklogUpdate = "worklog.update" / "Edited a worklog entry",
        WorklogDelete = "worklog.delete" / "Deleted a worklog entry",
        EvidenceIntegrityFailure = "evidence.integrity_failure" / "Evidence failed its integrity check",
    }
}

/// The audit log's entity type for everything that happens to a test.
pub const TEST_ENTITY: &str = "test";

/// The sections of a test that are edited (and audited) separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    General,
    Red,
    Blue,
    Remediation,
}

impl Section {
    pub fn action(self) -> AuditAction {
        match self {
            Section::General => AuditAction::TestUpdate,
            Section::Red => AuditAction::TestRedUpdate,
            Section::Blue => AuditAction::TestBlueUpdate,
            Section::Remediation => AuditAction::TestRemediationUpdate,
        }
    }

    fn of(action: AuditAction) -> Option<Section> {
        match action {
            AuditAction::TestUpdate => Some(Section::General),
            AuditAction::TestRedUpdate => Some(Section::Red),
            AuditAction::TestBlueUpdate => Some(Section::Blue),
            AuditAction::TestRemediationUpdate => Some(Section::Remediation),
            _ => None,
        }
    }
}

/// The `after` of a vote entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotePayload {
    pub team: Team,
    pub status: Vote,
    #[serde(default)]
    pub notes: String,
}

/// The `after` of an evidence upload entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPayload {
    #[serde(default)]
    pub evidence_id: uuid::Uuid,
    pub team: Team,
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub size_bytes: i64,
    #[serde(default)]
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
struct StatePayload {
    state: TestState,
}

#[derive(Serialize, Deserialize)]
struct ElapsedPayload {
    elapsed_seconds: i64,
}

/// What happened to a test, as its audit entries record it.
#[derive(Debug, Clone, PartialEq)]
pub enum TestEvent {
    /// `after` holds the new test's general fields (and template details when from one).
    Created {
        after: Value,
    },
    /// One section edited: the changed fields with their old and new values.
    Edited {
        section: Section,
        changed: Vec<String>,
        before: Value,
        after: Value,
    },
    Transition {
        from: TestState,
        to: TestState,
    },
    Vote(VotePayload),
    EvidenceUploaded(UploadPayload),
    TimerPaused {
        elapsed_seconds: i64,
    },
    TimerResumed {
        elapsed_seconds: i64,
    },
    /// A worklog entry logged, edited (its new values) or deleted (its last values).
    Worklog {
        change: WorklogChange,
        entry: WorklogPayload,
    },
}

/// What happened to a worklog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorklogChange {
    Logged,
    Edited,
    Deleted,
}

impl WorklogChange {
    fn action(self) -> AuditAction {
        match self {
            WorklogChange::Logged => AuditAction::WorklogCreate,
            WorklogChange::Edited => AuditAction::WorklogUpdate,
            WorklogChange::Deleted => AuditAction::WorklogDelete,
        }
    }
}

/// A worklog entry as its audit entry records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorklogPayload {
    pub entry_id: uuid::Uuid,
    pub minutes: i64,
    pub note: String,
    #[serde(default)]
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An audit entry's action and values, before the writer adds who, when and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub action: AuditAction,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn to_value(value: impl Serialize) -> Option<Value> {
    serde_json::to_value(value).ok()
}

fn from_value<T: for<'de> Deserialize<'de>>(value: Option<&Value>) -> Option<T> {
    value.and_then(|v| T::deserialize(v).ok())
}

impl TestEvent {
    pub fn action(&self) -> AuditAction {
        match self {
            TestEvent::Created { .. } => AuditAction::TestCreate,
            TestEvent::Edited { section, .. } => section.action(),
            TestEvent::Transition { .. } => AuditAction::TestTransition,
            TestEvent::Vote(_) => AuditAction::TestVote,
            TestEvent::EvidenceUploaded(_) => AuditAction::EvidenceUpload,
            TestEvent::TimerPaused { .. } => AuditAction::TestTimerPause,
            TestEvent::TimerResumed { .. } => AuditAction::TestTimerResume,
            TestEvent::Worklog { change, .. } => change.action(),
        }
    }

    /// The audit entry this event is written as.
    pub fn entry(&self) -> Entry {
        let (before, after) = match self {
            TestEvent::Created { after } => (None, Some(after.clone())),
            TestEvent::Edited {
                changed,
                before,
                after,
                ..
            } => {
                let mut after = after.clone();
                if let Some(map) = after.as_object_mut() {
                    map.insert("changed".into(), serde_json::json!(changed));
                }
                (Some(before.clone()), Some(after))
            }
            TestEvent::Transition { from, to } => (
                to_value(StatePayload { state: *from }),
                to_value(StatePayload { state: *to }),
            ),
            TestEvent::Vote(vote) => (None, to_value(vote)),
            TestEvent::Worklog { entry, .. } => (None, to_value(entry)),
            TestEvent::EvidenceUploaded(upload) => (None, to_value(upload)),
            TestEvent::TimerPaused { elapsed_seconds }
            | TestEvent::TimerResumed { elapsed_seconds } => (
                None,
                to_value(ElapsedPayload {
                    elapsed_seconds: *elapsed_seconds,
                }),
            ),
        };
        Entry {
            action: self.action(),
            before,
            after,
        }
    }

    /// Reads an audit entry back; `None` for entries that are not test events, or whose
    /// values do not have the event's shape.
    pub fn parse(action: &str, before: Option<&Value>, after: Option<&Value>) -> Option<Self> {
        let action: AuditAction = action.parse().ok()?;
        if let Some(section) = Section::of(action) {
            let changed = after
                .and_then(|a| a.get("changed"))
                .and_then(Value::as_array)
                .map(|fields| {
                    fields
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let mut after = after.cloned().unwrap_or(Value::Null);
            if let Some(map) = after.as_object_mut() {
                map.remove("changed");
            }
            return Some(TestEvent::Edited {
                section,
                changed,
                before: before.cloned().unwrap_or(Value::Null),
                after,
            });
        }
        Some(match action {
            AuditAction::TestCreate => TestEvent::Created {
                after: after.cloned().unwrap_or(Value::Null),
            },
            AuditAction::TestTransition => TestEvent::Transition {
                from: from_value::<StatePayload>(before)?.state,
                to: from_value::<StatePayload>(after)?.state,
            },
            AuditAction::TestVote => TestEvent::Vote(from_value(after)?),
            AuditAction::EvidenceUpload => TestEvent::EvidenceUploaded(from_value(after)?),
            AuditAction::TestTimerPause => TestEvent::TimerPaused {
                elapsed_seconds: from_value::<ElapsedPayload>(after)?.elapsed_seconds,
            },
            AuditAction::TestTimerResume => TestEvent::TimerResumed {
                elapsed_seconds: from_value::<ElapsedPayload>(after)?.elapsed_seconds,
            },
            AuditAction::WorklogCreate
            | AuditAction::WorklogUpdate
            | AuditAction::WorklogDelete => {
                let change = match action {
                    AuditAction::WorklogCreate => WorklogChange::Logged,
                    AuditAction::WorklogUpdate => WorklogChange::Edited,
                    _ => WorklogChange::Deleted,
                };
                TestEvent::Worklog {
                    change,
                    entry: from_value(after)?,
                }
            }
            _ => return None,
        })
    }

    /// One line for people, as the timeline shows it.
    pub fn summary(&self) -> String {
        match self {
            TestEvent::Created { .. } => "Created the test".into(),
            TestEvent::Edited {
                section, changed, ..
            } => format!("{}: {}", section.action().label(), changed.join(", ")),
            TestEvent::Transition { from, to } => format!("Moved from {from} to {to}"),
            TestEvent::Vote(vote) => {
                if vote.notes.is_empty() {
                    format!("{} side {}", vote.team, vote.status)
                } else {
                    format!("{} side {}: {}", vote.team, vote.status, vote.notes)
                }
            }
            TestEvent::EvidenceUploaded(upload) => {
                format!("Uploaded {} evidence {}", upload.team, upload.filename)
            }
            TestEvent::TimerPaused { .. } => "Paused the timer".into(),
            TestEvent::TimerResumed { .. } => "Resumed the timer".into(),
            TestEvent::Worklog { change, entry } => {
                let what = match change {
                    WorklogChange::Logged => "Logged",
                    WorklogChange::Edited => "Corrected a worklog entry to",
                    WorklogChange::Deleted => "Deleted a worklog entry of",
                };
                let time = crate::domain::worklog::duration_text(entry.minutes);
                if entry.note.is_empty() {
                    format!("{what} {time}")
                } else {
                    format!("{what} {time}: {}", entry.note)
                }
            }
        }
    }
}

/// The fields of `after` whose values differ from `before`, with their old and new values:
/// what an edit's audit entry records.
pub fn diff(before: &Value, after: &Value) -> (Vec<String>, Value, Value) {
    let (mut old, mut new) = (serde_json::Map::new(), serde_json::Map::new());
    let mut changed = Vec::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (key, value) in a {
            if b.get(key) != Some(value) {
                changed.push(key.clone());
                old.insert(key.clone(), b.get(key).cloned().unwrap_or(Value::Null));
                new.insert(key.clone(), value.clone());
            }
        }
    }
    (changed, Value::Object(old), Value::Object(new))
}

/// The work the dashboard counts, one kind per counted audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A test submitted to the blue team.
    RedExecution,
    /// A test submitted to review.
    BlueEvaluation,
    RedEvidence,
    BlueEvidence,
    RedApproved,
    RedRejected,
    BlueApproved,
    BlueRejected,
}

impl ActivityKind {
    pub const TEAM_WORK: [Self; 4] = [
        Self::RedExecution,
        Self::BlueEvaluation,
        Self::RedEvidence,
        Self::BlueEvidence,
    ];
    pub const VOTES: [Self; 4] = [
        Self::RedApproved,
        Self::RedRejected,
        Self::BlueApproved,
        Self::BlueRejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RedExecution => "red_execution",
            Self::BlueEvaluation => "blue_evaluation",
            Self::RedEvidence => "red_evidence",
            Self::BlueEvidence => "blue_evidence",
            Self::RedApproved => "red_approved",
            Self::RedRejected => "red_rejected",
            Self::BlueApproved => "blue_approved",
            Self::BlueRejected => "blue_rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::TEAM_WORK
            .into_iter()
            .chain(Self::VOTES)
            .find(|k| k.as_str() == text)
    }

    /// The kind a test event counts as, if any. Migration 9 counted the entries written
    /// before the counters existed by the same rules.
    pub fn of(event: &TestEvent) -> Option<Self> {
        match event {
            TestEvent::Transition { to, .. } => Self::of_transition(*to),
            TestEvent::EvidenceUploaded(upload) => Some(Self::of_upload(upload.team)),
            TestEvent::Vote(vote) => Some(Self::of_vote(vote)),
            _ => None,
        }
    }

    /// The kind an audit entry `(action, after)` counts as, if any: only `after` decides.
    pub fn of_entry(action: &str, after: Option<&Value>) -> Option<Self> {
        match action.parse().ok()? {
            AuditAction::TestTransition => {
                Self::of_transition(from_value::<StatePayload>(after)?.state)
            }
            AuditAction::EvidenceUpload => {
                Some(Self::of_upload(from_value::<UploadPayload>(after)?.team))
            }
            AuditAction::TestVote => Some(Self::of_vote(&from_value(after)?)),
            _ => None,
        }
    }

    fn of_transition(to: TestState) -> Option<Self> {
        match to {
            TestState::BlueEvaluating => Some(Self::RedExecution),
            TestState::InReview => Some(Self::BlueEvaluation),
            _ => None,
        }
    }

    fn of_upload(team: Team) -> Self {
        match team {
            Team::Red => Self::RedEvidence,
            Team::Blue => Self::BlueEvidence,
        }
    }

    fn of_vote(vote: &VotePayload) -> Self {
        match (vote.team, vote.status) {
            (Team::Red, Vote::Approved) => Self::RedApproved,
            (Team::Red, Vote::Rejected) => Self::RedRejected,
            (Team::Blue, Vote::Approved) => Self::BlueApproved,
            (Team::Blue, Vote::Rejected) => Self::BlueRejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(event: TestEvent) {
        let entry = event.entry();
        let parsed = TestEvent::parse(
            entry.action.as_str(),
            entry.before.as_ref(),
            entry.after.as_ref(),
        );
        assert_eq!(parsed, Some(event));
    }

    #[test]
    fn every_test_event_round_trips_through_its_entry() {
        round_trip(TestEvent::Created {
            after: json!({"title": "x"}),
        });
        for section in [
            Section::General,
            Section::Red,
            Section::Blue,
            Section::Remediation,
        ] {
            round_trip(TestEvent::Edited {
                section,
                changed: vec!["title".into()],
                before: json!({"title": "a"}),
                after: json!({"title": "b"}),
            });
        }
        round_trip(TestEvent::Transition {
            from: TestState::Draft,
            to: TestState::RedExecuting,
        });
        round_trip(TestEvent::Vote(VotePayload {
            team: Team::Blue,
            status: Vote::Rejected,
            notes: "no alert".into(),
        }));
        round_trip(TestEvent::EvidenceUploaded(UploadPayload {
            evidence_id: uuid::Uuid::nil(),
            team: Team::Red,
            filename: "shot.png".into(),
            size_bytes: 3,
            sha256: "ab".into(),
        }));
        round_trip(TestEvent::TimerPaused { elapsed_seconds: 4 });
        round_trip(TestEvent::TimerResumed { elapsed_seconds: 5 });
    }

    #[test]
    fn entries_keep_their_stored_shape() {
        let entry = TestEvent::Transition {
            from: TestState::InReview,
            to: TestState::Validated,
        }
        .entry();
        assert_eq!(entry.action.as_str(), "test.transition");
        assert_eq!(entry.before, Some(json!({"state": "in_review"})));
        assert_eq!(entry.after, Some(json!({"state": "validated"})));
        let vote = TestEvent::Vote(VotePayload {
            team: Team::Red,
            status: Vote::Approved,
            notes: String::new(),
        })
        .entry();
        assert_eq!(
            vote.after,
            Some(json!({"team": "red", "status": "approved", "notes": ""}))
        );
        let edit = TestEvent::Edited {
            section: Section::Blue,
            changed: vec!["alert_fired".into()],
            before: json!({"alert_fired": null}),
            after: json!({"alert_fired": true}),
        }
        .entry();
        assert_eq!(edit.action, AuditAction::TestBlueUpdate);
        assert_eq!(
            edit.after,
            Some(json!({"alert_fired": true, "changed": ["alert_fired"]}))
        );
    }

    #[test]
    fn summaries_for_the_timeline() {
        let vote = |notes: &str| {
            TestEvent::Vote(VotePayload {
                team: Team::Blue,
                status: Vote::Approved,
                notes: notes.into(),
            })
            .summary()
        };
        assert_eq!(vote(""), "blue side approved");
        assert_eq!(vote("fine"), "blue side approved: fine");
        assert_eq!(
            TestEvent::Transition {
                from: TestState::Draft,
                to: TestState::RedExecuting
            }
            .summary(),
            "Moved from draft to red_executing"
        );
        assert_eq!(
            TestEvent::Edited {
                section: Section::Red,
                changed: vec!["tool_used".into(), "red_notes".into()],
                before: json!({}),
                after: json!({}),
            }
            .summary(),
            "Edited the red team's fields: tool_used, red_notes"
        );
    }

    #[test]
    fn counted_kinds() {
        let kind = |action: &str, after: Value| ActivityKind::of_entry(action, Some(&after));
        assert_eq!(
            kind("test.transition", json!({"state": "blue_evaluating"})),
            Some(ActivityKind::RedExecution)
        );
        assert_eq!(
            kind("test.transition", json!({"state": "in_review"})),
            Some(ActivityKind::BlueEvaluation)
        );
        assert_eq!(kind("test.transition", json!({"state": "draft"})), None);
        assert_eq!(
            kind("evidence.upload", json!({"team": "blue", "filename": "x"})),
            Some(ActivityKind::BlueEvidence)
        );
        assert_eq!(
            kind("test.vote", json!({"team": "red", "status": "approved"})),
            Some(ActivityKind::RedApproved)
        );
        assert_eq!(
            kind("test.vote", json!({"team": "blue", "status": "rejected"})),
            Some(ActivityKind::BlueRejected)
        );
        assert_eq!(kind("test.vote", json!({"status": "approved"})), None);
        assert_eq!(kind("test.update", json!({"state": "in_review"})), None);
        assert_eq!(ActivityKind::of_entry("test.transition", None), None);
        for kind in ActivityKind::TEAM_WORK
            .into_iter()
            .chain(ActivityKind::VOTES)
        {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn diffs_name_only_what_changed() {
        let (changed, old, new) = diff(
            &json!({"title": "a", "severity": "low", "platform": null}),
            &json!({"title": "b", "severity": "low", "platform": "linux"}),
        );
        assert_eq!(changed, ["platform", "title"]);
        assert_eq!(old, json!({"title": "a", "platform": null}));
        assert_eq!(new, json!({"title": "b", "platform": "linux"}));
        let (changed, ..) = diff(&json!({"a": 1}), &json!({"a": 1}));
        assert!(changed.is_empty());
        let (changed, old, _) = diff(&json!({}), &json!({"a": 1}));
        assert_eq!(changed, ["a"]);
        assert_eq!(old, json!({"a": null}));
    }

    #[test]
    fn every_action_has_one_name() {
        let names = AuditAction::names();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            "test.vote".parse::<AuditAction>(),
            Ok(AuditAction::TestVote)
        );
    }
}
