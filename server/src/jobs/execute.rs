//! Runs one queued job: records the attempt, runs the job in its own task (so a panic is a
//! failed attempt, not a dead worker), keeps its progress visible, and records the outcome.
use super::{Failure, JobContext, JobRequest, archive_source};
use apalis::prelude::{AbortError, BoxDynError, Data};
use app::domain::sources::CatalogImport;
use app::dto::intel::IntelScanReport;
use app::dto::jobs::{JobName, JobProgress};
use app::error::AppError;
use app::server::importers::atomics::import::AtomicRedTeam;
use app::server::importers::attack::import::{import_bundle, record_failed_sync};
use app::server::importers::caldera::Caldera;
use app::server::importers::d3fend::D3fend;
use app::server::importers::gtfobins::Gtfobins;
use app::server::importers::lolbas::Lolbas;
use app::server::importers::rules::{ElasticRules, SigmaRules};
use app::server::importers::uploads::UploadDir;
use app::server::importers::{Input, Trigger, no_progress, run};
use app::server::intel;
use app::server::jobs::runs;
use app::server::platform::context::Actor;
use app::server::platform::notifications;
use app::server::reporting::snapshots;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct JobFailed(String);

/// Read notifications older than this are deleted by `notification_cleanup`.
const NOTIFICATION_RETENTION_DAYS: i64 = 90;

/// How often a running job's progress is written to its run.
const PROGRESS_EVERY: Duration = Duration::from_millis(300);

pub async fn execute(request: JobRequest, context: Data<JobContext>) -> Result<(), BoxDynError> {
    run_request(request, (*context).clone()).await
}

/// [`execute`] without apalis: what the queue's watchdog runs when the worker does not.
pub async fn run_request(request: JobRequest, context: JobContext) -> Result<(), BoxDynError> {
    let Some(run) =
        runs::start_attempt(&context.db, request.run_id, context.stale_before()).await?
    else {
        tracing::debug!(run = %request.run_id, "run already finished; nothing to do");
        return Ok(());
    };
    let last_attempt = run.attempts >= run.max_attempts;
    let trigger = Trigger::parse(&run.trigger);
    let actor = Actor::system(run.requested_by.as_deref().unwrap_or("scheduler"));
    let progress = Reporter::default();
    let saver = progress.keep_saved(context.db.clone(), request.run_id);
    let heartbeat = {
        let db = context.db.clone();
        let every = context.run_heartbeat;
        let id = request.run_id;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(err) = runs::beat(&db, id).await {
                    tracing::debug!(run = %id, error = %err.detail(), "could not stamp the run");
                }
            }
        })
    };
    let params = run.params.clone();
    let task = {
        let context = context.clone();
        let progress = progress.clone();
        let params = params.clone();
        tokio::spawn(async move {
            run_job(request.job, &context, trigger, &actor, &progress, params).await
        })
    };
    let outcome = match task.await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(Failure::transient("the job panicked")),
        Err(join) => Err(Failure::transient(format!("the job was cancelled: {join}"))),
    };
    saver.abort();
    heartbeat.abort();
    progress.save(&context.db, request.run_id).await;
    let last_attempt = last_attempt || outcome.as_ref().is_err_and(|f| f.permanent);
    let outcome = outcome.map_err(|f| f.message);
    let failed = outcome.as_ref().err().cloned();
    if failed.is_none() || last_attempt {
        discard_upload(params.as_ref(), &context.uploads).await;
    }
    runs::finish(&context.db, request.run_id, outcome, last_attempt).await?;
    match failed {
        None => Ok(()),
        Some(error) => {
            tracing::warn!(job = %request.job, run = %request.run_id, attempt = run.attempts, last_attempt, %error, "job failed");
            if last_attempt {
                // Tells apalis's retry layer this failure is final.
                Err(Box::new(AbortError::new(JobFailed(error))))
            } else {
                Err(error.into())
            }
        }
    }
}

/// An uploaded archive is removed once its import is over, whatever the outcome (here and
/// from the shared store).
async fn discard_upload(params: Option<&Value>, uploads: &UploadDir) {
    if let Some(name) = upload_name(params) {
        uploads.discard(name).await;
    }
}

/// Removes import uploads no unfinished run reads, older than an hour: what a server killed
/// mid-upload (or mid-import, after the run was failed) left behind. Run at start-up.
pub async fn sweep_uploads(
    db: &sea_orm::DatabaseConnection,
    uploads: &UploadDir,
) -> app::error::AppResult<u64> {
    let waiting: std::collections::HashSet<String> = runs::unfinished_params(db)
        .await?
        .iter()
        .filter_map(|params| upload_name(Some(params)).map(str::to_owned))
        .collect();
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(60 * 60);
    let dir = uploads.path().to_path_buf();
    let removed = tokio::task::spawn_blocking(move || {
        let mut removed = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".part").unwrap_or(&name);
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m < before);
            if old && !waiting.contains(stem) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    })
    .await
    .unwrap_or(0);
    if removed > 0 {
        tracing::warn!(removed, "removed import uploads no run reads");
    }
    Ok(removed)
}

/// The upload an import reads, by its generated name: only ever a plain file name.
fn upload_name(params: Option<&Value>) -> Option<&str> {
    let params = params?;
    if params.get("source")?.as_str()? != "upload" {
        return None;
    }
    let name = params.get("file")?.as_str()?;
    (!name.contains('/') && !name.contains('\\') && !name.starts_with('.')).then_some(name)
}

/// The uploaded file of an import as a local file, fetched from the shared store when another
/// server process took the upload; `None` when the run reads its source's URL instead.
async fn upload_path(
    params: Option<&Value>,
    uploads: &UploadDir,
) -> Result<Option<std::path::PathBuf>, Failure> {
    let Some(name) = upload_name(params) else {
        return Ok(None);
    };
    match uploads.fetch(name).await? {
        Some(path) => Ok(Some(path)),
        None => Err(Failure {
            message: "The uploaded file is no longer there; upload it again".into(),
            permanent: true,
        }),
    }
}

async fn import_catalog_job(
    source: CatalogImport,
    context: &JobContext,
    actor: &Actor,
    progress: &Reporter,
    params: Option<Value>,
) -> Result<Value, Failure> {
    let limits = context.archives.limits;
    let (files, origin) = match upload_path(params.as_ref(), &context.uploads).await? {
        Some(path) => {
            progress.set("Reading the archive", 0, 0, None);
            let name = params
                .as_ref()
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("upload.zip")
                .to_owned();
            (
                archive_source::read_zip(&path, limits, source).await?,
                format!("upload:{name}"),
            )
        }
        None => {
            let url = context.archives.archives.url(source).to_owned();
            progress.set("Downloading", 0, 0, Some(url.clone()));
            let files = context
                .archives
                .download(source, &context.uploads, &|bytes| {
                    progress.set(
                        "Downloading",
                        bytes,
                        0,
                        Some(format!("{:.1} MB", bytes as f64 / 1e6)),
                    )
                })
                .await?;
            (files, format!("archive:{url}"))
        }
    };
    let input = Input::Files(files);
    let shown = |p: app::server::importers::Progress| progress.set(p.stage, p.done, p.total, None);
    let report = match source {
        CatalogImport::AtomicRedTeam => {
            json!(run::<AtomicRedTeam>(&context.db, actor, input, &origin, &shown).await?)
        }
        CatalogImport::Caldera => {
            json!(run::<Caldera>(&context.db, actor, input, &origin, &shown).await?)
        }
        CatalogImport::Lolbas => {
            json!(run::<Lolbas>(&context.db, actor, input, &origin, &shown).await?)
        }
        CatalogImport::Gtfobins => {
            json!(run::<Gtfobins>(&context.db, actor, input, &origin, &shown).await?)
        }
        CatalogImport::Sigma => {
            json!(run::<SigmaRules>(&context.db, actor, input, &origin, &shown).await?)
        }
        CatalogImport::ElasticRules => {
            json!(run::<ElasticRules>(&context.db, actor, input, &origin, &shown).await?)
        }
    };
    Ok(json!({ "source": origin, "report": report }))
}

async fn run_job(
    job: JobName,
    context: &JobContext,
    trigger: Trigger,
    actor: &Actor,
    progress: &Reporter,
    params: Option<Value>,
) -> Result<Value, Failure> {
    match job {
        JobName::AtomicsImport
        | JobName::CalderaImport
        | JobName::LolbasImport
        | JobName::GtfobinsImport
        | JobName::SigmaImport
        | JobName::ElasticRulesImport => {
            let source = job
                .imports()
                .ok_or_else(|| Failure::transient(format!("{job} imports no source")))?;
            import_catalog_job(source, context, actor, progress, params).await
        }
        JobName::MitreSync => {
            progress.set(
                "Downloading",
                0,
                0,
                Some("Contacting MITRE's TAXII server".into()),
            );
            let fetched = match context
                .source
                .fetch(&|message| progress.set("Downloading", 0, 0, Some(message)))
                .await
            {
                Ok(fetched) => fetched,
                Err(error) => {
                    record_failed_sync(
                        &context.db,
                        actor,
                        trigger,
                        &context.source.describe(),
                        &error.0,
                    )
                    .await?;
                    return Err(Failure::transient(error.0));
                }
            };
            let report = import_bundle(
                &context.db,
                actor,
                fetched.bundle,
                trigger,
                &fetched.source,
                &|p| progress.set(p.stage, p.done, p.total, None),
            )
            .await?;
            Ok(json!({ "source": fetched.source, "report": report }))
        }
        JobName::NotificationCleanup => {
            let cutoff = chrono::Utc::now() - chrono::Duration::days(NOTIFICATION_RETENTION_DAYS);
            let deleted = notifications::delete_read_before(&context.db, cutoff).await?;
            Ok(json!({ "deleted": deleted, "cutoff": cutoff }))
        }
        JobName::WeeklySnapshot => {
            let (id, pruned) = snapshots::take(&context.db, snapshots::KEEP).await?;
            Ok(json!({ "snapshot_id": id, "pruned": pruned }))
        }
        JobName::IntelScan => intel_scan_job(context, actor, progress).await,
        JobName::D3fendImport => d3fend_import_job(context, actor, progress, params).await,
        JobName::ComplianceImport => compliance_import_job(context, actor, progress, params).await,
        JobName::ScoringRecompute => {
            let txn = app::server::platform::db::begin_write(&context.db)
                .await
                .map_err(AppError::from)?;
            let techniques = app::server::scoring::compute::recompute_current(&txn).await?;
            txn.commit().await.map_err(AppError::from)?;
            Ok(json!({ "techniques": techniques }))
        }
        JobName::RecurringCampaigns => {
            let today = chrono::Utc::now().date_naive();
            let report =
                app::server::campaigns::recurring::spawn_due(&context.db, actor, today).await?;
            Ok(json!(report))
        }
    }
}

/// Imports an uploaded compliance mapping.
async fn compliance_import_job(
    context: &JobContext,
    actor: &Actor,
    progress: &Reporter,
    params: Option<Value>,
) -> Result<Value, Failure> {
    let path = upload_path(params.as_ref(), &context.uploads)
        .await?
        .ok_or_else(|| {
            AppError::BadRequest("The compliance import needs an uploaded mapping file".into())
        })?;
    let name = params
        .as_ref()
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("mapping.json")
        .to_owned();
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Failure::transient(format!("reading the upload: {e}")))?;
    let origin = format!("upload:{name}");
    let shown = |p: app::server::importers::Progress| progress.set(p.stage, p.done, p.total, None);
    let report = run::<app::server::importers::compliance::ComplianceMapping>(
        &context.db,
        actor,
        Input::Bytes(bytes),
        &origin,
        &shown,
    )
    .await?;
    Ok(json!({ "source": origin, "report": report }))
}

/// Imports the D3FEND ontology from the uploaded file, or downloads it from the configured URL.
async fn d3fend_import_job(
    context: &JobContext,
    actor: &Actor,
    progress: &Reporter,
    params: Option<Value>,
) -> Result<Value, Failure> {
    let (bytes, origin) = match upload_path(params.as_ref(), &context.uploads).await? {
        Some(path) => {
            let name = params
                .as_ref()
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("d3fend.ttl")
                .to_owned();
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| Failure::transient(format!("reading the upload: {e}")))?;
            (bytes, format!("upload:{name}"))
        }
        None => {
            let url = context.archives.archives.d3fend.clone();
            progress.set("Downloading", 0, 0, Some(url.clone()));
            let bytes = context
                .archives
                .download_file(&url, &|bytes| {
                    progress.set(
                        "Downloading",
                        bytes,
                        0,
                        Some(format!("{:.1} MB", bytes as f64 / 1e6)),
                    )
                })
                .await?;
            (bytes, url)
        }
    };
    let shown = |p: app::server::importers::Progress| progress.set(p.stage, p.done, p.total, None);
    let report = run::<D3fend>(&context.db, actor, Input::Bytes(bytes), &origin, &shown).await?;
    Ok(json!({ "source": origin, "report": report }))
}

/// Feeds fetched at once: a slow feed holds one slot, not the scan.
const FEEDS_AT_ONCE: usize = 4;

/// Fetches every active feed (a few at a time) and imports the documents in the feeds' order
/// (so which feed an item shared by two is credited to does not depend on who answered
/// first); a feed that fails is recorded as failed and the others go on.
async fn intel_scan_job(
    context: &JobContext,
    actor: &Actor,
    progress: &Reporter,
) -> Result<Value, Failure> {
    use futures::StreamExt;
    let feeds = intel::feeds::active(&context.db).await?;
    let total = feeds.len() as u64;
    progress.set("Scanning feeds", 0, total, None);
    let source = context.feeds.clone();
    let mut fetches = futures::stream::iter(feeds)
        .map(move |feed| {
            let source = source.clone();
            async move {
                let fetched = source.fetch(&feed).await;
                (feed, fetched)
            }
        })
        .buffered(FEEDS_AT_ONCE);
    let mut report = IntelScanReport::default();
    while let Some((feed, fetched)) = fetches.next().await {
        let scanned =
            intel::scan::scan_feed(&context.db, actor, &feed, fetched, &no_progress).await?;
        report.feeds.push(scanned);
        progress.set(
            "Scanning feeds",
            report.feeds.len() as u64,
            total,
            Some(feed.name.clone()),
        );
    }
    report.feeds.sort_by(|a, b| a.feed.cmp(&b.feed));
    intel::scan::notify_leads(&context.db, &mut report, context.intel_stale_days).await?;
    Ok(json!(report))
}

/// The latest progress of a running job, written to its run every [`PROGRESS_EVERY`].
#[derive(Clone, Default)]
struct Reporter {
    latest: Arc<Mutex<(Option<JobProgress>, bool)>>,
}

impl Reporter {
    fn set(&self, stage: &str, done: u64, total: u64, message: Option<String>) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = (
                Some(JobProgress {
                    stage: stage.to_owned(),
                    done,
                    total,
                    message,
                }),
                true,
            );
        }
    }

    async fn save(&self, db: &sea_orm::DatabaseConnection, run_id: Uuid) {
        let pending = match self.latest.lock() {
            Ok(mut latest) if latest.1 => {
                latest.1 = false;
                latest.0.clone()
            }
            _ => None,
        };
        if let Some(progress) = pending
            && let Err(err) = runs::set_progress(db, run_id, &progress).await
        {
            tracing::warn!(error = %err.detail(), "could not save job progress");
        }
    }

    fn keep_saved(
        &self,
        db: sea_orm::DatabaseConnection,
        run_id: Uuid,
    ) -> tokio::task::JoinHandle<()> {
        let reporter = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                reporter.save(&db, run_id).await;
            }
        })
    }
}
