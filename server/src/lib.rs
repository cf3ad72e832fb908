//! The Aegis server: configuration, the HTTP application and start-up.
#![recursion_limit = "256"]
pub mod assets;
pub mod cli;
pub mod config;
pub mod jobs;
pub mod middleware;
pub mod rest;
pub mod router;
pub mod seed;
pub mod sso;

pub use router::router;

use app::server::admin::users;
use app::server::importers::uploads::UploadDir;
use app::server::platform::rate_limit::RateLimiter;
use app::server::platform::read_cache::ReadCache;
use app::server::platform::state::{AppState, AuthSettings};
use app::server::workflow::evidence_store::{EvidenceStore, S3Settings};
use config::Config;
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The evidence store the config names. Its download-URL key is derived from the secret key,
/// so links survive restarts and die with a key rotation.
fn evidence_store(config: &Config, secret: &[u8]) -> anyhow::Result<EvidenceStore> {
    let url_key: Vec<u8> = Sha256::new()
        .chain_update(b"aegis evidence download urls\0")
        .chain_update(secret)
        .finalize()
        .to_vec();
    let store = match &config.storage {
        config::StorageConfig::Local(dir) => {
            EvidenceStore::local(dir, &url_key, config.max_evidence_bytes)
        }
        config::StorageConfig::S3 {
            bucket,
            endpoint,
            public_endpoint,
            region,
            access_key_id,
            secret_access_key,
            allow_http,
        } => EvidenceStore::s3(
            S3Settings {
                bucket: bucket.clone(),
                endpoint: endpoint.clone(),
                public_endpoint: public_endpoint.clone(),
                region: region.clone(),
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                allow_http: *allow_http,
            },
            &url_key,
            config.max_evidence_bytes,
        ),
    };
    store.map_err(|e| anyhow::anyhow!("opening the evidence store: {e:?}"))
}

/// Connects, migrates and builds the shared state. Returns the generated admin password when
/// this start created the first admin without one being configured.
pub async fn bootstrap(config: &Config) -> anyhow::Result<(AppState, Option<String>)> {
    if let config::StorageConfig::Local(dir) = &config.storage {
        std::fs::create_dir_all(dir)?;
    }
    let db = open_database(config).await?;
    let secret = config.load_or_create_secret()?;
    let generated = users::bootstrap_admin(&db, config.admin_password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("creating the first admin: {e:?}"))?;
    let evidence = Arc::new(evidence_store(config, &secret)?);
    // Uploads for import jobs go through the evidence store when it is shared (S3): the job
    // may run on another process.
    let uploads = UploadDir::create(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("upload folder: {}", e.detail()))?
        .shared_through(evidence.clone());
    let jobs = jobs::start(&db, config, uploads.clone()).await?;
    // Evidence a server killed mid-upload left behind (objects without a row, staged parts).
    {
        let (db, evidence) = (db.clone(), evidence.clone());
        tokio::spawn(async move {
            if let Err(err) = app::server::workflow::evidence::sweep_orphans(&db, &evidence).await {
                tracing::warn!(error = %err.detail(), "could not sweep the evidence store");
            }
        });
    }
    let state = AppState {
        db: db.clone(),
        auth: Arc::new(
            AuthSettings::new(&secret, config.token_ttl, config.cookie_secure)
                .with_api_token_max_days(config.api_token_max_days)
                .with_sso(
                    config
                        .sso
                        .clone()
                        .map(app::server::admin::sso::Sso::new)
                        .transpose()
                        .map_err(|e| anyhow::anyhow!("single sign-on: {}", e.detail()))?,
                    config.password_sign_in,
                    &config.break_glass_admin,
                ),
        ),
        login_limiter: Arc::new(RateLimiter::new(
            db.clone(),
            "login",
            config.login_attempts,
            config.login_window,
        )),
        login_ip_limiter: Arc::new(RateLimiter::new(
            db.clone(),
            "login-ip",
            config.login_ip_attempts,
            config.login_window,
        )),
        leptos_options: leptos_options(config),
        jobs,
        evidence,
        max_import_bytes: config.max_import_bytes as u64,
        uploads,
        cache: Arc::new(ReadCache::default()),
    };
    Ok((state, generated))
}

/// The browser build's name under `/pkg`.
pub const OUTPUT_NAME: &str = "aegis";

fn leptos_options(config: &Config) -> LeptosOptions {
    let assets = assets::SiteAssets::load(&config.site_root, OUTPUT_NAME, &config.data_dir);
    let mut options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .build();
    // Pages link the hashed names (`assets`); Leptos reads them from this file.
    if let Some(file) = assets.hash_file {
        options.hash_files = true;
        options.hash_file = file.to_string_lossy().into();
    }
    options
}

/// Binds, prints where to go, and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let (state, generated) = bootstrap(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    println!("Aegis is running at http://{addr}");
    if let Some(password) = generated {
        println!("First start: an admin account was created.");
        println!("  username: admin");
        println!("  password: {password}");
        println!("This password is shown only once. Change it after signing in.");
    }
    let jobs = state.jobs.clone();
    let app = router(state, &config);
    let grace = config.shutdown_grace;
    // On the signal: stop accepting, let requests in flight and the running job step finish,
    // each within the grace period, then exit (0).
    let (signalled, on_signal) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: finishing what is in flight"
        );
        let _ = signalled.send(true);
    });
    let jobs_stopped = {
        let jobs = jobs.clone();
        let mut on_signal = on_signal.clone();
        tokio::spawn(async move {
            let _ = on_signal.wait_for(|s| *s).await;
            jobs.shutdown(grace).await;
        })
    };
    let signal_seen = on_signal.clone();
    let mut deadline = on_signal;
    tokio::select! {
        result = server.into_future() => result?,
        () = async move {
            if deadline.wait_for(|s| *s).await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => tracing::warn!("requests still in flight after the grace period; exiting"),
    }
    if *signal_seen.borrow() {
        let _ = jobs_stopped.await;
    } else {
        jobs_stopped.abort();
        jobs.shutdown(grace).await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Connects (creating the data directory an embedded database needs) and applies pending
/// migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db =
        app::server::platform::db::connect_with(&config.database_url, config.db_acquire_timeout)
            .await?;
    app::server::platform::db::migrate(&db).await?;
    // An installation upgraded to scoring has techniques but no scores yet.
    if !app::server::scoring::reads::any_stored(&db).await? {
        let txn = app::server::platform::db::begin_write(&db).await?;
        let n = app::server::scoring::compute::recompute_current(&txn).await?;
        txn.commit().await?;
        if n > 0 {
            tracing::info!(techniques = n, "scores computed for the first time");
        }
    }
    Ok(db)
}

pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // Logs go to stderr; stdout carries only what the user must read (URL, first password).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
