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
