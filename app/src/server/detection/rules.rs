//! The detection rules service: list, detail, custom rules, and the local fields of any rule.
use crate::domain::audit::AuditAction;
use crate::domain::detection::{RuleProof, RuleSource, TECHNIQUES_MAX, TITLE_MAX};
use crate::domain::sources::CatalogImport;
use crate::domain::validation::{check_text, clean_list};
use crate::dto::detection::{RuleDetail, RuleQuery, RuleRequest, RuleSummary};
use crate::dto::{DEFAULT_PAGE_SIZE, Page};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::detection::proof;
use crate::server::entities::{detection_rule, detection_rule_technique};
use crate::server::importers::content_hash;
use crate::server::importers::rules::set_techniques;
use crate::server::importers::yaml::technique_id;
use crate::server::knowledge::reads::known_techniques;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::{begin_write, escape_like};
use crate::server::platform::pagination::page_bounds;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

const ENTITY: &str = "detection_rule";
const SHORT_MAX: usize = 32;
const LINE_MAX: usize = 1000;
const LIST_MAX: usize = 100;

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn summary(r: &detection_rule::Model, proof: RuleProof) -> RuleSummary {
    RuleSummary {
        id: r.id,
        source: r.source,
        upstream_id: r.upstream_id.clone(),
        title: r.title.clone(),
        status: r.status.clone(),
        level: r.level.clone(),
        platforms: strings(&r.platforms),
        language: r.language.clone(),
        techniques: strings(&r.techniques),
        is_active: r.is_active,
        proof,
    }
}

/// Summaries with their proofs, in the order given.
pub async fn summaries_of(
    conn: &impl ConnectionTrait,
    rules: &[detection_rule::Model],
) -> AppResult<Vec<RuleSummary>> {
    summaries(conn, rules).await
}

async fn summaries(
    conn: &impl ConnectionTrait,
    rules: &[detection_rule::Model],
) -> AppResult<Vec<RuleSummary>> {
    let proofs = proof::of_rules(conn, rules).await?;
    Ok(rules
        .iter()
        .map(|r| summary(r, proofs.get(&r.id).copied().unwrap_or_default()))
        .collect())
}

async fn detail_of(conn: &impl ConnectionTrait, r: detection_rule::Model) -> AppResult<RuleDetail> {
    let known = known_techniques(conn).await?;
    let techniques = strings(&r.techniques);
    let upstream = match r.source {
        RuleSource::Sigma => Some(CatalogImport::Sigma),
        RuleSource::Elastic => Some(CatalogImport::ElasticRules),
        RuleSource::Custom => None,
    };
    let proofs = proof::of_rules(conn, std::slice::from_ref(&r)).await?;
    Ok(RuleDetail {
        summary: summary(&r, proofs.get(&r.id).copied().unwrap_or_default()),
        source_url: upstream
            .zip(r.path.as_deref())
            .map(|(s, p)| s.source_url(p)),
        unknown_techniques: techniques
            .iter()
            .filter(|t| !known.contains(*t))
            .cloned()
            .collect(),
        path: r.path,
        description: r.description,
        author: r.author,
        log_source: r.log_source,
        query: r.query,
        false_positives: strings(&r.false_positives),
        references: strings(&r.references),
        license: r.license,
        notes: r.notes,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Rules mapped to `mitre_id`, its sub-techniques' too for a parent.
fn mapped_to(mitre_id: &str) -> sea_orm::sea_query::SelectStatement {
    let id = mitre_id.trim().to_uppercase();
    let mut target = Condition::any().add(detection_rule_technique::Column::MitreId.eq(id.clone()));
    if !id.contains('.') {
        target = target.add(
            detection_rule_technique::Column::MitreId
                .like(LikeExpr::new(format!("{}.%", escape_like(&id))).escape('\\')),
        );
    }
    Query::select()
        .column(detection_rule_technique::Column::RuleId)
        .from(detection_rule_technique::Entity)
        .cond_where(target)
        .to_owned()
}

pub async fn list(conn: &impl ConnectionTrait, query: &RuleQuery) -> AppResult<Page<RuleSummary>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut select = detection_rule::Entity::find();
    if let Some(source) = text(&query.source) {
        let source: RuleSource = source
            .parse()
            .map_err(|e: String| AppError::field("source", e))?;
        select = select.filter(detection_rule::Column::Source.eq(source));
    }
    if let Some(technique) = text(&query.technique) {
        select = select.filter(detection_rule::Column::Id.in_subquery(mapped_to(&technique)));
    }
    if let Some(platform) = text(&query.platform) {
        select = select.filter(
            Expr::expr(Expr::col(detection_rule::Column::Platforms).cast_as(Alias::new("TEXT")))
                .like(
                    LikeExpr::new(format!("%\"{}\"%", escape_like(&platform.to_lowercase())))
                        .escape('\\'),
                ),
        );
    }
    if let Some(level) = text(&query.level) {
        select = select.filter(detection_rule::Column::Level.eq(level.to_lowercase()));
    }
    if let Some(status) = text(&query.status) {
        select = select.filter(detection_rule::Column::Status.eq(status.to_lowercase()));
    }
    if let Some(search) = text(&query.search) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = |column: detection_rule::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            Condition::any()
                .add(like(detection_rule::Column::Title))
                .add(like(detection_rule::Column::Description))
                .add(like(detection_rule::Column::UpstreamId)),
        );
    }
    if query.include_inactive != Some(true) {
        select = select.filter(detection_rule::Column::IsActive.eq(true));
    }
    let wanted: Option<Vec<RuleProof>> = match (text(&query.proof), query.validated) {
        (Some(proof), _) => Some(vec![
            proof
                .parse()
                .map_err(|e: String| AppError::field("proof", e))?,
        ]),
        (None, Some(true)) => Some(vec![RuleProof::Proven]),
        (None, Some(false)) => Some(vec![RuleProof::Untested, RuleProof::Failed]),
        (None, None) => None,
    };
    let select = select
        .order_by_asc(detection_rule::Column::Title)
        .order_by_asc(detection_rule::Column::Id);
    // A proof is computed from the tests, not stored: that filter pages in memory.
    if let Some(wanted) = wanted {
        let all = summaries(conn, &select.all(conn).await?).await?;
        let matching: Vec<RuleSummary> = all
            .into_iter()
            .filter(|r| wanted.contains(&r.proof))
            .collect();
        let total = matching.len() as u64;
        let items = matching
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        return Ok(Page {
            items,
            total,
            limit,
            offset,
        });
    }
    let total = select.clone().count(conn).await?;
    let rows = select.limit(limit).offset(offset).all(conn).await?;
    Ok(Page {
        items: summaries(conn, &rows).await?,
        total,
        limit,
        offset,
    })
}

/// The rules of one technique (its sub-techniques' for a parent), active first, for its page.
pub async fn of_technique(
    conn: &impl ConnectionTrait,
    mitre_id: &str,
) -> AppResult<Vec<RuleSummary>> {
    let rows = detection_rule::Entity::find()
        .filter(detection_rule::Column::Id.in_subquery(mapped_to(mitre_id)))
        .order_by_desc(detection_rule::Column::IsActive)
        .order_by_asc(detection_rule::Column::Title)
        .limit(200)
        .all(conn)
        .await?;
    summaries(conn, &rows).await
}

/// These rules, by title.
pub async fn by_ids(conn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<RuleSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = detection_rule::Entity::find()
        .filter(detection_rule::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(detection_rule::Column::Title)
        .all(conn)
        .await?;
    summaries(conn, &rows).await
}

/// The rules a test of `technique` may name as fired: those mapped to it or its parent, and
/// the custom rules; active ones only.
pub async fn choices_for(
    conn: &impl ConnectionTrait,
    technique: &str,
) -> AppResult<Vec<RuleSummary>> {
    let parent = technique.split('.').next().unwrap_or(technique).to_owned();
    let mapped = Query::select()
        .column(detection_rule_technique::Column::RuleId)
        .from(detection_rule_technique::Entity)
        .and_where(detection_rule_technique::Column::MitreId.is_in([technique.to_owned(), parent]))
        .to_owned();
    let rows = detection_rule::Entity::find()
        .filter(
            Condition::any()
                .add(detection_rule::Column::Id.in_subquery(mapped))
                .add(detection_rule::Column::Source.eq(RuleSource::Custom)),
        )
        .filter(detection_rule::Column::IsActive.eq(true))
        .order_by_asc(detection_rule::Column::Title)
        .limit(500)
        .all(conn)
        .await?;
    summaries(conn, &rows).await
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<detection_rule::Model> {
    detection_rule::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("Detection rule not found".into()))
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<RuleDetail> {
    let rule = find(conn, id).await?;
    detail_of(conn, rule).await
}

fn bounded_text(
    field: &str,
    value: &Option<String>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = value.as_deref()?.trim().to_owned();
    if value.chars().count() > max {
        errors.insert(field.into(), format!("At most {max} characters"));
    }
    Some(value)
}

fn bounded_list(
    field: &str,
    value: &Option<Vec<String>>,
    lowercase: bool,
    errors: &mut FieldErrors,
) -> Option<Vec<String>> {
    let raw = value.as_ref()?;
    if raw.len() > LIST_MAX || raw.iter().any(|v| v.chars().count() > LINE_MAX) {
        errors.insert(
            field.into(),
            format!("At most {LIST_MAX} entries of at most {LINE_MAX} characters"),
        );
    }
    Some(clean_list(raw, lowercase))
}

/// The checked fields of a request. Imported rules take only the local fields.
struct Checked {
    title: Option<String>,
    description: Option<String>,
    status: Option<String>,
    level: Option<String>,
    author: Option<String>,
    log_source: Option<String>,
    platforms: Option<Vec<String>>,
    language: Option<String>,
    query: Option<String>,
    false_positives: Option<Vec<String>>,
    references: Option<Vec<String>>,
    techniques: Option<Vec<String>>,
}

async fn check(
    conn: &impl ConnectionTrait,
    request: &RuleRequest,
    errors: &mut FieldErrors,
) -> AppResult<Checked> {
    let title = bounded_text("title", &request.title, TITLE_MAX, errors);
    if title.as_deref() == Some("") {
        errors.insert("title".into(), "Title is required".into());
    }
    if let Some(text) = &request.description {
        check_text("description", text, errors);
    }
    if let Some(text) = &request.query {
        check_text("query", text, errors);
    }
    if let Some(text) = &request.notes {
        check_text("notes", text, errors);
    }
    let techniques = match &request.techniques {
        None => None,
        Some(raw) if raw.len() > TECHNIQUES_MAX => {
            errors.insert(
                "techniques".into(),
                format!("At most {TECHNIQUES_MAX} techniques"),
            );
            None
        }
        Some(raw) => {
            let known = known_techniques(conn).await?;
            let mut ids = Vec::new();
            for entry in raw {
                match technique_id(entry) {
                    Some(id) if known.contains(&id) => {
                        if !ids.contains(&id) {
                            ids.push(id)
                        }
                    }
                    Some(id) => {
                        errors.insert(
                            "techniques".into(),
                            format!("{id} is not in the knowledge base"),
                        );
                    }
                    None => {
                        errors.insert(
                            "techniques".into(),
                            format!("'{entry}' is not an ATT&CK technique id (T1059, T1059.001)"),
                        );
                    }
                }
            }
            ids.sort();
            Some(ids)
        }
    };
    Ok(Checked {
        title,
        description: request.description.as_deref().map(|d| d.trim().to_owned()),
        status: bounded_text("status", &request.status, SHORT_MAX, errors)
            .map(|s| s.to_lowercase()),
        level: bounded_text("level", &request.level, SHORT_MAX, errors).map(|s| s.to_lowercase()),
        author: bounded_text("author", &request.author, LINE_MAX, errors),
        log_source: bounded_text("log_source", &request.log_source, LINE_MAX, errors),
        platforms: bounded_list("platforms", &request.platforms, true, errors),
        language: bounded_text("language", &request.language, SHORT_MAX, errors)
            .map(|s| s.to_lowercase()),
        query: request.query.clone(),
        false_positives: bounded_list("false_positives", &request.false_positives, false, errors),
        references: bounded_list("references", &request.references, false, errors),
        techniques,
    })
}

fn snapshot(r: &detection_rule::Model) -> serde_json::Value {
    json!({
        "title": r.title, "status": r.status, "level": r.level, "techniques": r.techniques,
        "is_active": r.is_active, "notes": r.notes,
    })
}

/// A custom rule, written by a blue lead or an admin.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    request: &RuleRequest,
) -> AppResult<RuleDetail> {
    let mut errors = FieldErrors::new();
    if request.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        errors.insert("title".into(), "Title is required".into());
    }
    if request.techniques.as_ref().is_none_or(Vec::is_empty) {
        errors.insert("techniques".into(), "Name at least one technique".into());
    }
    let txn = begin_write(db).await?;
    let c = check(&txn, request, &mut errors).await?;
    AppError::from_fields(errors)?;
    let now = Utc::now();
    let techniques = c.techniques.unwrap_or_default();
    let row = detection_rule::ActiveModel {
        id: Set(Uuid::new_v4()),
        source: Set(RuleSource::Custom),
        upstream_id: Set(None),
        path: Set(None),
        title: Set(c.title.unwrap_or_default()),
        description: Set(c.description.unwrap_or_default()),
        status: Set(c.status.unwrap_or_else(|| "experimental".into())),
        level: Set(c.level.unwrap_or_else(|| "medium".into())),
        author: Set(c
            .author
            .or_else(|| actor.username.clone())
            .unwrap_or_default()),
        log_source: Set(c.log_source.unwrap_or_default()),
        platforms: Set(json!(c.platforms.unwrap_or_default())),
        language: Set(c.language.unwrap_or_else(|| "text".into())),
        query: Set(c.query.unwrap_or_default()),
        false_positives: Set(json!(c.false_positives.unwrap_or_default())),
        references: Set(json!(c.references.unwrap_or_default())),
        license: Set(String::new()),
        techniques: Set(json!(techniques)),
        is_active: Set(request.is_active.unwrap_or(true)),
        notes: Set(request
            .notes
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_owned()),
        content_hash: Set(content_hash(&json!({}))),
        created_by: Set(actor.username.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    set_techniques(&txn, row.id, &techniques).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::DetectionRuleCreate, ENTITY, row.id).after(snapshot(&row)),
    )
    .await?;
    txn.commit().await?;
    detail_of(db, row).await
}

/// Edits a rule: any field of a custom rule; `notes` and `is_active` of an imported one (its
/// other fields are the upstream project's, replaced by the next import).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    request: &RuleRequest,
) -> AppResult<RuleDetail> {
    let mut errors = FieldErrors::new();
    let txn = begin_write(db).await?;
    let old = find(&txn, id).await?;
    let c = check(&txn, request, &mut errors).await?;
    if old.source != RuleSource::Custom {
        let upstream_fields = [
            ("title", request.title.is_some()),
            ("description", request.description.is_some()),
            ("status", request.status.is_some()),
            ("level", request.level.is_some()),
            ("author", request.author.is_some()),
            ("log_source", request.log_source.is_some()),
            ("platforms", request.platforms.is_some()),
            ("language", request.language.is_some()),
            ("query", request.query.is_some()),
            ("false_positives", request.false_positives.is_some()),
            ("references", request.references.is_some()),
            ("techniques", request.techniques.is_some()),
        ];
        for (field, given) in upstream_fields {
            if given {
                errors.insert(
                    field.into(),
                    format!(
                        "An imported {} rule keeps its upstream fields; only notes and is_active are yours",
                        old.source.label()
                    ),
                );
            }
        }
    }
    if c.techniques.as_ref().is_some_and(Vec::is_empty) {
        errors.insert("techniques".into(), "Name at least one technique".into());
    }
    AppError::from_fields(errors)?;
    let before = snapshot(&old);
    let mut row: detection_rule::ActiveModel = old.into();
    macro_rules! set {
        ($field:ident) => {
            if let Some(value) = c.$field {
                row.$field = Set(value);
            }
        };
        ($field:ident, json) => {
            if let Some(value) = c.$field {
                row.$field = Set(json!(value));
            }
        };
    }
    set!(title);
    set!(description);
    set!(status);
    set!(level);
    set!(author);
    set!(log_source);
    set!(language);
    set!(query);
    set!(platforms, json);
    set!(false_positives, json);
    set!(references, json);
    let techniques = c.techniques.clone();
    set!(techniques, json);
    if let Some(active) = request.is_active {
        row.is_active = Set(active);
    }
    if let Some(notes) = &request.notes {
        row.notes = Set(notes.trim().to_owned());
    }
    row.updated_at = Set(Utc::now());
    let rule = row.update(&txn).await?;
    if let Some(techniques) = techniques {
        set_techniques(&txn, id, &techniques).await?;
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::DetectionRuleUpdate, ENTITY, id)
            .before(before)
            .after(snapshot(&rule)),
    )
    .await?;
    txn.commit().await?;
    detail_of(db, rule).await
}

/// The techniques with an active rule (`proven_only`: with a proven one), parents through
/// their sub-techniques: the matrix's detection rules layer.
pub async fn techniques_with_rules(
    conn: &impl ConnectionTrait,
    proven_only: bool,
) -> AppResult<std::collections::HashSet<String>> {
    let rows = detection_rule::Entity::find()
        .filter(detection_rule::Column::IsActive.eq(true))
        .all(conn)
        .await?;
    let list = summaries(conn, &rows).await?;
    let mut out = std::collections::HashSet::new();
    for rule in list {
        if proven_only && rule.proof != RuleProof::Proven {
            continue;
        }
        for technique in rule.techniques {
            if let Some((parent, _)) = technique.split_once('.') {
                out.insert(parent.to_owned());
            }
            out.insert(technique);
        }
    }
    Ok(out)
}
