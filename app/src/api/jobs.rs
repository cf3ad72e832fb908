//! The job runner as the System panel uses it: schedules, running a job now, one run's progress.
use crate::dto::jobs::{EnqueuedJob, JobName, JobRunDto, SchedulerStatus};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "scheduler_status")]
pub async fn load_scheduler_status() -> Result<SchedulerStatus, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            runs::scheduler_status(&ctx.state.db, ctx.state.jobs.as_ref()).await
        }
        .await,
    )
}

/// Queues `job` now and answers at once; the panel then follows the run with [`job_run`].
#[server(prefix = "/api/fn", endpoint = "run_job")]
pub async fn run_job(job: JobName) -> Result<EnqueuedJob, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::importers::Trigger;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            runs::enqueue(
                &ctx.state.db,
                ctx.state.jobs.as_ref(),
                job,
                Trigger::Admin,
                &ctx.actor(),
                None,
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "job_run")]
pub async fn job_run(id: Uuid) -> Result<JobRunDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            runs::get(&ctx.state.db, id).await
        }
        .await,
    )
}

/// The System panel's upload of a catalog source (Atomic Red Team, CALDERA, LOLBAS,
/// GTFOBins): a `source` part naming it first, then the zip or the source's files of a folder,
/// saved for the import job, which then runs like any other (follow it with `job_run`).
#[server(prefix = "/api/fn", endpoint = "upload_catalog", input = server_fn::codec::MultipartFormData)]
pub async fn upload_catalog(
    data: server_fn::codec::MultipartData,
) -> Result<EnqueuedJob, AppError> {
    use crate::domain::rbac::Permission;
    use crate::domain::sources::CatalogImport;
    use crate::server::importers::files::SourceUpload;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::upload::MultipartReader;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let limit = ctx.state.max_import_bytes;
            let mut form =
                MultipartReader::from_server_fn(data, &["source", "file", "files"], limit)?;
            let named = match form.next().await? {
                Some(part) if part.name() == "source" => part.text(64).await?,
                _ => {
                    return Err(AppError::field(
                        "source",
                        "Name the source first (atomic_red_team, caldera, lolbas or gtfobins)",
                    ));
                }
            };
            let source: CatalogImport = serde_json::from_value(serde_json::json!(named.trim()))
                .map_err(|_| {
                    AppError::field("source", format!("Unknown catalog source '{named}'"))
                })?;
            let mut upload = SourceUpload::new(source, limit, ctx.state.uploads.clone());
            while let Some(part) = form.next().await? {
                if part.name() == "source" {
                    return Err(AppError::field("source", "Name one source"));
                }
                upload.part(part).await?;
            }
            let upload = upload.finish().await?;
            runs::enqueue_catalog_import(
                &ctx.state.db,
                ctx.state.jobs.as_ref(),
                &ctx.actor(),
                source,
                Some(upload),
                &ctx.state.uploads,
            )
            .await
        }
        .await,
    )
}

/// The System panel's upload of the D3FEND ontology (a Turtle file in the `file` part), saved
/// for the import job (follow it with `job_run`).
#[server(prefix = "/api/fn", endpoint = "upload_d3fend", input = server_fn::codec::MultipartFormData)]
pub async fn upload_d3fend(data: server_fn::codec::MultipartData) -> Result<EnqueuedJob, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::importers::uploads::save_single_file;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::upload::MultipartReader;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let limit = ctx.state.max_import_bytes;
            let mut form = MultipartReader::from_server_fn(data, &["file"], limit)?;
            let upload = save_single_file(
                &mut form,
                limit,
                &ctx.state.uploads,
                "d3fend.ttl",
                "D3FEND ontology (Turtle)",
            )
            .await?;
            runs::enqueue_import(
                &ctx.state.db,
                ctx.state.jobs.as_ref(),
                &ctx.actor(),
                JobName::D3fendImport,
                "D3FEND",
                Some(upload),
                &ctx.state.uploads,
            )
            .await
        }
        .await,
    )
}

/// The latest runs of one job, newest first: the System panel's import history.
#[server(prefix = "/api/fn", endpoint = "job_history")]
pub async fn job_history(job: JobName) -> Result<Vec<JobRunDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            runs::recent_of(&ctx.state.db, job, 20).await
        }
        .await,
    )
}

/// The System panel's upload of a compliance mapping (the CTID JSON in the `file` part), saved
/// for the import job (follow it with `job_run`).
#[server(prefix = "/api/fn", endpoint = "upload_compliance", input = server_fn::codec::MultipartFormData)]
pub async fn upload_compliance(
    data: server_fn::codec::MultipartData,
) -> Result<EnqueuedJob, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::importers::uploads::save_single_file;
    use crate::server::jobs::runs;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::platform::upload::MultipartReader;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let limit = ctx.state.max_import_bytes;
            let mut form = MultipartReader::from_server_fn(data, &["file"], limit)?;
            let upload = save_single_file(
                &mut form,
                limit,
                &ctx.state.uploads,
                "mapping.json",
                "compliance mapping (JSON)",
            )
            .await?;
            runs::enqueue_import(
                &ctx.state.db,
                ctx.state.jobs.as_ref(),
                &ctx.actor(),
                JobName::ComplianceImport,
                "compliance mapping",
                Some(upload),
                &ctx.state.uploads,
            )
            .await
        }
        .await,
    )
}
