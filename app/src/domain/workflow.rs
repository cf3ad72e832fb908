//! The test lifecycle, defined once: states, the actions on a test, who may take each and in
//! which states, the dual vote and the execution timer. The server enforces these rules; the
//! UI derives its buttons and editable fields from them, so the two cannot disagree.
//!
//! ```text
//! draft ──start-execution──▶ red_executing ──submit-red──▶ blue_evaluating ──submit-blue──▶ in_review
//!   ▲                                                                                         │
//!   └──────────────── reopen ── rejected ◀── either lead rejects ── votes ── both approve ──▶ validated
//! ```
//!
//! The resolved table. Where the spec's README and its lifecycle document differ, the
//! lifecycle document wins (creating a test: leads and admin, not technicians; starting
//! execution: any red role). Admin may do everything a role may do; viewer nothing.
//!
//! | Action                      | Roles                          | States                     |
//! |-----------------------------|--------------------------------|----------------------------|
//! | create (`POST /tests`)      | red_lead, blue_lead, admin     | (new test, in `draft`)     |
//! | create from a template      | red_tech, red_lead, blue_lead, admin | (new test, in `draft`) |
//! | edit general fields         | red_lead, blue_lead, admin     | draft                      |
//! | edit red fields             | red_tech, red_lead, admin      | draft, red_executing       |
//! | edit blue fields            | blue_tech, blue_lead, admin    | blue_evaluating            |
//! | edit remediation            | red_lead, blue_lead, admin     | every state                |
//! | start-execution             | red_tech, red_lead, admin      | draft                      |
//! | submit-red                  | red_tech, red_lead, admin      | red_executing              |
//! | submit-blue                 | blue_tech, blue_lead, admin    | blue_evaluating            |
//! | validate-red                | red_lead, admin                | in_review, red side unvoted|
//! | validate-blue               | blue_lead, admin               | in_review, blue side unvoted|
//! | reopen (clears both votes)  | red_lead, blue_lead, admin     | rejected                   |
//! | pause-timer / resume-timer  | every role but viewer          | red_executing              |
//! | upload red evidence         | red_tech, red_lead, admin      | draft, red_executing       |
//! | upload blue evidence        | blue_tech, blue_lead, admin    | blue_evaluating            |
//!
//! A role that may never take an action is refused first (HTTP 403), whatever the state; a
//! role that may, asking in the wrong state, is refused for the state (HTTP 409). In
//! `in_review`, `validated` and `rejected` nothing but votes, reopening and remediation
//! changes, and evidence is locked. A vote is final: a side that has voted cannot vote again
//! until the test is reopened. Both sides approved → `validated`; either side rejected →
//! `rejected` at once; otherwise the test stays `in_review`.
use crate::domain::rbac::{Role, Team};
use crate::domain::values::{DetectionResult, string_enum};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

string_enum! {
    /// Where a test is in its lifecycle.
    pub enum TestState ("state") {
        Draft = "draft" / "Draft",
        RedExecuting = "red_executing" / "Red executing",
        BlueEvaluating = "blue_evaluating" / "Blue evaluating",
        InReview = "in_review" / "In review",
        Validated = "validated" / "Validated",
        Rejected = "rejected" / "Rejected",
    }
}

impl TestState {
    /// Under way: counts as `in_progress` for coverage.
    pub fn is_active(self) -> bool {
        !matches!(self, TestState::Validated | TestState::Rejected)
    }
}

/// Everything one can do to an existing test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    EditGeneral,
    EditRed,
    EditBlue,
    EditRemediation,
    StartExecution,
    SubmitRed,
    SubmitBlue,
    ValidateRed,
    ValidateBlue,
    Reopen,
    PauseTimer,
    ResumeTimer,
    UploadEvidence(Team),
}

use Role::{Admin, BlueLead, BlueTech, RedLead, RedTech};
use TestState::{BlueEvaluating, Draft, InReview, RedExecuting, Rejected, Validated};

const RED_ROLES: &[Role] = &[Admin, RedTech, RedLead];
const BLUE_ROLES: &[Role] = &[Admin, BlueTech, BlueLead];
const LEADS: &[Role] = &[Admin, RedLead, BlueLead];
const ACTORS: &[Role] = &[Admin, RedTech, BlueTech, RedLead, BlueLead];

impl Action {
    pub const ALL: [Action; 14] = [
        Action::EditGeneral,
        Action::EditRed,
        Action::EditBlue,
        Action::EditRemediation,
        Action::StartExecution,
        Action::SubmitRed,
        Action::SubmitBlue,
        Action::ValidateRed,
        Action::ValidateBlue,
        Action::Reopen,
        Action::PauseTimer,
        Action::ResumeTimer,
        Action::UploadEvidence(Team::Red),
        Action::UploadEvidence(Team::Blue),
    ];

    /// The roles that may ever take this action.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::EditGeneral | Action::EditRemediation | Action::Reopen => LEADS,
            Action::EditRed
            | Action::StartExecution
            | Action::SubmitRed
            | Action::UploadEvidence(Team::Red) => RED_ROLES,
            Action::EditBlue | Action::SubmitBlue | Action::UploadEvidence(Team::Blue) => {
                BLUE_ROLES
            }
            Action::ValidateRed => &[Admin, RedLead],
            Action::ValidateBlue => &[Admin, BlueLead],
            Action::PauseTimer | Action::ResumeTimer => ACTORS,
        }
    }

    /// The states in which it may be taken.
    pub fn states(self) -> &'static [TestState] {
        match self {
            Action::EditGeneral | Action::StartExecution => &[Draft],
            Action::EditRed | Action::UploadEvidence(Team::Red) => &[Draft, RedExecuting],
            Action::EditBlue | Action::SubmitBlue | Action::UploadEvidence(Team::Blue) => {
                &[BlueEvaluating]
            }
            Action::EditRemediation => &TestState::ALL,
            Action::SubmitRed | Action::PauseTimer | Action::ResumeTimer => &[RedExecuting],
            Action::ValidateRed | Action::ValidateBlue => &[InReview],
            Action::Reopen => &[Rejected],
        }
    }

    /// Where a transition leads; votes are decided by [`review_outcome`].
    pub fn target(self) -> Option<TestState> {
        match self {
            Action::StartExecution => Some(RedExecuting),
            Action::SubmitRed => Some(BlueEvaluating),
            Action::SubmitBlue => Some(InReview),
            Action::Reopen => Some(Draft),
            _ => None,
        }
    }

    /// The wire name, as the API lists a test's allowed actions.
    pub fn slug(self) -> &'static str {
        match self {
            Action::EditGeneral => "edit_general",
            Action::EditRed => "edit_red",
            Action::EditBlue => "edit_blue",
            Action::EditRemediation => "edit_remediation",
            Action::StartExecution => "start_execution",
            Action::SubmitRed => "submit_red",
            Action::SubmitBlue => "submit_blue",
            Action::ValidateRed => "validate_red",
            Action::ValidateBlue => "validate_blue",
            Action::Reopen => "reopen",
            Action::PauseTimer => "pause_timer",
            Action::ResumeTimer => "resume_timer",
            Action::UploadEvidence(Team::Red) => "upload_red_evidence",
            Action::UploadEvidence(Team::Blue) => "upload_blue_evidence",
        }
    }

    /// How people and messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::EditGeneral => "edit the test",
            Action::EditRed => "edit the red team's fields",
            Action::EditBlue => "edit the blue team's fields",
            Action::EditRemediation => "edit the remediation",
            Action::StartExecution => "start execution",
            Action::SubmitRed => "submit the red team's results",
            Action::SubmitBlue => "submit the blue team's results",
            Action::ValidateRed => "validate the red side",
            Action::ValidateBlue => "validate the blue side",
            Action::Reopen => "reopen the test",
            Action::PauseTimer => "pause the timer",
            Action::ResumeTimer => "resume the timer",
            Action::UploadEvidence(Team::Red) => "upload red evidence",
            Action::UploadEvidence(Team::Blue) => "upload blue evidence",
        }
    }
}

/// On the wire an action is its slug (`"submit_red"`, `"upload_blue_evidence"`).
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|action| action.slug() == s)
            .ok_or_else(|| format!("Unknown action '{s}'"))
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.slug())
    }
}

/// In the API description: one of the slugs.
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Action {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Action::ALL.map(Action::slug)))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Action {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Action")
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let slug = String::deserialize(deserializer)?;
        slug.parse().map_err(serde::de::Error::custom)
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The role may never take this action (HTTP 403).
    Role { action: Action, role: Role },
    /// Not in this state (HTTP 409).
    State { action: Action, state: TestState },
    /// That side has already voted (HTTP 409).
    AlreadyVoted { team: Team },
}

impl Denied {
    pub fn message(&self) -> String {
        match self {
            Denied::Role { action, role } => {
                format!("A {} may not {}", role.label(), action.describe())
            }
            Denied::State { action, state } => {
                let allowed: Vec<&str> = action.states().iter().map(|s| s.as_str()).collect();
                format!(
                    "Cannot {} while the test is {}; allowed in: {}",
                    action.describe(),
                    state.as_str(),
                    allowed.join(", ")
                )
            }
            Denied::AlreadyVoted { team } => format!(
                "The {} side has already been validated; reopen the test to vote again",
                match team {
                    Team::Red => "red",
                    Team::Blue => "blue",
                }
            ),
        }
    }

    /// The HTTP status this refusal maps to.
    pub fn status(&self) -> u16 {
        match self {
            Denied::Role { .. } => 403,
            Denied::State { .. } | Denied::AlreadyVoted { .. } => 409,
        }
    }
}

/// May `role` take `action` on a test in `state`? The role is checked before the state.
pub fn check(role: Role, state: TestState, action: Action) -> Result<(), Denied> {
    if !action.roles().contains(&role) {
        return Err(Denied::Role { action, role });
    }
    if !action.states().contains(&state) {
        return Err(Denied::State { action, state });
    }
    Ok(())
}

/// What `role` may do now: the UI's buttons and editable sections.
pub fn allowed_actions(role: Role, state: TestState) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|action| check(role, state, *action).is_ok())
        .collect()
}

/// The work that moves a test on: a transition or a vote. "My pending tasks" are the tests
/// where the user's role may take one of these now.
pub fn moves_test_on(action: Action) -> bool {
    matches!(
        action,
        Action::StartExecution
            | Action::SubmitRed
            | Action::SubmitBlue
            | Action::ValidateRed
            | Action::ValidateBlue
            | Action::Reopen
    )
}

/// For "my pending tasks": the states in which `role` may move a test on by a transition, and
/// the sides it votes for in review (a vote is pending only while that side is unvoted).
pub fn pending_work(role: Role) -> (Vec<TestState>, Vec<Team>) {
    let states = TestState::ALL
        .into_iter()
        .filter(|state| {
            allowed_actions(role, *state)
                .into_iter()
                .any(|a| moves_test_on(a) && a.target().is_some())
        })
        .collect();
    let mut sides = Vec::new();
    if check(role, InReview, Action::ValidateRed).is_ok() {
        sides.push(Team::Red);
    }
    if check(role, InReview, Action::ValidateBlue).is_ok() {
        sides.push(Team::Blue);
    }
    (states, sides)
}

/// Whose assignment limits `role`'s pending tasks: technicians see the tests of their side
/// assigned to them or to nobody; leads and admins see every test.
pub fn pending_assignee(role: Role) -> Option<Team> {
    match role {
        RedTech => Some(Team::Red),
        BlueTech => Some(Team::Blue),
        _ => None,
    }
}

/// Who may instantiate a catalog template as a test: the creators, and red technicians, who
/// run the procedures (the spec's endpoint table; the lifecycle document does not cover it).
pub fn can_create_from_template(role: Role) -> bool {
    can_create(role) || role == Role::RedTech
}

/// Who may create tests (they start in `draft`).
pub fn can_create(role: Role) -> bool {
    LEADS.contains(&role)
}

string_enum! {
    /// One lead's verdict on their side.
    pub enum Vote ("vote") {
        Approved = "approved" / "Approved",
        Rejected = "rejected" / "Rejected",
    }
}

/// May `role` cast `team`'s vote, given the votes so far?
pub fn check_vote(
    role: Role,
    state: TestState,
    team: Team,
    current: Option<Vote>,
) -> Result<(), Denied> {
    let action = match team {
        Team::Red => Action::ValidateRed,
        Team::Blue => Action::ValidateBlue,
    };
    check(role, state, action)?;
    match current {
        Some(_) => Err(Denied::AlreadyVoted { team }),
        None => Ok(()),
    }
}

/// The state a test in review moves to, given both sides' votes.
pub fn review_outcome(red: Option<Vote>, blue: Option<Vote>) -> TestState {
    match (red, blue) {
        (Some(Vote::Rejected), _) | (_, Some(Vote::Rejected)) => Rejected,
        (Some(Vote::Approved), Some(Vote::Approved)) => Validated,
        _ => InReview,
    }
}

/// Who may be assigned to work for `team` (as its assignee): its members, and admins.
pub fn may_work_for(role: Role, team: Team) -> bool {
    role == Role::Admin || role.team() == Some(team)
}

/// What a transition does to a test besides moving its state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// The execution timer starts again from zero.
    pub restart_timer: bool,
    /// The execution timer stops for good (a pause in progress ends).
    pub stop_timer: bool,
    pub stamp_red_submitted: bool,
    pub stamp_blue_submitted: bool,
    /// Both sides' votes (status, notes, who and when) and the completion time are cleared.
    pub clear_votes: bool,
    /// The technique's coverage may have changed.
    pub recompute_coverage: bool,
}

impl Action {
    pub fn effects(self) -> Effects {
        match self {
            Action::StartExecution => Effects {
                restart_timer: true,
                ..Effects::default()
            },
            Action::SubmitRed => Effects {
                stop_timer: true,
                stamp_red_submitted: true,
                ..Effects::default()
            },
            Action::SubmitBlue => Effects {
                stamp_blue_submitted: true,
                ..Effects::default()
            },
            Action::Reopen => Effects {
                clear_votes: true,
                recompute_coverage: true,
                ..Effects::default()
            },
            _ => Effects::default(),
        }
    }
}

/// A transition the rules allow, but that the test is not ready for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// submit-blue needs the blue team's detection result.
    DetectionResultMissing,
}

impl NotReady {
    /// The field to fill in.
    pub fn field(self) -> &'static str {
        match self {
            NotReady::DetectionResultMissing => "detection_result",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            NotReady::DetectionResultMissing => {
                "Record the detection result (detected, not_detected or partial) before submitting"
            }
        }
    }
}

/// Is the test ready for `action`? Checked after the role and the state.
pub fn ready_for(action: Action, detection: Option<DetectionResult>) -> Result<(), NotReady> {
    match (action, detection) {
        (Action::SubmitBlue, None) => Err(NotReady::DetectionResultMissing),
        _ => Ok(()),
    }
}

/// A review that leaves `in_review` is complete: the test records when.
pub fn review_completes(outcome: TestState) -> bool {
    outcome != TestState::InReview
}

/// The vote a side may still cast, filtered from the allowed actions: a side that has voted
/// waits for a reopen.
pub fn open_actions(
    role: Role,
    state: TestState,
    red: Option<Vote>,
    blue: Option<Vote>,
) -> Vec<Action> {
    allowed_actions(role, state)
        .into_iter()
        .filter(|action| match action {
            Action::ValidateRed => red.is_none(),
            Action::ValidateBlue => blue.is_none(),
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignees_work_for_their_side_or_are_admins() {
        for role in Role::ALL {
            for team in Team::ALL {
                let expected = role == Role::Admin || role.team() == Some(team);
                assert_eq!(may_work_for(role, team), expected, "{role:?} {team}");
            }
        }
        assert!(may_work_for(Role::RedTech, Team::Red));
        assert!(!may_work_for(Role::RedLead, Team::Blue));
        assert!(!may_work_for(Role::Viewer, Team::Red));
    }

    #[test]
    fn transition_effects() {
        let reopen = Action::Reopen.effects();
        assert!(reopen.clear_votes && reopen.recompute_coverage);
        assert!(!reopen.restart_timer && !reopen.stop_timer);
        let start = Action::StartExecution.effects();
        assert!(start.restart_timer && !start.clear_votes);
        let red = Action::SubmitRed.effects();
        assert!(red.stop_timer && red.stamp_red_submitted && !red.stamp_blue_submitted);
        let blue = Action::SubmitBlue.effects();
        assert!(blue.stamp_blue_submitted && !blue.stop_timer && !blue.clear_votes);
        for action in Action::ALL {
            if action.target().is_none() {
                assert_eq!(action.effects(), Effects::default(), "{action:?}");
            }
        }
    }

    #[test]
    fn submit_blue_needs_a_detection_result() {
        assert_eq!(
            ready_for(Action::SubmitBlue, None),
            Err(NotReady::DetectionResultMissing)
        );
        assert_eq!(NotReady::DetectionResultMissing.field(), "detection_result");
        for result in DetectionResult::ALL {
            assert_eq!(ready_for(Action::SubmitBlue, Some(result)), Ok(()));
        }
        for action in Action::ALL {
            if action != Action::SubmitBlue {
                assert_eq!(ready_for(action, None), Ok(()), "{action:?}");
            }
        }
    }

    #[test]
    fn a_voted_side_is_not_offered_again() {
        let all = open_actions(Role::Admin, InReview, None, None);
        assert!(all.contains(&Action::ValidateRed) && all.contains(&Action::ValidateBlue));
        let after_red = open_actions(Role::Admin, InReview, Some(Vote::Approved), None);
        assert!(!after_red.contains(&Action::ValidateRed));
        assert!(after_red.contains(&Action::ValidateBlue));
        assert!(review_completes(Validated) && review_completes(Rejected));
        assert!(!review_completes(InReview));
    }

    #[test]
    fn actions_travel_as_their_slugs() {
        for action in Action::ALL {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.slug()));
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        }
        assert!("fly".parse::<Action>().is_err());
    }

    #[test]
    fn pending_work_per_role() {
        assert_eq!(
            pending_work(Role::RedTech),
            (vec![Draft, RedExecuting], vec![])
        );
        assert_eq!(pending_work(Role::BlueTech), (vec![BlueEvaluating], vec![]));
        assert_eq!(
            pending_work(Role::RedLead),
            (vec![Draft, RedExecuting, Rejected], vec![Team::Red])
        );
        assert_eq!(
            pending_work(Role::BlueLead),
            (vec![BlueEvaluating, Rejected], vec![Team::Blue])
        );
        assert_eq!(
            pending_work(Role::Admin),
            (
                vec![Draft, RedExecuting, BlueEvaluating, Rejected],
                vec![Team::Red, Team::Blue]
            )
        );
        assert_eq!(pending_work(Role::Viewer), (vec![], vec![]));
        assert_eq!(pending_assignee(Role::RedTech), Some(Team::Red));
        assert_eq!(pending_assignee(Role::BlueTech), Some(Team::Blue));
        assert_eq!(pending_assignee(Role::RedLead), None);
    }

    /// The whole table, written out by hand: a change to the rules must be mirrored here on
    /// purpose. `None` means the role may never (403); `Some(states)` lists where it may.
    fn expected(role: Role, action: Action) -> Option<&'static [TestState]> {
        use Role::*;
        let red_side = matches!(role, Admin | RedTech | RedLead);
        let blue_side = matches!(role, Admin | BlueTech | BlueLead);
        let lead = matches!(role, Admin | RedLead | BlueLead);
        let (may, states): (bool, &'static [TestState]) = match action {
            Action::EditGeneral => (lead, &[Draft]),
            Action::EditRed => (red_side, &[Draft, RedExecuting]),
            Action::EditBlue => (blue_side, &[BlueEvaluating]),
            Action::EditRemediation => (
                lead,
                &[
                    Draft,
                    RedExecuting,
                    BlueEvaluating,
                    InReview,
                    Validated,
                    Rejected,
                ],
            ),
            Action::StartExecution => (red_side, &[Draft]),
            Action::SubmitRed => (red_side, &[RedExecuting]),
            Action::SubmitBlue => (blue_side, &[BlueEvaluating]),
            Action::ValidateRed => (matches!(role, Admin | RedLead), &[InReview]),
            Action::ValidateBlue => (matches!(role, Admin | BlueLead), &[InReview]),
            Action::Reopen => (lead, &[Rejected]),
            Action::PauseTimer | Action::ResumeTimer => (role != Viewer, &[RedExecuting]),
            Action::UploadEvidence(Team::Red) => (red_side, &[Draft, RedExecuting]),
            Action::UploadEvidence(Team::Blue) => (blue_side, &[BlueEvaluating]),
        };
        may.then_some(states)
    }

    #[test]
    fn every_state_action_and_role_matches_the_table() {
        let mut checked = 0;
        for role in Role::ALL {
            for state in TestState::ALL {
                for action in Action::ALL {
                    let got = check(role, state, action);
                    match expected(role, action) {
                        None => assert_eq!(
                            got,
                            Err(Denied::Role { action, role }),
                            "{role} {action:?} in {state}"
                        ),
                        Some(states) if states.contains(&state) => {
                            assert_eq!(got, Ok(()), "{role} {action:?} in {state}")
                        }
                        Some(_) => assert_eq!(
                            got,
                            Err(Denied::State { action, state }),
                            "{role} {action:?} in {state}"
                        ),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 6 * 14);
    }

    #[test]
    fn viewers_can_do_nothing_and_admins_everything_the_state_allows() {
        for state in TestState::ALL {
            assert!(allowed_actions(Role::Viewer, state).is_empty());
            for action in Action::ALL {
                assert_eq!(
                    check(Role::Admin, state, action).is_ok(),
                    action.states().contains(&state)
                );
            }
        }
        assert!(!can_create(Role::Viewer));
        assert!(!can_create(Role::RedTech), "the lifecycle document wins");
        assert!(!can_create(Role::BlueTech));
        assert!(can_create(Role::RedLead) && can_create(Role::BlueLead) && can_create(Admin));
    }

    #[test]
    fn review_locks_fields_and_evidence() {
        for state in [InReview, Validated, Rejected] {
            for role in Role::ALL {
                let actions = allowed_actions(role, state);
                assert!(!actions.contains(&Action::EditGeneral));
                assert!(!actions.contains(&Action::EditRed));
                assert!(!actions.contains(&Action::EditBlue));
                assert!(!actions.contains(&Action::UploadEvidence(Team::Red)));
                assert!(!actions.contains(&Action::UploadEvidence(Team::Blue)));
            }
        }
        // Remediation stays editable by leads after validation.
        assert!(check(Role::BlueLead, Validated, Action::EditRemediation).is_ok());
    }

    #[test]
    fn transitions_follow_the_diagram() {
        let path: Vec<(Action, TestState)> = Action::ALL
            .into_iter()
            .filter_map(|a| a.target().map(|t| (a, t)))
            .collect();
        assert_eq!(
            path,
            [
                (Action::StartExecution, RedExecuting),
                (Action::SubmitRed, BlueEvaluating),
                (Action::SubmitBlue, InReview),
                (Action::Reopen, Draft),
            ]
        );
        for (action, target) in path {
            // Every transition leaves the one state it is allowed in.
            assert_eq!(action.states().len(), 1);
            assert_ne!(action.states()[0], target);
        }
    }

    #[test]
    fn the_dual_vote() {
        use Vote::{Approved, Rejected as No};
        let rejected = TestState::Rejected;
        let cases = [
            (None, None, InReview),
            (Some(Approved), None, InReview),
            (None, Some(Approved), InReview),
            (Some(Approved), Some(Approved), Validated),
            (Some(No), None, rejected),
            (None, Some(No), rejected),
            (Some(Approved), Some(No), rejected),
            (Some(No), Some(Approved), rejected),
            (Some(No), Some(No), rejected),
        ];
        for (red, blue, outcome) in cases {
            assert_eq!(review_outcome(red, blue), outcome, "{red:?} / {blue:?}");
        }
    }

    #[test]
    fn each_side_votes_once_and_only_its_own_lead() {
        assert_eq!(check_vote(Role::RedLead, InReview, Team::Red, None), Ok(()));
        assert_eq!(
            check_vote(Role::RedLead, InReview, Team::Red, Some(Vote::Approved)),
            Err(Denied::AlreadyVoted { team: Team::Red })
        );
        assert_eq!(
            check_vote(Role::RedLead, InReview, Team::Blue, None),
            Err(Denied::Role {
                action: Action::ValidateBlue,
                role: Role::RedLead
            })
        );
        assert_eq!(
            check_vote(Role::BlueLead, BlueEvaluating, Team::Blue, None),
            Err(Denied::State {
                action: Action::ValidateBlue,
                state: BlueEvaluating
            })
        );
        assert_eq!(check_vote(Role::Admin, InReview, Team::Blue, None), Ok(()));
    }

    #[test]
    fn refusals_name_the_state_and_map_to_http() {
        let denied = check(Role::RedTech, InReview, Action::SubmitRed).unwrap_err();
        assert_eq!(denied.status(), 409);
        assert_eq!(
            denied.message(),
            "Cannot submit the red team's results while the test is in_review; allowed in: red_executing"
        );
        let denied = check(Role::BlueTech, Draft, Action::StartExecution).unwrap_err();
        assert_eq!(denied.status(), 403);
        assert_eq!(
            denied.message(),
            "A Blue Team Technician may not start execution"
        );
    }

    #[test]
    fn states_round_trip() {
        for state in TestState::ALL {
            assert_eq!(state.as_str().parse::<TestState>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).unwrap_or_default(),
                state.as_str()
            );
        }
        assert!("done".parse::<TestState>().is_err());
        assert!(Draft.is_active() && InReview.is_active());
        assert!(!Validated.is_active() && !Rejected.is_active());
    }
}
