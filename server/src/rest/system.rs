//! `/api/v1/system`: the job runner (sync now, scheduler status, one run's progress).
use super::extract::{ApiPath, Caller};
use app::domain::rbac::Permission;
use app::dto::jobs::{EnqueuedJob, JobName, JobRunDto, SchedulerStatus};
use app::error::AppError;
use app::server::attack::import::Trigger;
use app::server::services::jobs;
use app::server::state::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use uuid::Uuid;

async fn enqueue(
    state: &AppState,
    caller: &Caller,
    job: JobName,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let enqueued = jobs::enqueue(
        &state.db,
        state.jobs.as_ref(),
        job,
        Trigger::Admin,
        &caller.actor(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(enqueued)))
}

/// Enqueues an ATT&CK sync and answers at once with the run's id.
pub async fn sync_mitre(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    enqueue(&state, &caller, JobName::MitreSync).await
}

/// Runs any scheduled job now.
pub async fn run_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(job): ApiPath<String>,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let job: JobName = job.parse().map_err(AppError::NotFound)?;
    enqueue(&state, &caller, job).await
}

pub async fn scheduler_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SchedulerStatus>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(
        jobs::scheduler_status(&state.db, state.jobs.as_ref()).await?,
    ))
}

pub async fn job_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobRunDto>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(jobs::get(&state.db, id).await?))
}

pub async fn job_runs(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<JobRunDto>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(jobs::recent(&state.db, 50).await?))
}
