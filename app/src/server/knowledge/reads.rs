//! Reading the ATT&CK knowledge base: tactics, techniques with their coverage, threat actors.
//! The whole Enterprise matrix is under a thousand rows, so filters run in memory over one
//! query each (of the columns a summary shows), and the test counts come from the maintained
//! counters (`workflow::tallies`); the REST and page layers cache the answers
//! (`platform::read_cache`).
use crate::domain::audit::AuditAction;
use crate::domain::coverage::CoverageStatus;
use crate::dto::knowledge::{
    ActorRef, SyncRunDto, TacticDto, TechniqueDetail, TechniqueQuery, TechniqueSummary,
    ThreatActorDetail, ThreatActorSummary,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::{actor_technique, sync_run, tactic, technique, threat_actor};
use crate::server::knowledge::technique_sets;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::workflow::tallies;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every ATT&CK id the knowledge base holds.
pub async fn known_techniques(conn: &impl ConnectionTrait) -> AppResult<HashSet<String>> {
    Ok(technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// How many tests each technique has, for the given ATT&CK ids (all when `None`), from the
/// maintained counters rather than a count of the tests.
pub async fn test_counts(
    conn: &impl ConnectionTrait,
    ids: Option<Vec<String>>,
) -> AppResult<HashMap<String, u64>> {
    let mut counts = tallies::per_technique(conn).await?;
    if let Some(ids) = ids {
        let wanted: HashSet<String> = ids.into_iter().collect();
        counts.retain(|id, _| wanted.contains(id));
    }
    Ok(counts)
}

/// The columns of a technique that its summary shows (not its long texts).
#[derive(Debug, Clone, FromQueryResult)]
struct TechniqueRow {
    id: Uuid,
    mitre_id: String,
    name: String,
    parent_mitre_id: Option<String>,
    is_subtechnique: bool,
    tactics: Value,
    platforms: Value,
    coverage_status: CoverageStatus,
    review_required: bool,
    deprecated: bool,
    revoked: bool,
    is_custom: bool,
}

impl TechniqueRow {
    const COLUMNS: [technique::Column; 12] = [
        technique::Column::Id,
        technique::Column::MitreId,
        technique::Column::Name,
        technique::Column::ParentMitreId,
        technique::Column::IsSubtechnique,
        technique::Column::Tactics,
        technique::Column::Platforms,
        technique::Column::CoverageStatus,
        technique::Column::ReviewRequired,
        technique::Column::Deprecated,
        technique::Column::Revoked,
        technique::Column::IsCustom,
    ];

    fn of(m: &technique::Model) -> Self {
        Self {
            id: m.id,
            mitre_id: m.mitre_id.clone(),
            name: m.name.clone(),
            parent_mitre_id: m.parent_mitre_id.clone(),
            is_subtechnique: m.is_subtechnique,
            tactics: m.tactics.clone(),
            platforms: m.platforms.clone(),
            coverage_status: m.coverage_status,
            review_required: m.review_required,
            deprecated: m.deprecated,
            revoked: m.revoked,
            is_custom: m.is_custom,
        }
    }
}

fn summary(
    model: &TechniqueRow,
    subtechniques: Vec<String>,
    counts: &HashMap<String, u64>,
) -> TechniqueSummary {
    TechniqueSummary {
        test_count: counts.get(&model.mitre_id).copied().unwrap_or(0),
        mitre_id: model.mitre_id.clone(),
        name: model.name.clone(),
        parent_mitre_id: model.parent_mitre_id.clone(),
        is_subtechnique: model.is_subtechnique,
        tactics: string_list(&model.tactics),
        platforms: string_list(&model.platforms),
        coverage_status: model.coverage_status,
        review_required: model.review_required,
        deprecated: model.deprecated,
        revoked: model.revoked,
        is_custom: model.is_custom,
        subtechniques,
    }
}

pub async fn tactics(conn: &impl ConnectionTrait) -> AppResult<Vec<TacticDto>> {
    Ok(tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .order_by_asc(tactic::Column::MitreId)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| TacticDto {
            mitre_id: t.mitre_id,
            shortname: t.shortname,
            name: t.name,
            description: t.description,
            matrix_order: t.matrix_order,
            url: t.url,
        })
        .collect())
}

/// The longest look-back of the matrix's "mentioned in intel" filter.
pub const MAX_INTEL_DAYS: u32 = 3_650;

/// Resolves an actor given as ATT&CK id (`G0016`) or id.
async fn find_actor(conn: &impl ConnectionTrait, key: &str) -> AppResult<threat_actor::Model> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => threat_actor::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            threat_actor::Entity::find()
                .filter(threat_actor::Column::MitreId.eq(key.to_uppercase()))
                .one(conn)
                .await?
        }
    };
    found.ok_or_else(|| AppError::NotFound(format!("Threat actor {key} not found")))
}

async fn actor_technique_ids(
    conn: &impl ConnectionTrait,
    actor_id: Uuid,
) -> AppResult<HashSet<Uuid>> {
    Ok(actor_technique::Entity::find()
        .filter(actor_technique::Column::ActorId.eq(actor_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.technique_id)
        .collect())
}

/// A tactic named by shortname (`execution`) or ATT&CK id (`TA0002`); unknown is a 400.
pub async fn resolve_tactic(conn: &impl ConnectionTrait, key: &str) -> AppResult<tactic::Model> {
    tactic::Entity::find()
        .filter(
            tactic::Column::Shortname
                .eq(key.to_lowercase())
                .or(tactic::Column::MitreId.eq(key.to_uppercase())),
        )
        .one(conn)
        .await?
        .ok_or_else(|| AppError::BadRequest(format!("Unknown tactic '{key}'")))
}

/// Techniques matching the filters, parents and sub-techniques alike, sorted by ATT&CK id.
/// Unknown filter values are a 400, not an empty list that looks like "no coverage".
pub async fn list_techniques(
    conn: &impl ConnectionTrait,
    query: &TechniqueQuery,
) -> AppResult<Vec<TechniqueSummary>> {
    let status = match non_empty(&query.status) {
        Some(s) => Some(s.parse::<CoverageStatus>().map_err(AppError::BadRequest)?),
        None => None,
    };
    // A tactic may be named by shortname (`execution`) or ATT&CK id (`TA0002`).
    let tactic_shortname = match non_empty(&query.tactic) {
        Some(key) => Some(resolve_tactic(conn, key).await?.shortname),
        None => None,
    };
    let set_members = match non_empty(&query.technique_set) {
        Some(key) => {
            Some(technique_sets::members(conn, technique_sets::resolve(conn, key).await?.id).await?)
        }
        None => None,
    };
    let actor_filter = match non_empty(&query.actor) {
        Some(key) => Some(
            actor_technique_ids(
                conn,
                find_actor(conn, key)
                    .await
                    .map_err(|_| AppError::BadRequest(format!("Unknown threat actor '{key}'")))?
                    .id,
            )
            .await?,
        ),
        None => None,
    };
    let intel_mentioned: Option<std::collections::HashSet<String>> = match query.intel_days {
        Some(days) if days == 0 || days > MAX_INTEL_DAYS => {
            return Err(AppError::field(
                "intel_days",
                format!("intel_days must be between 1 and {MAX_INTEL_DAYS}"),
            ));
        }
        Some(days) => Some(
            crate::server::intel::items::techniques_mentioned_since(conn, days)
                .await?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    // (techniques, whether a technique must be in them).
    let rules_layer: Option<(std::collections::HashSet<String>, bool)> =
        match non_empty(&query.rules) {
            None => None,
            Some("any") => Some((
                crate::server::detection::rules::techniques_with_rules(conn, false).await?,
                true,
            )),
            Some("proven") => Some((
                crate::server::detection::rules::techniques_with_rules(conn, true).await?,
                true,
            )),
            Some("none") => Some((
                crate::server::detection::rules::techniques_with_rules(conn, false).await?,
                false,
            )),
            Some(other) => {
                return Err(AppError::field(
                    "rules",
                    format!("Unknown rules layer '{other}'; expected any, proven or none"),
                ));
            }
        };
    let platform = non_empty(&query.platform).map(str::to_lowercase);
    let search = non_empty(&query.search).map(str::to_lowercase);
    let include_deprecated = query.include_deprecated.unwrap_or(false);

    let mut select = technique::Entity::find()
        .select_only()
        .columns(TechniqueRow::COLUMNS)
        .order_by_asc(technique::Column::MitreId);
    if !include_deprecated {
        select = select
            .filter(technique::Column::Deprecated.eq(false))
            .filter(technique::Column::Revoked.eq(false));
    }
    let all = select.into_model::<TechniqueRow>().all(conn).await?;
    let mut children: HashMap<&str, Vec<String>> = HashMap::new();
    for t in &all {
        if let Some(parent) = &t.parent_mitre_id {
            children
                .entry(parent.as_str())
                .or_default()
                .push(t.mitre_id.clone());
        }
    }
    let matches = |t: &TechniqueRow| {
        if let Some(status) = status
            && t.coverage_status != status
        {
            return false;
        }
        if let Some(flag) = query.review_required
            && t.review_required != flag
        {
            return false;
        }
        if let Some(shortname) = &tactic_shortname
            && !string_list(&t.tactics).iter().any(|s| s == shortname)
        {
            return false;
        }
        if let Some(platform) = &platform
            && !string_list(&t.platforms)
                .iter()
                .any(|p| p.to_lowercase() == *platform)
        {
            return false;
        }
        if let Some(ids) = &actor_filter
            && !ids.contains(&t.id)
        {
            return false;
        }
        if let Some(members) = &set_members
            && !members.contains(&t.mitre_id)
        {
            return false;
        }
        if let Some((techniques, wanted)) = &rules_layer
            && techniques.contains(&t.mitre_id) != *wanted
        {
            return false;
        }
        // A parent counts when intel names one of its sub-techniques.
        if let Some(mentioned) = &intel_mentioned
            && !mentioned.contains(&t.mitre_id)
            && !children
                .get(t.mitre_id.as_str())
                .is_some_and(|subs| subs.iter().any(|s| mentioned.contains(s)))
        {
            return false;
        }
        if let Some(text) = &search
            && !(t.mitre_id.to_lowercase().contains(text) || t.name.to_lowercase().contains(text))
        {
            return false;
        }
        true
    };
    let counts = test_counts(conn, None).await?;
    Ok(all
        .iter()
        .filter(|t| matches(t))
        .map(|t| {
            summary(
                t,
                children
                    .get(t.mitre_id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                &counts,
            )
        })
        .collect())
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub async fn find_technique(
    conn: &impl ConnectionTrait,
    mitre_id: &str,
) -> AppResult<technique::Model> {
    technique::Entity::find()
        .filter(technique::Column::MitreId.eq(mitre_id.to_uppercase()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Technique {mitre_id} not found")))
}

pub async fn technique_detail(
    conn: &impl ConnectionTrait,
    mitre_id: &str,
) -> AppResult<TechniqueDetail> {
    let model = find_technique(conn, mitre_id).await?;
    let subs = technique::Entity::find()
        .filter(technique::Column::ParentMitreId.eq(model.mitre_id.clone()))
        .order_by_asc(technique::Column::MitreId)
        .all(conn)
        .await?;
    let actor_ids: Vec<Uuid> = actor_technique::Entity::find()
        .filter(actor_technique::Column::TechniqueId.eq(model.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.actor_id)
        .collect();
    let actors = threat_actor::Entity::find()
        .filter(threat_actor::Column::Id.is_in(actor_ids))
        .order_by_asc(threat_actor::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| ActorRef {
            id: a.id,
            mitre_id: a.mitre_id,
            name: a.name,
        })
        .collect();
    let active_subs: Vec<&technique::Model> = subs
        .iter()
        .filter(|s| !s.deprecated && !s.revoked)
        .collect();
    let counts = test_counts(
        conn,
        Some(
            active_subs
                .iter()
                .map(|s| s.mitre_id.clone())
                .chain([model.mitre_id.clone()])
                .collect(),
        ),
    )
    .await?;
    Ok(TechniqueDetail {
        summary: summary(
            &TechniqueRow::of(&model),
            active_subs.iter().map(|s| s.mitre_id.clone()).collect(),
            &counts,
        ),
        stix_id: model.stix_id.clone(),
        description: model.description.clone(),
        data_sources: string_list(&model.data_sources),
        detection: model.detection.clone(),
        url: model.url.clone(),
        version: model.version.clone(),
        modified_at: model.modified_at,
        reviewed_by: model.reviewed_by,
        reviewed_at: model.reviewed_at,
        subtechnique_details: active_subs
            .into_iter()
            .map(|s| summary(&TechniqueRow::of(s), Vec::new(), &counts))
            .collect(),
        actors,
        mitigations: crate::server::knowledge::mitigations::of_technique(conn, model.id).await?,
        countermeasures: crate::server::knowledge::countermeasures::of_technique(
            conn,
            &model.mitre_id,
        )
        .await?,
        notes: model.notes.clone(),
    })
}

/// A lead or admin has looked at what the last sync changed.
pub async fn mark_reviewed(
    db: &DatabaseConnection,
    actor: &Actor,
    mitre_id: &str,
) -> AppResult<TechniqueDetail> {
    let txn = begin_write(db).await?;
    let model = find_technique(&txn, mitre_id).await?;
    technique::ActiveModel {
        id: Set(model.id),
        review_required: Set(false),
        reviewed_by: Set(actor.id),
        reviewed_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TechniqueReview, "technique", &model.mitre_id)
            .before(serde_json::json!({ "review_required": model.review_required }))
            .after(serde_json::json!({ "review_required": false })),
    )
    .await?;
    let detail = technique_detail(&txn, &model.mitre_id).await?;
    txn.commit().await?;
    Ok(detail)
}

pub async fn threat_actors(
    conn: &impl ConnectionTrait,
    search: Option<&str>,
) -> AppResult<Vec<ThreatActorSummary>> {
    let mut counts: BTreeMap<Uuid, u32> = BTreeMap::new();
    for link in actor_technique::Entity::find()
        .select_only()
        .column(actor_technique::Column::ActorId)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
    {
        *counts.entry(link).or_default() += 1;
    }
    let search = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    Ok(threat_actor::Entity::find()
        .filter(threat_actor::Column::Deprecated.eq(false))
        .filter(threat_actor::Column::Revoked.eq(false))
        .order_by_asc(threat_actor::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| ThreatActorSummary {
            technique_count: counts.get(&a.id).copied().unwrap_or(0),
            id: a.id,
            mitre_id: a.mitre_id,
            name: a.name,
            aliases: string_list(&a.aliases),
        })
        .filter(|a| match &search {
            Some(text) => {
                a.name.to_lowercase().contains(text)
                    || a.mitre_id.to_lowercase().contains(text)
                    || a.aliases.iter().any(|al| al.to_lowercase().contains(text))
            }
            None => true,
        })
        .collect())
}

pub async fn threat_actor_detail(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<ThreatActorDetail> {
    let actor = find_actor(conn, key).await?;
    let ids = actor_technique_ids(conn, actor.id).await?;
    let techniques = technique::Entity::find()
        .filter(technique::Column::Id.is_in(ids))
        .order_by_asc(technique::Column::MitreId)
        .all(conn)
        .await?;
    let counts = test_counts(
        conn,
        Some(techniques.iter().map(|t| t.mitre_id.clone()).collect()),
    )
    .await?;
    let techniques = techniques
        .iter()
        .map(|t| summary(&TechniqueRow::of(t), Vec::new(), &counts))
        .collect();
    Ok(ThreatActorDetail {
        id: actor.id,
        aliases: string_list(&actor.aliases),
        mitre_id: actor.mitre_id,
        name: actor.name,
        description: actor.description,
        url: actor.url,
        techniques,
    })
}

pub async fn sync_runs(conn: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<SyncRunDto>> {
    Ok(sync_run::Entity::find()
        .order_by_desc(sync_run::Column::StartedAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| SyncRunDto {
            id: r.id,
            kind: r.kind,
            trigger: r.trigger,
            source: r.source,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
            report: r.report.and_then(|v| serde_json::from_value(v).ok()),
            error: r.error,
            triggered_by: r.triggered_by,
        })
        .collect())
}
