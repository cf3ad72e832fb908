//! The Aegis server: configuration, the HTTP application and start-up.
#![recursion_limit = "256"]
pub mod config;
pub mod jobs;
pub mod middleware;
mod progress_bar;
pub mod rest;
pub mod seed;

use app::server::admin::users;
use app::server::platform::context::Actor;
use app::server::platform::rate_limit::RateLimiter;
use app::server::platform::state::{AppState, AuthSettings};
use app::server::workflow::evidence_store::{EvidenceStore, S3Settings};
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use config::Config;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use middleware::TrustProxy;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Login attempts allowed per client and username within the window.
pub const LOGIN_ATTEMPTS: usize = 5;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);

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
    let jobs = jobs::start(&db, config).await?;
    let evidence = Arc::new(evidence_store(config, &secret)?);
    let state = AppState {
        db,
        auth: Arc::new(AuthSettings::new(
            &secret,
            config.token_ttl,
            config.cookie_secure,
        )),
        login_limiter: Arc::new(RateLimiter::new(LOGIN_ATTEMPTS, LOGIN_WINDOW)),
        leptos_options: leptos_options(config),
        jobs,
        evidence,
        max_import_bytes: config.max_import_bytes as u64,
    };
    Ok((state, generated))
}

fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("aegis")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .build()
}

/// The whole HTTP application.
pub fn router(state: AppState, config: &Config) -> Router {
    let trust = TrustProxy(config.trust_proxy_headers);
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let page_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", rest::router(config.max_import_bytes))
        .route("/api/fn/{*name}", post(server_fn).get(server_fn))
        .leptos_routes_with_context(&state, routes, context.clone(), page_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn(middleware::page_guard))
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::refuse_cross_site(trust, req, next)
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::request_context(trust, req, next)
        }))
        .with_state(state)
}

async fn server_fn(State(state): State<AppState>, req: Request) -> impl IntoResponse {
    leptos_axum::handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}

async fn health(State(state): State<AppState>) -> axum::response::Response {
    match state.db.ping().await {
        Ok(()) => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "unavailable", "detail": "Database unreachable" })),
            )
                .into_response()
        }
    }
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
    let app = router(state, &config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
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
    let db = app::server::platform::db::connect(&config.database_url).await?;
    app::server::platform::db::migrate(&db).await?;
    Ok(db)
}

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

/// `aegis import-attack FILE`: the same importer as the System panel, with a progress bar on
/// the terminal.
pub async fn import_attack_file(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    use app::server::importers::attack::import::{Trigger, import_bundle};
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
    let bar = progress_bar::ProgressBar::new();
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
    println!("Imported in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "Tactics: {} added, {} updated. Techniques: {} added, {} updated, {} unchanged, {} deprecated, {} revoked. \
         Threat actors: {} added, {} updated. Actor links: {} added, {} removed.",
        report.tactics_added,
        report.tactics_updated,
        report.techniques_added,
        report.techniques_updated,
        report.techniques_unchanged,
        report.techniques_deprecated,
        report.techniques_revoked,
        report.actors_added,
        report.actors_updated,
        report.actor_links_added,
        report.actor_links_removed,
    );
    if !report.changed.is_empty() {
        println!("Flagged for review ({}):", report.changed.len());
        for change in &report.changed {
            println!(
                "  {} {}: {}",
                change.mitre_id,
                change.name,
                change.fields.join(", ")
            );
        }
    }
    if !report.skipped_custom.is_empty() {
        println!(
            "Not applied (a custom technique holds the id): {}",
            report.skipped_custom.join(", ")
        );
    }
    Ok(())
}

/// `aegis import-atomics PATH`: Atomic Red Team into the template catalog, with a progress bar.
pub async fn import_atomics_dir(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    use app::server::importers::atomics::import::{import_atomics, read_atomics};
    let started = std::time::Instant::now();
    let files = read_atomics(path).map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    println!(
        "Importing {} atomics files from {}",
        files.len(),
        path.display()
    );
    let db = open_database(config).await?;
    let bar = progress_bar::ProgressBar::new();
    let report = import_atomics(&db, &Actor::system("cli"), files, &|done, total| {
        bar.draw("Atomics", done as u64, total as u64)
    })
    .await;
    bar.finish();
    let report = report.map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    println!("Imported in {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "Templates: {} added, {} updated, {} unchanged. Files: {} read, {} skipped.",
        report.added,
        report.updated,
        report.unchanged,
        report.files,
        report.skipped.len()
    );
    for skipped in &report.skipped {
        println!("  skipped {}: {}", skipped.path, skipped.reason);
    }
    if !report.unknown_techniques.is_empty() {
        const LISTED: usize = 20;
        let unknown = &report.unknown_techniques;
        let more = unknown.len().saturating_sub(LISTED);
        println!(
            "Imported, but {} technique(s) are not in the ATT&CK knowledge base (yet): {}{}",
            unknown.len(),
            unknown[..unknown.len().min(LISTED)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
