//! `/api/v1/campaigns`: everyone signed in reads campaigns; leads and admins create and change
//! them, their tests and recurrence (the service checks). `/api/v1/attack-campaigns`: ATT&CK's
//! own campaigns, for the pickers.
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::Page;
use app::dto::campaigns::{
    AddTestsReport, AddTestsRequest, AttackCampaignDto, CampaignDetail, CampaignProgress,
    CampaignQuery, CampaignSummary, CreateCampaignRequest, GenerateReport, GenerateRequest,
    UpdateCampaignRequest,
};
use app::error::AppError;
use app::server::campaigns::{self, generate, members, progress};
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CampaignQuery>,
) -> Result<Json<Page<CampaignSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(campaigns::list(&state.db, &query).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateCampaignRequest>,
) -> Result<(StatusCode, Json<CampaignDetail>), AppError> {
    let user = caller.require(Permission::ViewData)?;
    let campaign = campaigns::create(&state.db, user, &caller.actor(), request).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CampaignDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(campaigns::get(&state.db, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<UpdateCampaignRequest>,
) -> Result<Json<CampaignDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        campaigns::update(&state.db, user, &caller.actor(), id, request).await?,
    ))
}

pub async fn add_tests(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<AddTestsRequest>,
) -> Result<Json<AddTestsReport>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        members::add_tests(&state.db, user, &caller.actor(), id, request).await?,
    ))
}

pub async fn remove_test(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, test_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    let user = caller.require(Permission::ViewData)?;
    members::remove_test(&state.db, user, &caller.actor(), id, test_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Option<ApiJson<GenerateRequest>>,
) -> Result<(StatusCode, Json<GenerateReport>), AppError> {
    let user = caller.require(Permission::ViewData)?;
    let request = body.map(|ApiJson(r)| r).unwrap_or_default();
    let report = generate::generate(&state.db, user, &caller.actor(), id, request).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CampaignProgress>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(progress::progress(&state.db, id).await?))
}

pub async fn attack_campaigns(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AttackCampaignDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(campaigns::attack_campaigns(&state.db).await?))
}

pub async fn attack_campaign(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AttackCampaignDto>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(campaigns::attack_campaign(&state.db, &id).await?))
}
