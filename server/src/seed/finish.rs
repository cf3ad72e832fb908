//! After the rows: the activity and test counters, the users' last sign-ins, every technique's
//! coverage, the weekly coverage snapshots, and fresh planner statistics.
use super::USERNAME_PREFIX;
use super::clock::{DAY, at};
use super::rng::Rng;
use super::staff::Staff;
use super::techniques::Tech;
use app::domain::cache::CacheScope;
use app::domain::coverage::{CoverageStatus, TestOutcome, coverage_status};
use app::domain::values::DetectionResult;
use app::domain::workflow::TestState;
use app::server::entities::{coverage_snapshot, security_test, tactic, technique, user};
use app::server::platform::db::begin_write;
use app::server::platform::read_cache;
use app::server::reporting::activity::ActivityTally;
use app::server::workflow::tallies;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Weekly snapshots kept by the snapshot job; more would be pruned at its next run.
const MAX_SNAPSHOTS: i64 = 52;

/// When the weekly snapshots of the seeded period were taken, oldest first.
pub(super) fn snapshot_times(now: DateTime<Utc>, span: i64) -> Vec<DateTime<Utc>> {
    let weeks = (span / (7 * DAY)).min(MAX_SNAPSHOTS);
    (1..=weeks).rev().map(|w| at(now, -w * 7 * DAY)).collect()
}

/// The activity counts of every seeded audit row, saved once after the batches: written
/// alongside them, concurrent batches would lock the same day's counters in different orders.
pub(super) async fn save_activity(
    db: &DatabaseConnection,
    activity: ActivityTally,
) -> anyhow::Result<()> {
    let txn = begin_write(db).await?;
    activity
        .save(&txn)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    txn.commit().await?;
    Ok(())
}

/// The test counters from the tests as written, and every cached answer made stale: the rows
/// went in directly, not through the services that keep both.
pub(super) async fn recount(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = begin_write(db).await?;
    tallies::rebuild(&txn)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    read_cache::bump(&txn, &CacheScope::ALL)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    txn.commit().await?;
    Ok(())
}

/// Each seeded user's latest generated sign-in.
pub(super) async fn record_logins(
    db: &DatabaseConnection,
    staff: &Staff,
    last_login: &HashMap<usize, DateTime<Utc>>,
) -> anyhow::Result<()> {
    for (person, last) in last_login {
        user::Entity::update_many()
            .col_expr(user::Column::LastLoginAt, Expr::value(*last))
            .filter(user::Column::Id.eq(staff.people[*person].id))
            .filter(user::Column::Username.starts_with(USERNAME_PREFIX))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Every technique's coverage from all its tests (seeded or not), with the one domain rule;
/// only changed statuses are written, one statement per status and chunk.
pub(super) async fn recompute_coverage(
    db: &DatabaseConnection,
) -> anyhow::Result<(usize, HashMap<String, CoverageStatus>)> {
    let tests: Vec<(String, TestState, Option<DetectionResult>)> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::TechniqueId)
        .column(security_test::Column::State)
        .column(security_test::Column::DetectionResult)
        .into_tuple()
        .all(db)
        .await?;
    let mut status: HashMap<String, CoverageStatus> = HashMap::new();
    for (mitre_id, state, detection) in tests {
        let outcome = TestOutcome::of(state, detection);
        let this = coverage_status([outcome]);
        status
            .entry(mitre_id)
            .and_modify(|s| *s = (*s).min(this))
            .or_insert(this);
    }
    let stored: Vec<(String, CoverageStatus)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::CoverageStatus)
        .into_tuple()
        .all(db)
        .await?;
    let mut changes: HashMap<CoverageStatus, Vec<String>> = HashMap::new();
    for (mitre_id, current) in stored {
        let wanted = status
            .get(&mitre_id)
            .copied()
            .unwrap_or(CoverageStatus::NotCovered);
        if wanted != current {
            changes.entry(wanted).or_default().push(mitre_id);
        }
    }
    let mut updated = 0;
    for (wanted, ids) in changes {
        for chunk in ids.chunks(500) {
            technique::Entity::update_many()
                .col_expr(
                    technique::Column::CoverageStatus,
                    Expr::value(wanted.as_str()),
                )
                .filter(technique::Column::MitreId.is_in(chunk.to_vec()))
                .exec(db)
                .await?;
            updated += chunk.len();
        }
    }
    Ok((updated, status))
}

/// Weekly snapshots over the seeded period, as the snapshot job would have taken them.
pub(super) async fn write_snapshots(
    db: &DatabaseConnection,
    rng: &mut Rng,
    techs: &[Tech],
    times: &[DateTime<Utc>],
    statuses: &[Vec<CoverageStatus>],
) -> anyhow::Result<usize> {
    if times.is_empty() {
        return Ok(0);
    }
    let tactics = tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .all(db)
        .await?;
    let tactics_of: HashMap<String, Vec<String>> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Tactics)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .into_tuple::<(String, Value)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, tactics)| {
            let names = tactics
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
            (id, names)
        })
        .collect();
    #[derive(Default, Clone, Copy)]
    struct Counts([i32; 4]);
    impl Counts {
        fn add(&mut self, status: CoverageStatus) {
            let i = CoverageStatus::ALL
                .iter()
                .position(|s| *s == status)
                .unwrap_or(3);
            self.0[i] += 1;
        }
        fn total(&self) -> i32 {
            self.0.iter().sum()
        }
        fn percent(&self) -> f64 {
            let total = self.total();
            if total == 0 {
                0.0
            } else {
                (f64::from(self.0[0]) * 1000.0 / f64::from(total)).round() / 10.0
            }
        }
    }
    let mut rows = Vec::with_capacity(times.len());
    for (taken_at, per_tech) in times.iter().zip(statuses) {
        let mut overall = Counts::default();
        let mut per_tactic: HashMap<&str, Counts> = HashMap::new();
        for (tech, status) in techs.iter().zip(per_tech) {
            overall.add(*status);
            for name in tactics_of.get(&tech.mitre_id).into_iter().flatten() {
                per_tactic.entry(name.as_str()).or_default().add(*status);
            }
        }
        // The shape `snapshots::take` writes.
        let by_tactic: Vec<Value> = tactics
            .iter()
            .map(|t| {
                let c = per_tactic
                    .get(t.shortname.as_str())
                    .copied()
                    .unwrap_or_default();
                json!({
                    "tactic": t.shortname,
                    "name": t.name,
                    "total": c.total(),
                    "validated": c.0[0],
                    "partial": c.0[1],
                    "in_progress": c.0[2],
                    "not_covered": c.0[3],
                    "coverage_percent": c.percent(),
                })
            })
            .collect();
        rows.push(
            coverage_snapshot::Model {
                id: rng.uuid(),
                taken_at: *taken_at,
                total: overall.total(),
                validated: overall.0[0],
                partial: overall.0[1],
                in_progress: overall.0[2],
                not_covered: overall.0[3],
                coverage_percent: overall.percent(),
                by_tactic: json!(by_tactic),
                // Past scores cannot be rebuilt from statuses alone.
                score: None,
            }
            .into_active_model()
            .reset_all(),
        );
    }
    let count = rows.len();
    coverage_snapshot::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(count)
}

/// Refreshes the planner's statistics (and on PostgreSQL the visibility map, for index-only
/// scans), as autovacuum would some minutes later.
pub(super) async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "VACUUM (ANALYZE) tests, evidence, remediation_steps, audit_logs, activity_counts, \
             techniques, users, coverage_snapshots"
        }
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}
