//! Brings a parsed bundle into the database: one transaction, idempotent, keyed by STIX id and
//! ATT&CK id. Local fields (coverage, review) and custom techniques are never overwritten.
use super::related;
use super::stix::{ActorData, AttackData, TacticData, TechniqueData, parse_bundle};
use crate::domain::audit::AuditAction;
use crate::domain::coverage::CoverageStatus;
use crate::domain::rbac::Role;
use crate::dto::catalog::SkippedFile;
use crate::dto::knowledge::{ImportReport, TechniqueChange};
use crate::error::{AppError, AppResult};
use crate::server::entities::{actor_technique, sync_run, tactic, technique, threat_actor};
use crate::server::importers::attack::procedures::{
    TechniqueRef, set_search_index_aside, sync_procedures,
};
use crate::server::importers::{Counts, Importer, Input, ProgressFn, Trigger, report, run};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::platform::notifications::{self, NewNotification};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
pub(super) const CHUNK: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Tactics,
    Techniques,
    Actors,
    Links,
    Committing,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Tactics => "Tactics",
            Stage::Techniques => "Techniques",
            Stage::Actors => "Threat actors",
            Stage::Links => "Actor techniques",
            Stage::Committing => "Saving",
        }
    }
}

/// The label of the parsing stage.
pub const PARSING: &str = "Parsing the bundle";

fn report_progress(progress: ProgressFn<'_>, stage: Stage, done: usize, total: usize) {
    report(progress, stage.label(), done, total);
}

/// A STIX 2.1 bundle of ATT&CK (Enterprise or ICS) into the knowledge base.
pub struct AttackBundle;

impl Importer for AttackBundle {
    type Parsed = AttackData;
    type Report = ImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<AttackData> {
        let bytes = input.into_bytes()?;
        report(progress, PARSING, 0, 1);
        let data = parse_bundle(&bytes)?;
        report(progress, PARSING, 1, 1);
        Ok(data)
    }

    async fn upsert(
        db: &DatabaseConnection,
        actor: &Actor,
        data: AttackData,
        source: &str,
        progress: ProgressFn<'_>,
    ) -> AppResult<ImportReport> {
        apply(db, actor, data, source, progress).await
    }
}

/// Parses and imports `bytes`, recording the run (and its failure, if any) in the sync
/// history. On failure the knowledge base is left exactly as it was.
pub async fn import_bundle(
    db: &DatabaseConnection,
    actor: &Actor,
    bytes: Vec<u8>,
    trigger: Trigger,
    source: &str,
    progress: ProgressFn<'_>,
) -> AppResult<ImportReport> {
    let run_id = start_run(db, actor, trigger, source).await?;
    let result = run::<AttackBundle>(db, actor, Input::Bytes(bytes), source, progress).await;
    finish_run(db, run_id, result.as_ref().map_err(AppError::detail)).await?;
    result
}

/// Records a sync that failed before it had a bundle to import (both sources down), so the
/// history shows it beside the imports.
pub async fn record_failed_sync(
    db: &DatabaseConnection,
    actor: &Actor,
    trigger: Trigger,
    source: &str,
    error: &str,
) -> AppResult<()> {
    let run_id = start_run(db, actor, trigger, source).await?;
    finish_run(db, run_id, Err(error.to_owned())).await
}

async fn start_run(
    db: &DatabaseConnection,
    actor: &Actor,
    trigger: Trigger,
    source: &str,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    sync_run::ActiveModel {
        id: Set(id),
        kind: Set("attack_import".into()),
        trigger: Set(trigger.as_str().into()),
        source: Set(source.chars().take(500).collect()),
        status: Set("running".into()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        report: Set(None),
        error: Set(None),
        triggered_by: Set(actor.username.clone()),
    }
    .insert(db)
    .await?;
    Ok(id)
}

async fn finish_run(
    db: &DatabaseConnection,
    id: Uuid,
    outcome: Result<&ImportReport, String>,
) -> AppResult<()> {
    let (status, report, error) = match outcome {
        Ok(report) => ("success", serde_json::to_value(report).ok(), None),
        Err(error) => ("failed", None, Some(error)),
    };
    sync_run::ActiveModel {
        id: Set(id),
        status: Set(status.into()),
        finished_at: Set(Some(Utc::now())),
        report: Set(report),
        error: Set(error),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    data: AttackData,
    source: &str,
    progress: ProgressFn<'_>,
) -> AppResult<ImportReport> {
    let txn = begin_write(db).await?;
    let search_index = set_search_index_aside(&txn, &data.procedures).await?;
    let mut report = ImportReport::default();
    report_progress(progress, Stage::Tactics, 0, data.tactics.len());
    upsert_tactics(&txn, &data.tactics, &mut report).await?;
    report_progress(
        progress,
        Stage::Tactics,
        data.tactics.len(),
        data.tactics.len(),
    );
    let procedure_targets: HashMap<String, TechniqueRef> = data
        .techniques
        .iter()
        .filter(|t| !t.deprecated && !t.revoked)
        .map(|t| {
            (
                t.stix_id.clone(),
                TechniqueRef {
                    mitre_id: t.mitre_id.clone(),
                    name: t.name.clone(),
                    platforms: t.platforms.clone(),
                },
            )
        })
        .collect();
    let every_technique: Vec<String> = data.techniques.iter().map(|t| t.mitre_id.clone()).collect();
    let technique_ids = upsert_techniques(&txn, data.techniques, &mut report, progress).await?;
    write_revocations(&txn, &data.revoked_by, &every_technique).await?;
    report_progress(progress, Stage::Actors, 0, data.actors.len());
    let actor_ids = upsert_actors(&txn, &data.actors, &mut report).await?;
    report_progress(
        progress,
        Stage::Actors,
        data.actors.len(),
        data.actors.len(),
    );
    related::upsert_software(&txn, &data.software, &mut report).await?;
    related::upsert_attack_campaigns(&txn, &data.campaigns, &mut report).await?;
    let bundle_techniques: Vec<String> = procedure_targets
        .values()
        .map(|t| t.mitre_id.clone())
        .collect();
    crate::server::knowledge::data_components::upsert(
        &txn,
        &data.data_components,
        &data.technique_components,
        &bundle_techniques,
        &mut report,
    )
    .await?;
    let mitigation_ids = related::upsert_mitigations(&txn, &data.mitigations, &mut report).await?;
    let carried: HashSet<Uuid> = data
        .mitigations
        .iter()
        .filter_map(|m| mitigation_ids.get(&m.stix_id).copied())
        .collect();
    related::sync_mitigation_links(
        &txn,
        &data.mitigates,
        &mitigation_ids,
        &carried,
        &technique_ids,
        &mut report,
    )
    .await?;
    report_progress(progress, Stage::Links, 0, data.actor_uses.len());
    sync_actor_links(
        &txn,
        &data.actor_uses,
        &actor_ids,
        &technique_ids,
        &mut report,
    )
    .await?;
    let (added, updated) =
        sync_procedures(&txn, &data.procedures, &procedure_targets, search_index).await?;
    report.procedure_templates_added = added;
    report.procedure_templates_updated = updated;
    let summary = json!({
        "source": source,
        "procedure_templates_added": added,
        "procedure_templates_updated": updated,
        "tactics_added": report.tactics_added,
        "techniques_added": report.techniques_added,
        "techniques_updated": report.techniques_updated,
        "techniques_deprecated": report.techniques_deprecated,
        "techniques_revoked": report.techniques_revoked,
        "actors_added": report.actors_added,
        "actors_updated": report.actors_updated,
        "software_added": report.software_added,
        "software_updated": report.software_updated,
        "mitigations_added": report.mitigations_added,
        "mitigations_updated": report.mitigations_updated,
        "mitigation_links_added": report.mitigation_links_added,
        "mitigation_links_updated": report.mitigation_links_updated,
        "mitigation_links_removed": report.mitigation_links_removed,
        "data_components_added": report.data_components_added,
        "data_components_updated": report.data_components_updated,
        "data_component_links": report.data_component_links,
        "review_required": report.changed.iter().map(|c| c.mitre_id.clone()).collect::<Vec<_>>(),
    });
    report_progress(
        progress,
        Stage::Links,
        data.actor_uses.len(),
        data.actor_uses.len(),
    );
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::AttackImport, "attack", source).after(summary),
    )
    .await?;
    notify_reviewers(&txn, &report).await?;
    // Actors, techniques and data components feed the scores.
    crate::server::scoring::compute::recompute_current(&txn).await?;
    report_progress(progress, Stage::Committing, 0, 1);
    txn.commit().await?;
    Ok(report)
}

/// Replaces the `revoked-by` pairs of the bundle's techniques.
async fn write_revocations(
    txn: &impl ConnectionTrait,
    pairs: &[(String, String)],
    bundle: &[String],
) -> AppResult<()> {
    use crate::server::entities::technique_revocation;
    for chunk in bundle.chunks(500) {
        technique_revocation::Entity::delete_many()
            .filter(technique_revocation::Column::MitreId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    for chunk in pairs.chunks(500) {
        technique_revocation::Entity::insert_many(chunk.iter().map(|(old, new)| {
            technique_revocation::ActiveModel {
                mitre_id: Set(old.clone()),
                revoked_by: Set(new.clone()),
            }
        }))
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(technique_revocation::Column::MitreId)
                .update_column(technique_revocation::Column::RevokedBy)
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Techniques listed in one notification before the rest is summarised.
const LISTED_CHANGES: usize = 50;

/// Leads and admins hear about every technique a sync flagged for review.
async fn notify_reviewers(txn: &impl ConnectionTrait, report: &ImportReport) -> AppResult<()> {
    if report.changed.is_empty() {
        return Ok(());
    }
    let recipients =
        notifications::users_with_roles(txn, &[Role::Admin, Role::RedLead, Role::BlueLead]).await?;
    let mut lines: Vec<String> = report
        .changed
        .iter()
        .take(LISTED_CHANGES)
        .map(|c| format!("{} {}: {}", c.mitre_id, c.name, c.fields.join(", ")))
        .collect();
    if report.changed.len() > LISTED_CHANGES {
        lines.push(format!(
            "…and {} more",
            report.changed.len() - LISTED_CHANGES
        ));
    }
    let count = report.changed.len();
    notifications::notify(
        txn,
        &recipients,
        NewNotification {
            kind: "attack_update",
            title: format!(
                "ATT&CK update: {count} technique{} to review",
                if count == 1 { "" } else { "s" }
            ),
            body: lines.join("\n"),
            link: Some("/matrix?review_required=true".into()),
        },
    )
    .await
}

pub(super) fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().cloned().map(Value::String).collect())
}

async fn upsert_tactics(
    txn: &impl ConnectionTrait,
    incoming: &[TacticData],
    report: &mut ImportReport,
) -> AppResult<()> {
    let existing: HashMap<String, tactic::Model> = tactic::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.stix_id.clone(), t))
        .collect();
    for t in incoming {
        match existing.get(&t.stix_id) {
            Some(old) => {
                let same = old.mitre_id == t.mitre_id
                    && old.shortname == t.shortname
                    && old.name == t.name
                    && old.description == t.description
                    && old.matrix_order == t.matrix_order
                    && old.url == t.url
                    && old.modified_at == t.modified_at;
                if !same {
                    tactic::ActiveModel {
                        id: Set(old.id),
                        mitre_id: Set(t.mitre_id.clone()),
                        shortname: Set(t.shortname.clone()),
                        name: Set(t.name.clone()),
                        description: Set(t.description.clone()),
                        matrix_order: Set(t.matrix_order),
                        url: Set(t.url.clone()),
                        modified_at: Set(t.modified_at),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                    report.tactics_updated += 1;
                }
            }
            None => {
                tactic::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    mitre_id: Set(t.mitre_id.clone()),
                    stix_id: Set(t.stix_id.clone()),
                    shortname: Set(t.shortname.clone()),
                    name: Set(t.name.clone()),
                    description: Set(t.description.clone()),
                    matrix_order: Set(t.matrix_order),
                    url: Set(t.url.clone()),
                    modified_at: Set(t.modified_at),
                }
                .insert(txn)
                .await?;
                report.tactics_added += 1;
            }
        }
    }
    Ok(())
}

/// One object per ATT&CK id: a revoked or deprecated object may still carry the id of its
/// active successor, and the active one wins.
fn one_per_attack_id(techniques: Vec<TechniqueData>) -> Vec<TechniqueData> {
    let mut chosen: HashMap<String, TechniqueData> = HashMap::new();
    for t in techniques {
        match chosen.get(&t.mitre_id) {
            Some(current) if current.is_active() && !t.is_active() => {}
            Some(current)
                if current.is_active() == t.is_active() && current.modified_at >= t.modified_at => {
            }
            _ => {
                chosen.insert(t.mitre_id.clone(), t);
            }
        }
    }
    let mut list: Vec<TechniqueData> = chosen.into_values().collect();
    list.sort_by(|a, b| a.mitre_id.cmp(&b.mitre_id));
    list
}

/// Returns STIX id → technique id for every ATT&CK technique now stored.
async fn upsert_techniques(
    txn: &impl ConnectionTrait,
    incoming: Vec<TechniqueData>,
    report: &mut ImportReport,
    progress: ProgressFn<'_>,
) -> AppResult<HashMap<String, Uuid>> {
    let existing = technique::Entity::find().all(txn).await?;
    let mut by_stix: HashMap<String, usize> = HashMap::new();
    let mut by_mitre: HashMap<String, usize> = HashMap::new();
    for (i, t) in existing.iter().enumerate() {
        if let Some(stix) = &t.stix_id {
            by_stix.insert(stix.clone(), i);
        }
        by_mitre.insert(t.mitre_id.clone(), i);
    }
    let now = Utc::now();
    let mut ids = HashMap::new();
    let mut inserts = Vec::new();
    let incoming = one_per_attack_id(incoming);
    let total = incoming.len();
    for (done, t) in incoming.into_iter().enumerate() {
        if done % 50 == 0 {
            report_progress(progress, Stage::Techniques, done, total);
        }
        let found = by_stix
            .get(&t.stix_id)
            .or_else(|| by_mitre.get(&t.mitre_id))
            .map(|&i| &existing[i]);
        let Some(old) = found else {
            let id = Uuid::new_v4();
            ids.insert(t.stix_id.clone(), id);
            inserts.push(technique::ActiveModel {
                id: Set(id),
                mitre_id: Set(t.mitre_id),
                stix_id: Set(Some(t.stix_id)),
                parent_mitre_id: Set(t.parent_mitre_id),
                is_subtechnique: Set(t.is_subtechnique),
                name: Set(t.name),
                description: Set(t.description),
                platforms: Set(strings(&t.platforms)),
                tactics: Set(strings(&t.tactics)),
                data_sources: Set(strings(&t.data_sources)),
                detection: Set(t.detection),
                url: Set(t.url),
                version: Set(t.version),
                modified_at: Set(t.modified_at),
                deprecated: Set(t.deprecated),
                revoked: Set(t.revoked),
                is_custom: Set(false),
                coverage_status: Set(CoverageStatus::NotCovered),
                review_required: Set(false),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                notes: Set(String::new()),
            });
            report.techniques_added += 1;
            continue;
        };
        if old.is_custom {
            report.skipped_custom.push(t.mitre_id);
            continue;
        }
        ids.insert(t.stix_id.clone(), old.id);
        let (platforms, tactics, data_sources) = (
            strings(&t.platforms),
            strings(&t.tactics),
            strings(&t.data_sources),
        );
        let mut fields = Vec::new();
        if old.name != t.name {
            fields.push("name");
        }
        if old.description != t.description {
            fields.push("description");
        }
        if old.tactics != tactics {
            fields.push("tactics");
        }
        if old.platforms != platforms {
            fields.push("platforms");
        }
        if t.deprecated && !old.deprecated {
            fields.push("deprecated");
            report.techniques_deprecated += 1;
        }
        if t.revoked && !old.revoked {
            fields.push("revoked");
            report.techniques_revoked += 1;
        }
        let quiet_change = old.stix_id.as_deref() != Some(t.stix_id.as_str())
            || old.mitre_id != t.mitre_id
            || old.parent_mitre_id != t.parent_mitre_id
            || old.is_subtechnique != t.is_subtechnique
            || old.data_sources != data_sources
            || old.detection != t.detection
            || old.url != t.url
            || old.version != t.version
            || old.modified_at != t.modified_at
            || old.deprecated != t.deprecated
            || old.revoked != t.revoked;
        if fields.is_empty() && !quiet_change {
            report.techniques_unchanged += 1;
            continue;
        }
        let mut update = technique::ActiveModel {
            id: Set(old.id),
            mitre_id: Set(t.mitre_id.clone()),
            stix_id: Set(Some(t.stix_id)),
            parent_mitre_id: Set(t.parent_mitre_id),
            is_subtechnique: Set(t.is_subtechnique),
            name: Set(t.name.clone()),
            description: Set(t.description),
            platforms: Set(platforms),
            tactics: Set(tactics),
            data_sources: Set(data_sources),
            detection: Set(t.detection),
            url: Set(t.url),
            version: Set(t.version),
            modified_at: Set(t.modified_at),
            deprecated: Set(t.deprecated),
            revoked: Set(t.revoked),
            updated_at: Set(now),
            ..Default::default()
        };
        if !fields.is_empty() {
            update.review_required = Set(true);
            report.changed.push(TechniqueChange {
                mitre_id: t.mitre_id,
                name: t.name,
                fields: fields.into_iter().map(str::to_owned).collect(),
            });
        }
        update.update(txn).await?;
        report.techniques_updated += 1;
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        technique::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    report_progress(progress, Stage::Techniques, total, total);
    Ok(ids)
}

async fn upsert_actors(
    txn: &impl ConnectionTrait,
    incoming: &[ActorData],
    report: &mut ImportReport,
) -> AppResult<HashMap<String, Uuid>> {
    let existing: HashMap<String, threat_actor::Model> = threat_actor::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|a| (a.stix_id.clone(), a))
        .collect();
    let mut ids = HashMap::new();
    let mut inserts = Vec::new();
    for a in incoming {
        let aliases = strings(&a.aliases);
        match existing.get(&a.stix_id) {
            Some(old) => {
                ids.insert(a.stix_id.clone(), old.id);
                let same = old.mitre_id == a.mitre_id
                    && old.name == a.name
                    && old.aliases == aliases
                    && old.description == a.description
                    && old.url == a.url
                    && old.modified_at == a.modified_at
                    && old.deprecated == a.deprecated
                    && old.revoked == a.revoked;
                if !same {
                    threat_actor::ActiveModel {
                        id: Set(old.id),
                        mitre_id: Set(a.mitre_id.clone()),
                        name: Set(a.name.clone()),
                        aliases: Set(aliases),
                        description: Set(a.description.clone()),
                        url: Set(a.url.clone()),
                        modified_at: Set(a.modified_at),
                        deprecated: Set(a.deprecated),
                        revoked: Set(a.revoked),
                        ..Default::default()
                    }
                    .update(txn)
                    .await?;
                    report.actors_updated += 1;
                }
            }
            None => {
                let id = Uuid::new_v4();
                ids.insert(a.stix_id.clone(), id);
                inserts.push(threat_actor::ActiveModel {
                    id: Set(id),
                    mitre_id: Set(a.mitre_id.clone()),
                    stix_id: Set(a.stix_id.clone()),
                    name: Set(a.name.clone()),
                    aliases: Set(aliases),
                    description: Set(a.description.clone()),
                    url: Set(a.url.clone()),
                    modified_at: Set(a.modified_at),
                    deprecated: Set(a.deprecated),
                    revoked: Set(a.revoked),
                });
                report.actors_added += 1;
            }
        }
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        threat_actor::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(ids)
}

async fn sync_actor_links(
    txn: &impl ConnectionTrait,
    uses: &[(String, String)],
    actor_ids: &HashMap<String, Uuid>,
    technique_ids: &HashMap<String, Uuid>,
    report: &mut ImportReport,
) -> AppResult<()> {
    let wanted: HashSet<(Uuid, Uuid)> = uses
        .iter()
        .filter_map(|(actor, technique)| {
            Some((*actor_ids.get(actor)?, *technique_ids.get(technique)?))
        })
        .collect();
    let existing: HashSet<(Uuid, Uuid)> = actor_technique::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|l| (l.actor_id, l.technique_id))
        .collect();
    let mut added: Vec<_> = wanted.difference(&existing).copied().collect();
    added.sort();
    report.actor_links_added = added.len() as u32;
    let mut chunks = added.into_iter().peekable();
    while chunks.peek().is_some() {
        let chunk: Vec<_> = chunks
            .by_ref()
            .take(CHUNK * 4)
            .map(|(actor_id, technique_id)| actor_technique::ActiveModel {
                actor_id: Set(actor_id),
                technique_id: Set(technique_id),
            })
            .collect();
        actor_technique::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    // Links of actors that are in this bundle but no longer use a technique go away.
    let bundle_actors: HashSet<Uuid> = actor_ids.values().copied().collect();
    for (actor_id, technique_id) in existing.difference(&wanted) {
        if bundle_actors.contains(actor_id) {
            actor_technique::Entity::delete_many()
                .filter(actor_technique::Column::ActorId.eq(*actor_id))
                .filter(actor_technique::Column::TechniqueId.eq(*technique_id))
                .exec(txn)
                .await?;
            report.actor_links_removed += 1;
        }
    }
    Ok(())
}

impl crate::server::importers::ImportReport for ImportReport {
    fn counts(&self) -> Counts {
        Counts {
            added: (self.tactics_added + self.techniques_added + self.actors_added) as usize,
            updated: (self.tactics_updated + self.techniques_updated + self.actors_updated)
                as usize,
            unchanged: self.techniques_unchanged as usize,
            skipped: self
                .skipped_custom
                .iter()
                .map(|id| SkippedFile {
                    path: id.clone(),
                    reason: "a custom technique holds the id".into(),
                })
                .collect(),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Tactics: {} added, {} updated. Techniques: {} added, {} updated, {} unchanged, {} deprecated, {} revoked. \
             Threat actors: {} added, {} updated. Actor links: {} added, {} removed.",
            self.tactics_added,
            self.tactics_updated,
            self.techniques_added,
            self.techniques_updated,
            self.techniques_unchanged,
            self.techniques_deprecated,
            self.techniques_revoked,
            self.actors_added,
            self.actors_updated,
            self.actor_links_added,
            self.actor_links_removed,
        )];
        lines.push(format!(
            "Software: {} added, {} updated. Campaigns: {} added, {} updated. Mitigations: {} added, {} updated; links {} added, {} updated, {} removed.",
            self.software_added,
            self.software_updated,
            self.campaigns_added,
            self.campaigns_updated,
            self.mitigations_added,
            self.mitigations_updated,
            self.mitigation_links_added,
            self.mitigation_links_updated,
            self.mitigation_links_removed,
        ));
        if !self.changed.is_empty() {
            lines.push(format!("Flagged for review ({}):", self.changed.len()));
            for change in &self.changed {
                lines.push(format!(
                    "  {} {}: {}",
                    change.mitre_id,
                    change.name,
                    change.fields.join(", ")
                ));
            }
        }
        if !self.skipped_custom.is_empty() {
            lines.push(format!(
                "Not applied (a custom technique holds the id): {}",
                self.skipped_custom.join(", ")
            ));
        }
        lines
    }
}
