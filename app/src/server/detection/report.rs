//! The detection rules report: the rules no validated test has proven yet and those that
//! failed, as JSON or CSV, for the blue team's backlog.
use crate::domain::detection::RuleProof;
use crate::dto::detection::RuleSummary;
use crate::error::{AppError, AppResult};
use crate::server::entities::detection_rule;
use crate::server::reporting::export::{Body, Format, ReportRow, ReportWriter};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    #[serde(flatten)]
    pub rule: RuleSummary,
}

impl ReportRow for RuleRow {
    const HEADER: &'static [&'static str] = &[
        "rule_id",
        "source",
        "upstream_id",
        "title",
        "level",
        "status",
        "techniques",
        "platforms",
        "is_active",
        "proof",
    ];

    fn cells(&self) -> Vec<String> {
        let r = &self.rule;
        vec![
            r.id.to_string(),
            r.source.as_str().to_owned(),
            r.upstream_id.clone().unwrap_or_default(),
            r.title.clone(),
            r.level.clone(),
            r.status.clone(),
            r.techniques.join("; "),
            r.platforms.join("; "),
            r.is_active.to_string(),
            r.proof.as_str().to_owned(),
        ]
    }
}

/// `proofs`: a comma-separated list (`untested,failed` when empty).
pub fn wanted(proofs: Option<&str>) -> AppResult<Vec<RuleProof>> {
    let text = proofs.map(str::trim).filter(|p| !p.is_empty());
    match text {
        None => Ok(vec![RuleProof::Untested, RuleProof::Failed]),
        Some(text) => text
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<RuleProof>()
                    .map_err(|e| AppError::field("proof", e))
            })
            .collect(),
    }
}

/// Every rule whose proof is one of `proofs`, by title, streamed.
pub async fn rules_report(
    conn: &impl ConnectionTrait,
    proofs: Vec<RuleProof>,
    format: Format,
) -> AppResult<Body> {
    let rows = detection_rule::Entity::find()
        .order_by_asc(detection_rule::Column::Title)
        .order_by_asc(detection_rule::Column::Id)
        .all(conn)
        .await?;
    let summaries = super::rules::summaries_of(conn, &rows).await?;
    let items: Vec<RuleRow> = summaries
        .into_iter()
        .filter(|r| proofs.contains(&r.proof))
        .map(|rule| RuleRow { rule })
        .collect();
    let head = json!({
        "report": "detection-rules",
        "generated_at": chrono::Utc::now(),
        "proof": proofs,
        "total": items.len(),
    });
    let (mut writer, body) = ReportWriter::new::<RuleRow>(format, &head);
    tokio::spawn(async move {
        for row in &items {
            if writer.row(row).await.is_err() {
                return;
            }
        }
        let _ = writer.finish().await;
    });
    Ok(body)
}
