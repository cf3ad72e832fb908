//! The feeds admins subscribe to: added, edited, switched off and removed (audited), with what
//! each last fetch said. The seed list is the README's, offered in the Feeds panel.
use crate::domain::audit::AuditAction;
use crate::domain::intel::FeedKind;
use crate::domain::validation::{check_name, clean_list};
use crate::dto::intel::{CreateFeedRequest, IntelFeedDto, SeedFeed, UpdateFeedRequest};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{intel_feed, intel_item};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

const ENTITY: &str = "intel_feed";
const MAX_NAME: usize = 200;
const MAX_URL: usize = 2_000;
const MAX_TAGS: usize = 20;
const MAX_TAG: usize = 50;
/// Feeds one installation may subscribe to: a scan fetches them all.
pub const MAX_FEEDS: u64 = 200;

/// The README's seed list ("Threat-intel feeds"): public feeds of security news and
/// research. None is added unless an admin asks.
pub const SEEDS: &[(&str, &str, FeedKind, &[&str])] = &[
    (
        "CISA Cybersecurity Advisories",
        "https://www.cisa.gov/cybersecurity-advisories/all.xml",
        FeedKind::Rss,
        &["government", "advisories"],
    ),
    (
        "The DFIR Report",
        "https://thedfirreport.com/feed/",
        FeedKind::Rss,
        &["dfir", "intrusions"],
    ),
    (
        "Red Canary Blog",
        "https://redcanary.com/blog/feed/",
        FeedKind::Rss,
        &["research"],
    ),
    (
        "Unit 42",
        "https://unit42.paloaltonetworks.com/feed/",
        FeedKind::Rss,
        &["research"],
    ),
    (
        "Microsoft Security Blog",
        "https://www.microsoft.com/en-us/security/blog/feed/",
        FeedKind::Rss,
        &["vendor"],
    ),
    (
        "Google Cloud Threat Intelligence",
        "https://cloud.google.com/blog/topics/threat-intelligence/rss/",
        FeedKind::Rss,
        &["research"],
    ),
    (
        "SANS Internet Storm Center",
        "https://isc.sans.edu/rssfeed_full.xml",
        FeedKind::Rss,
        &["daily"],
    ),
    (
        "The Hacker News",
        "https://feeds.feedburner.com/TheHackersNews",
        FeedKind::Rss,
        &["news"],
    ),
    (
        "BleepingComputer",
        "https://www.bleepingcomputer.com/feed/",
        FeedKind::Rss,
        &["news"],
    ),
    (
        "Securelist (Kaspersky)",
        "https://securelist.com/feed/",
        FeedKind::Rss,
        &["research"],
    ),
];

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

pub(crate) fn to_dto(feed: intel_feed::Model, item_count: u64) -> IntelFeedDto {
    IntelFeedDto {
        tags: strings(&feed.tags),
        id: feed.id,
        name: feed.name,
        url: feed.url,
        kind: feed.kind,
        is_active: feed.is_active,
        last_fetched_at: feed.last_fetched_at,
        last_status: feed.last_status,
        last_error: feed.last_error,
        last_new_items: feed.last_new_items,
        item_count,
        created_by: feed.created_by,
        created_at: feed.created_at,
        updated_at: feed.updated_at,
    }
}

/// A feed URL: absolute http(s), no credentials, bounded.
pub fn check_url(url: &str, errors: &mut FieldErrors) -> String {
    let url = url.trim().to_owned();
    let lower = url.to_ascii_lowercase();
    if url.is_empty() {
        errors.insert("url".into(), "URL is required".into());
    } else if url.len() > MAX_URL {
        errors.insert("url".into(), format!("At most {MAX_URL} characters"));
    } else if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.insert(
            "url".into(),
            "Must be an http:// or https:// URL without spaces".into(),
        );
    } else if url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|authority| authority.contains('@') || authority.is_empty())
    {
        errors.insert(
            "url".into(),
            "Must name a host, without credentials in the URL".into(),
        );
    }
    url
}

fn check_kind(kind: Option<&str>, errors: &mut FieldErrors) -> Option<FeedKind> {
    let kind = kind.map(str::trim).filter(|k| !k.is_empty())?;
    match kind.parse::<FeedKind>() {
        Ok(kind) => Some(kind),
        Err(message) => {
            errors.insert("kind".into(), message);
            None
        }
    }
}

fn check_tags(tags: &[String], errors: &mut FieldErrors) -> Vec<String> {
    let raw = tags.len();
    let tags = clean_list(tags, true);
    if raw > MAX_TAGS || tags.iter().any(|t| t.chars().count() > MAX_TAG) {
        errors.insert(
            "tags".into(),
            format!("At most {MAX_TAGS} tags of at most {MAX_TAG} characters"),
        );
    }
    tags
}

async fn url_taken(
    conn: &impl ConnectionTrait,
    url: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let mut query = intel_feed::Entity::find().filter(intel_feed::Column::Url.eq(url));
    if let Some(id) = except {
        query = query.filter(intel_feed::Column::Id.ne(id));
    }
    Ok(query.one(conn).await?.is_some())
}

async fn item_counts(conn: &impl ConnectionTrait) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Option<Uuid>, i64)> = intel_item::Entity::find()
        .select_only()
        .column(intel_item::Column::FeedId)
        .column_as(intel_item::Column::Id.count(), "count")
        .group_by(intel_item::Column::FeedId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(feed, count)| Some((feed?, count.max(0) as u64)))
        .collect())
}

pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<IntelFeedDto>> {
    let counts = item_counts(conn).await?;
    Ok(intel_feed::Entity::find()
        .order_by_asc(intel_feed::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|f| {
            let count = counts.get(&f.id).copied().unwrap_or(0);
            to_dto(f, count)
        })
        .collect())
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<IntelFeedDto> {
    let feed = find(conn, id).await?;
    let count = item_counts(conn).await?.get(&id).copied().unwrap_or(0);
    Ok(to_dto(feed, count))
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<intel_feed::Model> {
    intel_feed::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("Intel feed not found".into()))
}

/// The active feeds, in name order: what a scan fetches.
pub async fn active(conn: &impl ConnectionTrait) -> AppResult<Vec<intel_feed::Model>> {
    Ok(intel_feed::Entity::find()
        .filter(intel_feed::Column::IsActive.eq(true))
        .order_by_asc(intel_feed::Column::Name)
        .all(conn)
        .await?)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    request: &CreateFeedRequest,
) -> AppResult<IntelFeedDto> {
    let mut errors = FieldErrors::new();
    check_name(&request.name, MAX_NAME, &mut errors);
    let url = check_url(&request.url, &mut errors);
    let kind = check_kind(request.kind.as_deref(), &mut errors);
    let tags = check_tags(request.tags.as_deref().unwrap_or_default(), &mut errors);
    AppError::from_fields(errors)?;
    let txn = begin_write(db).await?;
    if url_taken(&txn, &url, None).await? {
        return Err(AppError::Conflict(format!(
            "A feed with the URL {url} is already subscribed"
        )));
    }
    let existing = intel_feed::Entity::find()
        .select_only()
        .column(intel_feed::Column::Id)
        .into_tuple::<Uuid>()
        .all(&txn)
        .await?
        .len() as u64;
    if existing >= MAX_FEEDS {
        return Err(AppError::BadRequest(format!(
            "At most {MAX_FEEDS} feeds; remove one first"
        )));
    }
    let now = Utc::now();
    let feed = intel_feed::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(request.name.trim().to_owned()),
        url: Set(url),
        kind: Set(kind),
        is_active: Set(request.is_active.unwrap_or(true)),
        tags: Set(json!(tags)),
        etag: Set(None),
        last_modified: Set(None),
        last_fetched_at: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        last_new_items: Set(0),
        created_by: Set(actor.username.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let dto = to_dto(feed, 0);
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::IntelFeedCreate, ENTITY, dto.id).after(json!({
            "name": dto.name, "url": dto.url, "kind": dto.kind, "is_active": dto.is_active, "tags": dto.tags,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(dto)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    request: &UpdateFeedRequest,
) -> AppResult<IntelFeedDto> {
    let mut errors = FieldErrors::new();
    if let Some(name) = &request.name {
        check_name(name, MAX_NAME, &mut errors);
    }
    let url = request.url.as_deref().map(|u| check_url(u, &mut errors));
    let kind = request
        .kind
        .as_deref()
        .map(|k| check_kind(Some(k), &mut errors));
    let tags = request.tags.as_deref().map(|t| check_tags(t, &mut errors));
    AppError::from_fields(errors)?;
    let txn = begin_write(db).await?;
    let old = find(&txn, id).await?;
    let before = json!({
        "name": old.name, "url": old.url, "kind": old.kind, "is_active": old.is_active, "tags": strings(&old.tags),
    });
    if let Some(url) = &url
        && url_taken(&txn, url, Some(id)).await?
    {
        return Err(AppError::Conflict(format!(
            "A feed with the URL {url} is already subscribed"
        )));
    }
    let url_changed = url.as_ref().is_some_and(|u| *u != old.url);
    let mut row: intel_feed::ActiveModel = old.into();
    if let Some(name) = &request.name {
        row.name = Set(name.trim().to_owned());
    }
    if let Some(url) = url {
        row.url = Set(url);
    }
    if url_changed {
        // Another document: its validators say nothing about the new one.
        row.etag = Set(None);
        row.last_modified = Set(None);
    }
    if let Some(kind) = kind {
        row.kind = Set(kind);
    }
    if let Some(active) = request.is_active {
        row.is_active = Set(active);
    }
    if let Some(tags) = tags {
        row.tags = Set(json!(tags));
    }
    row.updated_at = Set(Utc::now());
    let feed = row.update(&txn).await?;
    let count = item_counts(&txn).await?.get(&id).copied().unwrap_or(0);
    let dto = to_dto(feed, count);
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::IntelFeedUpdate, ENTITY, id)
            .before(before)
            .after(json!({
                "name": dto.name, "url": dto.url, "kind": dto.kind, "is_active": dto.is_active, "tags": dto.tags,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(dto)
}

/// Removes a feed; the items it found stay (with its name as their source).
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> AppResult<()> {
    let txn = begin_write(db).await?;
    let old = find(&txn, id).await?;
    intel_item::Entity::update_many()
        .col_expr(
            intel_item::Column::FeedId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(intel_item::Column::FeedId.eq(id))
        .exec(&txn)
        .await?;
    intel_feed::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::IntelFeedDelete, ENTITY, id)
            .before(json!({ "name": old.name, "url": old.url })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The seed list, each marked when already subscribed.
pub async fn seeds(conn: &impl ConnectionTrait) -> AppResult<Vec<SeedFeed>> {
    let urls: Vec<String> = intel_feed::Entity::find()
        .select_only()
        .column(intel_feed::Column::Url)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(SEEDS
        .iter()
        .map(|(name, url, kind, tags)| SeedFeed {
            name: (*name).to_owned(),
            url: (*url).to_owned(),
            kind: *kind,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            added: urls.iter().any(|u| u == url),
        })
        .collect())
}

/// What one fetch of a feed said, recorded on the feed (not audited: the scan's entries are).
pub struct FetchRecord<'a> {
    pub status: &'a str,
    pub error: Option<String>,
    pub new_items: usize,
    pub kind: Option<FeedKind>,
    /// New validators for the next conditional GET, when the fetch got a document.
    pub validators: Option<(Option<String>, Option<String>)>,
}

pub async fn record_fetch(
    conn: &impl ConnectionTrait,
    id: Uuid,
    record: FetchRecord<'_>,
) -> AppResult<()> {
    let Some(feed) = intel_feed::Entity::find_by_id(id).one(conn).await? else {
        return Ok(());
    };
    let configured = feed.kind;
    let mut row: intel_feed::ActiveModel = feed.into();
    row.last_fetched_at = Set(Some(Utc::now()));
    row.last_status = Set(Some(record.status.to_owned()));
    row.last_error = Set(record.error.map(|e| e.chars().take(2_000).collect()));
    row.last_new_items = Set(i32::try_from(record.new_items).unwrap_or(i32::MAX));
    if configured.is_none() && record.kind.is_some() {
        row.kind = Set(record.kind);
    }
    if let Some((etag, last_modified)) = record.validators {
        row.etag = Set(etag.map(|e| e.chars().take(500).collect()));
        row.last_modified = Set(last_modified.map(|l| l.chars().take(100).collect()));
    }
    row.update(conn).await?;
    Ok(())
}
