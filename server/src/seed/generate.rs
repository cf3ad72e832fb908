//! The generator: one test's life at a time. A test starts as the draft the create service
//! inserts (`workflow::rows::draft_row`), then gets the fields of every phase it went
//! through; its audit history (`history`) is written from the same draws.
use super::clock::within;
use super::finish::snapshot_times;
use super::plan::{Plan, vote_notes};
use super::rng::{Picker, Rng};
use super::staff::Staff;
use super::techniques::{Tech, command_for};
use super::vocabulary::DETECTIONS;
use super::write::Rows;
use app::domain::coverage::{CoverageStatus, TestOutcome, coverage_status};
use app::domain::rbac::Team;
use app::domain::timer::Timer;
use app::domain::values::DetectionResult;
use app::domain::workflow::TestState;
use app::server::entities::security_test;
use app::server::reporting::activity::ActivityTally;
use app::server::workflow::rows::{self, NewTest};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use std::collections::HashMap;
use uuid::Uuid;

/// A test's phases, kept for the everyday edits added after all tests exist.
pub(super) struct Life {
    pub(super) id: Uuid,
    pub(super) created: DateTime<Utc>,
    /// End of the first draft phase (execution started), or now.
    pub(super) draft_end: DateTime<Utc>,
    /// The red team's execution window.
    pub(super) execution: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub(super) creator: usize,
    pub(super) red: usize,
}

pub(super) struct Generator<'a> {
    pub(super) rng: Rng,
    /// Test ids come from their own stream, so the first one identifies the seed.
    pub(super) test_ids: Rng,
    pub(super) now: DateTime<Utc>,
    pub(super) span: i64,
    pub(super) techs: &'a [Tech],
    pub(super) staff: &'a Staff,
    pub(super) picker: Picker,
    /// Techniques whose testing has only just begun: a few tests each, all under way.
    pub(super) fresh: Vec<usize>,
    pub(super) fresh_quota: usize,
    pub(super) snapshot_times: Vec<DateTime<Utc>>,
    /// Per snapshot, per technique: the coverage at that moment.
    pub(super) snapshot_status: Vec<Vec<CoverageStatus>>,
    pub(super) lives: Vec<Life>,
    pub(super) tested: Vec<bool>,
    pub(super) by_state: [usize; 6],
    pub(super) evidence: usize,
    pub(super) steps: usize,
    /// Audit rows of the users' and tests' own history.
    pub(super) history_rows: usize,
    pub(super) last_login: HashMap<usize, DateTime<Utc>>,
    /// The dashboard's activity counts of the audit rows, as `audit::record` keeps them.
    pub(super) activity: ActivityTally,
}

/// The position of `state` in the lifecycle order of `TestState::ALL`.
pub(super) fn state_index(state: TestState) -> usize {
    TestState::ALL
        .iter()
        .position(|s| *s == state)
        .unwrap_or_default()
}

impl<'a> Generator<'a> {
    /// A generator for `tests` tests over the `span` seconds up to `now`, which picks the
    /// tested techniques first.
    pub(super) fn new(
        mut rng: Rng,
        test_ids: Rng,
        now: DateTime<Utc>,
        span: i64,
        techs: &'a [Tech],
        staff: &'a Staff,
        tests: usize,
    ) -> Self {
        // Which techniques get tests: a shuffled order, the first few only just started, the
        // next two thirds or so tested with a Zipf skew, the rest never.
        let mut order: Vec<usize> = (0..techs.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let fresh_count = if techs.len() >= 20 {
            techs.len() * 8 / 100
        } else {
            0
        };
        let tested_count = (techs.len() * 62 / 100).max(1);
        let fresh: Vec<usize> = order[..fresh_count].to_vec();
        let picked: Vec<usize> =
            order[fresh_count..(fresh_count + tested_count).min(order.len())].to_vec();
        let picked = if picked.is_empty() { order } else { picked };
        let fresh_quota = if fresh.is_empty() {
            0
        } else {
            (fresh.len() * 3).min(tests / 50)
        };
        let snapshot_times = snapshot_times(now, span);
        Self {
            rng,
            test_ids,
            now,
            span,
            techs,
            staff,
            picker: Picker::new(picked),
            fresh,
            fresh_quota,
            snapshot_status: vec![
                vec![CoverageStatus::NotCovered; techs.len()];
                snapshot_times.len()
            ],
            snapshot_times,
            lives: Vec::with_capacity(tests),
            tested: vec![false; techs.len()],
            by_state: [0; 6],
            evidence: 0,
            steps: 0,
            history_rows: 0,
            last_login: HashMap::new(),
            activity: ActivityTally::default(),
        }
    }

    /// One test with its evidence, remediation steps and audit history.
    pub(super) fn test(&mut self, n: usize, rows: &mut Rows) {
        let plan = self.plan(n);
        self.tested[plan.tech_index] = true;
        self.by_state[state_index(plan.state)] += 1;
        let draft = self.draft(&plan);
        let mut model = self.lived(&plan, draft.clone());
        // The history, in the order the services write it.
        let (saves, rejected_at) = self.test_history(&plan, &draft, &model, rows);
        model.version = 1 + saves.len() as i32;
        model.updated_at = saves.iter().copied().max().unwrap_or(plan.created);
        self.track_coverage(&plan, rejected_at);
        self.lives.push(Life {
            id: plan.id,
            created: plan.created,
            draft_end: plan.time.started.unwrap_or(self.now),
            execution: plan.red_window(),
            creator: plan.creator,
            red: plan.red,
        });
        rows.tests.push(model.into_active_model().reset_all());
    }

    /// The test as the create service inserted it.
    fn draft(&self, plan: &Plan) -> security_test::Model {
        let (tech, people) = (&self.techs[plan.tech_index], &self.staff.people);
        let new = NewTest {
            title: format!("{}: {} #{}", tech.name, plan.variant, plan.n + 1),
            description: format!(
                "Emulate {} ({}). Target: {}.\nScope agreed with the system owner; stop on any production impact.",
                tech.mitre_id, tech.name, plan.environment,
            ),
            technique_id: tech.mitre_id.clone(),
            objective: format!("Verify that {} is detected and alerted on", tech.name),
            target_environment: plan.environment.to_owned(),
            severity: plan.severity,
            platform: plan.platform.clone(),
            procedure: format!(
                "1. Prepare the target host\n2. Run: {}\n3. Record the output and timestamps",
                command_for(plan.platform.as_deref(), tech)
            ),
            expected_detection: "An EDR or SIEM alert within 15 minutes".to_owned(),
            suggested_tools: plan.tools.iter().map(|t| (*t).to_owned()).collect(),
            assigned_red_id: plan.assigned_red.map(|i| people[i].id),
            assigned_blue_id: plan.assigned_blue.map(|i| people[i].id),
            created_by: people[plan.creator].id,
            // No campaign, no retest, no template.
            ..NewTest::default()
        };
        rows::draft_row(plan.id, new, plan.created)
    }

    /// `draft` with the fields of every phase the test went through (its version and last
    /// change are set once its history is written).
    fn lived(&self, plan: &Plan, mut model: security_test::Model) -> security_test::Model {
        let (tech, people) = (&self.techs[plan.tech_index], &self.staff.people);
        let red_window = plan.red_window();
        model.state = plan.state;
        // Red results: filled once submitted, and by most technicians while executing.
        if plan.red_filled {
            model.tool_used = Some(plan.tool.to_owned());
            model.command_executed = Some(command_for(plan.platform.as_deref(), tech));
            model.output_observed = Some("Completed, exit code 0".to_owned());
            model.red_notes = Some(format!(
                "Ran with {} from {}.\nNo errors; artefacts left in place for the blue team.",
                plan.tool, plan.attacker_ip
            ));
            model.attacker_ip = Some(plan.attacker_ip.clone());
            model.target_ip = Some(plan.target_ip.clone());
            model.start_time = red_window.map(|(from, to)| within(from, to, 0.1));
            model.end_time = red_window
                .filter(|_| plan.red_done)
                .map(|(from, to)| within(from, to, 0.6));
        }
        if let Some(d) = plan.detection {
            model.detection_result = Some(DETECTIONS[d]);
            model.detection_notes = Some(
                match d {
                    0 => "Alert raised and triaged by the SOC",
                    1 => "Telemetry present, but no alert fired on its own",
                    _ => "Nothing in the EDR or the SIEM for this activity",
                }
                .to_owned(),
            );
            model.alert_fired = plan.alert_fired;
            model.alert_name = plan.alert_name.clone();
            model.response_action = (d < 2).then(|| plan.response.to_owned());
            model.time_to_detect_seconds = plan.time_to_detect;
            model.blue_notes = Some("Checked EDR, SIEM and proxy logs for the window.".to_owned());
        }
        if let Some((vote, when)) = plan.vote_of(Team::Red) {
            model.red_validation_status = Some(vote);
            model.red_validation_notes = vote_notes(vote);
            model.red_validated_by = Some(people[plan.red_lead].id);
            model.red_validated_at = Some(when);
        }
        if let Some((vote, when)) = plan.vote_of(Team::Blue) {
            model.blue_validation_status = Some(vote);
            model.blue_validation_notes = vote_notes(vote);
            model.blue_validated_by = Some(people[plan.blue_lead].id);
            model.blue_validated_at = Some(when);
        }
        let stopped = plan.time.red_end.filter(|_| plan.red_done);
        rows::set_timer(
            &mut model,
            Timer {
                started_at: plan.time.started,
                paused_at: red_window
                    .filter(|_| plan.paused_now)
                    .map(|(from, to)| within(from, to, 0.5)),
                paused_seconds: plan.paused_seconds(),
                stopped_at: stopped,
            },
        );
        if plan.remediated {
            model.remediation_status = plan.remediation_status;
            model.remediation_notes =
                "Detection gap confirmed; fix tracked with the detection engineering team."
                    .to_owned();
            model.remediation_owner = plan.owner.map(|i| people[i].id);
            model.remediation_due_date = plan.due;
        }
        model.red_submitted_at = stopped;
        model.blue_submitted_at = plan.time.blue_end.filter(|_| plan.blue_done);
        model.completed_at = if plan.reopened { None } else { plan.completed };
        model
    }

    /// Coverage over time: what this test said about its technique at each snapshot.
    fn track_coverage(&mut self, plan: &Plan, rejected_at: Option<DateTime<Utc>>) {
        let mut outcomes: Vec<(DateTime<Utc>, TestOutcome)> =
            vec![(plan.created, TestOutcome::Active)];
        if let Some(rejected) = rejected_at {
            outcomes.push((rejected, TestOutcome::Rejected));
        }
        if let Some(reopened_at) = plan.time.reopened {
            outcomes.push((reopened_at, TestOutcome::Active));
        }
        if plan.state == TestState::Validated
            && let Some(done) = plan.completed
        {
            let detection = match plan.detection {
                Some(0) => DetectionResult::Detected,
                Some(1) => DetectionResult::Partial,
                _ => DetectionResult::NotDetected,
            };
            outcomes.push((done, TestOutcome::Validated(detection)));
        }
        for (s, taken) in self.snapshot_times.iter().enumerate() {
            let Some((_, outcome)) = outcomes.iter().rev().find(|(t, _)| t <= taken) else {
                continue;
            };
            let status = coverage_status([*outcome]);
            let slot = &mut self.snapshot_status[s][plan.tech_index];
            *slot = (*slot).min(status);
        }
    }
}
