//! Computes scores and priorities from their inputs with `domain::scoring`, and keeps
//! `technique_scores` true: one technique in the transaction that changed its tests, all of
//! them when the configuration changes, and daily (validations age).
use super::inputs::{self, Inputs, TechniqueRow};
use crate::domain::cache::CacheScope;
use crate::domain::scoring::{
    self, Contribution, PriorityFactor, PriorityInputs, ScoreFactor, ScoreInputs, ScoringConfig,
};
use crate::domain::visibility;
use crate::error::AppResult;
use crate::server::entities::technique_score;
use crate::server::platform::read_cache;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use std::collections::HashSet;

/// One technique's result.
#[derive(Debug, Clone)]
pub struct Computed {
    pub technique: TechniqueRow,
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
    pub visibility: Option<f64>,
    pub stale: bool,
    pub factors: Vec<Contribution<ScoreFactor>>,
    pub priority_factors: Vec<Contribution<PriorityFactor>>,
}

/// The scores of every loaded technique under `config`, at `now`.
pub fn compute(inputs: Inputs, config: &ScoringConfig, now: DateTime<Utc>) -> Vec<Computed> {
    let relevant: HashSet<&str> = config.relevant_actors.iter().map(String::as_str).collect();
    let Inputs {
        techniques,
        validated,
        proven_rules,
        components,
        actors,
        sets,
        mentions,
    } = inputs;
    techniques
        .into_iter()
        .map(|technique| {
            let id = technique.mitre_id.as_str();
            let visibility =
                visibility::visibility(components.get(id).into_iter().flatten().copied());
            let score_inputs = ScoreInputs {
                status: technique.status,
                validated: validated
                    .get(id)
                    .into_iter()
                    .flatten()
                    .map(|v| v.at_age(now))
                    .collect(),
                platforms: technique.platforms.clone(),
                proven_rules: proven_rules.get(id).copied().unwrap_or(0),
                visibility,
            };
            let actor_count = actors
                .get(id)
                .into_iter()
                .flatten()
                .filter(|a| relevant.is_empty() || relevant.contains(a.as_str()))
                .count();
            let priority_inputs = PriorityInputs {
                actors: u32::try_from(actor_count).unwrap_or(u32::MAX),
                in_priority_set: sets
                    .get(id)
                    .is_some_and(|s| config.priority_sets.iter().any(|p| s.contains(p))),
                mentions: mentions.get(id).copied().unwrap_or(0),
            };
            let score = scoring::score(&score_inputs, config);
            let priority = scoring::priority(&priority_inputs, config);
            Computed {
                stale: scoring::is_stale(&score_inputs, config),
                gap: scoring::gap(score.value, priority.value),
                score: score.value,
                priority: priority.value,
                visibility,
                factors: score.factors,
                priority_factors: priority.factors,
                technique,
            }
        })
        .collect()
}

fn row(c: &Computed, now: DateTime<Utc>) -> technique_score::ActiveModel {
    technique_score::ActiveModel {
        technique_id: Set(c.technique.mitre_id.clone()),
        score: Set(c.score),
        priority: Set(c.priority),
        gap: Set(c.gap),
        visibility: Set(c.visibility),
        stale: Set(c.stale),
        factors: Set(json!({ "score": c.factors, "priority": c.priority_factors })),
        computed_at: Set(now),
    }
}

async fn write(conn: &impl ConnectionTrait, computed: &[Computed]) -> AppResult<()> {
    let now = Utc::now();
    for chunk in computed.chunks(200) {
        technique_score::Entity::insert_many(chunk.iter().map(|c| row(c, now)))
            .on_conflict(
                OnConflict::column(technique_score::Column::TechniqueId)
                    .update_columns([
                        technique_score::Column::Score,
                        technique_score::Column::Priority,
                        technique_score::Column::Gap,
                        technique_score::Column::Visibility,
                        technique_score::Column::Stale,
                        technique_score::Column::Factors,
                        technique_score::Column::ComputedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Recomputes one technique in the caller's transaction (a test of it changed). A technique
/// that is not active loses its score.
pub async fn refresh(conn: &impl ConnectionTrait, mitre_id: &str) -> AppResult<()> {
    let (_, config) = super::config::current(conn).await?;
    let inputs = inputs::load(conn, Some(mitre_id)).await?;
    if inputs.techniques.is_empty() {
        technique_score::Entity::delete_many()
            .filter(technique_score::Column::TechniqueId.eq(mitre_id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    write(conn, &compute(inputs, &config, Utc::now())).await
}

/// Recomputes every technique under `config` in the caller's transaction, removes the scores
/// of techniques no longer active, and makes cached answers on scores stale. Returns how many
/// were computed.
pub async fn recompute_all(conn: &impl ConnectionTrait, config: &ScoringConfig) -> AppResult<u64> {
    let inputs = inputs::load(conn, None).await?;
    let computed = compute(inputs, config, Utc::now());
    write(conn, &computed).await?;
    let active: HashSet<&str> = computed
        .iter()
        .map(|c| c.technique.mitre_id.as_str())
        .collect();
    let stored: Vec<String> = technique_score::Entity::find()
        .select_only()
        .column(technique_score::Column::TechniqueId)
        .into_tuple()
        .all(conn)
        .await?;
    let gone: Vec<String> = stored
        .into_iter()
        .filter(|id| !active.contains(id.as_str()))
        .collect();
    for chunk in gone.chunks(500) {
        technique_score::Entity::delete_many()
            .filter(technique_score::Column::TechniqueId.is_in(chunk.to_vec()))
            .exec(conn)
            .await?;
    }
    read_cache::bump(conn, &[CacheScope::Scores]).await?;
    Ok(computed.len() as u64)
}

/// Recomputes everything under the configuration in force (the daily job, an import).
pub async fn recompute_current(conn: &impl ConnectionTrait) -> AppResult<u64> {
    let (_, config) = super::config::current(conn).await?;
    recompute_all(conn, &config).await
}
