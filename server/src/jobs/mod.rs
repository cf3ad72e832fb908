//! The background job runner: apalis workers over a persistent queue in Aegis's own database
//! (SQLite or PostgreSQL), and apalis-cron schedules that feed it. Runs are recorded in
//! `job_runs` by the jobs service, so the System panel sees queued, running, retrying, failed
//! and finished runs whichever process ran them.
pub mod archive_source;
pub mod attack_source;
mod execute;
pub mod feed_source;
pub mod webhooks;

use crate::config::Config;
use apalis::layers::retry::HasherRng;
use apalis::layers::retry::RetryPolicy;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use app::dto::jobs::JobName;
use app::error::{AppError, AppResult};
use app::server::importers::uploads::UploadDir;
use app::server::jobs::queue::{BoxFuture, JobQueue, ScheduleInfo};
use app::server::jobs::runs;
use attack_source::AttackSource;
use chrono::Utc;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Why a job failed, and whether another try could help: input that cannot be parsed or is
/// refused fails at once; the network and the database may recover, so they are retried.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub permanent: bool,
}

impl Failure {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        // The run's history shows the generic detail; the log keeps what went wrong.
        if let AppError::Internal(message) = &error {
            tracing::error!(%message, "job failed on an internal error");
        }
        // Ours and an outage (the database or the store away) may pass: retried. What the
        // input or the caller got wrong will not.
        Self {
            permanent: !matches!(error, AppError::Internal(_) | AppError::Unavailable(_)),
            message: error.detail(),
        }
    }
}

/// The queue's name in apalis's tables.
const QUEUE: &str = "aegis_jobs";

/// What travels through the queue: the run to execute. Everything else is in `job_runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRequest {
    pub run_id: Uuid,
    pub job: JobName,
}

/// What a job needs to run.
#[derive(Clone)]
pub struct JobContext {
    pub db: DatabaseConnection,
    pub source: Arc<AttackSource>,
    pub archives: Arc<archive_source::ArchiveSource>,
    pub feeds: Arc<feed_source::FeedSource>,
    pub intel_stale_days: u32,
    pub uploads: UploadDir,
    /// How often a running job stamps its run ([`runs::beat`]).
    pub run_heartbeat: Duration,
}

impl JobContext {
    /// A `running` run not stamped since this is taken to be interrupted: ten heartbeats.
    pub fn stale_before(&self) -> chrono::DateTime<Utc> {
        Utc::now()
            - chrono::Duration::from_std(self.run_heartbeat.saturating_mul(10))
                .unwrap_or(chrono::Duration::seconds(30))
    }
}

#[derive(Clone)]
enum Storage {
    Sqlite(SqliteStorage<JobRequest>),
    Postgres(PostgresStorage<JobRequest>),
}

/// Pushes runs into the persistent queue and knows the schedules.
struct Sink {
    storage: Storage,
    schedules: Schedules,
}

impl JobQueue for Sink {
    fn push(&self, run_id: Uuid, job: JobName) -> BoxFuture<'_, AppResult<()>> {
        let request = JobRequest { run_id, job };
        let storage = self.storage.clone();
        Box::pin(async move {
            let result = match storage {
                Storage::Sqlite(mut s) => s.push(request).await.map_err(|e| e.to_string()),
                Storage::Postgres(mut s) => s.push(request).await.map_err(|e| e.to_string()),
            };
            result.map_err(|e| AppError::internal(format!("job queue: {e}")))
        })
    }

    fn schedules(&self) -> Vec<ScheduleInfo> {
        self.schedules
            .iter()
            .map(|(job, schedule)| ScheduleInfo {
                job: *job,
                cron: schedule.as_ref().map(|(expr, _)| expr.clone()),
                next_run: schedule.as_ref().and_then(|(_, s)| s.upcoming(Utc).next()),
            })
            .collect()
    }
}

/// The runner as the rest of the server sees it. Dropping it (with the last `AppState`)
/// stops the workers.
pub struct Jobs {
    sink: Arc<Sink>,
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    stopped: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl JobQueue for Jobs {
    fn push(&self, run_id: Uuid, job: JobName) -> BoxFuture<'_, AppResult<()>> {
        self.sink.push(run_id, job)
    }

    fn schedules(&self) -> Vec<ScheduleInfo> {
        self.sink.schedules()
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(stop) = self.stop.lock().ok().and_then(|mut s| s.take()) {
                let _ = stop.send(());
            }
            if let Some(runner) = self.stopped.lock().await.take()
                && tokio::time::timeout(grace + Duration::from_secs(1), runner)
                    .await
                    .is_err()
            {
                tracing::warn!("the job runner did not stop within the grace period");
            }
        })
    }
}

/// Each job with its cron expression and parsed schedule; `None` when disabled.
type Schedules = Vec<(JobName, Option<(String, cron::Schedule)>)>;

/// What a schedule tick needs to enqueue a run.
#[derive(Clone)]
struct Scheduler {
    db: DatabaseConnection,
    sink: Arc<Sink>,
}

async fn on_tick(
    tick: Tick,
    scheduler: Data<Scheduler>,
    job: Data<JobName>,
) -> Result<(), BoxDynError> {
    // The tick is the schedule's time, not the moment this process woke: every replica
    // names the same tick, and the first to record it makes the run.
    let at = i64::try_from(tick.get_timestamp()).unwrap_or(i64::MAX);
    let enqueued = runs::enqueue_scheduled(&scheduler.db, scheduler.sink.as_ref(), *job, at)
        .await
        .map_err(|e| e.detail())?;
    tracing::info!(job = %*job, run = %enqueued.job_id, tick = at, joined = enqueued.already_running, "scheduled job enqueued");
    Ok(())
}

fn parse_schedules(config: &Config) -> anyhow::Result<Schedules> {
    let mut out = Vec::new();
    for (job, expr) in [
        (JobName::MitreSync, &config.jobs.mitre_sync),
        (
            JobName::NotificationCleanup,
            &config.jobs.notification_cleanup,
        ),
        (JobName::WeeklySnapshot, &config.jobs.weekly_snapshot),
        (JobName::IntelScan, &config.jobs.intel_scan),
        (
            JobName::RecurringCampaigns,
            &config.jobs.recurring_campaigns,
        ),
        (JobName::ScoringRecompute, &config.jobs.scoring_recompute),
    ] {
        let schedule = match expr {
            Some(expr) => Some((
                expr.clone(),
                cron::Schedule::from_str(expr)
                    .map_err(|e| anyhow::anyhow!("schedule of {job} '{expr}': {e}"))?,
            )),
            None => None,
        };
        out.push((job, schedule));
    }
    Ok(out)
}

/// How many times one run is handed to the queue again before the watchdog runs it itself.
const REPUSHES_MAX: u32 = 2;

/// The queue's safety net. On SQLite, after a long write, apalis's worker has been seen to stop
/// fetching (alive, idle, never failing, so the monitor does not restart it): runs stayed
/// `queued` until the process restarted, and pushing them again did not help. Every two
/// heartbeats this looks for runs queued longer than a worker needs to see them (ten
/// heartbeats, at least 10 s) while nothing runs anywhere; it pushes such a run again, twice,
/// and then runs it here, with the same retries. A copy the worker fetches later does
/// nothing: `runs::start_attempt` never starts a finished run.
async fn watch_stranded_runs(
    db: DatabaseConnection,
    sink: Arc<Sink>,
    context: JobContext,
    heartbeat: Duration,
    retry_backoff: Duration,
) {
    let patience = heartbeat.saturating_mul(10).max(Duration::from_secs(10));
    let mut pushed: std::collections::HashMap<Uuid, u32> = std::collections::HashMap::new();
    let mut tick = tokio::time::interval(heartbeat.saturating_mul(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // A run whose process was killed mid-way is taken up again (or failed when it has
        // no attempt left), by whichever live process sees it first.
        match runs::take_up_interrupted(&db, context.stale_before()).await {
            Ok(again) => {
                for (id, job) in again {
                    tracing::warn!(run = %id, %job, "run interrupted (its server stopped); queueing it again");
                    if let Err(err) = sink.push(id, job).await {
                        tracing::warn!(run = %id, error = %err.detail(), "could not queue the run again");
                    }
                }
            }
            Err(err) => {
                tracing::debug!(error = %err.detail(), "could not look for interrupted runs");
            }
        }
        let before = Utc::now()
            - chrono::Duration::from_std(patience).unwrap_or(chrono::Duration::seconds(10));
        let stranded = match runs::stranded(&db, before).await {
            Ok(stranded) => stranded,
            Err(err) => {
                tracing::debug!(error = %err.detail(), "could not look for stranded runs");
                continue;
            }
        };
        pushed.retain(|id, _| stranded.iter().any(|(s, _)| s == id));
        // One at a time, oldest first: the next tick sees the others.
        let Some((id, job)) = stranded.into_iter().next() else {
            continue;
        };
        let times = pushed.entry(id).or_default();
        *times += 1;
        if *times <= REPUSHES_MAX {
            tracing::warn!(run = %id, %job, "run still queued with the worker idle; queueing it again");
            if let Err(err) = sink.push(id, job).await {
                tracing::warn!(run = %id, error = %err.detail(), "could not queue the run again");
            }
            continue;
        }
        tracing::warn!(run = %id, %job, "the worker does not take the run; running it here");
        pushed.remove(&id);
        let mut delay = retry_backoff;
        for _ in 0..runs::MAX_ATTEMPTS {
            let request = JobRequest { run_id: id, job };
            if execute::run_request(request, context.clone()).await.is_ok() {
                break;
            }
            match runs::get(&db, id).await {
                Ok(run) if run.status == "retrying" => {
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                _ => break,
            }
        }
    }
}

/// Creates apalis's tables if needed and starts the workers and schedules in the background.
pub async fn start(
    db: &DatabaseConnection,
    config: &Config,
    uploads: UploadDir,
) -> anyhow::Result<Arc<Jobs>> {
    let source = AttackSource::new(config.attack_source.clone(), config.max_import_bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let archives = archive_source::ArchiveSource::new(
        config.catalog_archives.clone(),
        config.attack_source.timeout,
        config.max_import_bytes,
        config.archive_limits,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let context = JobContext {
        db: db.clone(),
        source: Arc::new(source),
        archives: Arc::new(archives),
        feeds: Arc::new(
            feed_source::FeedSource::new(&config.intel).map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        intel_stale_days: config.intel.stale_days,
        uploads,
        run_heartbeat: config.jobs.run_heartbeat,
    };
    let retry_backoff = config.jobs.retry_backoff;
    let poll = config.jobs.poll_interval;
    // apalis hands a new job to the idle worker at its next heartbeat, not at its next poll:
    // with its default of 30 s, "run now" waited up to half a minute. Five polls, 1–30 s.
    let heartbeat = poll
        .saturating_mul(5)
        .clamp(Duration::from_secs(1), Duration::from_secs(30));
    let storage = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            // Only the migrations: `setup` would also relax the pool's durability pragmas.
            SqliteStorage::<()>::migrations().run(pool).await?;
            Storage::Sqlite(
                SqliteStorage::new(pool).with_config(
                    apalis_sqlite::Config::default()
                        .queue(QUEUE)
                        .heartbeat_interval(heartbeat),
                ),
            )
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            PostgresStorage::setup(pool).await?;
            Storage::Postgres(
                PostgresStorage::new(pool).with_config(
                    apalis_postgres::Config::default()
                        .queue(QUEUE)
                        .heartbeat_interval(heartbeat),
                ),
            )
        }
        other => anyhow::bail!("no job storage for {other:?}"),
    };
    let sink = Arc::new(Sink {
        storage: storage.clone(),
        schedules: parse_schedules(config)?,
    });

    let backoff = move || {
        ExponentialBackoffMaker::new(
            retry_backoff,
            retry_backoff.saturating_mul(16),
            0.2,
            HasherRng::default(),
        )
        .map(|mut maker| maker.make_backoff())
    };
    // Validate once so the worker factories below cannot fail.
    backoff().map_err(|e| anyhow::anyhow!("job retry backoff: {e}"))?;
    let retries = usize::try_from(runs::MAX_ATTEMPTS - 1).unwrap_or(0);

    macro_rules! job_worker {
        ($backend:expr) => {{
            let context = context.clone();
            let backoff = backoff.clone();
            let backend = $backend;
            move |_restarts: usize| {
                WorkerBuilder::new("aegis-jobs")
                    .backend(backend.clone().poll_with_interval(poll))
                    .data(context.clone())
                    // Outside the retry layer: one job at a time, retries included. Inside
                    // it, a retry would wait for the permit the idle worker holds.
                    .concurrency(1)
                    .retry(RetryPolicy::retries(retries).with_backoff(
                        backoff().unwrap_or_else(|_| unreachable!("validated above")),
                    ))
                    .catch_panic()
                    .build(execute::execute)
            }
        }};
    }
    // A worker whose storage stream fails (the database busy or briefly gone) is started again
    // rather than leaving the queue unserved until the next restart of the process.
    let mut monitor = Monitor::new().should_restart(|worker, error| {
        tracing::warn!(worker = %worker.name(), restarts = worker.restarts(), %error, "job worker failed; restarting it");
        true
    });
    if config.jobs.worker {
        monitor = match storage {
            Storage::Sqlite(s) => monitor.register(job_worker!(s)),
            Storage::Postgres(s) => monitor.register(job_worker!(s)),
        };
    }
    let scheduler = Scheduler {
        db: db.clone(),
        sink: sink.clone(),
    };
    for (job, schedule) in &sink.schedules {
        let Some((_, schedule)) = schedule.clone() else {
            continue;
        };
        let job = *job;
        let scheduler = scheduler.clone();
        monitor = monitor.register(move |_restarts: usize| {
            WorkerBuilder::new(format!("schedule-{job}"))
                .backend(CronScheduler::new(schedule.clone()))
                .data(scheduler.clone())
                .data(job)
                .catch_panic()
                .build(on_tick)
        });
    }
    // What a server killed mid-upload left behind goes (uploads an hour old no run reads).
    {
        let (db, uploads) = (db.clone(), context.uploads.clone());
        tokio::spawn(async move {
            if let Err(err) = execute::sweep_uploads(&db, &uploads).await {
                tracing::warn!(error = %err.detail(), "could not sweep the upload folder");
            }
        });
    }
    let sender = tokio::spawn(webhooks::send_forever(db.clone(), config.webhooks.clone()));
    // Only where runs are worked: the watchdog may run a run itself.
    let watchdog = config.jobs.worker.then(|| {
        tokio::spawn(watch_stranded_runs(
            db.clone(),
            sink.clone(),
            context.clone(),
            heartbeat,
            retry_backoff,
        ))
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let grace = config.shutdown_grace;
    let runner = tokio::spawn(async move {
        let signal = async move {
            let _ = stopped.await;
            Ok(())
        };
        if let Err(err) = monitor
            .shutdown_timeout(grace)
            .run_with_signal(signal)
            .await
        {
            tracing::error!(error = %err, "job runner stopped");
        }
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        sender.abort();
    });
    Ok(Arc::new(Jobs {
        sink,
        stop: std::sync::Mutex::new(Some(stop)),
        stopped: tokio::sync::Mutex::new(Some(runner)),
    }))
}
