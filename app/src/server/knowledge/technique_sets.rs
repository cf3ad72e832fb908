//! Technique sets: named lists of techniques, imported from ATT&CK Navigator layers (a
//! threat-intel team's priorities, a red team's plan), that the matrix and reports filter by.
use crate::domain::audit::AuditAction;
use crate::dto::reporting::reports::{
    LayerImportReport, TechniqueSetDetail, TechniqueSetItem, TechniqueSetSummary,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{technique, technique_set, technique_set_item};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use crate::server::workflow::reads::user_names;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

const ENTITY: &str = "technique_set";
const MAX_NAME: usize = 200;
const MAX_COMMENT: usize = 2_000;

/// A set named by id or by name; unknown is a 400 (a filter naming nothing is a mistake, not
/// an empty result).
pub async fn resolve(conn: &impl ConnectionTrait, key: &str) -> AppResult<technique_set::Model> {
    let key = key.trim();
    let found = match Uuid::parse_str(key) {
        Ok(id) => technique_set::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            technique_set::Entity::find()
                .filter(technique_set::Column::Name.eq(key))
                .one(conn)
                .await?
        }
    };
    found.ok_or_else(|| AppError::BadRequest(format!("Unknown technique set '{key}'")))
}

/// The ATT&CK ids in a set.
pub async fn members(conn: &impl ConnectionTrait, set_id: Uuid) -> AppResult<HashSet<String>> {
    Ok(technique_set_item::Entity::find()
        .select_only()
        .column(technique_set_item::Column::TechniqueId)
        .filter(technique_set_item::Column::SetId.eq(set_id))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

async fn summaries(
    conn: &impl ConnectionTrait,
    sets: Vec<technique_set::Model>,
) -> AppResult<Vec<TechniqueSetSummary>> {
    let ids: Vec<Uuid> = sets.iter().map(|s| s.id).collect();
    let counts: HashMap<Uuid, i64> = technique_set_item::Entity::find()
        .select_only()
        .column(technique_set_item::Column::SetId)
        .column_as(technique_set_item::Column::TechniqueId.count(), "n")
        .filter(technique_set_item::Column::SetId.is_in(ids))
        .group_by(technique_set_item::Column::SetId)
        .into_tuple::<(Uuid, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let names = user_names(conn, sets.iter().filter_map(|s| s.created_by)).await?;
    Ok(sets
        .into_iter()
        .map(|s| TechniqueSetSummary {
            technique_count: counts
                .get(&s.id)
                .map(|n| u64::try_from(*n).unwrap_or(0))
                .unwrap_or(0),
            created_by_name: s.created_by.and_then(|id| names.get(&id).cloned()),
            id: s.id,
            name: s.name,
            description: s.description,
            created_at: s.created_at,
            updated_at: s.updated_at,
        })
        .collect())
}

pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<TechniqueSetSummary>> {
    let sets = technique_set::Entity::find()
        .order_by_asc(technique_set::Column::Name)
        .all(conn)
        .await?;
    summaries(conn, sets).await
}

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> AppResult<TechniqueSetDetail> {
    let set = resolve(conn, key)
        .await
        .map_err(|_| AppError::NotFound(format!("Technique set '{key}' not found")))?;
    let items = technique_set_item::Entity::find()
        .filter(technique_set_item::Column::SetId.eq(set.id))
        .order_by_asc(technique_set_item::Column::TechniqueId)
        .all(conn)
        .await?;
    let known: HashSet<String> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .filter(technique::Column::MitreId.is_in(items.iter().map(|i| i.technique_id.clone())))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let summary = summaries(conn, vec![set])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("technique set summary missing"))?;
    Ok(TechniqueSetDetail {
        summary,
        techniques: items
            .into_iter()
            .map(|i| TechniqueSetItem {
                known: known.contains(&i.technique_id),
                technique_id: i.technique_id,
                score: i.score,
                comment: i.comment,
                color: i.color,
            })
            .collect(),
    })
}

/// What a layer says about its techniques, merged per technique: a technique listed under
/// several tactics keeps its highest score and all its distinct comments.
#[derive(Debug, Default, PartialEq)]
struct ParsedLayer {
    name: Option<String>,
    description: Option<String>,
    items: BTreeMap<String, LayerItem>,
    skipped: Vec<String>,
}

#[derive(Debug, Default, PartialEq)]
struct LayerItem {
    score: Option<f64>,
    comments: Vec<String>,
    color: Option<String>,
}

fn is_technique_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    match bytes.len() {
        5 => bytes[0] == b'T' && digits(1..5),
        9 => bytes[0] == b'T' && digits(1..5) && bytes[5] == b'.' && digits(6..9),
        _ => false,
    }
}

fn is_color(value: &str) -> bool {
    let hex = value.strip_prefix('#').unwrap_or_default();
    matches!(hex.len(), 3 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// Reads a Navigator layer (format 4.x, Enterprise domain). The structure is checked strictly
/// (a wrong file is refused as a whole); single bad entries are skipped with their reason.
fn parse_layer(layer: &Value) -> AppResult<ParsedLayer> {
    let not_a_layer = |why: &str| AppError::Validation {
        detail: format!("Not an ATT&CK Navigator layer: {why}"),
        fields: FieldErrors::new(),
    };
    let object = layer
        .as_object()
        .ok_or_else(|| not_a_layer("the body must be a JSON object"))?;
    if let Some(domain) = object.get("domain") {
        let domain = domain.as_str().unwrap_or_default();
        if !matches!(domain, "enterprise-attack" | "mitre-enterprise") {
            return Err(AppError::field(
                "domain",
                format!("Only Enterprise ATT&CK layers can be imported (domain '{domain}')"),
            ));
        }
    }
    if let Some(version) = object
        .get("versions")
        .and_then(|v| v.get("layer"))
        .and_then(Value::as_str)
        && !version.starts_with("4.")
    {
        return Err(AppError::field(
            "versions.layer",
            format!("Layer format {version} is not supported; export it as layer format 4.x"),
        ));
    }
    let techniques = object
        .get("techniques")
        .and_then(Value::as_array)
        .ok_or_else(|| not_a_layer("it has no `techniques` list"))?;
    let mut parsed = ParsedLayer {
        name: object
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        description: object
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..Default::default()
    };
    for (index, entry) in techniques.iter().enumerate() {
        let position = index + 1;
        let Some(raw_id) = entry.get("techniqueID").and_then(Value::as_str) else {
            parsed
                .skipped
                .push(format!("entry {position}: no techniqueID"));
            continue;
        };
        let id = raw_id.trim().to_uppercase();
        if !is_technique_id(&id) {
            parsed.skipped.push(format!(
                "entry {position}: '{raw_id}' is not an ATT&CK technique id"
            ));
            continue;
        }
        if entry.get("enabled").and_then(Value::as_bool) == Some(false) {
            parsed
                .skipped
                .push(format!("entry {position}: {id} is disabled in the layer"));
            continue;
        }
        let item = parsed.items.entry(id).or_default();
        if let Some(score) = entry.get("score").and_then(Value::as_f64)
            && score.is_finite()
        {
            item.score = Some(item.score.map_or(score, |s| s.max(score)));
        }
        if let Some(comment) = entry
            .get("comment")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            && !item.comments.iter().any(|c| c == comment)
        {
            item.comments
                .push(comment.chars().take(MAX_COMMENT).collect());
        }
        if item.color.is_none()
            && let Some(color) = entry.get("color").and_then(Value::as_str)
            && is_color(color)
        {
            item.color = Some(color.to_owned());
        }
    }
    Ok(parsed)
}

/// Imports a layer as the set `name` (the layer's own name when not given). A set of that name
/// has its techniques replaced, so a pipeline can push its layer again and again.
pub async fn import_layer(
    db: &DatabaseConnection,
    actor: &Actor,
    layer: &Value,
    name: Option<String>,
    description: Option<String>,
) -> AppResult<LayerImportReport> {
    let parsed = parse_layer(layer)?;
    let name = name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .or(parsed.name.clone())
        .ok_or_else(|| {
            AppError::field(
                "name",
                "Name the technique set: the layer has no name; pass ?name=…",
            )
        })?;
    if name.chars().count() > MAX_NAME {
        return Err(AppError::field(
            "name",
            format!("At most {MAX_NAME} characters"),
        ));
    }
    if parsed.items.is_empty() {
        return Err(AppError::Validation {
            detail: format!(
                "The layer lists no importable technique{}",
                if parsed.skipped.is_empty() {
                    String::new()
                } else {
                    format!(": {}", parsed.skipped.join("; "))
                }
            ),
            fields: FieldErrors::new(),
        });
    }
    let description = description
        .or(parsed.description.clone())
        .unwrap_or_default();
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let existing = technique_set::Entity::find()
        .filter(technique_set::Column::Name.eq(&name))
        .lock_exclusive()
        .one(&txn)
        .await?;
    let replaced = existing.is_some();
    let set = match existing {
        Some(set) => {
            technique_set_item::Entity::delete_many()
                .filter(technique_set_item::Column::SetId.eq(set.id))
                .exec(&txn)
                .await?;
            technique_set::ActiveModel {
                id: Set(set.id),
                description: Set(description),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?
        }
        None => {
            technique_set::ActiveModel {
                id: Set(Uuid::new_v4()),
                name: Set(name.clone()),
                description: Set(description),
                created_by: Set(actor.id),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    let ids: Vec<String> = parsed.items.keys().cloned().collect();
    let known: HashSet<String> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .filter(technique::Column::MitreId.is_in(ids.clone()))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !known.contains(*id))
        .cloned()
        .collect();
    let rows: Vec<technique_set_item::ActiveModel> = parsed
        .items
        .into_iter()
        .map(|(id, item)| technique_set_item::ActiveModel {
            set_id: Set(set.id),
            technique_id: Set(id),
            score: Set(item.score),
            comment: Set(item.comments.join("\n")),
            color: Set(item.color),
        })
        .collect();
    let imported = rows.len() as u64;
    for chunk in rows.chunks(500) {
        technique_set_item::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TechniqueSetImport, ENTITY, set.id).after(json!({
            "name": set.name,
            "replaced": replaced,
            "imported": imported,
            "unknown_techniques": unknown,
            "skipped": parsed.skipped.len(),
        })),
    )
    .await?;
    txn.commit().await?;
    let set = summaries(db, vec![set])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("technique set summary missing"))?;
    Ok(LayerImportReport {
        set,
        replaced,
        imported,
        unknown_techniques: unknown,
        skipped: parsed.skipped,
    })
}

/// What [`put`] did to a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetChange {
    Added,
    Updated,
    Unchanged,
}

/// Writes the set `name` with exactly `items` (ATT&CK id → comment) in the caller's
/// transaction, for an import that owns the set (CALDERA's adversary profiles): created when
/// missing, rewritten when its description or techniques differ, left alone when they match.
pub async fn put(
    txn: &impl ConnectionTrait,
    created_by: Option<Uuid>,
    name: &str,
    description: &str,
    items: &BTreeMap<String, String>,
) -> AppResult<SetChange> {
    let now = Utc::now();
    // Compared as stored: names and comments are bounded.
    let name: String = name.chars().take(MAX_NAME).collect();
    let items: BTreeMap<String, String> = items
        .iter()
        .map(|(id, comment)| (id.clone(), comment.chars().take(MAX_COMMENT).collect()))
        .collect();
    let existing = technique_set::Entity::find()
        .filter(technique_set::Column::Name.eq(&name))
        .one(txn)
        .await?;
    let (set_id, change) = match existing {
        Some(set) => {
            let stored: BTreeMap<String, String> = technique_set_item::Entity::find()
                .filter(technique_set_item::Column::SetId.eq(set.id))
                .all(txn)
                .await?
                .into_iter()
                .map(|item| (item.technique_id, item.comment))
                .collect();
            if stored == items && set.description == description {
                return Ok(SetChange::Unchanged);
            }
            technique_set_item::Entity::delete_many()
                .filter(technique_set_item::Column::SetId.eq(set.id))
                .exec(txn)
                .await?;
            technique_set::ActiveModel {
                id: Set(set.id),
                description: Set(description.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(txn)
            .await?;
            (set.id, SetChange::Updated)
        }
        None => {
            let set = technique_set::ActiveModel {
                id: Set(Uuid::new_v4()),
                name: Set(name.clone()),
                description: Set(description.to_owned()),
                created_by: Set(created_by),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            (set.id, SetChange::Added)
        }
    };
    let rows: Vec<technique_set_item::ActiveModel> = items
        .iter()
        .map(|(id, comment)| technique_set_item::ActiveModel {
            set_id: Set(set_id),
            technique_id: Set(id.clone()),
            score: Set(None),
            comment: Set(comment.clone()),
            color: Set(None),
        })
        .collect();
    for chunk in rows.chunks(500) {
        technique_set_item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(change)
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, key: &str) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let set = resolve(&txn, key)
        .await
        .map_err(|_| AppError::NotFound(format!("Technique set '{key}' not found")))?;
    let count = technique_set_item::Entity::find()
        .filter(technique_set_item::Column::SetId.eq(set.id))
        .count(&txn)
        .await?;
    technique_set_item::Entity::delete_many()
        .filter(technique_set_item::Column::SetId.eq(set.id))
        .exec(&txn)
        .await?;
    technique_set::Entity::delete_by_id(set.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TechniqueSetDelete, ENTITY, set.id)
            .before(json!({ "name": set.name, "techniques": count })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_are_checked() {
        assert!(is_technique_id("T1059"));
        assert!(is_technique_id("T1059.001"));
        for bad in [
            "T105",
            "T1059.1",
            "TA0002",
            "t1059",
            "T1059.0010",
            "X1059",
            "",
        ] {
            assert!(!is_technique_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_layer_merges_tactic_entries_and_skips_bad_ones() {
        let layer = json!({
            "name": "Intel priorities",
            "versions": { "layer": "4.5", "navigator": "5.1.0", "attack": "18" },
            "domain": "enterprise-attack",
            "techniques": [
                { "techniqueID": "T1059", "tactic": "execution", "score": 40, "comment": "seen" },
                { "techniqueID": "t1059", "tactic": "persistence", "score": 80, "comment": "seen", "color": "#ff0000" },
                { "techniqueID": "T1566.001", "comment": "phishing wave" },
                { "techniqueID": "nonsense" },
                { "tactic": "execution" },
                { "techniqueID": "T1003", "enabled": false }
            ]
        });
        let parsed = parse_layer(&layer).unwrap();
        assert_eq!(parsed.name.as_deref(), Some("Intel priorities"));
        assert_eq!(parsed.items.len(), 2);
        let t1059 = &parsed.items["T1059"];
        assert_eq!(t1059.score, Some(80.0));
        assert_eq!(t1059.comments, vec!["seen".to_owned()]);
        assert_eq!(t1059.color.as_deref(), Some("#ff0000"));
        assert_eq!(parsed.items["T1566.001"].score, None);
        assert_eq!(parsed.skipped.len(), 3, "{:?}", parsed.skipped);
    }

    #[test]
    fn wrong_files_are_refused_whole() {
        assert!(parse_layer(&json!([1, 2])).is_err());
        assert!(parse_layer(&json!({ "name": "x" })).is_err());
        let mobile = json!({ "domain": "mobile-attack", "techniques": [] });
        assert!(
            parse_layer(&mobile)
                .unwrap_err()
                .fields()
                .contains_key("domain")
        );
        let old = json!({ "versions": { "layer": "3.0" }, "techniques": [] });
        assert!(
            parse_layer(&old)
                .unwrap_err()
                .fields()
                .contains_key("versions.layer")
        );
    }
}
