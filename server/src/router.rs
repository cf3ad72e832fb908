//! The whole HTTP application: REST under `/api/v1`, the server functions, the Leptos pages
//! and static files, behind the middleware stack.
use crate::assets::{self, SiteAssets};
use crate::config::Config;
use crate::middleware::{self, TrustProxy};
use crate::rest;
use app::server::platform::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// The whole HTTP application.
pub fn router(state: AppState, config: &Config) -> Router {
    let hsts = config.cookie_secure;
    let trust = TrustProxy(
        config
            .trust_proxy_headers
            .then_some(config.trusted_proxy_hops),
    );
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let page_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let assets = Arc::new(SiteAssets::load(
        &config.site_root,
        crate::OUTPUT_NAME,
        &config.data_dir,
    ));
    Router::new()
        .route("/health", get(health))
        .route(
            "/pkg/{*file}",
            get(assets::serve).with_state::<AppState>(assets),
        )
        .nest("/api/v1", rest::router(config.max_import_bytes))
        .merge(rest::docs())
        .route("/api/fn/{*name}", post(server_fn).get(server_fn))
        .route("/auth/oidc/login", get(crate::sso::login))
        .route("/auth/oidc/callback", get(crate::sso::callback))
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
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::security_headers(hsts, req, next)
        }))
        .layer(axum::middleware::from_fn(move |req, next| {
            middleware::request_context(trust, req, next)
        }))
        .layer(compression())
        .with_state(state)
}

/// Compresses what compresses (text, JSON, JavaScript, WASM, SVG) above 1 KB, with Brotli or
/// gzip as the client accepts; files already sent precompressed are left alone. Level 4: most
/// of the gain for a fraction of the CPU of the maximum, for answers made per request.
fn compression() -> CompressionLayer<impl Predicate> {
    let compressible =
        |_: http::StatusCode, _: http::Version, headers: &http::HeaderMap, _: &http::Extensions| {
            headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| {
                    t.starts_with("text/")
                        || t.starts_with("application/json")
                        || t.starts_with("application/javascript")
                        || t.starts_with("application/wasm")
                        || t.starts_with("image/svg+xml")
                })
        };
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(SizeAbove::new(1024).and(compressible))
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
