//! `/api/v1/reports/*` and `/api/v1/technique-sets`: coverage, test results and remediation
//! reports (JSON or streamed CSV), and ATT&CK Navigator layers out and in.
use crate::rest::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use app::domain::rbac::Permission;
use app::dto::reporting::reports::{
    CoverageReport, LayerImportQuery, LayerImportReport, ReportQuery, TechniqueSetDetail,
    TechniqueSetSummary,
};
use app::error::AppError;
use app::server::knowledge::technique_sets;
use app::server::platform::state::AppState;
use app::server::reporting::export::{self, Format};
use app::server::reporting::reports;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderValue, StatusCode, header};

/// Marks a response as a file to save under `filename`.
fn attachment(response: &mut Response, filename: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
}

/// A download: the body as it is produced, with a dated file name.
fn download(body: export::Body, format: Format, name: &str) -> Response {
    // Fused: a body wrapper (the compression layer) may poll once more after the end.
    let stream = futures::StreamExt::fuse(futures::stream::unfold(body, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let filename = format!(
        "aegis-{name}-{}.{}",
        Utc::now().format("%Y%m%d-%H%M%S"),
        format.extension()
    );
    let mut response = Body::from_stream(stream).into_response();
    attachment(&mut response, &filename);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A CSV built in memory (small reports), as a dated download.
pub fn download_csv(body: String, name: &str) -> Response {
    let filename = format!(
        "aegis-{}-{}.csv",
        name.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
            "-"
        ),
        Utc::now().format("%Y%m%d-%H%M%S")
    );
    let mut response = body.into_response();
    attachment(&mut response, &filename);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Format::Csv.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn coverage_summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<CoverageReport>, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = reports::scope(&state.db, &query).await?;
    Ok(Json(reports::coverage(&state.db, &scope).await?))
}

pub async fn coverage_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    let scope = reports::scope(&state.db, &query).await?;
    let report = reports::coverage(&state.db, &scope).await?;
    Ok(download(
        reports::coverage_csv(report),
        Format::Csv,
        "coverage",
    ))
}

pub async fn test_results(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    let format = reports::format_of(&query)?;
    let body = reports::test_results(&state.db, &query).await?;
    Ok(download(body, format, "test-results"))
}

pub async fn remediation_status(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    let format = reports::format_of(&query)?;
    let body = reports::remediation_status(&state.db, &query).await?;
    Ok(download(body, format, "remediation-status"))
}

pub async fn export_layer(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    let mode = reports::layer_mode(&query)?;
    let scope = reports::scope(&state.db, &query).await?;
    let report = reports::coverage(&state.db, &scope).await?;
    let heat = match mode {
        app::domain::heat::HeatMode::Status => Default::default(),
        _ => app::server::scoring::reads::heat(&state.db).await?,
    };
    let layer = reports::navigator_layer(&report, &scope, mode, &heat);
    let filename = format!(
        "aegis-coverage-layer-{}.json",
        report.generated_at.format("%Y%m%d-%H%M%S")
    );
    let mut response = Json(layer).into_response();
    attachment(&mut response, &filename);
    Ok(response)
}

pub async fn import_layer(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LayerImportQuery>,
    ApiJson(layer): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<LayerImportReport>), AppError> {
    caller.require(Permission::ManageTechniqueSets)?;
    let report = technique_sets::import_layer(
        &state.db,
        &caller.actor(),
        &layer,
        query.name,
        query.description,
    )
    .await?;
    let status = if report.replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(report)))
}

pub async fn list_sets(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TechniqueSetSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(technique_sets::list(&state.db).await?))
}

pub async fn get_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<TechniqueSetDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(technique_sets::get(&state.db, &key).await?))
}

pub async fn delete_set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    caller.require(Permission::ManageTechniqueSets)?;
    technique_sets::delete(&state.db, &caller.actor(), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
pub struct RuleReportQuery {
    #[serde(default)]
    proof: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// `GET /reports/detection-rules`: untested and failed rules (or the `proof`s asked for).
pub async fn detection_rules(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RuleReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(AppError::field(
                "format",
                format!("Unknown format '{other}'; expected json or csv"),
            ));
        }
    };
    let proofs = app::server::detection::report::wanted(query.proof.as_deref())?;
    let body = app::server::detection::report::rules_report(&state.db, proofs, format).await?;
    Ok(download(body, format, "detection-rules"))
}
