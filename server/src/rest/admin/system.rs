//! `/api/v1/system`: the job runner (sync now, scheduler status, one run's progress).
use crate::rest::extract::{ApiPath, Caller};
use app::domain::rbac::Permission;
use app::dto::jobs::{EnqueuedJob, JobName, JobRunDto, SchedulerStatus};
use app::error::AppError;
use app::server::importers::atomics::import::AtomicsUpload;
use app::server::importers::attack::import::Trigger;
use app::server::jobs::runs;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use futures::StreamExt;
use http::StatusCode;
use uuid::Uuid;

async fn enqueue(
    state: &AppState,
    caller: &Caller,
    job: JobName,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let enqueued = runs::enqueue(
        &state.db,
        state.jobs.as_ref(),
        job,
        Trigger::Admin,
        &caller.actor(),
        None,
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
        runs::scheduler_status(&state.db, state.jobs.as_ref()).await?,
    ))
}

pub async fn job_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobRunDto>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(runs::get(&state.db, id).await?))
}

pub async fn job_runs(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<JobRunDto>>, AppError> {
    caller.require(Permission::ManageSystem)?;
    Ok(Json(runs::recent(&state.db, 50).await?))
}

/// `POST /system/import-atomic-red-team`: with a multipart `file` (a zip of the repository or
/// of its `atomics` folder) or `files` (a folder's files, each part named by its path in the
/// folder) imports that; with no body, downloads the configured archive.
/// Either way a background job (202 with its id); progress and result via `/system/jobs/{id}`.
pub async fn import_atomics(
    State(state): State<AppState>,
    caller: Caller,
    headers: http::HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let is_multipart = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let upload = match multipart {
        Ok(mut form) => {
            let mut upload = AtomicsUpload::new(state.max_import_bytes);
            while let Some(field) = form.next_field().await.map_err(|e| {
                AppError::BadRequest(format!("Unreadable upload: {}", e.body_text()))
            })? {
                let name = field.name().map(str::to_owned);
                let file_name = field.file_name().map(str::to_owned);
                let body = Box::pin(field.map(|chunk| {
                    chunk.map_err(|e| {
                        AppError::BadRequest(format!("Unreadable upload: {}", e.body_text()))
                    })
                }));
                upload
                    .field(name.as_deref(), file_name.as_deref(), body)
                    .await?;
            }
            Some(upload.finish().await?)
        }
        Err(_) if is_multipart => {
            return Err(AppError::BadRequest("Unreadable multipart upload".into()));
        }
        Err(_) => None,
    };
    let enqueued =
        runs::enqueue_atomics_import(&state.db, state.jobs.as_ref(), &caller.actor(), upload)
            .await?;
    Ok((StatusCode::ACCEPTED, Json(enqueued)))
}
