//! The scoring configuration: versioned (every save is a new version; the last
//! [`KEEP`] are kept and can be restored), audited, and applied to every score in the
//! transaction that saves it.
use super::compute;
use crate::domain::audit::AuditAction;
use crate::domain::scoring::ScoringConfig;
use crate::dto::scoring::{ScoringConfigDto, ScoringConfigState, ScoringConfigUpdate};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{scoring_config, technique_set, threat_actor, user};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Saved configurations kept.
pub const KEEP: u64 = 20;
/// Longest note on a saved configuration.
pub const NOTE_MAX: usize = 500;
const ENTITY: &str = "scoring_config";

/// The version in force and its configuration; version 0 and the defaults before any save.
pub async fn current(conn: &impl ConnectionTrait) -> AppResult<(i32, ScoringConfig)> {
    let row = scoring_config::Entity::find()
        .order_by_desc(scoring_config::Column::Version)
        .one(conn)
        .await?;
    Ok(match row {
        Some(row) => (
            row.version,
            serde_json::from_value(row.config).unwrap_or_default(),
        ),
        None => (0, ScoringConfig::default()),
    })
}

fn dto(row: scoring_config::Model, names: &HashMap<Uuid, String>) -> ScoringConfigDto {
    ScoringConfigDto {
        version: row.version,
        config: serde_json::from_value(row.config).unwrap_or_default(),
        note: row.note,
        created_by: row.created_by.and_then(|id| names.get(&id).cloned()),
        created_at: Some(row.created_at),
    }
}

/// The configuration in force and the saved ones, newest first.
pub async fn state(conn: &impl ConnectionTrait) -> AppResult<ScoringConfigState> {
    let rows = scoring_config::Entity::find()
        .order_by_desc(scoring_config::Column::Version)
        .limit(KEEP)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.created_by).collect();
    let names: HashMap<Uuid, String> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Username)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let history: Vec<ScoringConfigDto> = rows.into_iter().map(|r| dto(r, &names)).collect();
    let current = history.first().cloned().unwrap_or(ScoringConfigDto {
        version: 0,
        config: ScoringConfig::default(),
        note: "Built-in defaults".into(),
        created_by: None,
        created_at: None,
    });
    Ok(ScoringConfigState { current, history })
}

/// Every problem of `config`, the relevant actors and technique sets checked against the
/// knowledge base.
pub async fn check(conn: &impl ConnectionTrait, config: &ScoringConfig) -> AppResult<()> {
    let mut fields = FieldErrors::new();
    for (field, message) in config.problems() {
        fields.entry(field).or_insert(message);
    }
    if fields.is_empty() && !config.relevant_actors.is_empty() {
        let known: Vec<String> = threat_actor::Entity::find()
            .select_only()
            .column(threat_actor::Column::MitreId)
            .filter(threat_actor::Column::MitreId.is_in(config.relevant_actors.clone()))
            .into_tuple()
            .all(conn)
            .await?;
        let unknown: Vec<&str> = config
            .relevant_actors
            .iter()
            .filter(|a| !known.contains(a))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            fields.insert(
                "relevant_actors".into(),
                format!("Unknown threat actors: {}", unknown.join(", ")),
            );
        }
    }
    if fields.is_empty() && !config.priority_sets.is_empty() {
        let known: Vec<Uuid> = technique_set::Entity::find()
            .select_only()
            .column(technique_set::Column::Id)
            .filter(technique_set::Column::Id.is_in(config.priority_sets.clone()))
            .into_tuple()
            .all(conn)
            .await?;
        let unknown: Vec<String> = config
            .priority_sets
            .iter()
            .filter(|s| !known.contains(s))
            .map(Uuid::to_string)
            .collect();
        if !unknown.is_empty() {
            fields.insert(
                "priority_sets".into(),
                format!("Unknown technique sets: {}", unknown.join(", ")),
            );
        }
    }
    AppError::invalid("The scoring configuration is not valid", fields)
}

/// Saves a new version, recomputes every score under it and audits the change, in one
/// transaction.
async fn save_version(
    db: &DatabaseConnection,
    actor: &Actor,
    config: ScoringConfig,
    note: String,
    action: AuditAction,
) -> AppResult<ScoringConfigState> {
    let config = config.normalised();
    let txn = begin_write(db).await?;
    check(&txn, &config).await?;
    let (version, before) = current(&txn).await?;
    let version = version + 1;
    scoring_config::ActiveModel {
        id: Set(Uuid::new_v4()),
        version: Set(version),
        config: Set(serde_json::to_value(&config)
            .map_err(|e| AppError::internal(format!("scoring config: {e}")))?),
        note: Set(note.clone()),
        created_by: Set(actor.id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let keep: Vec<i32> = scoring_config::Entity::find()
        .select_only()
        .column(scoring_config::Column::Version)
        .order_by_desc(scoring_config::Column::Version)
        .limit(KEEP)
        .into_tuple()
        .all(&txn)
        .await?;
    scoring_config::Entity::delete_many()
        .filter(scoring_config::Column::Version.is_not_in(keep))
        .exec(&txn)
        .await?;
    let recomputed = compute::recompute_all(&txn, &config).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(action, ENTITY, version)
            .before(&before)
            .after(serde_json::json!({
                "version": version,
                "config": config,
                "note": note,
                "recomputed": recomputed,
            })),
    )
    .await?;
    let state = state(&txn).await?;
    txn.commit().await?;
    Ok(state)
}

/// `PUT /scoring/config`.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    update: ScoringConfigUpdate,
) -> AppResult<ScoringConfigState> {
    let note = update.note.unwrap_or_default().trim().to_owned();
    if note.chars().count() > NOTE_MAX {
        return Err(AppError::field(
            "note",
            format!("at most {NOTE_MAX} characters"),
        ));
    }
    save_version(
        db,
        actor,
        update.config,
        note,
        AuditAction::ScoringConfigUpdate,
    )
    .await
}

/// Restores a saved version as a new one.
pub async fn restore(
    db: &DatabaseConnection,
    actor: &Actor,
    version: i32,
) -> AppResult<ScoringConfigState> {
    let row = scoring_config::Entity::find()
        .filter(scoring_config::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "No saved scoring configuration version {version} (the last {KEEP} are kept)"
            ))
        })?;
    let config: ScoringConfig = serde_json::from_value(row.config).unwrap_or_default();
    save_version(
        db,
        actor,
        config,
        format!("Restored version {version}"),
        AuditAction::ScoringConfigRestore,
    )
    .await
}
