//! What the `aegis` subcommands do beyond serving: creating a user and the offline imports,
//! through the same services and import pipeline as the UI, with the pipeline's progress drawn
//! as a bar on a terminal (one plain line per stage otherwise, for logs and CI).
use crate::config::Config;
use crate::open_database;
use app::domain::sources::CatalogImport;
use app::server::admin::users;
use app::server::importers::atomics::import::AtomicRedTeam;
use app::server::importers::attack::import::import_bundle;
use app::server::importers::caldera::Caldera;
use app::server::importers::d3fend::D3fend;
use app::server::importers::files;
use app::server::importers::gtfobins::Gtfobins;
use app::server::importers::lolbas::Lolbas;
use app::server::importers::rules::{ElasticRules, SigmaRules};
use app::server::importers::{DONE, ImportReport, Input, Progress, Trigger, run};
use app::server::platform::context::Actor;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// `aegis create-user`: the same service, and audit entry, as the admin UI.
pub async fn create_user(
    config: &Config,
    request: app::dto::admin::users::CreateUserRequest,
) -> anyhow::Result<app::dto::admin::users::UserDto> {
    let db = open_database(config).await?;
    users::create(&db, &Actor::system("cli"), request)
        .await
        .map_err(|e| match e {
            app::error::AppError::Validation { fields, detail } => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                anyhow::anyhow!("{detail}: {}", parts.join("; "))
            }
            other => anyhow::anyhow!("{}", other.detail()),
        })
}

/// The pipeline's progress on the terminal: one bar per stage.
pub struct StageBar {
    interactive: bool,
    current: Mutex<Option<(&'static str, ProgressBar)>>,
}

impl Default for StageBar {
    fn default() -> Self {
        Self::new()
    }
}

impl StageBar {
    pub fn new() -> Self {
        Self {
            interactive: std::io::stdout().is_terminal(),
            current: Mutex::new(None),
        }
    }

    fn style() -> ProgressStyle {
        ProgressStyle::with_template("  {prefix:<18} [{bar:30}] {percent:>3}% ({pos}/{len})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-")
    }

    pub fn update(&self, progress: Progress) {
        let Ok(mut current) = self.current.lock() else {
            return;
        };
        if progress.stage == DONE {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            return;
        }
        let same = current
            .as_ref()
            .is_some_and(|(stage, _)| *stage == progress.stage);
        if !same {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            let bar = if self.interactive {
                let bar = ProgressBar::with_draw_target(
                    Some(progress.total),
                    ProgressDrawTarget::stdout(),
                );
                bar.set_style(Self::style());
                bar.set_prefix(progress.stage);
                bar
            } else {
                println!("  {}…", progress.stage);
                ProgressBar::hidden()
            };
            *current = Some((progress.stage, bar));
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_length(progress.total.max(progress.done));
            bar.set_position(progress.done);
        }
    }

    /// Ends the bar, whatever stage it stopped at.
    pub fn finish(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some((_, bar)) = current.take()
        {
            bar.abandon();
        }
    }
}

fn print_report(report: &impl ImportReport, started: std::time::Instant) {
    println!("Imported in {:.1} s", started.elapsed().as_secs_f64());
    for line in report.lines() {
        println!("{line}");
    }
}

/// `aegis import-attack FILE`: the same importer as the System panel.
pub async fn import_attack_file(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    println!(
        "Importing {} ({:.1} MB)",
        path.display(),
        bytes.len() as f64 / 1_000_000.0
    );
    let db = open_database(config).await?;
    let source = format!("file:{}", path.display());
    let bar = StageBar::new();
    let report = import_bundle(
        &db,
        &Actor::system("cli"),
        bytes,
        Trigger::Cli,
        &source,
        &|p| bar.update(p),
    )
    .await;
    bar.finish();
    let report = report.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    print_report(&report, started);
    Ok(())
}

/// `aegis import-d3fend FILE`: the D3FEND ontology, with the same importer as the System panel.
pub async fn import_d3fend_file(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    println!(
        "Importing {} ({:.1} MB)",
        path.display(),
        bytes.len() as f64 / 1_000_000.0
    );
    let db = open_database(config).await?;
    let bar = StageBar::new();
    let origin = format!("file:{}", path.display());
    let report = run::<D3fend>(
        &db,
        &Actor::system("cli"),
        Input::Bytes(bytes),
        &origin,
        &|p: Progress| bar.update(p),
    )
    .await;
    bar.finish();
    let report = report.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    print_report(&report, started);
    Ok(())
}

/// `aegis import-atomics|import-caldera|import-lolbas|import-gtfobins|import-sigma|
/// import-elastic-rules PATH`: a source (a directory or a zip of it) into the catalog or the
/// detection rules.
pub async fn import_catalog_path(
    config: &Config,
    source: CatalogImport,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let files = files::read(path, &config.archive_limits, source)
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    println!(
        "Importing {} {} files from {}",
        files.len(),
        source.label(),
        path.display()
    );
    let db = open_database(config).await?;
    let bar = StageBar::new();
    let origin = format!("file:{}", path.display());
    let actor = Actor::system("cli");
    let input = Input::Files(files);
    let shown = |p: Progress| bar.update(p);
    let lines = match source {
        CatalogImport::AtomicRedTeam => run::<AtomicRedTeam>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
        CatalogImport::Caldera => run::<Caldera>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
        CatalogImport::Lolbas => run::<Lolbas>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
        CatalogImport::Gtfobins => run::<Gtfobins>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
        CatalogImport::Sigma => run::<SigmaRules>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
        CatalogImport::ElasticRules => run::<ElasticRules>(&db, &actor, input, &origin, &shown)
            .await
            .map(|r| r.lines()),
    };
    bar.finish();
    let lines = lines.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    println!("Imported in {:.1} s", started.elapsed().as_secs_f64());
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
