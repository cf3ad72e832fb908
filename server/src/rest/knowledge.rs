//! `/api/v1/techniques`, `/tactics`, `/threat-actors` and the ATT&CK parts of `/system`.
use super::cached::{self, Cached};
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::d3fend::{Countermeasure, D3fendQuery, D3fendTechniqueDto};
use app::dto::knowledge::{
    CreateTechniqueRequest, ImportReport, MitigationDetail, MitigationQuery, MitigationSummary,
    SyncRunDto, TechniqueDetail, TechniqueQuery, ThreatActorDetail, UpdateTechniqueRequest,
};
use app::dto::knowledge::{TacticDto, TechniqueSummary, ThreatActorSummary};
use app::error::AppError;
use app::server::importers::attack::import::import_bundle;
use app::server::importers::{Trigger, no_progress};
use app::server::knowledge::reads;
use app::server::knowledge::{countermeasures, custom_techniques, mitigations};
use app::server::platform::read_cache::answers;
use app::server::platform::state::AppState;
use app::server::platform::upload::MultipartReader;
use axum::Json;
use axum::extract::{Request, State};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

pub async fn techniques(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<TechniqueQuery>,
) -> Result<Cached<Vec<TechniqueSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    let answer = if query.intel_days.is_some() {
        answers::TECHNIQUES_BY_INTEL
    } else {
        answers::TECHNIQUES
    };
    cached::json(&state, &headers, answer, &query, || {
        reads::list_techniques(&state.db, &query)
    })
    .await
}

pub async fn technique(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(mitre_id): ApiPath<String>,
) -> Result<Json<TechniqueDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(reads::technique_detail(&state.db, &mitre_id).await?))
}

pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(mitre_id): ApiPath<String>,
) -> Result<Json<TechniqueDetail>, AppError> {
    caller.require(Permission::ReviewTechniques)?;
    Ok(Json(
        reads::mark_reviewed(&state.db, &caller.actor(), &mitre_id).await?,
    ))
}

pub async fn tactics(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Cached<Vec<TacticDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(&state, &headers, answers::TACTICS, &(), || {
        reads::tactics(&state.db)
    })
    .await
}

#[derive(Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct ActorQuery {
    #[serde(default)]
    search: Option<String>,
}

pub async fn threat_actors(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ActorQuery>,
) -> Result<Cached<Vec<ThreatActorSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    cached::json(&state, &headers, answers::THREAT_ACTORS, &query, || {
        reads::threat_actors(&state.db, query.search.as_deref())
    })
    .await
}

pub async fn threat_actor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ThreatActorDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(reads::threat_actor_detail(&state.db, &id).await?))
}

/// Offline import: a multipart upload with the bundle in the `file` field.
pub async fn import_attack_bundle(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Json<ImportReport>, AppError> {
    caller.require(Permission::ManageSystem)?;
    let limit = state.max_import_bytes;
    let (parts, body) = request.into_parts();
    let mut form = MultipartReader::from_request(&parts.headers, body, &["file"], limit)?;
    let mut upload = None;
    while let Some(part) = form.next().await? {
        let name = part.file_name().unwrap_or("upload.json").to_owned();
        upload = Some((name, part.bytes(limit).await?));
    }
    let (name, bytes) = upload
        .ok_or_else(|| AppError::field("file", "Attach the STIX bundle as the `file` field"))?;
    let source = format!("upload:{name}");
    let report = import_bundle(
        &state.db,
        &caller.actor(),
        bytes,
        Trigger::Admin,
        &source,
        &no_progress,
    )
    .await?;
    Ok(Json(report))
}

pub async fn sync_runs(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SyncRunDto>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(reads::sync_runs(&state.db, 50).await?))
}

pub async fn create_technique(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTechniqueRequest>,
) -> Result<(StatusCode, Json<TechniqueDetail>), AppError> {
    caller.require(Permission::ManageTechniques)?;
    Ok((
        StatusCode::CREATED,
        Json(custom_techniques::create(&state.db, &caller.actor(), body).await?),
    ))
}

pub async fn update_technique(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(mitre_id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateTechniqueRequest>,
) -> Result<Json<TechniqueDetail>, AppError> {
    caller.require(Permission::ManageTechniques)?;
    Ok(Json(
        custom_techniques::update(&state.db, &caller.actor(), &mitre_id, body).await?,
    ))
}

pub async fn mitigations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MitigationQuery>,
) -> Result<Json<Vec<MitigationSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(mitigations::list(&state.db, &query).await?))
}

pub async fn mitigation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<MitigationDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(mitigations::detail(&state.db, &key).await?))
}

pub async fn d3fend_techniques(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<D3fendQuery>,
) -> Result<Json<Vec<D3fendTechniqueDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(countermeasures::list(&state.db, &query).await?))
}

/// The D3FEND countermeasures of a technique of the knowledge base (404 for one it does not
/// hold), by D3FEND tactic.
pub async fn countermeasures(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(mitre_id): ApiPath<String>,
) -> Result<Json<Vec<Countermeasure>>, AppError> {
    caller.require(Permission::ViewData)?;
    let technique = reads::find_technique(&state.db, &mitre_id).await?;
    Ok(Json(
        countermeasures::of_technique(&state.db, &technique.mitre_id).await?,
    ))
}
