//! Server functions of the dashboard and the Reports page.
use crate::dto::knowledge::TacticDto;
use crate::dto::reporting::metrics::{Dashboard, MetricsQuery};
use crate::dto::reporting::reports::{
    CoverageReport, RemediationRow, ReportQuery, TechniqueSetSummary, TestResultRow,
};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[server(prefix = "/api/fn", endpoint = "dashboard")]
pub async fn dashboard_data(#[server(default)] query: MetricsQuery) -> Result<Dashboard, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::reporting::metrics;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            metrics::dashboard(&ctx.state.db, &ctx.state.cache, user, &query).await
        }
        .await,
    )
}

/// What the report filters offer: tactics in matrix order, platforms, technique sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    pub tactics: Vec<TacticDto>,
    pub platforms: Vec<String>,
    pub sets: Vec<TechniqueSetSummary>,
}

#[server(prefix = "/api/fn", endpoint = "report-options")]
pub async fn load_report_options() -> Result<ReportOptions, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::knowledge::TechniqueQuery;
    use crate::server::knowledge::reads;
    use crate::server::knowledge::technique_sets;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let db = &ctx.state.db;
            let mut platforms: Vec<String> = reads::list_techniques(db, &TechniqueQuery::default())
                .await?
                .into_iter()
                .flat_map(|t| t.platforms)
                .collect();
            platforms.sort();
            platforms.dedup();
            Ok(ReportOptions {
                tactics: reads::tactics(db).await?,
                platforms,
                sets: technique_sets::list(db).await?,
            })
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete-technique-set")]
pub async fn delete_technique_set(id: String) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::knowledge::technique_sets;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTechniqueSets)?;
            technique_sets::delete(&ctx.state.db, &ctx.actor(), &id).await
        }
        .await,
    )
}

/// The rows a report page shows before the user downloads the whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportPreview {
    Coverage(CoverageReport),
    TestResults(Vec<TestResultRow>),
    Remediation(Vec<RemediationRow>),
}

/// Rows shown in a preview.
pub const PREVIEW_ROWS: u64 = 25;

#[server(prefix = "/api/fn", endpoint = "report-preview")]
pub async fn preview_report(
    kind: String,
    #[server(default)] query: ReportQuery,
) -> Result<ReportPreview, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::reporting::export::Body;
    use crate::server::reporting::reports;

    /// The JSON report's rows, read back from its body.
    async fn items<T: serde::de::DeserializeOwned>(mut body: Body) -> Result<Vec<T>, AppError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = body.recv().await {
            bytes.extend(chunk.map_err(|e| AppError::internal(e.to_string()))?);
        }
        #[derive(Deserialize)]
        struct Report<T> {
            items: Vec<T>,
        }
        serde_json::from_slice::<Report<T>>(&bytes)
            .map(|r| r.items)
            .map_err(|e| AppError::internal(format!("report preview: {e}")))
    }

    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            let db = &ctx.state.db;
            let query = ReportQuery {
                format: None,
                limit: Some(PREVIEW_ROWS),
                ..query
            };
            match kind.as_str() {
                "coverage" => {
                    let scope = reports::scope(db, &query).await?;
                    Ok(ReportPreview::Coverage(
                        reports::coverage(db, &scope).await?,
                    ))
                }
                "test-results" => Ok(ReportPreview::TestResults(
                    items(reports::test_results(db, &query).await?).await?,
                )),
                "remediation" => Ok(ReportPreview::Remediation(
                    items(reports::remediation_status(db, &query).await?).await?,
                )),
                other => Err(AppError::field(
                    "kind",
                    format!(
                        "Unknown report '{other}'; expected coverage, test-results or remediation"
                    ),
                )),
            }
        }
        .await,
    )
}
