//! Detection rules: where a rule comes from, and (with the rule validation of tests) what the
//! tests have proven about it.
use crate::domain::values::string_enum;

string_enum! {
    /// Where a detection rule comes from.
    pub enum RuleSource ("rule source") {
        Sigma = "sigma" / "Sigma",
        Elastic = "elastic" / "Elastic",
        Custom = "custom" / "Custom",
    }
}

/// Longest title a rule may have.
pub const TITLE_MAX: usize = 500;
/// Techniques one rule may map to.
pub const TECHNIQUES_MAX: usize = 100;

string_enum! {
    /// What the tests have shown about a rule.
    #[derive(Default)]
    pub enum RuleProof ("rule proof") {
        /// A validated test says it fired, and no later validated test missed its technique.
        Proven = "proven" / "Proven",
        /// No validated test says it fired, nor missed its technique while it was active.
        #[default]
        Untested = "untested" / "Untested",
        /// The latest evidence is a validated test that did not detect its technique while the
        /// rule was active.
        Failed = "failed" / "Failed",
    }
}

impl RuleProof {
    /// The most recent evidence wins: `fired` is when the last validated test that names the
    /// rule was completed, `missed` when the last validated `not_detected` test of one of its
    /// techniques was, counting only tests completed while the rule was active.
    pub fn of<T: PartialOrd>(fired: Option<T>, missed: Option<T>) -> Self {
        match (fired, missed) {
            (Some(fired), Some(missed)) if missed > fired => RuleProof::Failed,
            (Some(_), _) => RuleProof::Proven,
            (None, Some(_)) => RuleProof::Failed,
            (None, None) => RuleProof::Untested,
        }
    }
}

/// May a rule mapped to `rule_techniques` (from `source`) be named as fired in a test of
/// `technique`? Custom rules always; others when they map to the technique or its parent.
pub fn may_fire_for(source: RuleSource, rule_techniques: &[String], technique: &str) -> bool {
    if source == RuleSource::Custom {
        return true;
    }
    let parent = technique.split('.').next().unwrap_or(technique);
    rule_techniques
        .iter()
        .any(|t| t == technique || t == parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_evidence_decides() {
        assert_eq!(RuleProof::of::<u32>(None, None), RuleProof::Untested);
        assert_eq!(RuleProof::of(Some(1), None), RuleProof::Proven);
        assert_eq!(RuleProof::of(None, Some(1)), RuleProof::Failed);
        assert_eq!(RuleProof::of(Some(2), Some(1)), RuleProof::Proven);
        assert_eq!(RuleProof::of(Some(1), Some(2)), RuleProof::Failed);
        assert_eq!(RuleProof::of(Some(1), Some(1)), RuleProof::Proven);
    }

    #[test]
    fn a_rule_fires_for_its_technique_or_the_parent() {
        let rule = vec!["T1059".to_owned()];
        assert!(may_fire_for(RuleSource::Sigma, &rule, "T1059"));
        assert!(may_fire_for(RuleSource::Sigma, &rule, "T1059.001"));
        assert!(!may_fire_for(RuleSource::Sigma, &rule, "T1053"));
        let sub = vec!["T1059.001".to_owned()];
        assert!(!may_fire_for(RuleSource::Elastic, &sub, "T1059"));
        assert!(!may_fire_for(RuleSource::Elastic, &sub, "T1059.004"));
        assert!(may_fire_for(RuleSource::Custom, &sub, "T1053"));
    }
}
