//! One intel scan: every active feed's document through the import pipeline (one broken feed
//! never stops the others), what each fetch said recorded on its feed, and one notification
//! to the leads listing the mentioned techniques that need attention (`domain::intel::attention`).
use crate::domain::coverage::CoverageStatus;
use crate::domain::intel::{FeedKind, attention};
use crate::domain::notices::NoticeKind;
use crate::domain::rbac::Role;
use crate::domain::workflow::TestState;
use crate::dto::intel::{FeedScanReport, IntelScanReport};
use crate::error::AppResult;
use crate::server::entities::{intel_feed, security_test, technique};
use crate::server::importers::feeds::IntelFeed;
use crate::server::importers::{Input, ProgressFn, run};
use crate::server::intel::feeds::{FetchRecord, record_fetch};
use crate::server::platform::context::Actor;
use crate::server::platform::notifications::{self, NewNotification};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// What fetching a feed gave.
#[derive(Debug)]
pub enum Fetched {
    Document {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// `304 Not Modified`: nothing new since the validators were stored.
    NotModified,
    Failed(String),
}

/// Techniques listed in one notification before the rest is counted.
const LISTED: usize = 30;

/// Imports what one feed's fetch gave and records the outcome on the feed.
pub async fn scan_feed(
    db: &DatabaseConnection,
    actor: &Actor,
    feed: &intel_feed::Model,
    fetched: Fetched,
    progress: ProgressFn<'_>,
) -> AppResult<FeedScanReport> {
    let mut report = FeedScanReport {
        feed_id: Some(feed.id),
        feed: feed.name.clone(),
        kind: feed.kind,
        ..Default::default()
    };
    let (status, error, kind, validators) = match fetched {
        Fetched::NotModified => ("not_modified", None, None, None),
        Fetched::Failed(error) => ("error", Some(error), None, None),
        Fetched::Document {
            bytes,
            etag,
            last_modified,
        } => match run::<IntelFeed>(db, actor, Input::Bytes(bytes), &feed.url, progress).await {
            Ok(imported) => {
                let kind: Option<FeedKind> = imported.kind;
                report = imported;
                ("ok", None, kind, Some((etag, last_modified)))
            }
            Err(error) => ("error", Some(error.detail()), None, None),
        },
    };
    report.status = status.to_owned();
    report.error = error.clone();
    record_fetch(
        db,
        feed.id,
        FetchRecord {
            status,
            error,
            new_items: report.added,
            kind,
            validators,
        },
    )
    .await?;
    Ok(report)
}

/// After every feed: tells the leads, in one notification, which mentioned techniques are not
/// covered or not validated within `stale_days`; returns them.
pub async fn notify_leads(
    db: &DatabaseConnection,
    report: &mut IntelScanReport,
    stale_days: u32,
) -> AppResult<()> {
    let mut mentioned: Vec<String> = report
        .feeds
        .iter()
        .flat_map(|f| f.techniques.iter().cloned())
        .collect();
    mentioned.sort();
    mentioned.dedup();
    report.new_items = report.feeds.iter().map(|f| f.added).sum();
    if mentioned.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String, CoverageStatus)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Name)
        .column(technique::Column::CoverageStatus)
        .filter(technique::Column::MitreId.is_in(mentioned.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let validated: HashMap<String, Option<DateTime<Utc>>> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::TechniqueId)
        .column_as(security_test::Column::CompletedAt.max(), "last")
        .filter(security_test::Column::TechniqueId.is_in(mentioned))
        .filter(security_test::Column::State.eq(TestState::Validated))
        .group_by(security_test::Column::TechniqueId)
        .into_tuple::<(String, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let now = Utc::now();
    let mut lines = Vec::new();
    for (mitre_id, name, status) in rows {
        let last = validated.get(&mitre_id).copied().flatten();
        if let Some(why) = attention(status, last, now, stale_days) {
            lines.push(format!("{mitre_id} {name}: {}", why.describe()));
            report.flagged_techniques.push(mitre_id);
        }
    }
    report.flagged_techniques.sort();
    lines.sort();
    if lines.is_empty() {
        return Ok(());
    }
    let count = lines.len();
    let mut body: Vec<String> = lines.into_iter().take(LISTED).collect();
    if count > LISTED {
        body.push(format!("… and {} more", count - LISTED));
    }
    // The leads' notification and the `intel.matched` webhooks, together.
    let txn = crate::server::platform::db::begin_write(db).await?;
    let recipients =
        notifications::users_with_roles(&txn, &[Role::RedLead, Role::BlueLead]).await?;
    crate::server::webhooks::outbox::emit(
        &txn,
        crate::domain::webhooks::WebhookEvent::IntelMatched,
        &serde_json::json!({
            "new_items": report.new_items,
            "techniques": report.flagged_techniques,
            "lines": body,
            "link": "/intel?status=new&matched=true",
        }),
    )
    .await?;
    notifications::notify(
        &txn,
        &recipients,
        NewNotification {
            kind: NoticeKind::IntelMatched.as_str(),
            title: format!(
                "New intel mentions {count} technique{} to look at",
                if count == 1 { "" } else { "s" }
            ),
            body: body.join("\n"),
            link: Some("/intel?status=new&matched=true".into()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
