//! Runs of background jobs: recorded when enqueued, updated by the worker as they progress,
//! read by the System panel.
use crate::domain::audit::AuditAction;
use crate::domain::sources::CatalogImport;
use crate::dto::jobs::{
    EnqueuedJob, JobName, JobProgress, JobRunDto, ScheduledJobStatus, SchedulerStatus,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::job_run;
use crate::server::importers::Trigger;
use crate::server::importers::uploads::UploadDir;
use crate::server::jobs::queue::JobQueue;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use uuid::Uuid;

/// Attempts per run: the first and two retries with backoff.
pub const MAX_ATTEMPTS: i32 = 3;

const ACTIVE: [&str; 3] = ["queued", "running", "retrying"];

pub fn to_dto(model: job_run::Model) -> JobRunDto {
    JobRunDto {
        id: model.id,
        job: model.job,
        trigger: model.trigger,
        requested_by: model.requested_by,
        status: model.status,
        attempts: model.attempts,
        max_attempts: model.max_attempts,
        progress: model
            .progress
            .and_then(|p| serde_json::from_value::<JobProgress>(p).ok()),
        result: model.result,
        error: model.error,
        enqueued_at: model.enqueued_at,
        started_at: model.started_at,
        finished_at: model.finished_at,
        params: model.params,
    }
}

/// The run of `job` that is queued, running or retrying, if any (at most one: a unique index).
async fn active_run(
    conn: &impl ConnectionTrait,
    job: JobName,
) -> AppResult<Option<job_run::Model>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job.as_str()))
        .filter(job_run::Column::Status.is_in(ACTIVE))
        .one(conn)
        .await?)
}

fn joined(job: JobName, active: job_run::Model) -> EnqueuedJob {
    EnqueuedJob {
        job_id: active.id,
        job,
        status: active.status,
        already_running: true,
    }
}

/// The run made for `tick` of `job`'s schedule, if one was.
async fn run_for_tick(
    conn: &impl ConnectionTrait,
    job: JobName,
    tick: i64,
) -> AppResult<Option<job_run::Model>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job.as_str()))
        .filter(job_run::Column::ScheduledFor.eq(tick))
        .one(conn)
        .await?)
}

/// What was there already: the run made for this tick, or the job's active run.
async fn existing_run(
    conn: &impl ConnectionTrait,
    job: JobName,
    tick: Option<i64>,
) -> AppResult<Option<job_run::Model>> {
    if let Some(tick) = tick
        && let Some(run) = run_for_tick(conn, job, tick).await?
    {
        return Ok(Some(run));
    }
    active_run(conn, job).await
}

/// Records a run and queues it, unless one of the same job is already queued or running, in
/// which case that one is returned: two syncs at once would only fight over the same rows.
pub async fn enqueue(
    db: &DatabaseConnection,
    queue: &dyn JobQueue,
    job: JobName,
    trigger: Trigger,
    actor: &Actor,
    params: Option<serde_json::Value>,
) -> AppResult<EnqueuedJob> {
    enqueue_run(db, queue, job, trigger, actor, params, None).await
}

/// Enqueues the run of one tick of `job`'s schedule (seconds since the epoch). Every server
/// process fires the same ticks; the first to record the tick makes the run, the others join
/// it (or its active run), so a schedule runs once per tick however many processes there are.
pub async fn enqueue_scheduled(
    db: &DatabaseConnection,
    queue: &dyn JobQueue,
    job: JobName,
    tick: i64,
) -> AppResult<EnqueuedJob> {
    let actor = Actor::system("scheduler");
    enqueue_run(db, queue, job, Trigger::Schedule, &actor, None, Some(tick)).await
}

async fn enqueue_run(
    db: &DatabaseConnection,
    queue: &dyn JobQueue,
    job: JobName,
    trigger: Trigger,
    actor: &Actor,
    params: Option<serde_json::Value>,
    tick: Option<i64>,
) -> AppResult<EnqueuedJob> {
    // One writer at a time (SQLite) decides whether a run is already active.
    let txn = begin_write(db).await?;
    if let Some(existing) = existing_run(&txn, job, tick).await? {
        return Ok(joined(job, existing));
    }
    let id = Uuid::new_v4();
    let inserted = job_run::ActiveModel {
        id: Set(id),
        job: Set(job.as_str().into()),
        trigger: Set(trigger.as_str().into()),
        requested_by: Set(actor.username.clone()),
        status: Set("queued".into()),
        attempts: Set(0),
        max_attempts: Set(MAX_ATTEMPTS),
        progress: Set(None),
        result: Set(None),
        error: Set(None),
        enqueued_at: Set(Utc::now()),
        started_at: Set(None),
        finished_at: Set(None),
        params: Set(params.clone()),
        scheduled_for: Set(tick),
        heartbeat_at: Set(None),
    }
    .insert(&txn)
    .await;
    if let Err(err) = inserted {
        // Another request (or process) created the active run, or this tick's, since we
        // looked: a unique index says so.
        if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            txn.rollback().await?;
            if let Some(existing) = existing_run(db, job, tick).await? {
                return Ok(joined(job, existing));
            }
        }
        return Err(err.into());
    }
    if trigger != Trigger::Schedule {
        audit::record(
            &txn,
            actor,
            AuditRecord::new(AuditAction::JobRun, "job", id.to_string())
                .after(serde_json::json!({ "job": job.as_str(), "trigger": trigger.as_str(), "params": params })),
        )
        .await?;
    }
    txn.commit().await?;
    if let Err(err) = queue.push(id, job).await {
        finish(
            db,
            id,
            Err(format!("could not be queued: {}", err.detail())),
            true,
        )
        .await?;
        return Err(err);
    }
    Ok(EnqueuedJob {
        job_id: id,
        job,
        status: "queued".into(),
        already_running: false,
    })
}

/// Starts the next attempt of a run, or says there is none to start: the queue may deliver a
/// run again (a retry after the last attempt, a re-enqueued orphan) and that must not run it
/// twice, nor while another process runs it (its heartbeat is fresh). The check and the
/// update are one statement, so two workers cannot both start it.
pub async fn start_attempt(
    db: &DatabaseConnection,
    id: Uuid,
    stale_before: chrono::DateTime<Utc>,
) -> AppResult<Option<job_run::Model>> {
    let now = Utc::now();
    let started = job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value("running"))
        .col_expr(
            job_run::Column::Attempts,
            Expr::col(job_run::Column::Attempts).add(1),
        )
        .col_expr(
            job_run::Column::StartedAt,
            Func::coalesce([Expr::col(job_run::Column::StartedAt), Expr::value(now)]).into(),
        )
        .col_expr(job_run::Column::Error, Expr::value(Option::<String>::None))
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(now))
        .filter(job_run::Column::Id.eq(id))
        .filter(job_run::Column::Status.is_not_in(["succeeded", "failed"]))
        .filter(
            Condition::any()
                .add(job_run::Column::Status.ne("running"))
                .add(job_run::Column::HeartbeatAt.is_null())
                .add(job_run::Column::HeartbeatAt.lt(stale_before)),
        )
        .filter(Expr::col(job_run::Column::Attempts).lt(Expr::col(job_run::Column::MaxAttempts)))
        .exec(db)
        .await?;
    if started.rows_affected == 0 {
        return Ok(None);
    }
    Ok(Some(find(db, id).await?))
}

/// The inputs of the runs not yet over (queued, running or to be retried).
pub async fn unfinished_params(db: &DatabaseConnection) -> AppResult<Vec<serde_json::Value>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Status.is_in(["queued", "running", "retrying"]))
        .filter(job_run::Column::Params.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|run| run.params)
        .collect())
}

/// The running process's stamp on its run: it is still at work.
pub async fn beat(db: &DatabaseConnection, id: Uuid) -> AppResult<()> {
    job_run::Entity::update_many()
        .col_expr(job_run::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(job_run::Column::Id.eq(id))
        .filter(job_run::Column::Status.eq("running"))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs left `running` by a process that stopped stamping them before `stale_before` (killed,
/// or its machine gone): each is put back to `retrying` to be queued again, or failed when
/// it has no attempt left. Returns the runs to queue again. One statement per run, guarded
/// by the stale stamp, so two processes cannot both take one up.
pub async fn take_up_interrupted(
    db: &DatabaseConnection,
    stale_before: chrono::DateTime<Utc>,
) -> AppResult<Vec<(Uuid, JobName)>> {
    let stale = || {
        Condition::all()
            .add(job_run::Column::Status.eq("running"))
            .add(
                Condition::any()
                    .add(job_run::Column::HeartbeatAt.lt(stale_before))
                    .add(
                        Condition::all()
                            .add(job_run::Column::HeartbeatAt.is_null())
                            .add(job_run::Column::StartedAt.lt(stale_before)),
                    ),
            )
    };
    let found = job_run::Entity::find().filter(stale()).all(db).await?;
    let mut again = Vec::new();
    for run in found {
        let exhausted = run.attempts >= run.max_attempts;
        let mut update = job_run::Entity::update_many()
            .col_expr(
                job_run::Column::Error,
                Expr::value("Interrupted: the server running it stopped"),
            )
            .filter(job_run::Column::Id.eq(run.id))
            .filter(stale());
        update = if exhausted {
            update
                .col_expr(job_run::Column::Status, Expr::value("failed"))
                .col_expr(job_run::Column::FinishedAt, Expr::value(Utc::now()))
        } else {
            update.col_expr(job_run::Column::Status, Expr::value("retrying"))
        };
        let taken = update.exec(db).await?.rows_affected == 1;
        if taken
            && !exhausted
            && let Ok(job) = run.job.parse()
        {
            again.push((run.id, job));
        }
    }
    Ok(again)
}

pub async fn set_progress(
    db: &DatabaseConnection,
    id: Uuid,
    progress: &JobProgress,
) -> AppResult<()> {
    job_run::ActiveModel {
        id: Set(id),
        progress: Set(serde_json::to_value(progress).ok()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Ends an attempt. A failure that will be retried leaves the run `retrying` with its error
/// visible; `last_attempt` makes it final.
pub async fn finish(
    db: &DatabaseConnection,
    id: Uuid,
    outcome: Result<serde_json::Value, String>,
    last_attempt: bool,
) -> AppResult<()> {
    let mut update = job_run::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    match outcome {
        Ok(result) => {
            update.status = Set("succeeded".into());
            update.result = Set(Some(result));
            update.error = Set(None);
            update.finished_at = Set(Some(Utc::now()));
        }
        Err(error) => {
            update.error = Set(Some(error));
            if last_attempt {
                update.status = Set("failed".into());
                update.finished_at = Set(Some(Utc::now()));
            } else {
                update.status = Set("retrying".into());
            }
        }
    }
    update.update(db).await?;
    Ok(())
}

async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<job_run::Model> {
    job_run::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Job run {id} not found")))
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<JobRunDto> {
    Ok(to_dto(find(conn, id).await?))
}

pub async fn recent(conn: &impl ConnectionTrait, limit: u64) -> AppResult<Vec<JobRunDto>> {
    Ok(job_run::Entity::find()
        .order_by_desc(job_run::Column::EnqueuedAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect())
}

pub async fn recent_of(
    conn: &impl ConnectionTrait,
    job: JobName,
    limit: u64,
) -> AppResult<Vec<JobRunDto>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job.as_str()))
        .order_by_desc(job_run::Column::EnqueuedAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_dto)
        .collect())
}

pub async fn scheduler_status(
    conn: &impl ConnectionTrait,
    queue: &dyn JobQueue,
) -> AppResult<SchedulerStatus> {
    let schedules = queue.schedules();
    let mut jobs = Vec::new();
    for job in JobName::ALL {
        let schedule = schedules.iter().find(|s| s.job == job);
        let latest = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.as_str()))
            .order_by_desc(job_run::Column::EnqueuedAt)
            .one(conn)
            .await?;
        let last_finished = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.as_str()))
            .filter(job_run::Column::Status.is_in(["succeeded", "failed"]))
            .order_by_desc(job_run::Column::EnqueuedAt)
            .one(conn)
            .await?;
        let running = latest
            .as_ref()
            .is_some_and(|r| ACTIVE.contains(&r.status.as_str()));
        jobs.push(ScheduledJobStatus {
            job,
            description: job.description().into(),
            schedule: schedule.and_then(|s| s.cron.clone()),
            next_run: schedule.and_then(|s| s.next_run),
            last_result: last_finished.as_ref().map(|r| r.status.clone()),
            last_run: latest.map(to_dto),
            running,
        });
    }
    Ok(SchedulerStatus { jobs })
}

/// Enqueues the import of a catalog source: from its configured archive, or from an upload
/// saved by `importers::files::SourceUpload` (`file`, shown as `name`). An upload while that
/// import is running is refused, not silently joined: its file would be ignored.
pub async fn enqueue_catalog_import(
    db: &DatabaseConnection,
    queue: &dyn JobQueue,
    actor: &Actor,
    source: CatalogImport,
    upload: Option<(String, String)>,
    uploads: &UploadDir,
) -> AppResult<EnqueuedJob> {
    enqueue_import(
        db,
        queue,
        actor,
        JobName::importing(source),
        source.label(),
        upload,
        uploads,
    )
    .await
}

/// Enqueues an import of an upload (saved in the upload folder as `file`, shown as `name`)
/// or, without one, of the source's configured URL. An upload is refused while the same
/// import runs (and removed), so one upload is never silently replaced by another.
pub async fn enqueue_import(
    db: &DatabaseConnection,
    queue: &dyn JobQueue,
    actor: &Actor,
    job: JobName,
    label: &str,
    upload: Option<(String, String)>,
    uploads: &UploadDir,
) -> AppResult<EnqueuedJob> {
    let params = match &upload {
        Some((file, name)) => serde_json::json!({ "source": "upload", "file": file, "name": name }),
        None => serde_json::json!({ "source": "archive" }),
    };
    if let Some((file, _)) = &upload
        && let Err(err) = uploads.publish(file).await
    {
        uploads.discard(file).await;
        return Err(err);
    }
    let enqueued = enqueue(db, queue, job, Trigger::Admin, actor, Some(params)).await;
    if let Some((file, _)) = &upload {
        match &enqueued {
            Ok(job) if job.already_running => {
                uploads.discard(file).await;
                return Err(AppError::Conflict(format!(
                    "A {label} import is already running; try again when it has finished"
                )));
            }
            Err(_) => uploads.discard(file).await,
            Ok(_) => {}
        }
    }
    enqueued
}

/// Runs that have waited in the queue since before `before` without any attempt, oldest
/// first, when no run is being worked on: with an idle worker such a run was lost by the queue
/// (see the runner's watchdog), not waiting its turn.
pub async fn stranded(
    db: &DatabaseConnection,
    before: chrono::DateTime<Utc>,
) -> AppResult<Vec<(Uuid, JobName)>> {
    let busy = job_run::Entity::find()
        .filter(job_run::Column::Status.eq("running"))
        .one(db)
        .await?;
    if busy.is_some() {
        return Ok(Vec::new());
    }
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Status.eq("queued"))
        .filter(job_run::Column::Attempts.eq(0))
        .filter(job_run::Column::EnqueuedAt.lt(before))
        .order_by_asc(job_run::Column::EnqueuedAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.id, r.job.parse().ok()?)))
        .collect())
}
