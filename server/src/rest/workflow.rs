//! `/api/v1/tests`: the red/blue workflow.
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::{Permission, Team};
use app::domain::workflow::Action;
use app::dto::workflow::{
    BlueUpdateRequest, CreateTestRequest, FromTemplateRequest, RedUpdateRequest,
    RemediationUpdateRequest, TestDetail, TestPage, TestQuery, TestSummary, TimelineEntry,
    TransitionRequest, UpdateTestRequest, VoteRequest, WorklogEntryDto, WorklogInput,
    WorklogUpdate,
};
use app::error::AppError;
use app::server::platform::state::AppState;
use app::server::workflow;
use app::server::workflow::reads;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TestQuery>,
) -> Result<Json<TestPage>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(reads::list(&state.db, user, &query).await?))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(reads::get(&state.db, user, id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTestRequest>,
) -> Result<(StatusCode, Json<TestDetail>), AppError> {
    let user = caller.require(Permission::ViewData)?;
    let detail = workflow::create(&state.db, user, &caller.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

pub async fn create_from_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<FromTemplateRequest>,
) -> Result<(StatusCode, Json<TestDetail>), AppError> {
    let user = caller.require(Permission::ViewData)?;
    let detail = workflow::create_from_template(&state.db, user, &caller.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateTestRequest>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::update_general(&state.db, user, &caller.actor(), id, body).await?,
    ))
}

pub async fn update_red(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RedUpdateRequest>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::update_red(&state.db, user, &caller.actor(), id, body).await?,
    ))
}

pub async fn update_blue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<BlueUpdateRequest>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::update_blue(&state.db, user, &caller.actor(), id, body).await?,
    ))
}

pub async fn update_remediation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RemediationUpdateRequest>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::update_remediation(&state.db, user, &caller.actor(), id, body).await?,
    ))
}

/// Transition bodies are optional: none, `{}` or `{"version": n}`.
fn optional_version(body: &Bytes) -> Result<Option<i32>, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<TransitionRequest>(body)
        .map(|r| r.version)
        .map_err(|e| AppError::BadRequest(format!("Invalid request body: {e}")))
}

async fn transition(
    state: AppState,
    caller: Caller,
    id: Uuid,
    action: Action,
    body: Bytes,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    let version = optional_version(&body)?;
    Ok(Json(
        workflow::transition(&state.db, user, &caller.actor(), id, action, version).await?,
    ))
}

pub async fn start_execution(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<TestDetail>, AppError> {
    transition(state, caller, id, Action::StartExecution, body).await
}

pub async fn submit_red(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<TestDetail>, AppError> {
    transition(state, caller, id, Action::SubmitRed, body).await
}

pub async fn submit_blue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<TestDetail>, AppError> {
    transition(state, caller, id, Action::SubmitBlue, body).await
}

pub async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<TestDetail>, AppError> {
    transition(state, caller, id, Action::Reopen, body).await
}

async fn vote(
    state: AppState,
    caller: Caller,
    id: Uuid,
    team: Team,
    body: VoteRequest,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::vote(&state.db, user, &caller.actor(), id, team, body).await?,
    ))
}

pub async fn validate_red(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<VoteRequest>,
) -> Result<Json<TestDetail>, AppError> {
    vote(state, caller, id, Team::Red, body).await
}

pub async fn validate_blue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<VoteRequest>,
) -> Result<Json<TestDetail>, AppError> {
    vote(state, caller, id, Team::Blue, body).await
}

pub async fn pause_timer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::timer(&state.db, user, &caller.actor(), id, true).await?,
    ))
}

pub async fn resume_timer(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TestDetail>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::timer(&state.db, user, &caller.actor(), id, false).await?,
    ))
}

pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TimelineEntry>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(reads::timeline(&state.db, id).await?))
}

pub async fn retest_chain(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TestSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(reads::retest_chain(&state.db, id).await?))
}

pub async fn worklog(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<WorklogEntryDto>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(workflow::worklog::list(&state.db, id).await?))
}

pub async fn log_work(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WorklogInput>,
) -> Result<(StatusCode, Json<WorklogEntryDto>), AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok((
        StatusCode::CREATED,
        Json(workflow::worklog::create(&state.db, user, &caller.actor(), id, body).await?),
    ))
}

pub async fn edit_worklog(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, entry_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<WorklogUpdate>,
) -> Result<Json<WorklogEntryDto>, AppError> {
    let user = caller.require(Permission::ViewData)?;
    Ok(Json(
        workflow::worklog::update(&state.db, user, &caller.actor(), id, entry_id, body).await?,
    ))
}

pub async fn delete_worklog(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, entry_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    let user = caller.require(Permission::ViewData)?;
    workflow::worklog::delete(&state.db, user, &caller.actor(), id, entry_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
