//! ATT&CK's data components as the team's inventory (DeTT&CT-style): imported with the
//! bundle, marked collected with a quality by the team; a technique's visibility is what its
//! components give (`domain::visibility`), and the scores weight it.
use crate::domain::audit::AuditAction;
use crate::domain::visibility::{self, NOTES_MAX};
use crate::dto::knowledge::ImportReport;
use crate::dto::scoring::{
    DataComponentDto, DataComponentUpdate, DataSourceInventory, DataSourceQuery,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::{data_component, technique_data_component, user};
use crate::server::importers::attack::stix::DataComponentData;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::scoring::compute;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

const ENTITY: &str = "data_component";
/// Above this many techniques, a change recomputes every score instead.
const REFRESH_ONE_BY_ONE: usize = 20;

/// Writes the bundle's data components (by ATT&CK id; the team's collection, quality and
/// notes are kept) and replaces the component links of the bundle's techniques, in the
/// import's transaction.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    components: &[DataComponentData],
    links: &[(String, String)],
    bundle_techniques: &[String],
    report: &mut ImportReport,
) -> AppResult<()> {
    let existing: HashMap<String, data_component::Model> = data_component::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.mitre_id.clone(), c))
        .collect();
    let mut ids: HashMap<String, Uuid> = HashMap::new();
    for c in components {
        let name: String = c.name.chars().take(300).collect();
        let data_source: String = c.data_source.chars().take(300).collect();
        let deprecated = c.deprecated || c.revoked;
        match existing.get(&c.mitre_id) {
            Some(old) => {
                ids.insert(c.mitre_id.clone(), old.id);
                if old.name != name
                    || old.description != c.description
                    || old.data_source != data_source
                    || old.deprecated != deprecated
                    || old.stix_id.as_deref() != Some(c.stix_id.as_str())
                {
                    let mut row = old.clone().into_active_model();
                    row.name = Set(name);
                    row.description = Set(c.description.clone());
                    row.data_source = Set(data_source);
                    row.deprecated = Set(deprecated);
                    row.stix_id = Set(Some(c.stix_id.clone()));
                    row.update(txn).await?;
                    report.data_components_updated += 1;
                }
            }
            None => {
                let id = Uuid::new_v4();
                ids.insert(c.mitre_id.clone(), id);
                data_component::ActiveModel {
                    id: Set(id),
                    mitre_id: Set(c.mitre_id.chars().take(32).collect()),
                    stix_id: Set(Some(c.stix_id.clone())),
                    name: Set(name),
                    description: Set(c.description.clone()),
                    data_source: Set(data_source),
                    deprecated: Set(deprecated),
                    collected: Set(false),
                    quality: Set(Default::default()),
                    notes: Set(String::new()),
                    updated_by: Set(None),
                    updated_at: Set(None),
                }
                .insert(txn)
                .await?;
                report.data_components_added += 1;
            }
        }
    }
    for id in existing.values() {
        ids.entry(id.mitre_id.clone()).or_insert(id.id);
    }
    for chunk in bundle_techniques.chunks(500) {
        technique_data_component::Entity::delete_many()
            .filter(technique_data_component::Column::TechniqueId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    let rows: Vec<technique_data_component::ActiveModel> = links
        .iter()
        .filter_map(|(technique, component)| {
            Some(technique_data_component::ActiveModel {
                technique_id: Set(technique.clone()),
                component_id: Set(*ids.get(component)?),
            })
        })
        .collect();
    report.data_component_links = rows.len() as u32;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        technique_data_component::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

async fn usernames(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Username)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

fn dto(
    c: data_component::Model,
    techniques: u64,
    names: &HashMap<Uuid, String>,
) -> DataComponentDto {
    DataComponentDto {
        id: c.id,
        mitre_id: c.mitre_id,
        name: c.name,
        description: c.description,
        data_source: c.data_source,
        deprecated: c.deprecated,
        collected: c.collected,
        quality: c.quality,
        notes: c.notes,
        techniques,
        updated_by: c.updated_by.and_then(|id| names.get(&id).cloned()),
        updated_at: c.updated_at,
    }
}

/// The inventory: every data component (active first, by name), how many techniques each
/// can detect, and the visibility they give.
pub async fn list(
    conn: &impl ConnectionTrait,
    query: &DataSourceQuery,
) -> AppResult<DataSourceInventory> {
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::field("search", "at most 200 characters"));
    }
    let components = data_component::Entity::find()
        .order_by_asc(data_component::Column::Deprecated)
        .order_by_asc(data_component::Column::Name)
        .all(conn)
        .await?;
    let links: Vec<(String, Uuid)> = technique_data_component::Entity::find()
        .select_only()
        .column(technique_data_component::Column::TechniqueId)
        .column(technique_data_component::Column::ComponentId)
        .into_tuple()
        .all(conn)
        .await?;
    let by_id: HashMap<Uuid, &data_component::Model> =
        components.iter().map(|c| (c.id, c)).collect();
    let mut per_component: HashMap<Uuid, u64> = HashMap::new();
    let mut per_technique: HashMap<&str, Vec<(bool, crate::domain::visibility::DataQuality)>> =
        HashMap::new();
    for (technique, component) in &links {
        *per_component.entry(*component).or_default() += 1;
        if let Some(c) = by_id.get(component) {
            per_technique
                .entry(technique.as_str())
                .or_default()
                .push((c.collected, c.quality));
        }
    }
    let visibilities: Vec<f64> = per_technique
        .into_values()
        .filter_map(visibility::visibility)
        .collect();
    let mean_visibility = if visibilities.is_empty() {
        0.0
    } else {
        crate::domain::scoring::round1(
            100.0 * visibilities.iter().sum::<f64>() / visibilities.len() as f64,
        )
    };
    let collected = components.iter().filter(|c| c.collected).count() as u64;
    let names = usernames(conn, components.iter().filter_map(|c| c.updated_by)).await?;
    let items = components
        .iter()
        .filter(|c| query.collected.is_none_or(|want| c.collected == want))
        .filter(|c| {
            search.as_ref().is_none_or(|q| {
                c.mitre_id.to_lowercase().contains(q)
                    || c.name.to_lowercase().contains(q)
                    || c.data_source.to_lowercase().contains(q)
            })
        })
        .map(|c| {
            dto(
                c.clone(),
                per_component.get(&c.id).copied().unwrap_or(0),
                &names,
            )
        })
        .collect();
    Ok(DataSourceInventory {
        items,
        collected,
        techniques_with_components: visibilities.len() as u64,
        mean_visibility,
    })
}

/// Finds a component by its id or ATT&CK id (`DC0001`).
async fn find(conn: &impl ConnectionTrait, key: &str) -> AppResult<data_component::Model> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => data_component::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            data_component::Entity::find()
                .filter(data_component::Column::MitreId.eq(key.to_uppercase()))
                .one(conn)
                .await?
        }
    };
    found.ok_or_else(|| AppError::NotFound(format!("No data component '{key}'")))
}

/// Marks a component collected or not, its quality and notes; recomputes the scores of the
/// techniques it can detect, audited, in one transaction.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    key: &str,
    change: DataComponentUpdate,
) -> AppResult<DataComponentDto> {
    if change == DataComponentUpdate::default() {
        return Err(AppError::BadRequest(
            "Nothing to change: send collected, quality or notes".into(),
        ));
    }
    let notes = change.notes.as_ref().map(|n| n.trim().to_owned());
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > NOTES_MAX)
    {
        return Err(AppError::field(
            "notes",
            format!("at most {NOTES_MAX} characters"),
        ));
    }
    let txn = begin_write(db).await?;
    let before = find(&txn, key).await?;
    let mut row = before.clone().into_active_model();
    if let Some(collected) = change.collected {
        row.collected = Set(collected);
    }
    if let Some(quality) = change.quality {
        row.quality = Set(quality);
    }
    if let Some(notes) = notes {
        row.notes = Set(notes);
    }
    row.updated_by = Set(actor.id);
    row.updated_at = Set(Some(Utc::now()));
    let saved = row.update(&txn).await?;
    let techniques: Vec<String> = technique_data_component::Entity::find()
        .select_only()
        .column(technique_data_component::Column::TechniqueId)
        .filter(technique_data_component::Column::ComponentId.eq(saved.id))
        .into_tuple()
        .all(&txn)
        .await?;
    // A widely used component reaches hundreds of techniques: recomputing them all at once
    // is a few queries, one by one would be a few per technique.
    if techniques.len() > REFRESH_ONE_BY_ONE {
        compute::recompute_current(&txn).await?;
    } else {
        for technique in &techniques {
            compute::refresh(&txn, technique).await?;
        }
    }
    let shown = |c: &data_component::Model| {
        serde_json::json!({
            "mitre_id": c.mitre_id,
            "collected": c.collected,
            "quality": c.quality,
            "notes": c.notes,
        })
    };
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::DataComponentUpdate, ENTITY, &saved.mitre_id)
            .before(shown(&before))
            .after(shown(&saved)),
    )
    .await?;
    let names = usernames(&txn, saved.updated_by).await?;
    let count = techniques.len() as u64;
    txn.commit().await?;
    Ok(dto(saved, count, &names))
}
