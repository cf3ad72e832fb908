//! What an ATT&CK import keeps beside techniques, tactics and actors: the software (for the
//! intel matcher), ATT&CK's campaigns (what a testing campaign can emulate) and the
//! mitigations with the techniques each mitigates.
use super::import::{CHUNK, strings};
use super::stix::{AttackCampaignData, MitigationData, SoftwareData};
use crate::dto::knowledge::ImportReport;
use crate::error::AppResult;
use crate::server::entities::{attack_campaign, mitigation, software, technique_mitigation};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// ATT&CK's software, by STIX id: what intel is matched against beside techniques and actors.
pub(super) async fn upsert_software(
    txn: &impl ConnectionTrait,
    incoming: &[SoftwareData],
    report: &mut ImportReport,
) -> AppResult<()> {
    let existing: HashMap<String, software::Model> = software::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|s| (s.stix_id.clone(), s))
        .collect();
    let mut inserts = Vec::new();
    for s in incoming {
        let row = software::Model {
            id: existing
                .get(&s.stix_id)
                .map_or_else(Uuid::new_v4, |old| old.id),
            mitre_id: s.mitre_id.clone(),
            stix_id: s.stix_id.clone(),
            name: s.name.clone(),
            kind: s.kind.clone(),
            aliases: strings(&s.aliases),
            description: s.description.clone(),
            url: s.url.clone(),
            modified_at: s.modified_at,
            deprecated: s.deprecated,
            revoked: s.revoked,
        };
        match existing.get(&s.stix_id) {
            Some(old) if *old == row => {}
            Some(_) => {
                software::ActiveModel::from(row)
                    .reset_all()
                    .update(txn)
                    .await?;
                report.software_updated += 1;
            }
            None => {
                inserts.push(software::ActiveModel::from(row));
                report.software_added += 1;
            }
        }
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        software::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// ATT&CK's campaigns, by STIX id, with the techniques and groups they name.
pub(super) async fn upsert_attack_campaigns(
    txn: &impl ConnectionTrait,
    incoming: &[AttackCampaignData],
    report: &mut ImportReport,
) -> AppResult<()> {
    let existing: HashMap<String, attack_campaign::Model> = attack_campaign::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.stix_id.clone(), c))
        .collect();
    let mut inserts = Vec::new();
    for c in incoming {
        let row = attack_campaign::Model {
            id: existing
                .get(&c.stix_id)
                .map_or_else(Uuid::new_v4, |old| old.id),
            stix_id: c.stix_id.clone(),
            mitre_id: c.mitre_id.clone(),
            name: c.name.clone(),
            aliases: strings(&c.aliases),
            description: c.description.clone(),
            url: c.url.clone(),
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            techniques: strings(&c.techniques),
            actors: strings(&c.actors),
            modified_at: c.modified_at,
            deprecated: c.deprecated,
            revoked: c.revoked,
        };
        match existing.get(&c.stix_id) {
            Some(old) if *old == row => {}
            Some(_) => {
                attack_campaign::ActiveModel::from(row)
                    .reset_all()
                    .update(txn)
                    .await?;
                report.campaigns_updated += 1;
            }
            None => {
                inserts.push(attack_campaign::ActiveModel::from(row));
                report.campaigns_added += 1;
            }
        }
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        attack_campaign::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// ATT&CK's mitigations, by STIX id; returns STIX id → row id.
pub(super) async fn upsert_mitigations(
    txn: &impl ConnectionTrait,
    incoming: &[MitigationData],
    report: &mut ImportReport,
) -> AppResult<HashMap<String, Uuid>> {
    let existing: HashMap<String, mitigation::Model> = mitigation::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.stix_id.clone(), m))
        .collect();
    let mut ids = HashMap::new();
    let mut inserts = Vec::new();
    for m in incoming {
        let row = mitigation::Model {
            id: existing
                .get(&m.stix_id)
                .map_or_else(Uuid::new_v4, |old| old.id),
            mitre_id: m.mitre_id.clone(),
            stix_id: m.stix_id.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            url: m.url.clone(),
            modified_at: m.modified_at,
            deprecated: m.deprecated,
            revoked: m.revoked,
        };
        ids.insert(m.stix_id.clone(), row.id);
        match existing.get(&m.stix_id) {
            Some(old) if *old == row => {}
            Some(_) => {
                mitigation::ActiveModel::from(row)
                    .reset_all()
                    .update(txn)
                    .await?;
                report.mitigations_updated += 1;
            }
            None => {
                inserts.push(mitigation::ActiveModel::from(row));
                report.mitigations_added += 1;
            }
        }
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        mitigation::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    for (stix_id, old) in &existing {
        ids.entry(stix_id.clone()).or_insert(old.id);
    }
    Ok(ids)
}

/// Which mitigation mitigates which technique, with ATT&CK's text: added, changed text updated,
/// links the bundle no longer has removed (of the mitigations it carries).
pub(super) async fn sync_mitigation_links(
    txn: &impl ConnectionTrait,
    mitigates: &[(String, String, String)],
    mitigation_ids: &HashMap<String, Uuid>,
    carried: &HashSet<Uuid>,
    technique_ids: &HashMap<String, Uuid>,
    report: &mut ImportReport,
) -> AppResult<()> {
    let wanted: HashMap<(Uuid, Uuid), &str> = mitigates
        .iter()
        .filter_map(|(mitigation, technique, text)| {
            Some((
                (
                    *mitigation_ids.get(mitigation)?,
                    *technique_ids.get(technique)?,
                ),
                text.as_str(),
            ))
        })
        .collect();
    let existing: HashMap<(Uuid, Uuid), String> = technique_mitigation::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|l| ((l.mitigation_id, l.technique_id), l.description))
        .collect();
    let mut inserts = Vec::new();
    for (&(mitigation_id, technique_id), text) in &wanted {
        match existing.get(&(mitigation_id, technique_id)) {
            Some(old) if old == text => {}
            Some(_) => {
                technique_mitigation::ActiveModel {
                    mitigation_id: Set(mitigation_id),
                    technique_id: Set(technique_id),
                    description: Set((*text).to_owned()),
                }
                .update(txn)
                .await?;
                report.mitigation_links_updated += 1;
            }
            None => {
                inserts.push(technique_mitigation::ActiveModel {
                    mitigation_id: Set(mitigation_id),
                    technique_id: Set(technique_id),
                    description: Set((*text).to_owned()),
                });
                report.mitigation_links_added += 1;
            }
        }
    }
    // A link is gone when the bundle carries its mitigation but no longer the link.
    for key in existing.keys() {
        if !wanted.contains_key(key) && carried.contains(&key.0) {
            technique_mitigation::Entity::delete_many()
                .filter(technique_mitigation::Column::MitigationId.eq(key.0))
                .filter(technique_mitigation::Column::TechniqueId.eq(key.1))
                .exec(txn)
                .await?;
            report.mitigation_links_removed += 1;
        }
    }
    let mut inserts = inserts.into_iter().peekable();
    while inserts.peek().is_some() {
        let chunk: Vec<_> = inserts.by_ref().take(CHUNK).collect();
        technique_mitigation::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
