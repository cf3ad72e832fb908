//! `/api/v1/compliance/*`: control frameworks mapped onto ATT&CK and what the coverage says
//! about them; everyone signed in reads. The import is `POST /system/import-compliance`.
use super::cached::{self, Cached};
use super::extract::{ApiPath, ApiQuery, Caller};
use super::reporting::reports::download_csv;
use app::domain::rbac::Permission;
use app::dto::compliance::{ComplianceReportQuery, ControlDetail};
use app::dto::compliance::{FrameworkDetail, FrameworkSummary};
use app::error::AppError;
use app::server::compliance;
use app::server::platform::read_cache::answers;
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use uuid::Uuid;

pub async fn frameworks(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Cached<Vec<FrameworkSummary>>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = state.db.clone();
    cached::json(
        &state,
        &headers,
        answers::COMPLIANCE,
        &"frameworks",
        || async move { compliance::frameworks(&db).await },
    )
    .await
}

pub async fn framework(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Cached<FrameworkDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    let db = state.db.clone();
    let key = format!("framework:{id}");
    cached::json(&state, &headers, answers::COMPLIANCE, &key, || async move {
        compliance::framework(&db, &id).await
    })
    .await
}

pub async fn control(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ControlDetail>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(compliance::control(&state.db, id).await?))
}

/// `GET /compliance/frameworks/{id}/report?format=json|csv`: the framework with its figures,
/// or one CSV row per (control, technique).
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ComplianceReportQuery>,
) -> Result<Response, AppError> {
    caller.require(Permission::ViewData)?;
    match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => {
            Ok(Json(compliance::framework(&state.db, &id).await?).into_response())
        }
        Some("csv") => {
            let (detail, rows) = compliance::report_rows(&state.db, &id).await?;
            let mut out = String::new();
            app::server::reporting::export::csv_record(&compliance::REPORT_HEADER, &mut out);
            for row in &rows {
                app::server::reporting::export::csv_record(row, &mut out);
            }
            Ok(download_csv(
                out,
                &format!(
                    "compliance-{}-{}",
                    detail.framework.key, detail.framework.version
                ),
            ))
        }
        Some(other) => Err(AppError::field(
            "format",
            format!("Unknown format '{other}'; expected json or csv"),
        )),
    }
}
