//! Test counts kept as tests change, so that lists and dashboards read a few small rows instead
//! of counting 100,000 tests on every request. A test is counted once per dimension it has a
//! value in (all tests, its technique, platform, creator, campaign, red and blue assignee, and
//! in review the sides still to vote), under its state. Every change to a test turns into the
//! deltas below, which the server adds to `test_tallies` in the change's own transaction; the
//! list's filters and "my pending tasks" are answered from them by [`for_filter`] and
//! [`for_pending`].
use crate::domain::rbac::{Role, Team};
use crate::domain::values::string_enum;
use crate::domain::workflow::{self, TestState};
use std::collections::BTreeMap;
use uuid::Uuid;

string_enum! {
    /// What a tally row counts tests by.
    pub enum TallyDimension ("tally dimension") {
        All = "all" / "All tests",
        Technique = "technique" / "Technique",
        Platform = "platform" / "Platform",
        Creator = "creator" / "Creator",
        Campaign = "campaign" / "Campaign",
        /// The red technician assigned, or nobody (the empty key).
        RedAssignee = "red_assignee" / "Red assignee",
        BlueAssignee = "blue_assignee" / "Blue assignee",
        /// In review only: the sides whose vote is still missing (`red`, `blue`, `red+blue`).
        Unvoted = "unvoted" / "Sides still to vote",
    }
}

/// The stored key of an optional person: their UUID key, or empty for nobody.
pub fn person_key(id: Option<Uuid>) -> String {
    id.map(uuid_key).unwrap_or_default()
}

/// The `Unvoted` keys whose tests still wait for `side`'s vote.
pub fn unvoted_keys(side: Team) -> [&'static str; 2] {
    match side {
        Team::Red => ["red", "red+blue"],
        Team::Blue => ["blue", "red+blue"],
    }
}

/// The stored key of a UUID: 32 lower-case hex digits, the same on both backends.
pub fn uuid_key(id: Uuid) -> String {
    id.simple().to_string()
}

/// What the tallies need to know of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFacts {
    pub state: TestState,
    pub technique: String,
    pub platform: Option<String>,
    pub creator: Uuid,
    pub campaign: Option<Uuid>,
    pub red_assignee: Option<Uuid>,
    pub blue_assignee: Option<Uuid>,
    pub red_voted: bool,
    pub blue_voted: bool,
}

impl TestFacts {
    /// The (dimension, key) pairs this test is counted under.
    pub fn keys(&self) -> Vec<(TallyDimension, String)> {
        let mut keys = vec![
            (TallyDimension::All, String::new()),
            (TallyDimension::Technique, self.technique.clone()),
            (TallyDimension::Creator, uuid_key(self.creator)),
        ];
        if let Some(platform) = &self.platform {
            keys.push((TallyDimension::Platform, platform.clone()));
        }
        if let Some(campaign) = self.campaign {
            keys.push((TallyDimension::Campaign, uuid_key(campaign)));
        }
        keys.push((TallyDimension::RedAssignee, person_key(self.red_assignee)));
        keys.push((TallyDimension::BlueAssignee, person_key(self.blue_assignee)));
        if self.state == TestState::InReview {
            let unvoted = match (self.red_voted, self.blue_voted) {
                (false, false) => Some("red+blue"),
                (false, true) => Some("red"),
                (true, false) => Some("blue"),
                (true, true) => None,
            };
            if let Some(key) = unvoted {
                keys.push((TallyDimension::Unvoted, key.to_owned()));
            }
        }
        keys
    }
}

/// One counter: tests of `state` under (`dimension`, `key`).
pub type TallyKey = (TallyDimension, String, TestState);

/// Counters to add up: (`dimension`, `key`), in the given states only when `Some`.
pub type TallySum = Vec<(TallyDimension, String, Option<Vec<TestState>>)>;

/// The list filters the counters can answer alone: each at most once, and together only when
/// they are one filter (the counters are not crossed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountedFilter {
    pub technique: Option<String>,
    pub platform: Option<String>,
    pub creator: Option<Uuid>,
    pub campaign: Option<Uuid>,
    pub pending_validation_side: Option<Team>,
}

/// The counters whose sum gives the tests per state matching `filter`, or `None` when it
/// combines filters the counters do not cross.
pub fn for_filter(filter: &CountedFilter) -> Option<TallySum> {
    let mut given: Vec<TallySum> = Vec::new();
    if let Some(t) = &filter.technique {
        given.push(vec![(TallyDimension::Technique, t.clone(), None)]);
    }
    if let Some(p) = &filter.platform {
        given.push(vec![(TallyDimension::Platform, p.clone(), None)]);
    }
    if let Some(c) = filter.creator {
        given.push(vec![(TallyDimension::Creator, uuid_key(c), None)]);
    }
    if let Some(c) = filter.campaign {
        given.push(vec![(TallyDimension::Campaign, uuid_key(c), None)]);
    }
    if let Some(side) = filter.pending_validation_side {
        given.push(
            unvoted_keys(side)
                .into_iter()
                .map(|k| (TallyDimension::Unvoted, k.to_owned(), None))
                .collect(),
        );
    }
    match given.len() {
        0 => Some(vec![(TallyDimension::All, String::new(), None)]),
        1 => given.pop(),
        _ => None,
    }
}

/// The counters whose sum gives `user`'s pending tasks per state (`workflow::pending_work`):
/// the states they move tests on from (for technicians, only the tests of their side assigned
/// to them or to nobody), and in review the tests still waiting for a side they vote for.
pub fn for_pending(role: Role, user: Uuid) -> TallySum {
    let (states, sides) = workflow::pending_work(role);
    let mut sum: TallySum = Vec::new();
    if !states.is_empty() {
        match workflow::pending_assignee(role) {
            Some(side) => {
                let dimension = match side {
                    Team::Red => TallyDimension::RedAssignee,
                    Team::Blue => TallyDimension::BlueAssignee,
                };
                sum.push((dimension, uuid_key(user), Some(states.clone())));
                sum.push((dimension, String::new(), Some(states)));
            }
            None => sum.push((TallyDimension::All, String::new(), Some(states))),
        }
    }
    let mut keys: Vec<&str> = sides.into_iter().flat_map(unvoted_keys).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        sum.push((TallyDimension::Unvoted, key.to_owned(), None));
    }
    sum
}

/// What a change does to the counters: `before` is the test as it was (`None` when it is new),
/// `after` as it is now (`None` when it is gone). Only non-zero deltas are returned, in the
/// counters' sort order, which is also the order they are written in (so two transactions
/// never wait on each other's counters in opposite orders).
pub fn deltas(before: Option<&TestFacts>, after: Option<&TestFacts>) -> BTreeMap<TallyKey, i64> {
    let mut out: BTreeMap<TallyKey, i64> = BTreeMap::new();
    for (facts, sign) in [(before, -1), (after, 1)] {
        if let Some(facts) = facts {
            for (dimension, key) in facts.keys() {
                *out.entry((dimension, key, facts.state)).or_default() += sign;
            }
        }
    }
    out.retain(|_, n| *n != 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: TestState) -> TestFacts {
        TestFacts {
            state,
            technique: "T1059".into(),
            platform: Some("windows".into()),
            creator: Uuid::from_u128(7),
            campaign: None,
            red_assignee: None,
            blue_assignee: Some(Uuid::from_u128(8)),
            red_voted: false,
            blue_voted: false,
        }
    }

    #[test]
    fn a_new_test_counts_once_per_dimension_it_has() {
        let new = facts(TestState::Draft);
        let d = deltas(None, Some(&new));
        assert_eq!(d.len(), 6);
        assert!(d.values().all(|n| *n == 1));
        assert_eq!(
            d[&(TallyDimension::All, String::new(), TestState::Draft)],
            1
        );
        assert_eq!(
            d[&(
                TallyDimension::Creator,
                "00000000000000000000000000000007".into(),
                TestState::Draft
            )],
            1
        );
        assert!(!d.keys().any(|k| k.0 == TallyDimension::Campaign));
        assert_eq!(
            d[&(TallyDimension::RedAssignee, String::new(), TestState::Draft)],
            1,
            "nobody assigned is a key too"
        );
        assert!(!d.keys().any(|k| k.0 == TallyDimension::Unvoted));
    }

    #[test]
    fn in_review_a_test_counts_under_the_sides_still_to_vote() {
        let mut t = facts(TestState::InReview);
        let unvoted = |t: &TestFacts| {
            deltas(None, Some(t))
                .into_keys()
                .filter(|k| k.0 == TallyDimension::Unvoted)
                .map(|k| k.1)
                .collect::<Vec<_>>()
        };
        assert_eq!(unvoted(&t), ["red+blue"]);
        t.red_voted = true;
        assert_eq!(unvoted(&t), ["blue"]);
        t.blue_voted = true;
        assert!(unvoted(&t).is_empty());
        // The first vote moves the test from one key to the other.
        let before = facts(TestState::InReview);
        let mut after = before.clone();
        after.blue_voted = true;
        let d = deltas(Some(&before), Some(&after));
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[&(TallyDimension::Unvoted, "red".into(), TestState::InReview)],
            1
        );
    }

    #[test]
    fn one_filter_is_counted_and_two_are_not() {
        assert_eq!(
            for_filter(&CountedFilter::default()),
            Some(vec![(TallyDimension::All, String::new(), None)])
        );
        let side = CountedFilter {
            pending_validation_side: Some(Team::Blue),
            ..Default::default()
        };
        assert_eq!(
            for_filter(&side),
            Some(vec![
                (TallyDimension::Unvoted, "blue".into(), None),
                (TallyDimension::Unvoted, "red+blue".into(), None),
            ])
        );
        let two = CountedFilter {
            technique: Some("T1059".into()),
            platform: Some("linux".into()),
            ..Default::default()
        };
        assert_eq!(for_filter(&two), None);
    }

    #[test]
    fn pending_tasks_follow_the_role() {
        let me = Uuid::from_u128(3);
        let red_tech = for_pending(Role::RedTech, me);
        assert_eq!(red_tech.len(), 2);
        assert!(
            red_tech
                .iter()
                .all(|(d, _, states)| *d == TallyDimension::RedAssignee
                    && states.as_deref() == Some(&[TestState::Draft, TestState::RedExecuting][..]))
        );
        assert_eq!(red_tech[0].1, uuid_key(me));
        assert_eq!(red_tech[1].1, "");
        // An admin votes for both sides: each waiting test once.
        let admin = for_pending(Role::Admin, me);
        let unvoted: Vec<&str> = admin
            .iter()
            .filter(|(d, _, _)| *d == TallyDimension::Unvoted)
            .map(|(_, k, _)| k.as_str())
            .collect();
        assert_eq!(unvoted, ["blue", "red", "red+blue"]);
        assert!(for_pending(Role::Viewer, me).is_empty());
    }

    #[test]
    fn an_unchanged_test_changes_nothing() {
        let same = facts(TestState::InReview);
        assert!(deltas(Some(&same), Some(&same)).is_empty());
    }

    #[test]
    fn a_transition_moves_every_counter_of_the_test() {
        let before = facts(TestState::InReview);
        let after = facts(TestState::Validated);
        let d = deltas(Some(&before), Some(&after));
        assert_eq!(d.len(), 13, "in review it also counted as unvoted");
        assert_eq!(d.values().filter(|n| **n == -1).count(), 7);
        assert_eq!(
            d[&(
                TallyDimension::Technique,
                "T1059".into(),
                TestState::Validated
            )],
            1
        );
        assert_eq!(
            d[&(
                TallyDimension::Technique,
                "T1059".into(),
                TestState::InReview
            )],
            -1
        );
    }

    #[test]
    fn an_edit_of_technique_platform_or_campaign_moves_only_those() {
        let before = facts(TestState::Draft);
        let mut after = before.clone();
        after.technique = "T1003".into();
        after.platform = None;
        after.campaign = Some(Uuid::from_u128(9));
        let d = deltas(Some(&before), Some(&after));
        let mut expected = BTreeMap::new();
        expected.insert(
            (
                TallyDimension::Technique,
                "T1059".to_owned(),
                TestState::Draft,
            ),
            -1,
        );
        expected.insert(
            (
                TallyDimension::Technique,
                "T1003".to_owned(),
                TestState::Draft,
            ),
            1,
        );
        expected.insert(
            (
                TallyDimension::Platform,
                "windows".to_owned(),
                TestState::Draft,
            ),
            -1,
        );
        expected.insert(
            (
                TallyDimension::Campaign,
                uuid_key(Uuid::from_u128(9)),
                TestState::Draft,
            ),
            1,
        );
        assert_eq!(d, expected);
    }

    #[test]
    fn a_removed_test_takes_back_what_it_added() {
        let gone = facts(TestState::Rejected);
        let added = deltas(None, Some(&gone));
        let removed = deltas(Some(&gone), None);
        assert_eq!(added.len(), removed.len());
        for (key, n) in added {
            assert_eq!(removed[&key], -n);
        }
    }

    #[test]
    fn deltas_come_in_one_fixed_order() {
        let before = facts(TestState::Draft);
        let after = facts(TestState::RedExecuting);
        let keys: Vec<_> = deltas(Some(&before), Some(&after)).into_keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
