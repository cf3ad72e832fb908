//! Server functions of the Scoring page, the Data sources page and the Compliance pages.
//! Configurations travel as JSON text (the form's state), checked by the same service as
//! `PUT /api/v1/scoring/config`.
use crate::dto::compliance::{ControlDetail, FrameworkDetail, FrameworkSummary};
use crate::dto::knowledge::ThreatActorSummary;
use crate::dto::reporting::reports::TechniqueSetSummary;
use crate::dto::scoring::{
    DataComponentDto, DataSourceInventory, DataSourceQuery, ScoringConfigState, ScoringPreview,
    ScoringSummary,
};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Everything the Scoring page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringPageData {
    pub state: ScoringConfigState,
    pub summary: ScoringSummary,
    pub actors: Vec<ThreatActorSummary>,
    pub technique_sets: Vec<TechniqueSetSummary>,
    pub can_edit: bool,
}

#[cfg(feature = "ssr")]
fn parse_config(json: &str) -> Result<crate::domain::scoring::ScoringConfig, AppError> {
    if json.len() > 64 * 1024 {
        return Err(AppError::PayloadTooLarge(
            "The configuration is larger than 64 KiB".into(),
        ));
    }
    serde_json::from_str(json)
        .map_err(|e| AppError::BadRequest(format!("Not a scoring configuration: {e}")))
}

#[server(prefix = "/api/fn", endpoint = "scoring_page")]
pub async fn scoring_page() -> Result<ScoringPageData, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::{reads, technique_sets};
    use crate::server::platform::context::ServerFnContext;
    use crate::server::scoring::{config, reads as scores};
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let db = &ctx.state.db;
            Ok(ScoringPageData {
                state: config::state(db).await?,
                summary: scores::summary(db).await?,
                actors: reads::threat_actors(db, None).await?,
                technique_sets: technique_sets::list(db).await?,
                can_edit: user.role.can(Permission::ManageScoring),
            })
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "preview_scoring")]
pub async fn preview_scoring(config: String) -> Result<ScoringPreview, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageScoring)?;
            let config = parse_config(&config)?;
            crate::server::scoring::reads::preview(&ctx.state.db, config).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "save_scoring")]
pub async fn save_scoring(config: String, note: String) -> Result<ScoringConfigState, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::scoring::ScoringConfigUpdate;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageScoring)?;
            let config = parse_config(&config)?;
            crate::server::scoring::config::update(
                &ctx.state.db,
                &ctx.actor(),
                ScoringConfigUpdate {
                    config,
                    note: Some(note),
                },
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "restore_scoring")]
pub async fn restore_scoring(version: i32) -> Result<ScoringConfigState, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageScoring)?;
            crate::server::scoring::config::restore(&ctx.state.db, &ctx.actor(), version).await
        }
        .await,
    )
}

/// The inventory, and whether the caller may change it.
#[server(prefix = "/api/fn", endpoint = "data_sources_page")]
pub async fn data_sources_page(
    #[server(default)] query: DataSourceQuery,
) -> Result<(DataSourceInventory, bool), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let inventory =
                crate::server::knowledge::data_components::list(&ctx.state.db, &query).await?;
            Ok((inventory, user.role.can(Permission::ManageDataSources)))
        }
        .await,
    )
}

/// One row of the inventory's form: `collected` is the checkbox (present when ticked).
#[server(prefix = "/api/fn", endpoint = "save_data_source")]
pub async fn save_data_source(
    id: Uuid,
    #[server(default)] collected: Option<String>,
    quality: String,
    #[server(default)] notes: String,
) -> Result<DataComponentDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::scoring::DataComponentUpdate;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageDataSources)?;
            let quality = quality
                .parse()
                .map_err(|e: String| AppError::field("quality", e))?;
            crate::server::knowledge::data_components::update(
                &ctx.state.db,
                &ctx.actor(),
                &id.to_string(),
                DataComponentUpdate {
                    collected: Some(collected.is_some()),
                    quality: Some(quality),
                    notes: Some(notes),
                },
            )
            .await
        }
        .await,
    )
}

/// The imported frameworks, from the read cache.
#[cfg(feature = "ssr")]
async fn frameworks_of(
    ctx: &crate::server::platform::context::ServerFnContext,
) -> Result<Vec<FrameworkSummary>, AppError> {
    use crate::server::platform::read_cache::answers;
    let db = &ctx.state.db;
    let data = ctx
        .state
        .cache
        .load(db, answers::COMPLIANCE, &"fn:frameworks", || {
            crate::server::compliance::frameworks(db)
        })
        .await?;
    Ok(Vec::clone(&data))
}

/// A framework by id or key, or the first of `frameworks` when none is named (`None` when
/// nothing is imported), from the read cache.
#[cfg(feature = "ssr")]
async fn framework_of(
    ctx: &crate::server::platform::context::ServerFnContext,
    framework: Option<String>,
    frameworks: &[FrameworkSummary],
) -> Result<Option<FrameworkDetail>, AppError> {
    use crate::server::platform::read_cache::answers;
    let db = &ctx.state.db;
    let key = match framework.filter(|f| !f.trim().is_empty()) {
        Some(key) => key,
        None => match frameworks.first() {
            Some(first) => first.id.to_string(),
            None => return Ok(None),
        },
    };
    let cache_key = format!("fn:framework:{key}");
    let data = ctx
        .state
        .cache
        .load(db, answers::COMPLIANCE, &cache_key, || {
            crate::server::compliance::framework(db, &key)
        })
        .await?;
    Ok(Some(FrameworkDetail::clone(&data)))
}

#[server(prefix = "/api/fn", endpoint = "compliance_frameworks")]
pub async fn compliance_frameworks() -> Result<Vec<FrameworkSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            frameworks_of(&ctx).await
        }
        .await,
    )
}

/// A framework by id or key; the first framework when none is named (`None` when nothing is
/// imported).
#[server(prefix = "/api/fn", endpoint = "compliance_framework")]
pub async fn compliance_framework(
    #[server(default)] framework: Option<String>,
) -> Result<Option<FrameworkDetail>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let frameworks = frameworks_of(&ctx).await?;
            framework_of(&ctx, framework, &frameworks).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "compliance_control")]
pub async fn compliance_control(id: Uuid) -> Result<ControlDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            crate::server::compliance::control(&ctx.state.db, id).await
        }
        .await,
    )
}

/// The Compliance page: the frameworks for the picker and the one shown. The context is read
/// once, before any await: the request's context is not there after one.
#[server(prefix = "/api/fn", endpoint = "compliance_page")]
pub async fn compliance_page(
    #[server(default)] framework: Option<String>,
) -> Result<(Vec<FrameworkSummary>, Option<FrameworkDetail>), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let list = frameworks_of(&ctx).await?;
            let detail = framework_of(&ctx, framework, &list).await?;
            Ok((list, detail))
        }
        .await,
    )
}
