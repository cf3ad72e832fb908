use crate::dto::knowledge::{
    ImportReport, SyncRunDto, TacticDto, TechniqueDetail, TechniqueQuery, TechniqueSummary,
    ThreatActorDetail, ThreatActorSummary,
};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the coverage matrix needs in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixData {
    pub tactics: Vec<TacticDto>,
    pub techniques: Vec<TechniqueSummary>,
    pub actors: Vec<ThreatActorSummary>,
    pub platforms: Vec<String>,
    pub technique_sets: Vec<crate::dto::reporting::reports::TechniqueSetSummary>,
    /// Each technique's score, priority, gap and visibility, for the heatmap modes.
    pub heat: std::collections::HashMap<String, crate::dto::scoring::HeatCell>,
}

#[server(prefix = "/api/fn", endpoint = "matrix")]
pub async fn matrix(#[server(default)] query: TechniqueQuery) -> Result<MatrixData, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::read_cache::answers;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let db = &ctx.state.db;
            let matrix_answer = if query.intel_days.is_some() {
                answers::MATRIX_BY_INTEL
            } else {
                answers::MATRIX
            };
            let data = ctx
                .state
                .cache
                .load(db, matrix_answer, &query, || async {
                    let all = reads::list_techniques(db, &TechniqueQuery::default()).await?;
                    let mut platforms: Vec<String> = all
                        .iter()
                        .flat_map(|t| t.platforms.iter().cloned())
                        .collect();
                    platforms.sort();
                    platforms.dedup();
                    let techniques = if query == TechniqueQuery::default() {
                        all
                    } else {
                        reads::list_techniques(db, &query).await?
                    };
                    Ok(MatrixData {
                        tactics: reads::tactics(db).await?,
                        techniques,
                        actors: reads::threat_actors(db, None).await?,
                        platforms,
                        technique_sets: crate::server::knowledge::technique_sets::list(db).await?,
                        heat: crate::server::scoring::reads::heat(db).await?,
                    })
                })
                .await?;
            Ok(MatrixData::clone(&data))
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "technique")]
pub async fn technique(mitre_id: String) -> Result<TechniqueDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            reads::technique_detail(&ctx.state.db, &mitre_id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "mark_reviewed")]
pub async fn mark_reviewed(mitre_id: String) -> Result<TechniqueDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ReviewTechniques)?;
            reads::mark_reviewed(&ctx.state.db, &ctx.actor(), &mitre_id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "threat_actors")]
pub async fn threat_actors(search: Option<String>) -> Result<Vec<ThreatActorSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            reads::threat_actors(&ctx.state.db, search.as_deref()).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "threat_actor")]
pub async fn threat_actor(id: String) -> Result<ThreatActorDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            reads::threat_actor_detail(&ctx.state.db, &id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "sync_runs")]
pub async fn sync_runs() -> Result<Vec<SyncRunDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            reads::sync_runs(&ctx.state.db, 50).await
        }
        .await,
    )
}

/// The System panel's offline import: the browser posts the chosen file as multipart data.
#[server(prefix = "/api/fn", endpoint = "import_attack_bundle", input = server_fn::codec::MultipartFormData)]
pub async fn import_attack_bundle(
    data: server_fn::codec::MultipartData,
) -> Result<ImportReport, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::importers::attack::import::import_bundle;
    use crate::server::importers::{Trigger, no_progress};
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::upload::MultipartReader;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let limit = ctx.state.max_import_bytes;
            let mut form = MultipartReader::from_server_fn(data, &["file"], limit)?;
            let mut upload = None;
            while let Some(part) = form.next().await? {
                let name = part.file_name().unwrap_or("upload.json").to_owned();
                upload = Some((name, part.bytes(limit).await?));
            }
            let (name, bytes) = upload
                .filter(|(_, b)| !b.is_empty())
                .ok_or_else(|| AppError::field("file", "Choose a STIX bundle file to import"))?;
            import_bundle(
                &ctx.state.db,
                &ctx.actor(),
                bytes,
                Trigger::Admin,
                &format!("upload:{name}"),
                &no_progress,
            )
            .await
        }
        .await,
    )
}

/// The technique picker: the first matches of a search over ids and names.
#[server(prefix = "/api/fn", endpoint = "search_techniques")]
pub async fn search_techniques(search: String) -> Result<Vec<TechniqueSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::reads;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            if search.trim().is_empty() {
                return Ok(Vec::new());
            }
            let query = TechniqueQuery {
                search: Some(search),
                ..Default::default()
            };
            let mut found = reads::list_techniques(&ctx.state.db, &query).await?;
            // Exact id matches first, then by id.
            found.sort_by_key(|t| {
                (
                    !t.mitre_id
                        .eq_ignore_ascii_case(query.search.as_deref().unwrap_or_default().trim()),
                    t.mitre_id.clone(),
                )
            });
            found.truncate(20);
            Ok(found)
        }
        .await,
    )
}
