//! The job runner as the System panel uses it: schedules, running a job now, one run's progress.
use crate::dto::jobs::{EnqueuedJob, JobName, JobRunDto, SchedulerStatus};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "scheduler_status")]
pub async fn load_scheduler_status() -> Result<SchedulerStatus, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::context::ServerFnContext;
    use crate::server::services::jobs;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            jobs::scheduler_status(&ctx.state.db, ctx.state.jobs.as_ref()).await
        }
        .await,
    )
}

/// Queues `job` now and answers at once; the panel then follows the run with [`job_run`].
#[server(prefix = "/api/fn", endpoint = "run_job")]
pub async fn run_job(job: JobName) -> Result<EnqueuedJob, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::attack::import::Trigger;
    use crate::server::context::ServerFnContext;
    use crate::server::services::jobs;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            jobs::enqueue(
                &ctx.state.db,
                ctx.state.jobs.as_ref(),
                job,
                Trigger::Admin,
                &ctx.actor(),
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "job_run")]
pub async fn job_run(id: Uuid) -> Result<JobRunDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::context::ServerFnContext;
    use crate::server::services::jobs;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            jobs::get(&ctx.state.db, id).await
        }
        .await,
    )
}
