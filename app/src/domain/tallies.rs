//! Test counts kept as tests change, so that lists and dashboards read a few small rows instead
//! of counting 100,000 tests on every request. A test is counted once per dimension it has a
//! value in (all tests, its technique, its platform, its creator, its campaign), under its
//! state. Every change to a test turns into the deltas below, which the server adds to
//! `test_tallies` in the change's own transaction.
use crate::domain::values::string_enum;
use crate::domain::workflow::TestState;
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
        keys
    }
}

/// One counter: tests of `state` under (`dimension`, `key`).
pub type TallyKey = (TallyDimension, String, TestState);

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
        }
    }

    #[test]
    fn a_new_test_counts_once_per_dimension_it_has() {
        let new = facts(TestState::Draft);
        let d = deltas(None, Some(&new));
        assert_eq!(d.len(), 4);
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
        assert_eq!(d.len(), 8);
        assert_eq!(d.values().filter(|n| **n == -1).count(), 4);
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
