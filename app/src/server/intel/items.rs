//! Intel items: listed with filters (technique, actor, feed, status, dates, text), read, and
//! triaged by leads (status and notes, audited).
use crate::domain::audit::AuditAction;
use crate::domain::intel::{IntelMatch, IntelStatus, MentionKind};
use crate::domain::values::Choice;
use crate::dto::intel::{IntelItemDto, IntelMentions, IntelQuery, UpdateIntelRequest};
use crate::dto::{DEFAULT_PAGE_SIZE, Page};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{intel_feed, intel_item, intel_mention};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::{begin_write, escape_like};
use crate::server::platform::pagination::page_bounds;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::json;
use uuid::Uuid;

const ENTITY: &str = "intel_item";
const MAX_NOTES: usize = 10_000;
/// Items shown on a technique's or an actor's page.
pub const LATEST: u64 = 10;

pub(crate) fn to_dto(item: intel_item::Model) -> IntelItemDto {
    let matches: Vec<IntelMatch> = serde_json::from_value(item.matches).unwrap_or_default();
    let ids = |kind: MentionKind| {
        matches
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.mitre_id.clone())
            .collect::<Vec<_>>()
    };
    IntelItemDto {
        techniques: ids(MentionKind::Technique),
        actors: ids(MentionKind::Actor),
        id: item.id,
        feed_id: item.feed_id,
        title: item.title,
        link: item.link,
        source: item.source,
        published_at: item.published_at,
        summary: item.summary,
        matches,
        status: item.status,
        reviewed_by: item.reviewed_by,
        reviewed_at: item.reviewed_at,
        notes: item.notes,
        first_seen_at: item.first_seen_at,
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Items that mention `mitre_id` (of `kind`); a parent technique also finds its
/// sub-techniques' items.
fn mentioning(kind: MentionKind, mitre_id: &str) -> sea_orm::sea_query::SelectStatement {
    let id = mitre_id.trim().to_uppercase();
    let mut target = Condition::any().add(intel_mention::Column::MitreId.eq(id.clone()));
    if kind == MentionKind::Technique && !id.contains('.') {
        target = target.add(
            intel_mention::Column::MitreId
                .like(LikeExpr::new(format!("{}.%", escape_like(&id))).escape('\\')),
        );
    }
    Query::select()
        .column(intel_mention::Column::ItemId)
        .from(intel_mention::Entity)
        .and_where(intel_mention::Column::Kind.eq(kind))
        .cond_where(target)
        .to_owned()
}

async fn filtered(
    conn: &impl ConnectionTrait,
    query: &IntelQuery,
) -> AppResult<Select<intel_item::Entity>> {
    let mut errors = FieldErrors::new();
    let mut select = intel_item::Entity::find();
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(technique) = text(&query.technique) {
        select = select.filter(
            intel_item::Column::Id.in_subquery(mentioning(MentionKind::Technique, &technique)),
        );
    }
    if let Some(actor) = text(&query.actor) {
        select = select
            .filter(intel_item::Column::Id.in_subquery(mentioning(MentionKind::Actor, &actor)));
    }
    if let Some(source) = text(&query.source) {
        let feed = match Uuid::parse_str(&source) {
            Ok(id) => Some(id),
            Err(_) => intel_feed::Entity::find()
                .filter(intel_feed::Column::Name.eq(source.clone()))
                .one(conn)
                .await?
                .map(|f| f.id),
        };
        select = match feed {
            Some(id) => select.filter(intel_item::Column::FeedId.eq(id)),
            None => select.filter(intel_item::Column::Source.eq(source)),
        };
    }
    if let Some(status) = text(&query.status) {
        match status.parse::<IntelStatus>() {
            Ok(status) => select = select.filter(intel_item::Column::Status.eq(status)),
            Err(message) => {
                errors.insert("status".into(), message);
            }
        }
    }
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since > until
    {
        errors.insert("since".into(), "since must not be after until".into());
    }
    AppError::from_fields(errors)?;
    // An item without a publication date counts from when a scan first saw it.
    if let Some(since) = query.since {
        let at = start_of(since);
        select = select.filter(
            Condition::any()
                .add(intel_item::Column::PublishedAt.gte(at))
                .add(
                    Condition::all()
                        .add(intel_item::Column::PublishedAt.is_null())
                        .add(intel_item::Column::FirstSeenAt.gte(at)),
                ),
        );
    }
    if let Some(until) = query.until {
        let at = start_of(until + chrono::Duration::days(1));
        select = select.filter(
            Condition::any()
                .add(intel_item::Column::PublishedAt.lt(at))
                .add(
                    Condition::all()
                        .add(intel_item::Column::PublishedAt.is_null())
                        .add(intel_item::Column::FirstSeenAt.lt(at)),
                ),
        );
    }
    if let Some(search) = text(&query.search) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        select = select.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(intel_item::Column::Title)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(intel_item::Column::Summary)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if query.matched == Some(true) {
        select = select.filter(
            intel_item::Column::Id.in_subquery(
                Query::select()
                    .column(intel_mention::Column::ItemId)
                    .from(intel_mention::Entity)
                    .to_owned(),
            ),
        );
    }
    Ok(select)
}

pub async fn list(
    conn: &impl ConnectionTrait,
    query: &IntelQuery,
) -> AppResult<Page<IntelItemDto>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let select = filtered(conn, query).await?;
    let total = select.clone().count(conn).await?;
    let items = select
        .order_by_desc(intel_item::Column::PublishedAt)
        .order_by_desc(intel_item::Column::FirstSeenAt)
        .order_by_asc(intel_item::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// The latest items about a technique or an actor, dismissed ones aside.
pub async fn latest(
    conn: &impl ConnectionTrait,
    kind: MentionKind,
    mitre_id: &str,
) -> AppResult<IntelMentions> {
    let select = intel_item::Entity::find()
        .filter(intel_item::Column::Id.in_subquery(mentioning(kind, mitre_id)))
        .filter(intel_item::Column::Status.ne(IntelStatus::Dismissed));
    let total = select.clone().count(conn).await?;
    let items = select
        .order_by_desc(intel_item::Column::PublishedAt)
        .order_by_desc(intel_item::Column::FirstSeenAt)
        .limit(LATEST)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect();
    Ok(IntelMentions { items, total })
}

/// The techniques intel mentioned in the last `days` days (dismissed items aside).
pub async fn techniques_mentioned_since(
    conn: &impl ConnectionTrait,
    days: u32,
) -> AppResult<Vec<String>> {
    let since = Utc::now() - chrono::Duration::days(i64::from(days));
    let recent = Query::select()
        .column(intel_item::Column::Id)
        .from(intel_item::Entity)
        .and_where(intel_item::Column::Status.ne(IntelStatus::Dismissed))
        .cond_where(
            Condition::any()
                .add(intel_item::Column::PublishedAt.gte(since))
                .add(
                    Condition::all()
                        .add(intel_item::Column::PublishedAt.is_null())
                        .add(intel_item::Column::FirstSeenAt.gte(since)),
                ),
        )
        .to_owned();
    Ok(intel_mention::Entity::find()
        .select_only()
        .column(intel_mention::Column::MitreId)
        .distinct()
        .filter(intel_mention::Column::Kind.eq(MentionKind::Technique))
        .filter(intel_mention::Column::ItemId.in_subquery(recent))
        .into_tuple()
        .all(conn)
        .await?)
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<intel_item::Model> {
    intel_item::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("Intel item not found".into()))
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<IntelItemDto> {
    Ok(to_dto(find(conn, id).await?))
}

/// Triage: a lead marks an item relevant or dismissed (or new again) and keeps notes.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    request: &UpdateIntelRequest,
) -> AppResult<IntelItemDto> {
    let mut errors = FieldErrors::new();
    let status = match request.status.as_deref().map(str::trim) {
        Some(s) => match s.parse::<IntelStatus>() {
            Ok(status) => Some(status),
            Err(_) => {
                errors.insert(
                    "status".into(),
                    format!("Must be one of: {}", IntelStatus::choices().join(", ")),
                );
                None
            }
        },
        None => None,
    };
    if let Some(notes) = &request.notes
        && notes.chars().count() > MAX_NOTES
    {
        errors.insert("notes".into(), format!("At most {MAX_NOTES} characters"));
    }
    if status.is_none() && request.notes.is_none() && errors.is_empty() {
        errors.insert("status".into(), "Give a status or notes".into());
    }
    AppError::from_fields(errors)?;
    let txn = begin_write(db).await?;
    let old = find(&txn, id).await?;
    let before = json!({ "status": old.status, "notes": old.notes });
    let mut row: intel_item::ActiveModel = old.into();
    let now = Utc::now();
    if let Some(status) = status {
        row.status = Set(status);
        row.reviewed_by = Set(actor.username.clone());
        row.reviewed_at = Set(Some(now));
    }
    if let Some(notes) = &request.notes {
        row.notes = Set(notes.trim().to_owned());
    }
    row.updated_at = Set(now);
    let item = row.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::IntelItemUpdate, ENTITY, id)
            .before(before)
            .after(json!({ "status": item.status, "notes": item.notes })),
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(item))
}
