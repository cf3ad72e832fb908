//! Keeps a technique's coverage status true to its tests, with the one rule of
//! `domain::coverage`.
use crate::domain::coverage::{TestOutcome, coverage_status};
use crate::domain::values::DetectionResult;
use crate::domain::workflow::TestState;
use crate::error::AppResult;
use crate::server::entities::{security_test, technique};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// Recomputes one technique's coverage from all its tests, and its score
/// (`scoring::compute::refresh`), in the caller's transaction.
pub async fn recompute_coverage(conn: &impl ConnectionTrait, mitre_id: &str) -> AppResult<()> {
    let rows = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::State)
        .column(security_test::Column::DetectionResult)
        .filter(security_test::Column::TechniqueId.eq(mitre_id))
        .into_tuple::<(TestState, Option<DetectionResult>)>()
        .all(conn)
        .await?;
    let status = coverage_status(
        rows.into_iter()
            .map(|(state, detection)| TestOutcome::of(state, detection)),
    );
    technique::Entity::update_many()
        .col_expr(technique::Column::CoverageStatus, Expr::value(status))
        .filter(technique::Column::MitreId.eq(mitre_id))
        .exec(conn)
        .await?;
    crate::server::scoring::compute::refresh(conn, mitre_id).await
}
