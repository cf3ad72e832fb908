//! Threat intel as the Intel page, the technique and actor pages and the Feeds panel use it.
use crate::dto::Page;
use crate::dto::intel::{IntelFeedDto, IntelItemDto, IntelMentions, IntelQuery, SeedFeed};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "intel_items")]
pub async fn intel_items(query: IntelQuery) -> Result<Page<IntelItemDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::intel::items;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            items::list(&ctx.state.db, &query).await
        }
        .await,
    )
}

/// The latest intel about a technique (`kind` = `technique`) or a threat actor (`actor`).
#[server(prefix = "/api/fn", endpoint = "intel_about")]
pub async fn intel_about(kind: String, mitre_id: String) -> Result<IntelMentions, AppError> {
    use crate::domain::intel::MentionKind;
    use crate::domain::rbac::Permission;
    use crate::server::intel::items;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let kind: MentionKind = kind.parse().map_err(AppError::BadRequest)?;
            items::latest(&ctx.state.db, kind, &mitre_id).await
        }
        .await,
    )
}

/// A lead's triage: `status` (new, relevant, dismissed) and optionally notes.
#[server(prefix = "/api/fn", endpoint = "triage_intel")]
pub async fn triage_intel(
    id: Uuid,
    status: Option<String>,
    notes: Option<String>,
) -> Result<IntelItemDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::intel::UpdateIntelRequest;
    use crate::server::intel::items;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::TriageIntel)?;
            let status = status.filter(|s| !s.is_empty());
            items::update(
                &ctx.state.db,
                &ctx.actor(),
                id,
                &UpdateIntelRequest { status, notes },
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "intel_feeds")]
pub async fn intel_feeds() -> Result<(Vec<IntelFeedDto>, Vec<SeedFeed>), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::intel::feeds;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            Ok((
                feeds::list(&ctx.state.db).await?,
                feeds::seeds(&ctx.state.db).await?,
            ))
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "add_intel_feed")]
pub async fn add_intel_feed(
    name: String,
    url: String,
    kind: Option<String>,
    tags: Option<String>,
) -> Result<IntelFeedDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::intel::CreateFeedRequest;
    use crate::server::intel::feeds;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let tags = tags.map(|t| t.split(',').map(str::to_owned).collect());
            feeds::create(
                &ctx.state.db,
                &ctx.actor(),
                &CreateFeedRequest {
                    name,
                    url,
                    kind: kind.filter(|k| !k.is_empty()),
                    is_active: Some(true),
                    tags,
                },
            )
            .await
        }
        .await,
    )
}

/// Switches a feed on or off, or removes it (`remove`).
#[server(prefix = "/api/fn", endpoint = "change_intel_feed")]
pub async fn change_intel_feed(
    id: Uuid,
    active: Option<bool>,
    remove: Option<bool>,
) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::intel::UpdateFeedRequest;
    use crate::server::intel::feeds;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            if remove == Some(true) {
                return feeds::delete(&ctx.state.db, &ctx.actor(), id).await;
            }
            feeds::update(
                &ctx.state.db,
                &ctx.actor(),
                id,
                &UpdateFeedRequest {
                    is_active: active,
                    ..Default::default()
                },
            )
            .await
            .map(|_| ())
        }
        .await,
    )
}
