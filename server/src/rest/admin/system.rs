//! `/api/v1/system`: the job runner (sync now, scheduler status, one run's progress).
use crate::rest::extract::{ApiPath, Caller};
use app::domain::rbac::Permission;
use app::domain::sources::CatalogImport;
use app::dto::jobs::{EnqueuedJob, JobName, JobRunDto, SchedulerStatus};
use app::error::AppError;
use app::server::importers::Trigger;
use app::server::importers::files::SourceUpload;
use app::server::importers::uploads::save_single_file;
use app::server::jobs::runs;
use app::server::platform::state::AppState;
use app::server::platform::upload::{MultipartReader, is_multipart};
use axum::Json;
use axum::extract::{Request, State};
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

/// Enqueues an intel scan (or joins the one running) and answers at once.
pub async fn run_intel_scan(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    enqueue(&state, &caller, JobName::IntelScan).await
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

/// `POST /system/import-atomic-red-team`, `/import-caldera`, `/import-lolbas`,
/// `/import-gtfobins`: with a multipart `file` (a zip of the repository or of one of its
/// folders) or `files` (a folder's files, each part named by its path in the folder) imports
/// that; with no body, downloads the source's configured archive. Either way a background job
/// (202 with its id); progress and result via `/system/jobs/{id}`.
pub async fn import_catalog(
    source: CatalogImport,
    state: AppState,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let (parts, body) = request.into_parts();
    let upload = if is_multipart(&parts.headers) {
        let limit = state.max_import_bytes;
        let mut form =
            MultipartReader::from_request(&parts.headers, body, SourceUpload::PARTS, limit)?;
        let mut upload = SourceUpload::new(source, limit, state.uploads.clone());
        while let Some(part) = form.next().await? {
            upload.part(part).await?;
        }
        Some(upload.finish().await?)
    } else {
        None
    };
    let enqueued = runs::enqueue_catalog_import(
        &state.db,
        state.jobs.as_ref(),
        &caller.actor(),
        source,
        upload,
        &state.uploads,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(enqueued)))
}

/// `POST /system/import-d3fend`: with a multipart `file` (the ontology in Turtle) imports
/// that; with no body, downloads the configured `AEGIS_D3FEND_URL`. A background job either
/// way (202 with its id).
pub async fn import_d3fend(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let (parts, body) = request.into_parts();
    let upload = if is_multipart(&parts.headers) {
        let limit = state.max_import_bytes;
        let mut form = MultipartReader::from_request(&parts.headers, body, &["file"], limit)?;
        Some(
            save_single_file(
                &mut form,
                limit,
                &state.uploads,
                "d3fend.ttl",
                "D3FEND ontology (Turtle)",
            )
            .await?,
        )
    } else {
        None
    };
    let enqueued = runs::enqueue_import(
        &state.db,
        state.jobs.as_ref(),
        &caller.actor(),
        JobName::D3fendImport,
        "D3FEND",
        upload,
        &state.uploads,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(enqueued)))
}

/// `POST /system/import-compliance`: a multipart `file` with a framework's ATT&CK mapping in
/// the Center for Threat-Informed Defense's JSON schema (NIST SP 800-53, CSA CCM, …). A
/// background job (202 with its id); importing the same framework and version again updates it.
pub async fn import_compliance(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
    caller.require(Permission::ManageSystem)?;
    let (parts, body) = request.into_parts();
    if !is_multipart(&parts.headers) {
        return Err(AppError::UnsupportedMediaType(
            "Send the mapping file as multipart/form-data in a part named 'file'".into(),
        ));
    }
    let limit = state.max_import_bytes;
    let mut form = MultipartReader::from_request(&parts.headers, body, &["file"], limit)?;
    let upload = save_single_file(
        &mut form,
        limit,
        &state.uploads,
        "mapping.json",
        "compliance mapping (JSON)",
    )
    .await?;
    let enqueued = runs::enqueue_import(
        &state.db,
        state.jobs.as_ref(),
        &caller.actor(),
        JobName::ComplianceImport,
        "compliance mapping",
        Some(upload),
        &state.uploads,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(enqueued)))
}

macro_rules! catalog_import_handler {
    ($($name:ident => $source:expr),+ $(,)?) => {$(
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            request: Request,
        ) -> Result<(StatusCode, Json<EnqueuedJob>), AppError> {
            import_catalog($source, state, caller, request).await
        }
    )+};
}

catalog_import_handler! {
    import_atomics => CatalogImport::AtomicRedTeam,
    import_caldera => CatalogImport::Caldera,
    import_lolbas => CatalogImport::Lolbas,
    import_gtfobins => CatalogImport::Gtfobins,
    import_sigma => CatalogImport::Sigma,
    import_elastic_rules => CatalogImport::ElasticRules,
}
