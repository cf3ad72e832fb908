//! Who is told what when a test moves on: the notification routing of the workflow, as data.
//! The workflow service asks [`on_transition`], [`on_outcome`] and the remediation rules for a
//! [`Notice`], resolves its [`Audience`] to users and writes the notifications in the same
//! transaction as the change.
use crate::domain::rbac::Role;
use crate::domain::values::string_enum;
use crate::domain::workflow::{Action, TestState};
use std::collections::HashSet;
use uuid::Uuid;

string_enum! {
    /// What a notification is about; the wire form is its `kind`.
    pub enum NoticeKind ("notification kind") {
        AwaitingBlue = "test.awaiting_blue" / "Awaiting the blue team",
        InReview = "test.in_review" / "Ready for validation",
        Reopened = "test.reopened" / "Reopened",
        Validated = "test.validated" / "Validated",
        Rejected = "test.rejected" / "Rejected",
        RemediationAssigned = "remediation.assigned" / "Remediation assigned",
        StepAssigned = "remediation.step_assigned" / "Remediation step assigned",
        IntelMatched = "intel.matched" / "Intel mentions techniques to look at",
    }
}

/// The people a test's notice goes to, as far as the facts of the test tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The side's assignee when there is one, else everyone holding one of the roles.
    Side {
        assignee: Option<Uuid>,
        roles: &'static [Role],
    },
    /// Everyone holding one of the roles.
    Roles(&'static [Role]),
    /// These users.
    Users(Vec<Uuid>),
}

/// One notice, before its audience is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub audience: Audience,
    pub title: String,
}

/// What routing needs to know about a test.
#[derive(Debug, Clone, Copy)]
pub struct TestFacts<'a> {
    pub title: &'a str,
    pub created_by: Uuid,
    pub assigned_red: Option<Uuid>,
    pub assigned_blue: Option<Uuid>,
}

const BLUE_TEAM: &[Role] = &[Role::BlueTech, Role::BlueLead];
const LEADS: &[Role] = &[Role::RedLead, Role::BlueLead];

/// The notice a transition sends: the blue side on submit-red, both leads on submit-blue, the
/// creator and the red assignee on reopen.
pub fn on_transition(action: Action, test: TestFacts<'_>) -> Option<Notice> {
    let (kind, audience, title) = match action {
        Action::SubmitRed => (
            NoticeKind::AwaitingBlue,
            Audience::Side {
                assignee: test.assigned_blue,
                roles: BLUE_TEAM,
            },
            format!(
                "Red team submitted \"{}\": your evaluation is needed",
                test.title
            ),
        ),
        Action::SubmitBlue => (
            NoticeKind::InReview,
            Audience::Roles(LEADS),
            format!("\"{}\" is ready for validation", test.title),
        ),
        Action::Reopen => (
            NoticeKind::Reopened,
            Audience::Users(
                std::iter::once(test.created_by)
                    .chain(test.assigned_red)
                    .collect(),
            ),
            format!("\"{}\" was reopened", test.title),
        ),
        _ => return None,
    };
    Some(Notice {
        kind,
        audience,
        title,
    })
}

/// The notice a finished review sends to the creator and both assignees.
pub fn on_outcome(outcome: TestState, test: TestFacts<'_>) -> Option<Notice> {
    let (kind, title) = match outcome {
        TestState::Validated => (
            NoticeKind::Validated,
            format!("\"{}\" was validated", test.title),
        ),
        TestState::Rejected => (
            NoticeKind::Rejected,
            format!("\"{}\" was rejected", test.title),
        ),
        _ => return None,
    };
    Some(Notice {
        kind,
        audience: Audience::Users(
            std::iter::once(test.created_by)
                .chain(test.assigned_red)
                .chain(test.assigned_blue)
                .collect(),
        ),
        title,
    })
}

/// A new remediation owner is told.
pub fn on_owner_assigned(owner: Uuid, test: TestFacts<'_>) -> Notice {
    Notice {
        kind: NoticeKind::RemediationAssigned,
        audience: Audience::Users(vec![owner]),
        title: format!("You own the remediation of \"{}\"", test.title),
    }
}

/// A step's new assignee is told.
pub fn on_step_assigned(assignee: Uuid, step: &str) -> Notice {
    Notice {
        kind: NoticeKind::StepAssigned,
        audience: Audience::Users(vec![assignee]),
        title: format!("Remediation step assigned to you: {step}"),
    }
}

/// The final list: each user once, in order, and never the person who acted.
pub fn recipients(users: impl IntoIterator<Item = Uuid>, actor: Option<Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    users
        .into_iter()
        .filter(|id| Some(*id) != actor && seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(red: Option<Uuid>, blue: Option<Uuid>) -> TestFacts<'static> {
        TestFacts {
            title: "Dump LSASS",
            created_by: Uuid::from_u128(1),
            assigned_red: red,
            assigned_blue: blue,
        }
    }

    #[test]
    fn each_transition_tells_who_acts_next() {
        let red = Some(Uuid::from_u128(2));
        let blue = Some(Uuid::from_u128(3));
        let submit_red = on_transition(Action::SubmitRed, facts(red, blue)).unwrap();
        assert_eq!(submit_red.kind, NoticeKind::AwaitingBlue);
        assert_eq!(
            submit_red.audience,
            Audience::Side {
                assignee: blue,
                roles: &[Role::BlueTech, Role::BlueLead]
            }
        );
        assert!(submit_red.title.contains("Dump LSASS"));
        let submit_blue = on_transition(Action::SubmitBlue, facts(red, blue)).unwrap();
        assert_eq!(submit_blue.kind, NoticeKind::InReview);
        assert_eq!(
            submit_blue.audience,
            Audience::Roles(&[Role::RedLead, Role::BlueLead])
        );
        let reopen = on_transition(Action::Reopen, facts(red, blue)).unwrap();
        assert_eq!(reopen.kind, NoticeKind::Reopened);
        assert_eq!(
            reopen.audience,
            Audience::Users(vec![Uuid::from_u128(1), Uuid::from_u128(2)])
        );
        assert_eq!(
            on_transition(Action::StartExecution, facts(red, blue)),
            None
        );
        for action in Action::ALL {
            if !matches!(
                action,
                Action::SubmitRed | Action::SubmitBlue | Action::Reopen
            ) {
                assert_eq!(on_transition(action, facts(red, blue)), None, "{action:?}");
            }
        }
    }

    #[test]
    fn outcomes_tell_creator_and_assignees() {
        let red = Some(Uuid::from_u128(2));
        let validated = on_outcome(TestState::Validated, facts(red, None)).unwrap();
        assert_eq!(validated.kind, NoticeKind::Validated);
        assert_eq!(
            validated.audience,
            Audience::Users(vec![Uuid::from_u128(1), Uuid::from_u128(2)])
        );
        assert_eq!(
            on_outcome(TestState::Rejected, facts(None, None))
                .unwrap()
                .kind,
            NoticeKind::Rejected
        );
        assert_eq!(on_outcome(TestState::InReview, facts(None, None)), None);
    }

    #[test]
    fn the_actor_is_never_told_and_nobody_twice() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(recipients([a, b, a, b], Some(a)), vec![b]);
        assert_eq!(recipients([a, b], None), vec![a, b]);
        assert_eq!(
            on_step_assigned(b, "Patch").title,
            "Remediation step assigned to you: Patch"
        );
        assert_eq!(
            on_owner_assigned(a, facts(None, None)).audience,
            Audience::Users(vec![a])
        );
    }
}
