//! The test template catalog: listing and reading templates, and (de)activating them.
use crate::domain::audit::AuditAction;
use crate::domain::validation::{check_name, clean_list};
use crate::domain::values::{Choice, Severity, TemplateSource};
use crate::dto::DEFAULT_PAGE_SIZE;
use crate::dto::Page;
use crate::dto::catalog::{
    CreateTemplateRequest, DependencyDto, InputArgumentDto, SourceDetails, TemplateDetail,
    TemplateQuery, TemplateStats, TemplateSummary, UpdateTemplateRequest,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{technique, test_template};
use crate::server::importers::content_hash;
use crate::server::knowledge::reads::known_techniques;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::{begin_write, escape_like};
use crate::server::platform::pagination::page_bounds;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
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
        source: model.source,
        external_id: model.external_id.clone(),
        technique_id: model.technique_id.clone(),
        technique_known: known.contains(&model.technique_id),
        name: model.name.clone(),
        platforms: strings(&model.platforms),
        executor_name: model.executor_name.clone(),
        severity: model.severity,
        is_active: model.is_active,
    }
}

/// The fields only the template's source has, as stored.
pub fn source_details(model: &test_template::Model) -> Option<SourceDetails> {
    serde_json::from_value(model.details.clone()?).ok()
}

fn detail(model: test_template::Model, known: &HashSet<String>) -> TemplateDetail {
    let source_details = source_details(&model);
    TemplateDetail {
        summary: summary(&model, known),
        license: model.license.clone(),
        source_url: model.source_url.clone(),
        source_details,
        flags: Vec::new(),
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

/// A filter from a fixed set; blank means no filter.
fn one_of<T: Choice>(field: &str, value: &Option<String>) -> AppResult<Option<T>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::field(field, unknown(field, v, &T::choices()))),
    }
}

fn unknown(field: &str, value: &str, allowed: &[&str]) -> String {
    format!(
        "Unknown {field} '{value}'; expected one of: {}",
        allowed.join(", ")
    )
}

/// A value from a fixed set, as typed (trimmed, any case); a field error otherwise.
fn typed_choice<T: Choice>(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<T> {
    let value = raw.trim().to_lowercase();
    match value.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.insert(field.into(), unknown(field, &value, &T::choices()));
            None
        }
    }
}

#[derive(FromQueryResult)]
struct CountedTemplate {
    #[sea_orm(nested)]
    template: test_template::Model,
    total_matching: i64,
}

/// `include_inactive` is honoured only for `may_see_inactive` callers (admins).
pub async fn list(
    db: &DatabaseConnection,
    query: &TemplateQuery,
    may_see_inactive: bool,
) -> AppResult<Page<TemplateSummary>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let source = one_of::<TemplateSource>("source", &query.source)?;
    let severity = one_of::<Severity>("severity", &query.severity)?;
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
    // Platforms live in a JSON list of lower-case names: its text holds `"windows"` exactly
    // when the list does. Search spans name, technique and description.
    if let Some(platform) = query
        .platform
        .as_deref()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
    {
        select = select.filter(
            Expr::expr(Expr::col(test_template::Column::Platforms).cast_as(Alias::new("TEXT")))
                .like(LikeExpr::new(format!("%\"{}\"%", escape_like(&platform))).escape('\\')),
        );
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        // `search_text` is generated by the database (migration 7): technique, name and description.
        select = select.filter(
            Expr::col(Alias::new("search_text"))
                .like(LikeExpr::new(format!("%{}%", escape_like(&search))).escape('\\')),
        );
    }
    // One pass for the page and the total: the filter runs once, not again for a COUNT.
    let rows = select
        .clone()
        .expr_as(Expr::cust("COUNT(*) OVER ()"), "total_matching")
        .order_by_asc(test_template::Column::TechniqueId)
        .order_by_asc(test_template::Column::Name)
        .order_by_asc(test_template::Column::Id)
        .limit(limit)
        .offset(offset)
        .into_model::<CountedTemplate>()
        .all(db)
        .await?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.total_matching).unwrap_or_default(),
        // Past the last page the window yields no row to read the total from.
        None if offset > 0 => select.count(db).await?,
        None => 0,
    };
    let rows: Vec<test_template::Model> = rows.into_iter().map(|row| row.template).collect();
    let known: HashSet<String> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .filter(technique::Column::MitreId.is_in(rows.iter().map(|t| t.technique_id.clone())))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let items = rows.iter().map(|t| summary(t, &known)).collect();
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
    let tactics: Vec<String> = technique::Entity::find()
        .select_only()
        .column(technique::Column::Tactics)
        .filter(technique::Column::MitreId.eq(&model.technique_id))
        .into_tuple::<serde_json::Value>()
        .one(db)
        .await?
        .map(|t| strings(&t))
        .unwrap_or_default();
    let mut detail = detail(model, &known_techniques(db).await?);
    detail.flags = flags(&detail, &tactics);
    Ok(detail)
}

/// A template's caveats, from what the knowledge base says of its technique now.
fn flags(detail: &TemplateDetail, tactics: &[String]) -> Vec<String> {
    let mut flags = Vec::new();
    if !detail.summary.technique_known {
        flags.push(format!(
            "The knowledge base does not hold {} (yet)",
            detail.summary.technique_id
        ));
    }
    match &detail.source_details {
        Some(SourceDetails::Caldera(c)) => {
            flags.extend(crate::server::importers::caldera::tactic_mismatch(
                &c.tactic,
                &detail.summary.technique_id,
                tactics,
            ));
        }
        Some(SourceDetails::Gtfobins(g)) => match g.mapping.as_str() {
            "upstream_example" => {}
            "inherited" => flags.push(
                "GTFOBins maps this example to no technique: they are those of the entry it \
                 leads to"
                    .into(),
            ),
            "local_override" => flags.push(
                "Mapped by this installation's own techniques for the GTFOBins function".into(),
            ),
            _ => flags.push(
                "GTFOBins maps this example to no technique: it comes from Aegis's table of \
                 function and context defaults"
                    .into(),
            ),
        },
        _ => {}
    }
    flags
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
                    AuditAction::TemplateActivate
                } else {
                    AuditAction::TemplateDeactivate
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

const NAME_MAX: usize = 300;

fn check_choice(field: &str, value: Option<&str>, allowed: &[&str], errors: &mut FieldErrors) {
    if let Some(v) = value
        && !allowed.contains(&v)
    {
        errors.insert(field.into(), unknown(field, v, allowed));
    }
}

fn check_technique(id: &str, known: &HashSet<String>, errors: &mut FieldErrors) -> String {
    let id = id.trim().to_uppercase();
    if !known.contains(&id) {
        errors.insert(
            "technique_id".into(),
            format!("No technique {id} in the knowledge base"),
        );
    }
    id
}

fn check_arguments(arguments: &[InputArgumentDto], errors: &mut FieldErrors) {
    let mut names = HashSet::new();
    for argument in arguments {
        let name = argument.name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            errors.insert(
                "input_arguments".into(),
                format!("Argument names use letters, digits and _ ('{name}')"),
            );
        } else if !names.insert(name.to_owned()) {
            errors.insert(
                "input_arguments".into(),
                format!("Argument '{name}' appears twice"),
            );
        }
    }
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    request: CreateTemplateRequest,
) -> AppResult<TemplateDetail> {
    let txn = begin_write(db).await?;
    let known = known_techniques(&txn).await?;
    let mut errors = FieldErrors::new();
    let technique_id = check_technique(&request.technique_id, &known, &mut errors);
    check_name(&request.name, NAME_MAX, &mut errors);
    let executor = request
        .executor_name
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    check_choice(
        "executor_name",
        executor.as_deref(),
        &crate::server::importers::atomics::parse::EXECUTORS,
        &mut errors,
    );
    let severity = match request.severity.as_deref() {
        Some(raw) => typed_choice("severity", raw, &mut errors).unwrap_or_default(),
        None => Severity::Medium,
    };
    check_arguments(&request.input_arguments, &mut errors);
    AppError::invalid("The template is not valid", errors)?;
    let now = Utc::now();
    let platforms = json!(clean_list(&request.platforms, true));
    let input_arguments = json!(request.input_arguments);
    // Custom templates have no upstream; the hash only keeps the column's meaning uniform.
    let hash = content_hash(&json!({
        "technique_id": technique_id,
        "name": request.name.trim(),
        "command": request.command,
        "platforms": platforms,
        "input_arguments": input_arguments,
    }));
    let row = test_template::ActiveModel {
        id: Set(Uuid::new_v4()),
        source: Set(TemplateSource::Custom),
        external_id: Set(None),
        technique_id: Set(technique_id),
        name: Set(request.name.trim().to_owned()),
        description: Set(request.description),
        platforms: Set(platforms),
        executor_name: Set(executor),
        command: Set(request.command),
        cleanup_command: Set(request.cleanup_command.filter(|c| !c.trim().is_empty())),
        elevation_required: Set(request.elevation_required),
        input_arguments: Set(input_arguments),
        dependencies: Set(json!([])),
        dependency_executor_name: Set(None),
        expected_detection: Set(request.expected_detection),
        suggested_tools: Set(json!(clean_list(&request.suggested_tools, false))),
        severity: Set(severity),
        remediation_steps: Set(json!(clean_list(&request.remediation_steps, false))),
        is_active: Set(true),
        content_hash: Set(hash),
        license: Set(None),
        source_url: Set(None),
        details: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = row.insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TemplateCreate, "test_template", model.id)
            .after(json!({ "name": model.name, "technique_id": model.technique_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(detail(model, &known))
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    request: UpdateTemplateRequest,
) -> AppResult<TemplateDetail> {
    let txn = begin_write(db).await?;
    let model = find(&txn, id).await?;
    let known = known_techniques(&txn).await?;
    let mut errors = FieldErrors::new();
    if model.source != TemplateSource::Custom {
        for (field, given) in [
            ("technique_id", request.technique_id.is_some()),
            ("name", request.name.is_some()),
            ("description", request.description.is_some()),
            ("platforms", request.platforms.is_some()),
            ("executor_name", request.executor_name.is_some()),
            ("command", request.command.is_some()),
            ("cleanup_command", request.cleanup_command.is_some()),
            ("elevation_required", request.elevation_required.is_some()),
            ("input_arguments", request.input_arguments.is_some()),
        ] {
            if given {
                errors.insert(
                    field.into(),
                    format!("Comes from {} and is kept by its import", model.source),
                );
            }
        }
    }
    let mut row = test_template::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    let mut changed = Vec::new();
    if let Some(technique) = &request.technique_id {
        row.technique_id = Set(check_technique(technique, &known, &mut errors));
        changed.push("technique_id");
    }
    if let Some(name) = &request.name {
        check_name(name, NAME_MAX, &mut errors);
        row.name = Set(name.trim().to_owned());
        changed.push("name");
    }
    if let Some(executor) = &request.executor_name {
        let executor = executor.trim().to_lowercase();
        check_choice(
            "executor_name",
            Some(&executor),
            &crate::server::importers::atomics::parse::EXECUTORS,
            &mut errors,
        );
        row.executor_name = Set(Some(executor));
        changed.push("executor_name");
    }
    if let Some(severity) = &request.severity {
        if let Some(severity) = typed_choice::<Severity>("severity", severity, &mut errors) {
            row.severity = Set(severity);
        }
        changed.push("severity");
    }
    if let Some(arguments) = &request.input_arguments {
        check_arguments(arguments, &mut errors);
        row.input_arguments = Set(json!(arguments));
        changed.push("input_arguments");
    }
    AppError::invalid("The template is not valid", errors)?;
    if let Some(v) = request.description {
        row.description = Set(v);
        changed.push("description");
    }
    if let Some(v) = request.platforms {
        row.platforms = Set(json!(clean_list(&v, true)));
        changed.push("platforms");
    }
    if let Some(v) = request.command {
        row.command = Set(v);
        changed.push("command");
    }
    if let Some(v) = request.cleanup_command {
        row.cleanup_command = Set(Some(v).filter(|c| !c.trim().is_empty()));
        changed.push("cleanup_command");
    }
    if let Some(v) = request.elevation_required {
        row.elevation_required = Set(v);
        changed.push("elevation_required");
    }
    if let Some(v) = request.expected_detection {
        row.expected_detection = Set(v);
        changed.push("expected_detection");
    }
    if let Some(v) = request.suggested_tools {
        row.suggested_tools = Set(json!(clean_list(&v, false)));
        changed.push("suggested_tools");
    }
    if let Some(v) = request.remediation_steps {
        row.remediation_steps = Set(json!(clean_list(&v, false)));
        changed.push("remediation_steps");
    }
    if let Some(v) = request.is_active {
        row.is_active = Set(v);
        changed.push("is_active");
    }
    if changed.is_empty() {
        return Err(AppError::BadRequest(
            "Nothing to change: give at least one field".into(),
        ));
    }
    row.updated_at = Set(Utc::now());
    let updated = row.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TemplateUpdate, "test_template", id)
            .before(json!({ "name": model.name, "severity": model.severity, "is_active": model.is_active }))
            .after(json!({ "changed": changed, "name": updated.name, "severity": updated.severity, "is_active": updated.is_active })),
    )
    .await?;
    txn.commit().await?;
    Ok(detail(updated, &known))
}
