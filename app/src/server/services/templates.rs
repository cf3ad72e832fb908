//! The test template catalog: listing and reading templates, and (de)activating them.
use crate::dto::templates::{
    DependencyDto, InputArgumentDto, SEVERITIES, TEMPLATE_SOURCES, TemplateDetail, TemplateQuery,
    TemplateStats, TemplateSummary,
};
use crate::dto::{DEFAULT_PAGE_SIZE, Page};
use crate::error::{AppError, AppResult};
use crate::server::context::Actor;
use crate::server::db::begin_write;
use crate::server::entities::{technique, test_template};
use crate::server::services::audit::{self, AuditRecord};
use crate::server::services::pagination::page_bounds;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn summary(model: &test_template::Model, known: &HashSet<String>) -> TemplateSummary {
    TemplateSummary {
        id: model.id,
        source: model.source.clone(),
        external_id: model.external_id.clone(),
        technique_id: model.technique_id.clone(),
        technique_known: known.contains(&model.technique_id),
        name: model.name.clone(),
        platforms: strings(&model.platforms),
        executor_name: model.executor_name.clone(),
        severity: model.severity.clone(),
        is_active: model.is_active,
    }
}

fn detail(model: test_template::Model, known: &HashSet<String>) -> TemplateDetail {
    TemplateDetail {
        summary: summary(&model, known),
        input_arguments: serde_json::from_value::<Vec<InputArgumentDto>>(model.input_arguments)
            .unwrap_or_default(),
        dependencies: serde_json::from_value::<Vec<DependencyDto>>(model.dependencies)
            .unwrap_or_default(),
        suggested_tools: strings(&model.suggested_tools),
        remediation_steps: strings(&model.remediation_steps),
        description: model.description,
        command: model.command,
        cleanup_command: model.cleanup_command,
        elevation_required: model.elevation_required,
        dependency_executor_name: model.dependency_executor_name,
        expected_detection: model.expected_detection,
        created_at: model.created_at,
        updated_at: model.updated_at,
    }
}

async fn known_techniques(conn: &impl ConnectionTrait) -> AppResult<HashSet<String>> {
    Ok(technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

fn one_of(field: &str, value: &Option<String>, allowed: &[&str]) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
        Some(v) => Err(AppError::field(
            field,
            format!(
                "Unknown {field} '{v}'; expected one of: {}",
                allowed.join(", ")
            ),
        )),
    }
}

/// `include_inactive` is honoured only for `may_see_inactive` callers (admins).
pub async fn list(
    db: &DatabaseConnection,
    query: &TemplateQuery,
    may_see_inactive: bool,
) -> AppResult<Page<TemplateSummary>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let source = one_of("source", &query.source, &TEMPLATE_SOURCES)?;
    let severity = one_of("severity", &query.severity, &SEVERITIES)?;
    let mut select = test_template::Entity::find();
    if let Some(source) = source {
        select = select.filter(test_template::Column::Source.eq(source));
    }
    if let Some(severity) = severity {
        select = select.filter(test_template::Column::Severity.eq(severity));
    }
    if let Some(technique) = query
        .mitre_technique_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        select = select.filter(test_template::Column::TechniqueId.eq(technique.to_uppercase()));
    }
    if !(may_see_inactive && query.include_inactive == Some(true)) {
        select = select.filter(test_template::Column::IsActive.eq(true));
    }
    // Platforms live in a JSON list and search spans several text columns: both are matched
    // here, on the rows the indexed filters left (the whole catalog is a few thousand rows).
    let platform = query
        .platform
        .as_deref()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty());
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let rows = select
        .order_by_asc(test_template::Column::TechniqueId)
        .order_by_asc(test_template::Column::Name)
        .order_by_asc(test_template::Column::Id)
        .all(db)
        .await?;
    let matching: Vec<test_template::Model> = rows
        .into_iter()
        .filter(|t| {
            platform
                .as_ref()
                .is_none_or(|p| strings(&t.platforms).iter().any(|tp| tp == p))
        })
        .filter(|t| {
            search.as_ref().is_none_or(|s| {
                t.name.to_lowercase().contains(s)
                    || t.technique_id.to_lowercase().contains(s)
                    || t.description.to_lowercase().contains(s)
            })
        })
        .collect();
    let known = known_techniques(db).await?;
    let total = matching.len() as u64;
    let items = matching
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|t| summary(t, &known))
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<test_template::Model> {
    test_template::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("Template not found".into()))
}

/// Inactive templates exist only for admins; for anyone else they are not found.
pub async fn get(
    db: &DatabaseConnection,
    id: Uuid,
    may_see_inactive: bool,
) -> AppResult<TemplateDetail> {
    let model = find(db, id).await?;
    if !model.is_active && !may_see_inactive {
        return Err(AppError::NotFound("Template not found".into()));
    }
    Ok(detail(model, &known_techniques(db).await?))
}

/// Activates or deactivates a template (DELETE is a deactivation: templates are never lost).
pub async fn set_active(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    active: Option<bool>,
) -> AppResult<TemplateDetail> {
    let txn = begin_write(db).await?;
    let model = find(&txn, id).await?;
    let target = active.unwrap_or(!model.is_active);
    let before = model.is_active;
    let updated = test_template::ActiveModel {
        id: Set(id),
        is_active: Set(target),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    if before != target {
        audit::record(
            &txn,
            actor,
            AuditRecord::new(
                if target {
                    "template.activate"
                } else {
                    "template.deactivate"
                },
                "test_template",
                id,
            )
            .before(json!({ "is_active": before }))
            .after(json!({ "is_active": target, "name": updated.name })),
        )
        .await?;
    }
    let known = known_techniques(&txn).await?;
    txn.commit().await?;
    Ok(detail(updated, &known))
}

pub async fn stats(db: &DatabaseConnection) -> AppResult<TemplateStats> {
    let tactics_of: HashMap<String, Vec<String>> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Tactics)
        .into_tuple::<(String, serde_json::Value)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, tactics)| (id, strings(&tactics)))
        .collect();
    let rows = test_template::Entity::find()
        .select_only()
        .column(test_template::Column::Source)
        .column(test_template::Column::Platforms)
        .column(test_template::Column::Severity)
        .column(test_template::Column::TechniqueId)
        .column(test_template::Column::IsActive)
        .into_tuple::<(String, serde_json::Value, String, String, bool)>()
        .all(db)
        .await?;
    let mut stats = TemplateStats::default();
    let mut covered = HashSet::new();
    for (source, platforms, severity, technique_id, active) in rows {
        stats.total += 1;
        *stats.by_source.entry(source).or_default() += 1;
        *stats.by_severity.entry(severity).or_default() += 1;
        for platform in strings(&platforms) {
            *stats.by_platform.entry(platform).or_default() += 1;
        }
        match tactics_of.get(&technique_id) {
            Some(tactics) => {
                for tactic in tactics {
                    *stats.by_tactic.entry(tactic.clone()).or_default() += 1;
                }
                if active {
                    covered.insert(technique_id);
                }
            }
            None => stats.unknown_technique_templates += 1,
        }
        if active {
            stats.active += 1;
        }
    }
    stats.techniques_with_templates = covered.len() as u64;
    Ok(stats)
}
