//! One test's draws: every choice about it (technique, state, people, results, the moments of
//! its life), made before any of its rows is built. The order of the draws is the random
//! stream's order: changing it changes every test after.
use super::clock::{DAY, HOUR, MINUTE, at};
use super::generate::Generator;
use super::vocabulary::{
    ALERTS, ENVIRONMENTS, REMEDIATION_STATUSES, RESPONSES, SEVERITIES, SEVERITY_WEIGHTS, STATE_MIX,
    STATE_WEIGHTS, TOOLS, VARIANTS,
};
use app::domain::rbac::Team;
use app::domain::values::{RemediationStatus, Severity};
use app::domain::workflow::{TestState, Vote};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Timestamps of one test's life. Each field is set when the test got that far.
#[derive(Default)]
pub(super) struct Timeline {
    pub(super) started: Option<DateTime<Utc>>,
    /// End of the red window: submission, or the latest moment seen so far.
    pub(super) red_end: Option<DateTime<Utc>>,
    pub(super) blue_end: Option<DateTime<Utc>>,
    pub(super) votes: Vec<DateTime<Utc>>,
    pub(super) reopened: Option<DateTime<Utc>>,
    /// A remediation change after validation.
    pub(super) remediation: Option<DateTime<Utc>>,
}

/// What was drawn for one test. People are indexes into `Staff::people`; a detection is an
/// index into `DETECTIONS` (0 detected, 1 partial, 2 not detected).
pub(super) struct Plan {
    /// The test's number in the run (from 0).
    pub(super) n: usize,
    pub(super) id: Uuid,
    pub(super) tech_index: usize,
    pub(super) state: TestState,
    /// A draft reopened after a rejection; its earlier results stay.
    pub(super) reopened: bool,
    pub(super) red_done: bool,
    pub(super) blue_done: bool,
    /// The votes in the order they were cast.
    pub(super) votes: Vec<(Team, Vote)>,
    pub(super) created: DateTime<Utc>,
    pub(super) time: Timeline,
    pub(super) creator: usize,
    pub(super) red: usize,
    pub(super) blue: usize,
    pub(super) red_lead: usize,
    pub(super) blue_lead: usize,
    pub(super) assigned_red: Option<usize>,
    pub(super) assigned_blue: Option<usize>,
    pub(super) platform: Option<String>,
    pub(super) severity: Severity,
    pub(super) tools: Vec<&'static str>,
    pub(super) variant: &'static str,
    pub(super) environment: &'static str,
    /// The red results are filled in (always once submitted).
    pub(super) red_filled: bool,
    pub(super) detection: Option<usize>,
    pub(super) tool: &'static str,
    pub(super) attacker_ip: String,
    pub(super) target_ip: String,
    /// The timer was paused and resumed during execution.
    pub(super) pause: bool,
    /// The timer is paused now.
    pub(super) paused_now: bool,
    pub(super) alert_fired: Option<bool>,
    pub(super) alert_name: Option<String>,
    pub(super) time_to_detect: Option<i64>,
    pub(super) response: &'static str,
    /// A validated test with a detection gap, its fix under way.
    pub(super) remediated: bool,
    pub(super) remediation_status: RemediationStatus,
    pub(super) owner: Option<usize>,
    /// When the review ended (validated or rejected).
    pub(super) completed: Option<DateTime<Utc>>,
    pub(super) due: Option<NaiveDate>,
    pub(super) step_count: usize,
}

impl Plan {
    /// The red team's execution window.
    pub(super) fn red_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.time.started.zip(self.time.red_end)
    }

    /// The blue team's evaluation window.
    pub(super) fn blue_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.time
            .red_end
            .zip(self.time.blue_end)
            .filter(|_| self.red_done)
    }

    /// `team`'s standing vote and when it was cast (a reopened test's were cleared).
    pub(super) fn vote_of(&self, team: Team) -> Option<(Vote, DateTime<Utc>)> {
        if self.reopened {
            return None;
        }
        self.votes
            .iter()
            .zip(&self.time.votes)
            .find(|((side, _), _)| *side == team)
            .map(|((_, vote), when)| (*vote, *when))
    }

    /// Seconds the timer spent paused before now.
    pub(super) fn paused_seconds(&self) -> i64 {
        match (self.pause, self.red_window()) {
            (true, Some((from, to))) => ((to - from).num_seconds() as f64 * 0.15) as i64,
            _ => 0,
        }
    }
}

/// A lead's notes with a vote.
pub(super) fn vote_notes(vote: Vote) -> Option<String> {
    match vote {
        Vote::Approved => None,
        Vote::Rejected => Some(
            "Evidence does not show the technique ran as planned; rerun with the full command \
             line captured."
                .to_owned(),
        ),
    }
}

impl Generator<'_> {
    /// Draws test number `n`.
    pub(super) fn plan(&mut self, n: usize) -> Plan {
        let (techs, staff) = (self.techs, self.staff);
        let fresh = n < self.fresh_quota;
        let tech_index = if fresh {
            self.fresh[n % self.fresh.len()]
        } else {
            self.picker.pick(&mut self.rng)
        };
        let tech = &techs[tech_index];
        let state = if fresh {
            STATE_MIX[self.rng.below(4)]
        } else {
            STATE_MIX[self.rng.weighted(&STATE_WEIGHTS)]
        };
        // A reopened draft went through a rejection first; its earlier results stay.
        let reopened = state == TestState::Draft && self.rng.chance(0.15);
        let executed = reopened || state != TestState::Draft;
        let red_done = reopened
            || matches!(
                state,
                TestState::BlueEvaluating
                    | TestState::InReview
                    | TestState::Validated
                    | TestState::Rejected
            );
        let blue_done = reopened
            || matches!(
                state,
                TestState::InReview | TestState::Validated | TestState::Rejected
            );
        let rng = &mut self.rng;
        let red_first = rng.chance(0.5);
        let sides = if red_first {
            [Team::Red, Team::Blue]
        } else {
            [Team::Blue, Team::Red]
        };
        let votes: Vec<(Team, Vote)> = match state {
            TestState::Validated => vec![(sides[0], Vote::Approved), (sides[1], Vote::Approved)],
            TestState::Rejected => {
                if rng.chance(0.5) {
                    vec![(sides[0], Vote::Rejected)]
                } else {
                    vec![(sides[0], Vote::Approved), (sides[1], Vote::Rejected)]
                }
            }
            TestState::Draft if reopened => vec![(sides[0], Vote::Rejected)],
            TestState::InReview if rng.chance(0.5) => vec![(sides[0], Vote::Approved)],
            _ => Vec::new(),
        };

        // Waits between steps, then squeezed when the test is too young for them all.
        let mut waits: Vec<i64> = Vec::with_capacity(8);
        waits.push(rng.wait(10 * MINUTE, 5 * DAY)); // create → start
        waits.push(rng.wait(15 * MINUTE, 8 * HOUR)); // start → submit red
        waits.push(rng.wait(30 * MINUTE, 4 * DAY)); // submit red → submit blue
        for _ in &votes {
            waits.push(rng.wait(30 * MINUTE, 3 * DAY));
        }
        waits.push(rng.wait(HOUR, 5 * DAY)); // → reopen, remediation, or now
        let max_age = if fresh {
            (30 * DAY).min(self.span)
        } else if state.is_active() {
            (self.span / 3).max(2 * HOUR)
        } else {
            self.span
        };
        let age = rng.between(HOUR, max_age);
        let total: i64 = waits.iter().sum();
        if total > age - MINUTE {
            let scale = (age - MINUTE) as f64 / total as f64;
            for wait in &mut waits {
                *wait = ((*wait as f64 * scale) as i64).max(1);
            }
        }
        let created = at(self.now, -age);
        let mut clock = created;
        let mut next = {
            let mut waits = waits.into_iter();
            move |clock: &mut DateTime<Utc>| {
                *clock = at(*clock, waits.next().unwrap_or(1));
                *clock
            }
        };
        let mut time = Timeline::default();
        if executed {
            time.started = Some(next(&mut clock));
            time.red_end = Some(next(&mut clock));
        }
        // Windows of tests still in a phase run up to about now.
        if red_done {
            time.blue_end = Some(next(&mut clock));
        }
        for _ in &votes {
            time.votes.push(next(&mut clock));
        }
        let last = next(&mut clock);
        if reopened {
            time.reopened = Some(last);
        }

        let creator = if rng.chance(0.65) {
            *rng.pick(&staff.red_leads)
        } else {
            *rng.pick(&staff.blue_leads)
        };
        let red = *rng.pick(&staff.red_techs);
        let blue = *rng.pick(&staff.blue_techs);
        let red_lead = *rng.pick(&staff.red_leads);
        let blue_lead = *rng.pick(&staff.blue_leads);
        let assigned_red = rng.chance(0.85).then_some(red);
        let assigned_blue = rng.chance(0.8).then_some(blue);
        let platform = (!tech.platforms.is_empty()).then(|| rng.pick(&tech.platforms).clone());
        let severity = SEVERITIES[rng.weighted(&SEVERITY_WEIGHTS)];
        let mut tools: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(&TOOLS)).collect();
        tools.sort_unstable();
        tools.dedup();
        let variant = *rng.pick(&VARIANTS);
        let environment = *rng.pick(&ENVIRONMENTS);
        let id = self.test_ids.uuid();

        // Red results: filled once submitted, and by most technicians while executing.
        let red_filled = red_done || (executed && rng.chance(0.6));
        let detection = if blue_done || (state == TestState::BlueEvaluating && rng.chance(0.5)) {
            Some(rng.weighted(&tech.visibility))
        } else {
            None
        };
        let tool = *rng.pick(&TOOLS);
        let attacker_ip = format!("10.66.{}.{}", rng.below(255), 1 + rng.below(254));
        let target_ip = format!("10.20.{}.{}", rng.below(255), 1 + rng.below(254));
        let pause = executed && rng.chance(0.2);
        let paused_now = state == TestState::RedExecuting && !pause && rng.chance(0.1);
        let alert_fired = detection.map(|d| match d {
            0 => rng.chance(0.9),
            1 => rng.chance(0.5),
            _ => false,
        });
        let multiline = rng.chance(0.005);
        let alert_name = match alert_fired {
            Some(true) if multiline => {
                // Pasted from a SIEM, line break included: exports must quote it.
                Some(format!("{}\n(tuned)", rng.pick(&ALERTS)))
            }
            Some(true) => Some((*rng.pick(&ALERTS)).to_owned()),
            _ => None,
        };
        let time_to_detect = detection.filter(|d| *d < 2).map(|_| rng.wait(5, 4 * HOUR));
        let response = *rng.pick(&RESPONSES);
        let gap = detection.is_some_and(|d| d > 0);
        let remediated = state == TestState::Validated && gap && rng.chance(0.85);
        if remediated {
            time.remediation = Some(last);
        }
        let remediation_status = if remediated {
            REMEDIATION_STATUSES[rng.weighted(&[30, 35, 25, 10])]
        } else {
            RemediationStatus::NotStarted
        };
        let owner = remediated.then(|| {
            let pool = if rng.chance(0.5) {
                &staff.blue_leads
            } else {
                &staff.blue_techs
            };
            *rng.pick(pool)
        });
        let completed = if matches!(state, TestState::Validated | TestState::Rejected) {
            time.votes.last().copied()
        } else {
            None
        };
        let due = completed.map(|c| at(c, rng.between(14, 60) * DAY).date_naive());
        let step_count = if remediated && rng.chance(0.6) {
            1 + rng.below(3)
        } else {
            0
        };
        Plan {
            n,
            id,
            tech_index,
            state,
            reopened,
            red_done,
            blue_done,
            votes,
            created,
            time,
            creator,
            red,
            blue,
            red_lead,
            blue_lead,
            assigned_red,
            assigned_blue,
            platform,
            severity,
            tools,
            variant,
            environment,
            red_filled,
            detection,
            tool,
            attacker_ip,
            target_ip,
            pause,
            paused_now,
            alert_fired,
            alert_name,
            time_to_detect,
            response,
            remediated,
            remediation_status,
            owner,
            completed,
            due,
            step_count,
        }
    }
}
