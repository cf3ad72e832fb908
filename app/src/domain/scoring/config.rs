//! What an admin configures of the scoring engine (`PUT /api/v1/scoring/config`): the factors'
//! weights, the half-life, the targets and the relevant actors and technique sets, with the
//! bounds each is checked against.
use super::{PriorityFactor, ScoreFactor};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Proven rules that earn the rules factor in full.
pub const RULES_FOR_FULL: u32 = 2;
/// Largest weight of one factor.
pub const WEIGHT_MAX: f64 = 100.0;
/// Bounds of the configuration's numbers and lists.
pub const HALF_LIFE_DAYS: (u32, u32) = (1, 3650);
pub const TTD_TARGET_MINUTES: (u32, u32) = (1, 10_080);
pub const FOR_FULL: (u32, u32) = (1, 1000);
pub const RELEVANT_ACTORS_MAX: usize = 500;
pub const PRIORITY_SETS_MAX: usize = 50;
/// Techniques the summary's risk gap lists.
pub const RISK_GAP_LIMIT: usize = 25;

/// The weight of each score factor (0–100 each; only their ratios matter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Weights {
    pub coverage: f64,
    pub quality: f64,
    pub recency: f64,
    pub breadth: f64,
    pub rules: f64,
    pub visibility: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            coverage: 30.0,
            quality: 25.0,
            recency: 15.0,
            breadth: 10.0,
            rules: 10.0,
            visibility: 10.0,
        }
    }
}

impl Weights {
    pub fn of(&self, factor: ScoreFactor) -> f64 {
        match factor {
            ScoreFactor::Coverage => self.coverage,
            ScoreFactor::Quality => self.quality,
            ScoreFactor::Recency => self.recency,
            ScoreFactor::Breadth => self.breadth,
            ScoreFactor::Rules => self.rules,
            ScoreFactor::Visibility => self.visibility,
        }
    }

    pub fn set(&mut self, factor: ScoreFactor, weight: f64) {
        let slot = match factor {
            ScoreFactor::Coverage => &mut self.coverage,
            ScoreFactor::Quality => &mut self.quality,
            ScoreFactor::Recency => &mut self.recency,
            ScoreFactor::Breadth => &mut self.breadth,
            ScoreFactor::Rules => &mut self.rules,
            ScoreFactor::Visibility => &mut self.visibility,
        };
        *slot = weight;
    }
}

/// The weight of each priority factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PriorityWeights {
    pub actors: f64,
    pub sets: f64,
    pub intel: f64,
}

impl Default for PriorityWeights {
    fn default() -> Self {
        Self {
            actors: 50.0,
            sets: 25.0,
            intel: 25.0,
        }
    }
}

impl PriorityWeights {
    pub fn of(&self, factor: PriorityFactor) -> f64 {
        match factor {
            PriorityFactor::Actors => self.actors,
            PriorityFactor::Sets => self.sets,
            PriorityFactor::Intel => self.intel,
        }
    }

    pub fn set(&mut self, factor: PriorityFactor, weight: f64) {
        let slot = match factor {
            PriorityFactor::Actors => &mut self.actors,
            PriorityFactor::Sets => &mut self.sets,
            PriorityFactor::Intel => &mut self.intel,
        };
        *slot = weight;
    }
}

/// What an admin sets (`PUT /api/v1/scoring/config`). Missing fields take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoringConfig {
    pub weights: Weights,
    pub priority_weights: PriorityWeights,
    /// A validation counts half as much after this many days, a quarter after twice as many.
    pub half_life_days: u32,
    /// A detection within this many minutes earns its time-to-detect share in full.
    pub ttd_target_minutes: u32,
    /// Threat actors using a technique for full actor priority (fewer when `relevant_actors`
    /// names fewer).
    pub actors_for_full: u32,
    /// Intel mentions for full intel priority.
    pub mentions_for_full: u32,
    /// ATT&CK group ids (G…); empty: every actor counts.
    pub relevant_actors: Vec<String>,
    /// Technique sets whose techniques get the sets priority; empty: the factor is left out.
    pub priority_sets: Vec<Uuid>,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            priority_weights: PriorityWeights::default(),
            half_life_days: 180,
            ttd_target_minutes: 15,
            actors_for_full: 10,
            mentions_for_full: 5,
            relevant_actors: Vec::new(),
            priority_sets: Vec::new(),
        }
    }
}

/// One refusal of a configuration: the field (dotted, e.g. `weights.quality`) and why.
pub type FieldError = (String, String);

fn check_weight(field: String, weight: f64, errors: &mut Vec<FieldError>) {
    if !weight.is_finite() || !(0.0..=WEIGHT_MAX).contains(&weight) {
        errors.push((field, format!("must be a number from 0 to {WEIGHT_MAX}")));
    }
}

fn check_range(field: &str, value: u32, (low, high): (u32, u32), errors: &mut Vec<FieldError>) {
    if !(low..=high).contains(&value) {
        errors.push((field.to_owned(), format!("must be from {low} to {high}")));
    }
}

/// An ATT&CK group id: `G` and four digits.
pub fn is_group_id(id: &str) -> bool {
    id.len() == 5 && id.starts_with('G') && id[1..].bytes().all(|b| b.is_ascii_digit())
}

impl ScoringConfig {
    /// Every problem of the configuration, by field; empty when it may be saved.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for factor in ScoreFactor::ALL {
            check_weight(
                format!("weights.{factor}"),
                self.weights.of(factor),
                &mut errors,
            );
        }
        for factor in PriorityFactor::ALL {
            check_weight(
                format!("priority_weights.{factor}"),
                self.priority_weights.of(factor),
                &mut errors,
            );
        }
        check_range(
            "half_life_days",
            self.half_life_days,
            HALF_LIFE_DAYS,
            &mut errors,
        );
        check_range(
            "ttd_target_minutes",
            self.ttd_target_minutes,
            TTD_TARGET_MINUTES,
            &mut errors,
        );
        check_range(
            "actors_for_full",
            self.actors_for_full,
            FOR_FULL,
            &mut errors,
        );
        check_range(
            "mentions_for_full",
            self.mentions_for_full,
            FOR_FULL,
            &mut errors,
        );
        if self.relevant_actors.len() > RELEVANT_ACTORS_MAX {
            errors.push((
                "relevant_actors".into(),
                format!("at most {RELEVANT_ACTORS_MAX} actors"),
            ));
        } else if let Some(bad) = self.relevant_actors.iter().find(|a| !is_group_id(a)) {
            errors.push((
                "relevant_actors".into(),
                format!(
                    "'{}' is not an ATT&CK group id (G and four digits)",
                    short(bad)
                ),
            ));
        }
        if self.priority_sets.len() > PRIORITY_SETS_MAX {
            errors.push((
                "priority_sets".into(),
                format!("at most {PRIORITY_SETS_MAX} sets"),
            ));
        }
        errors
    }

    /// The same configuration with its lists sorted and without repeats, as it is stored.
    pub fn normalised(mut self) -> Self {
        self.relevant_actors.sort();
        self.relevant_actors.dedup();
        self.priority_sets.sort();
        self.priority_sets.dedup();
        self
    }
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_are_checked_by_field() {
        assert!(ScoringConfig::default().problems().is_empty());
        let mut c = ScoringConfig::default();
        c.weights.quality = -1.0;
        c.priority_weights.intel = f64::NAN;
        c.half_life_days = 0;
        c.ttd_target_minutes = 20_000;
        c.actors_for_full = 0;
        c.relevant_actors = vec!["APT29".into()];
        let fields: Vec<String> = c.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "weights.quality",
                "priority_weights.intel",
                "half_life_days",
                "ttd_target_minutes",
                "actors_for_full",
                "relevant_actors"
            ]
        );
        c = ScoringConfig {
            priority_sets: vec![Uuid::nil(); 51],
            ..Default::default()
        };
        assert_eq!(c.problems()[0].0, "priority_sets");
        let n = ScoringConfig {
            relevant_actors: vec!["G0002".into(), "G0001".into(), "G0002".into()],
            ..Default::default()
        }
        .normalised();
        assert_eq!(n.relevant_actors, ["G0001", "G0002"]);
        assert!(is_group_id("G0016") && !is_group_id("G16") && !is_group_id("S0001"));
        // Unknown fields are refused; missing ones take their defaults.
        assert!(serde_json::from_str::<ScoringConfig>(r#"{"weight": {}}"#).is_err());
        let partial: ScoringConfig = serde_json::from_str(r#"{"half_life_days": 30}"#).unwrap();
        assert_eq!(partial.half_life_days, 30);
        assert_eq!(partial.weights, Weights::default());
    }
}
