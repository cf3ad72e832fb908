//! The seam between the services and the job runner (apalis, in the server crate): services
//! record runs and decide what to enqueue; the runner only moves work to a worker.
use crate::dto::jobs::JobName;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One job's schedule as configured.
#[derive(Debug, Clone)]
pub struct ScheduleInfo {
    pub job: JobName,
    /// Cron expression in UTC; `None` when switched off.
    pub cron: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
}

pub trait JobQueue: Send + Sync + 'static {
    /// Hands the already recorded run `run_id` to the persistent queue.
    fn push(&self, run_id: Uuid, job: JobName) -> BoxFuture<'_, AppResult<()>>;

    fn schedules(&self) -> Vec<ScheduleInfo>;

    /// Stops taking work and lets the running job step finish, waiting at most `grace`
    /// (a run cut short is taken up again by a live server: `runs::take_up_interrupted`).
    fn shutdown(&self, _grace: std::time::Duration) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// For processes that run no jobs (CLI commands): enqueueing is refused, not lost.
pub struct NoJobs;

impl JobQueue for NoJobs {
    fn push(&self, _: Uuid, job: JobName) -> BoxFuture<'_, AppResult<()>> {
        Box::pin(async move {
            Err(crate::error::AppError::internal(format!(
                "no job runner in this process to run {job}"
            )))
        })
    }

    fn schedules(&self) -> Vec<ScheduleInfo> {
        Vec::new()
    }
}
