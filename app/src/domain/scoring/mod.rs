//! The scoring engine: one number per technique for how *well* and how *recently* it is
//! covered (its score), one for how much it *matters* (its priority), and what the two make
//! together (the gap). Pure: the server loads the inputs and stores what comes out, the
//! Scoring page previews a change with the same functions. README, "Scoring", explains the
//! formula to users; the tests below pin it.
//!
//! A factor is a value in 0–1. A score is `100 × Σ weight·value / Σ weight` over the factors
//! that apply to the technique (visibility only applies where ATT&CK names data components
//! for it; technique sets only when some are chosen); each factor's *points* are its share of
//! that sum, so the points add up to the score. All weights zero: the score is 0.
use crate::domain::coverage::CoverageStatus;
use crate::domain::values::{DetectionResult, string_enum};
use serde::{Deserialize, Serialize};

mod config;
// The configuration is part of the scoring engine's API: one path, `domain::scoring::…`.
pub use config::*;

string_enum! {
    /// What a technique's score is made of.
    pub enum ScoreFactor ("score factor") {
        Coverage = "coverage" / "Coverage status",
        Quality = "quality" / "Detection quality",
        Recency = "recency" / "Recency",
        Breadth = "breadth" / "Platform breadth",
        Rules = "rules" / "Proven detection rules",
        Visibility = "visibility" / "Data-source visibility",
    }
}

string_enum! {
    /// What a technique's priority is made of.
    pub enum PriorityFactor ("priority factor") {
        Actors = "actors" / "Threat actors using it",
        Sets = "sets" / "In a chosen technique set",
        Intel = "intel" / "Threat-intel mentions",
    }
}

/// One validated test, as the score sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedTest {
    pub detection: DetectionResult,
    pub alert_fired: Option<bool>,
    pub time_to_detect_seconds: Option<i64>,
    /// Days since it was validated (negative clock skew counts as today).
    pub age_days: f64,
    pub platform: Option<String>,
}

/// Everything a technique's score depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInputs {
    pub status: CoverageStatus,
    pub validated: Vec<ValidatedTest>,
    /// The technique's platforms in ATT&CK.
    pub platforms: Vec<String>,
    /// Rules whose proof is `proven`.
    pub proven_rules: u32,
    /// The technique's data-source visibility (0–1), `None` when ATT&CK names no data
    /// component for it.
    pub visibility: Option<f64>,
}

/// Everything a technique's priority depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriorityInputs {
    /// Actors using the technique (only the relevant ones when the configuration names some).
    pub actors: u32,
    /// In one of the configuration's technique sets.
    pub in_priority_set: bool,
    pub mentions: u32,
}

/// One factor's part of a score or priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Contribution<F> {
    pub factor: F,
    /// The factor's value, 0–1.
    pub value: f64,
    pub weight: f64,
    /// Its share of the result, in points (the points add up to the result).
    pub points: f64,
}

/// A score or a priority (0–100) with each factor's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weighted<F> {
    pub value: f64,
    pub factors: Vec<Contribution<F>>,
}

fn combine<F: Copy>(parts: Vec<(F, f64, f64)>) -> Weighted<F> {
    let total: f64 = parts.iter().map(|(_, _, w)| *w).sum();
    let factors: Vec<Contribution<F>> = parts
        .into_iter()
        .map(|(factor, value, weight)| Contribution {
            factor,
            value,
            weight,
            points: if total > 0.0 {
                100.0 * weight * value / total
            } else {
                0.0
            },
        })
        .collect();
    let value = factors
        .iter()
        .map(|c| c.points)
        .sum::<f64>()
        .clamp(0.0, 100.0);
    Weighted { value, factors }
}

/// How much a validation `age_days` old still counts: halves every `half_life_days`.
pub fn decay(age_days: f64, half_life_days: u32) -> f64 {
    0.5f64.powf(age_days.max(0.0) / f64::from(half_life_days.max(1)))
}

/// One validated test's quality, 0–1: 60 % what was detected (detected 1, partial ½, missed
/// 0), 20 % whether an alert fired, 20 % how fast (in full within the target; slower, the
/// target's share of the time taken; a detection of unknown speed half).
pub fn test_quality(test: &ValidatedTest, ttd_target_minutes: u32) -> f64 {
    let detected = match test.detection {
        DetectionResult::Detected => 1.0,
        DetectionResult::Partial => 0.5,
        DetectionResult::NotDetected => 0.0,
    };
    let alert = if test.alert_fired == Some(true) {
        1.0
    } else {
        0.0
    };
    let speed = if test.detection == DetectionResult::NotDetected {
        0.0
    } else {
        match test.time_to_detect_seconds {
            None => 0.5,
            Some(seconds) => {
                let target = f64::from(ttd_target_minutes.max(1)) * 60.0;
                let seconds = (seconds.max(0)) as f64;
                if seconds <= target {
                    1.0
                } else {
                    target / seconds
                }
            }
        }
    };
    0.6 * detected + 0.2 * alert + 0.2 * speed
}

/// The value of each score factor that applies to the technique.
pub fn score_factors(inputs: &ScoreInputs, config: &ScoringConfig) -> Vec<(ScoreFactor, f64)> {
    let ages: Vec<f64> = inputs
        .validated
        .iter()
        .map(|t| decay(t.age_days, config.half_life_days))
        .collect();
    let quality = {
        let weight: f64 = ages.iter().sum();
        if weight > 0.0 {
            inputs
                .validated
                .iter()
                .zip(&ages)
                .map(|(t, r)| r * test_quality(t, config.ttd_target_minutes))
                .sum::<f64>()
                / weight
        } else {
            0.0
        }
    };
    let recency = ages.iter().copied().fold(0.0, f64::max);
    let breadth = if inputs.validated.is_empty() {
        0.0
    } else if inputs.platforms.is_empty() {
        1.0
    } else {
        let tested: Vec<String> = inputs
            .validated
            .iter()
            .filter_map(|t| t.platform.as_deref())
            .map(str::to_lowercase)
            .collect();
        let covered = inputs
            .platforms
            .iter()
            .filter(|p| tested.contains(&p.to_lowercase()))
            .count();
        covered as f64 / inputs.platforms.len() as f64
    };
    let mut factors = vec![
        (
            ScoreFactor::Coverage,
            f64::from(inputs.status.score()) / 100.0,
        ),
        (ScoreFactor::Quality, quality),
        (ScoreFactor::Recency, recency),
        (ScoreFactor::Breadth, breadth),
        (
            ScoreFactor::Rules,
            f64::from(inputs.proven_rules.min(RULES_FOR_FULL)) / f64::from(RULES_FOR_FULL),
        ),
    ];
    if let Some(visibility) = inputs.visibility {
        factors.push((ScoreFactor::Visibility, visibility.clamp(0.0, 1.0)));
    }
    factors
}

/// A technique's score, 0–100.
pub fn score(inputs: &ScoreInputs, config: &ScoringConfig) -> Weighted<ScoreFactor> {
    combine(
        score_factors(inputs, config)
            .into_iter()
            .map(|(f, v)| (f, v, config.weights.of(f)))
            .collect(),
    )
}

/// Validated, but the freshest validation is older than the half-life.
pub fn is_stale(inputs: &ScoreInputs, config: &ScoringConfig) -> bool {
    !inputs.validated.is_empty()
        && inputs
            .validated
            .iter()
            .all(|t| t.age_days > f64::from(config.half_life_days))
}

/// `n` against the `full` that earns a factor in full, on a log scale (the first few count
/// most): 0 → 0, `full` or more → 1.
fn saturating(n: u32, full: u32) -> f64 {
    if full == 0 {
        return if n > 0 { 1.0 } else { 0.0 };
    }
    (f64::from(n).ln_1p() / f64::from(full).ln_1p()).min(1.0)
}

/// A technique's priority, 0–100.
pub fn priority(inputs: &PriorityInputs, config: &ScoringConfig) -> Weighted<PriorityFactor> {
    let full_actors = if config.relevant_actors.is_empty() {
        config.actors_for_full
    } else {
        config
            .actors_for_full
            .min(config.relevant_actors.len() as u32)
    };
    let mut parts = vec![(
        PriorityFactor::Actors,
        saturating(inputs.actors, full_actors),
        config.priority_weights.actors,
    )];
    if !config.priority_sets.is_empty() {
        parts.push((
            PriorityFactor::Sets,
            if inputs.in_priority_set { 1.0 } else { 0.0 },
            config.priority_weights.sets,
        ));
    }
    parts.push((
        PriorityFactor::Intel,
        saturating(inputs.mentions, config.mentions_for_full),
        config.priority_weights.intel,
    ));
    combine(parts)
}

/// How much coverage is missing where it matters: priority × (100 − score) / 100.
pub fn gap(score: f64, priority: f64) -> f64 {
    (priority * (100.0 - score) / 100.0).clamp(0.0, 100.0)
}

/// The mean score weighted by priority; the plain mean when no technique has a priority;
/// 0 for none.
pub fn weighted_mean(items: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    let (mut weighted, mut weights, mut plain, mut n) = (0.0, 0.0, 0.0, 0usize);
    for (score, priority) in items {
        weighted += score * priority;
        weights += priority;
        plain += score;
        n += 1;
    }
    if weights > 0.0 {
        weighted / weights
    } else if n > 0 {
        plain / n as f64
    } else {
        0.0
    }
}

/// One decimal, as figures are shown and stored.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(detection: DetectionResult, age_days: f64) -> ValidatedTest {
        ValidatedTest {
            detection,
            alert_fired: Some(true),
            time_to_detect_seconds: Some(60),
            age_days,
            platform: Some("Windows".into()),
        }
    }

    fn inputs(status: CoverageStatus, validated: Vec<ValidatedTest>) -> ScoreInputs {
        ScoreInputs {
            status,
            validated,
            platforms: vec!["Windows".into(), "Linux".into()],
            proven_rules: 0,
            visibility: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn value(w: &Weighted<ScoreFactor>, f: ScoreFactor) -> f64 {
        w.factors.iter().find(|c| c.factor == f).unwrap().value
    }

    #[test]
    fn an_untested_technique_scores_zero_and_is_not_stale() {
        let config = ScoringConfig::default();
        let i = inputs(CoverageStatus::NotCovered, vec![]);
        let s = score(&i, &config);
        assert_eq!(s.value, 0.0);
        assert!(s.factors.iter().all(|c| c.value == 0.0));
        assert!(!is_stale(&i, &config));
        // Visibility does not apply: five factors.
        assert_eq!(s.factors.len(), 5);
    }

    #[test]
    fn a_fresh_perfect_detection_on_every_platform_scores_100() {
        let config = ScoringConfig::default();
        let mut linux = validated(DetectionResult::Detected, 0.0);
        linux.platform = Some("linux".into());
        let mut i = inputs(
            CoverageStatus::Validated,
            vec![validated(DetectionResult::Detected, 0.0), linux],
        );
        i.proven_rules = 5;
        i.visibility = Some(1.0);
        let s = score(&i, &config);
        assert!(close(s.value, 100.0), "{s:?}");
        let points: f64 = s.factors.iter().map(|c| c.points).sum();
        assert!(close(points, s.value));
        assert!(close(
            s.factors
                .iter()
                .find(|c| c.factor == ScoreFactor::Coverage)
                .unwrap()
                .points,
            30.0
        ));
    }

    #[test]
    fn coverage_factor_follows_the_status() {
        let config = ScoringConfig::default();
        for (status, expected) in [
            (CoverageStatus::Validated, 1.0),
            (CoverageStatus::Partial, 0.5),
            (CoverageStatus::InProgress, 0.25),
            (CoverageStatus::NotCovered, 0.0),
        ] {
            let s = score(&inputs(status, vec![]), &config);
            assert!(close(value(&s, ScoreFactor::Coverage), expected));
        }
    }

    #[test]
    fn quality_of_one_test() {
        let t = |d, alert, ttd| ValidatedTest {
            detection: d,
            alert_fired: alert,
            time_to_detect_seconds: ttd,
            age_days: 0.0,
            platform: None,
        };
        use DetectionResult::*;
        assert!(close(
            test_quality(&t(Detected, Some(true), Some(900)), 15),
            1.0
        ));
        // Twice the target: the speed share halves.
        assert!(close(
            test_quality(&t(Detected, Some(true), Some(1800)), 15),
            0.9
        ));
        assert!(close(
            test_quality(&t(Detected, Some(false), None), 15),
            0.7
        ));
        assert!(close(test_quality(&t(Partial, None, Some(60)), 15), 0.5));
        assert!(close(
            test_quality(&t(NotDetected, Some(true), Some(1)), 15),
            0.2
        ));
        assert!(close(test_quality(&t(NotDetected, None, None), 15), 0.0));
        // A negative time (clock skew) is treated as instant.
        assert!(close(
            test_quality(&t(Detected, Some(true), Some(-5)), 15),
            1.0
        ));
    }

    #[test]
    fn recency_halves_every_half_life_and_weights_quality() {
        let config = ScoringConfig {
            half_life_days: 100,
            ..Default::default()
        };
        assert!(close(decay(0.0, 100), 1.0));
        assert!(close(decay(100.0, 100), 0.5));
        assert!(close(decay(200.0, 100), 0.25));
        assert!(close(decay(-3.0, 100), 1.0));
        // An old miss and a fresh detection: quality leans to the fresh one.
        let old_miss = ValidatedTest {
            alert_fired: None,
            time_to_detect_seconds: None,
            ..validated(DetectionResult::NotDetected, 100.0)
        };
        let fresh = validated(DetectionResult::Detected, 0.0);
        let s = score(
            &inputs(CoverageStatus::Validated, vec![old_miss.clone(), fresh]),
            &config,
        );
        // (1·1 + 0.5·0) / 1.5
        assert!(close(value(&s, ScoreFactor::Quality), 2.0 / 3.0));
        assert!(close(value(&s, ScoreFactor::Recency), 1.0));
        // Only the old one: recency is a half.
        let s = score(
            &inputs(CoverageStatus::Partial, vec![old_miss.clone()]),
            &config,
        );
        assert!(close(value(&s, ScoreFactor::Recency), 0.5));
        assert!(!is_stale(
            &inputs(CoverageStatus::Partial, vec![old_miss]),
            &config
        ));
        let two_years = validated(DetectionResult::Detected, 730.0);
        let i = inputs(CoverageStatus::Validated, vec![two_years]);
        assert!(is_stale(&i, &config));
        let last_month = inputs(
            CoverageStatus::Validated,
            vec![validated(DetectionResult::Detected, 30.0)],
        );
        assert!(score(&last_month, &config).value > score(&i, &config).value);
    }

    #[test]
    fn breadth_is_the_share_of_platforms_tested() {
        let config = ScoringConfig::default();
        let mut i = inputs(
            CoverageStatus::Validated,
            vec![
                validated(DetectionResult::Detected, 0.0),
                validated(DetectionResult::Detected, 1.0),
            ],
        );
        let s = score(&i, &config);
        assert!(close(value(&s, ScoreFactor::Breadth), 0.5));
        i.platforms.clear();
        assert!(close(value(&score(&i, &config), ScoreFactor::Breadth), 1.0));
        i.validated[0].platform = None;
        i.validated[1].platform = None;
        i.platforms = vec!["macOS".into()];
        assert!(close(value(&score(&i, &config), ScoreFactor::Breadth), 0.0));
    }

    #[test]
    fn rules_saturate_at_two() {
        let config = ScoringConfig::default();
        let mut i = inputs(CoverageStatus::NotCovered, vec![]);
        for (n, expected) in [(0, 0.0), (1, 0.5), (2, 1.0), (9, 1.0)] {
            i.proven_rules = n;
            assert!(close(
                value(&score(&i, &config), ScoreFactor::Rules),
                expected
            ));
        }
    }

    #[test]
    fn visibility_applies_only_where_components_are_known() {
        let config = ScoringConfig::default();
        let mut i = inputs(CoverageStatus::NotCovered, vec![]);
        i.visibility = Some(0.5);
        let s = score(&i, &config);
        // 10 of 100 weight, half: 5 points.
        assert!(close(s.value, 5.0));
        i.visibility = Some(7.0);
        assert!(close(
            value(&score(&i, &config), ScoreFactor::Visibility),
            1.0
        ));
        // Without it the other factors share the whole: Validated alone is 30/90.
        let s = score(&inputs(CoverageStatus::Validated, vec![]), &config);
        assert!(close(s.value, 100.0 * 30.0 / 90.0));
    }

    #[test]
    fn weights_of_zero() {
        let mut config = ScoringConfig::default();
        for f in ScoreFactor::ALL {
            config.weights.set(f, 0.0);
        }
        let i = inputs(
            CoverageStatus::Validated,
            vec![validated(DetectionResult::Detected, 0.0)],
        );
        let s = score(&i, &config);
        assert_eq!(s.value, 0.0);
        assert!(s.factors.iter().all(|c| c.points == 0.0));
        // One weight alone decides.
        config.weights.coverage = 1.0;
        assert!(close(score(&i, &config).value, 100.0));
        config.weights.coverage = 0.0;
        config.weights.breadth = 3.0;
        assert!(close(score(&i, &config).value, 50.0));
    }

    #[test]
    fn priority_from_actors_sets_and_intel() {
        let mut config = ScoringConfig::default();
        let none = priority(&PriorityInputs::default(), &config);
        assert_eq!(none.value, 0.0);
        assert_eq!(
            none.factors.len(),
            2,
            "no sets chosen: the factor is left out"
        );
        // Ten actors and five mentions: full.
        let full = priority(
            &PriorityInputs {
                actors: 10,
                in_priority_set: false,
                mentions: 5,
            },
            &config,
        );
        assert!(close(full.value, 100.0));
        // One actor of ten: ln 2 / ln 11 of the actors' 50/75.
        let one = priority(
            &PriorityInputs {
                actors: 1,
                ..Default::default()
            },
            &config,
        );
        assert!(close(
            one.value,
            100.0 * (50.0 / 75.0) * (2f64.ln() / 11f64.ln())
        ));
        // Sets chosen: the factor joins.
        config.priority_sets = vec![uuid::Uuid::nil()];
        let in_set = priority(
            &PriorityInputs {
                in_priority_set: true,
                ..Default::default()
            },
            &config,
        );
        assert!(close(in_set.value, 25.0));
        // Three relevant actors: all three is full.
        config.relevant_actors = vec!["G0001".into(), "G0002".into(), "G0003".into()];
        let p = priority(
            &PriorityInputs {
                actors: 3,
                ..Default::default()
            },
            &config,
        );
        assert!(close(p.value, 50.0));
        // All weights zero.
        for f in PriorityFactor::ALL {
            config.priority_weights.set(f, 0.0);
        }
        assert_eq!(
            priority(
                &PriorityInputs {
                    actors: 3,
                    in_priority_set: true,
                    mentions: 9
                },
                &config
            )
            .value,
            0.0
        );
    }

    #[test]
    fn gap_and_weighted_mean() {
        assert!(close(gap(0.0, 80.0), 80.0));
        assert!(close(gap(100.0, 80.0), 0.0));
        assert!(close(gap(25.0, 40.0), 30.0));
        assert_eq!(weighted_mean([]), 0.0);
        assert!(close(weighted_mean([(100.0, 0.0), (0.0, 0.0)]), 50.0));
        assert!(close(weighted_mean([(100.0, 75.0), (0.0, 25.0)]), 75.0));
        assert!(close(weighted_mean([(100.0, 0.0), (20.0, 10.0)]), 20.0));
    }
}
