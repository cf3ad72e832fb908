//! Weekly coverage snapshots: overall and per tactic (coverage and the priority-weighted
//! score), so coverage can be followed over time.
use crate::domain::cache::CacheScope;
use crate::domain::coverage::CoverageStatus;
use crate::error::AppResult;
use crate::server::entities::{coverage_snapshot, tactic, technique};
use crate::server::platform::db::begin_write;
use crate::server::platform::read_cache;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Snapshots kept: a year of weeks.
pub const KEEP: u64 = 52;

#[derive(Default, Clone, Copy)]
struct Counts {
    total: i32,
    validated: i32,
    partial: i32,
    in_progress: i32,
    not_covered: i32,
}

impl Counts {
    fn add(&mut self, status: CoverageStatus) {
        self.total += 1;
        match status {
            CoverageStatus::Validated => self.validated += 1,
            CoverageStatus::Partial => self.partial += 1,
            CoverageStatus::InProgress => self.in_progress += 1,
            CoverageStatus::NotCovered => self.not_covered += 1,
        }
    }

    /// Validated techniques as a share of all, in percent with one decimal.
    fn percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (f64::from(self.validated) * 1000.0 / f64::from(self.total)).round() / 10.0
        }
    }
}

/// Takes a snapshot of the active techniques' coverage and prunes all but the newest `keep`.
/// Returns the new snapshot's id and how many old ones were removed.
pub async fn take(db: &DatabaseConnection, keep: u64) -> AppResult<(Uuid, u64)> {
    let txn = begin_write(db).await?;
    let techniques = technique::Entity::find()
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .all(&txn)
        .await?;
    let tactics = tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .all(&txn)
        .await?;
    let mut overall = Counts::default();
    let mut per_tactic: BTreeMap<String, Counts> = BTreeMap::new();
    for t in &techniques {
        let status = t.coverage_status;
        overall.add(status);
        for shortname in t.tactics.as_array().into_iter().flatten() {
            if let Some(name) = shortname.as_str() {
                per_tactic.entry(name.to_owned()).or_default().add(status);
            }
        }
    }
    let scores = crate::server::scoring::reads::summary(&txn).await?;
    let tactic_scores: BTreeMap<&str, f64> = scores
        .by_tactic
        .iter()
        .map(|t| (t.tactic.as_str(), t.score))
        .collect();
    let by_tactic: Vec<_> = tactics
        .iter()
        .map(|tactic| {
            let c = per_tactic
                .get(&tactic.shortname)
                .copied()
                .unwrap_or_default();
            json!({
                "tactic": tactic.shortname,
                "name": tactic.name,
                "total": c.total,
                "validated": c.validated,
                "partial": c.partial,
                "in_progress": c.in_progress,
                "not_covered": c.not_covered,
                "coverage_percent": c.percent(),
                "score": tactic_scores.get(tactic.shortname.as_str()).copied().unwrap_or(0.0),
            })
        })
        .collect();
    let id = Uuid::new_v4();
    coverage_snapshot::ActiveModel {
        id: Set(id),
        taken_at: Set(Utc::now()),
        total: Set(overall.total),
        validated: Set(overall.validated),
        partial: Set(overall.partial),
        in_progress: Set(overall.in_progress),
        not_covered: Set(overall.not_covered),
        coverage_percent: Set(overall.percent()),
        by_tactic: Set(json!(by_tactic)),
        score: Set(Some(scores.overall)),
    }
    .insert(&txn)
    .await?;
    let keep_ids: Vec<Uuid> = coverage_snapshot::Entity::find()
        .select_only()
        .column(coverage_snapshot::Column::Id)
        .order_by_desc(coverage_snapshot::Column::TakenAt)
        .limit(keep)
        .into_tuple()
        .all(&txn)
        .await?;
    let pruned = coverage_snapshot::Entity::delete_many()
        .filter(coverage_snapshot::Column::Id.is_not_in(keep_ids))
        .exec(&txn)
        .await?
        .rows_affected;
    read_cache::bump(&txn, &[CacheScope::Snapshots]).await?;
    txn.commit().await?;
    Ok((id, pruned))
}
