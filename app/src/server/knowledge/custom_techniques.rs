//! Techniques the admins own: custom techniques (all fields) and the local notes of ATT&CK
//! techniques. A sync never touches either.
use crate::domain::audit::AuditAction;
use crate::domain::coverage::CoverageStatus;
use crate::domain::validation::{check_name, check_text, clean_list};
use crate::dto::knowledge::{CreateTechniqueRequest, TechniqueDetail, UpdateTechniqueRequest};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{tactic, technique};
use crate::server::knowledge::reads::{find_technique, technique_detail};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

const NAME_MAX: usize = 200;
const ID_MAX: usize = 32;

/// `T9001`, `CUSTOM-PHISH`, `T9001.001`: letters, digits and dashes, an optional `.NNN`.
fn valid_id(id: &str) -> bool {
    let (base, sub) = match id.split_once('.') {
        Some((base, sub)) => (base, Some(sub)),
        None => (id, None),
    };
    !base.is_empty()
        && id.len() <= ID_MAX
        && base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && sub.is_none_or(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()))
}

async fn check_tactics(
    conn: &impl ConnectionTrait,
    tactics: &[String],
    errors: &mut FieldErrors,
) -> AppResult<()> {
    if tactics.is_empty() {
        errors.insert(
            "tactics".into(),
            "Give at least one tactic (its shortname, e.g. execution)".into(),
        );
        return Ok(());
    }
    let known: HashSet<String> = tactic::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.shortname)
        .collect();
    let unknown: Vec<&str> = tactics
        .iter()
        .filter(|t| !known.contains(*t))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        errors.insert(
            "tactics".into(),
            format!("Unknown tactic(s): {}", unknown.join(", ")),
        );
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    request: CreateTechniqueRequest,
) -> AppResult<TechniqueDetail> {
    let txn = begin_write(db).await?;
    let mitre_id = request.mitre_id.trim().to_uppercase();
    let tactics = clean_list(&request.tactics, false);
    let mut errors = FieldErrors::new();
    if !valid_id(&mitre_id) {
        errors.insert(
            "mitre_id".into(),
            "Use letters, digits and dashes (e.g. T9001 or CUSTOM-1), optionally .001 for a sub-technique".into(),
        );
    }
    check_name(&request.name, NAME_MAX, &mut errors);
    check_text("description", &request.description, &mut errors);
    check_text("detection", &request.detection, &mut errors);
    check_text("notes", &request.notes, &mut errors);
    check_tactics(&txn, &tactics, &mut errors).await?;
    let parent = match request
        .parent_mitre_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(parent_id) => match find_technique(&txn, parent_id).await {
            Ok(parent) if parent.is_subtechnique => {
                errors.insert(
                    "parent_mitre_id".into(),
                    "A sub-technique cannot have sub-techniques".into(),
                );
                None
            }
            Ok(parent) => Some(parent.mitre_id),
            Err(AppError::NotFound(_)) => {
                errors.insert(
                    "parent_mitre_id".into(),
                    format!("No technique {parent_id}"),
                );
                None
            }
            Err(other) => return Err(other),
        },
        None => None,
    };
    AppError::invalid("The technique is not valid", errors)?;
    if technique::Entity::find()
        .filter(technique::Column::MitreId.eq(mitre_id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "A technique {mitre_id} already exists"
        )));
    }
    let now = Utc::now();
    let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    technique::ActiveModel {
        id: Set(Uuid::new_v4()),
        mitre_id: Set(mitre_id.clone()),
        stix_id: Set(None),
        is_subtechnique: Set(parent.is_some()),
        parent_mitre_id: Set(parent),
        name: Set(request.name.trim().to_owned()),
        description: Set(request.description),
        platforms: Set(strings(clean_list(&request.platforms, false))),
        tactics: Set(strings(tactics)),
        data_sources: Set(strings(clean_list(&request.data_sources, false))),
        detection: Set(request.detection),
        url: Set(None),
        version: Set(None),
        modified_at: Set(Some(now)),
        deprecated: Set(false),
        revoked: Set(false),
        is_custom: Set(true),
        coverage_status: Set(CoverageStatus::NotCovered),
        review_required: Set(false),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        notes: Set(request.notes),
    }
    .insert(&txn)
    .await?;
    let detail = technique_detail(&txn, &mitre_id).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TechniqueCreate, "technique", &mitre_id).after(json!({
            "name": detail.summary.name,
            "tactics": detail.summary.tactics,
            "parent_mitre_id": detail.summary.parent_mitre_id,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(detail)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    mitre_id: &str,
    request: UpdateTechniqueRequest,
) -> AppResult<TechniqueDetail> {
    let txn = begin_write(db).await?;
    let model = find_technique(&txn, mitre_id).await?;
    let mut errors = FieldErrors::new();
    if !model.is_custom {
        for (field, given) in [
            ("name", request.name.is_some()),
            ("description", request.description.is_some()),
            ("tactics", request.tactics.is_some()),
            ("platforms", request.platforms.is_some()),
            ("data_sources", request.data_sources.is_some()),
            ("detection", request.detection.is_some()),
        ] {
            if given {
                errors.insert(
                    field.into(),
                    "Comes from ATT&CK and is kept by the sync; only notes can be changed".into(),
                );
            }
        }
    }
    if let Some(name) = &request.name {
        check_name(name, NAME_MAX, &mut errors);
    }
    for (field, text) in [
        ("description", &request.description),
        ("detection", &request.detection),
        ("notes", &request.notes),
    ] {
        if let Some(text) = text {
            check_text(field, text, &mut errors);
        }
    }
    let tactics = request.tactics.as_deref().map(|t| clean_list(t, false));
    if let Some(tactics) = &tactics {
        check_tactics(&txn, tactics, &mut errors).await?;
    }
    AppError::invalid("The technique is not valid", errors)?;
    let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    let before = json!({
        "name": model.name,
        "tactics": model.tactics,
        "platforms": model.platforms,
        "notes": model.notes,
    });
    let mut update = technique::ActiveModel {
        id: Set(model.id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let mut changed = Vec::new();
    if let Some(name) = request.name {
        update.name = Set(name.trim().to_owned());
        changed.push("name");
    }
    if let Some(description) = request.description {
        update.description = Set(description);
        changed.push("description");
    }
    if let Some(tactics) = tactics {
        update.tactics = Set(strings(tactics));
        changed.push("tactics");
    }
    if let Some(platforms) = request.platforms {
        update.platforms = Set(strings(clean_list(&platforms, false)));
        changed.push("platforms");
    }
    if let Some(data_sources) = request.data_sources {
        update.data_sources = Set(strings(clean_list(&data_sources, false)));
        changed.push("data_sources");
    }
    if let Some(detection) = request.detection {
        update.detection = Set(detection);
        changed.push("detection");
    }
    if let Some(notes) = request.notes {
        update.notes = Set(notes);
        changed.push("notes");
    }
    if changed.is_empty() {
        return Err(AppError::BadRequest(
            "Nothing to change: give at least one field".into(),
        ));
    }
    update.update(&txn).await?;
    let detail = technique_detail(&txn, &model.mitre_id).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TechniqueUpdate, "technique", &model.mitre_id)
            .before(before)
            .after(json!({
                "changed": changed,
                "name": detail.summary.name,
                "tactics": detail.summary.tactics,
                "platforms": detail.summary.platforms,
                "notes": detail.notes,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(detail)
}
