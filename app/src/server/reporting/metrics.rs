//! Dashboard metrics, aggregated by the database: coverage per status and tactic, tests per
//! state, team activity and validation votes from the activity counts the audit writer keeps.
//! Only aggregates leave the database; the largest result is one row per (technique, state).
use crate::domain::coverage::CoverageStatus;
use crate::domain::values::{DetectionResult, RemediationStatus, sql_list};
use crate::domain::workflow::TestState;
use crate::dto::reporting::metrics::{
    ActivityCounts, ActivityPoint, CoveragePoint, Dashboard, LeadValidation, MetricsQuery,
    MetricsSummary, PipelineStage, SideValidation, StateCount, StatusCounts, TacticMetrics,
    TeamActivity, TestPipeline, UserActivity, ValidationCounts, ValidationRate,
};
use crate::dto::workflow::{TestQuery, TestSummary};
use crate::error::{AppError, AppResult};
use crate::server::entities::{coverage_snapshot, tactic, user};
use crate::server::platform::context::CurrentUser;
use crate::server::platform::db::statement;
use crate::server::platform::read_cache::{ReadCache, answers};
use crate::server::reporting::activity::{self, ActivityKind};
use crate::server::reporting::scope::{Scope, closed_range};
use crate::server::workflow::reads as test_reads;
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Default span of the activity and validation figures.
pub const DEFAULT_DAYS: i64 = 30;
const RECENT: u64 = 10;
/// Weekly snapshots shown as coverage over time (a year).
const HISTORY: u64 = 52;

pub async fn scope(conn: &impl ConnectionTrait, query: &MetricsQuery) -> AppResult<Scope> {
    Scope::resolve(
        conn,
        &query.tactic,
        &query.platform,
        &query.technique_set,
        &query.campaign,
        &query.date_from,
        &query.date_to,
    )
    .await
}

fn count(row: &QueryResult, index: usize) -> AppResult<u64> {
    let n: i64 = row.try_get_by_index(index)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn states(counts: &HashMap<TestState, u64>) -> Vec<StateCount> {
    TestState::ALL
        .iter()
        .map(|s| StateCount {
            state: *s,
            count: counts.get(s).copied().unwrap_or(0),
        })
        .collect()
}

/// Techniques in scope per (coverage status, sub-technique or not).
async fn technique_counts(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<(StatusCounts, StatusCounts)> {
    let backend = conn.get_database_backend();
    let mut values = Vec::new();
    let condition = scope.technique_sql(&mut values);
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT t.coverage_status, t.is_subtechnique, COUNT(*) FROM techniques t \
                 WHERE {condition} GROUP BY t.coverage_status, t.is_subtechnique"
            ),
            values,
        ))
        .await?;
    let (mut all, mut top) = (StatusCounts::default(), StatusCounts::default());
    for row in rows {
        let status: CoverageStatus = row.try_get_by_index(0)?;
        let sub: bool = row.try_get_by_index(1)?;
        let n = count(&row, 2)?;
        all.add(status, n);
        if !sub {
            top.add(status, n);
        }
    }
    Ok((all, top))
}

/// The tests in scope of one technique in one state, and how many of them have an open
/// remediation.
struct TestGroup {
    technique: String,
    state: TestState,
    n: u64,
    open: u64,
}

/// The SQL condition for a test whose remediation is open: a gap found (or an owner named),
/// and the work not done or declined.
fn open_remediation() -> String {
    format!(
        "(s.detection_result IN {} OR s.remediation_owner IS NOT NULL) \
         AND s.remediation_status IN {}",
        sql_list(
            &DetectionResult::ALL,
            DetectionResult::as_str,
            DetectionResult::is_gap
        ),
        sql_list(
            &RemediationStatus::ALL,
            RemediationStatus::as_str,
            RemediationStatus::is_open
        ),
    )
}

/// Tests in scope per technique and state: every per-state figure of the summary, the funnel
/// and the tactics comes from this one pass (over the `ix_tests_tally` index, not the rows;
/// grouped in the index's order, so PostgreSQL aggregates as it reads instead of hashing).
async fn test_tally(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<TestGroup>> {
    let mut values = Vec::new();
    let condition = scope.test_sql(&mut values);
    let open = open_remediation();
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!(
                "SELECT s.technique_id, s.state, COUNT(*), \
                 CAST(SUM(CASE WHEN {open} THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM tests s WHERE {condition} GROUP BY s.state, s.technique_id"
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TestGroup {
                technique: row.try_get_by_index(0)?,
                state: row.try_get_by_index(1)?,
                n: count(row, 2)?,
                open: count(row, 3)?,
            })
        })
        .collect()
}

fn per_state<'a>(groups: impl Iterator<Item = &'a TestGroup>) -> HashMap<TestState, u64> {
    let mut counts = HashMap::new();
    for g in groups {
        *counts.entry(g.state).or_default() += g.n;
    }
    counts
}

fn summarize(
    (techniques, top_level): (StatusCounts, StatusCounts),
    tally: &[TestGroup],
) -> MetricsSummary {
    let by_state = per_state(tally.iter());
    MetricsSummary {
        coverage_percent: techniques.percent(),
        top_level_coverage_percent: top_level.percent(),
        techniques,
        top_level,
        total_tests: by_state.values().sum(),
        tests_by_state: states(&by_state),
        open_remediations: tally.iter().map(|g| g.open).sum(),
    }
}

pub async fn summary(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<MetricsSummary> {
    let (techniques, tally) = tokio::join!(technique_counts(conn, scope), test_tally(conn, scope));
    Ok(summarize(techniques?, &tally?))
}

/// The tactics shown, in matrix order: every tactic (even the empty ones), unless a tactic
/// filter picks one.
async fn tactics(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<Vec<tactic::Model>> {
    let mut tactics = tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .order_by_asc(tactic::Column::MitreId)
        .all(conn)
        .await?;
    if let Some(only) = &scope.tactic {
        tactics.retain(|t| t.id == only.id);
    }
    Ok(tactics)
}

/// The join of a technique (`t`) to its tactics (`ta`): a tactic's techniques are those whose
/// JSON list of tactic shortnames holds it.
const TECHNIQUE_TACTICS: &str =
    "techniques t JOIN tactics ta ON CAST(t.tactics AS TEXT) LIKE '%\"' || ta.shortname || '\"%'";

/// Techniques in scope per tactic: (all, top-level only) per status.
async fn tactic_technique_counts(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<HashMap<String, (StatusCounts, StatusCounts)>> {
    let mut values = Vec::new();
    let condition = scope.technique_sql(&mut values);
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!(
                "SELECT ta.shortname, t.coverage_status, t.is_subtechnique, COUNT(*) \
                 FROM {TECHNIQUE_TACTICS} WHERE {condition} \
                 GROUP BY ta.shortname, t.coverage_status, t.is_subtechnique"
            ),
            values,
        ))
        .await?;
    let mut statuses: HashMap<String, (StatusCounts, StatusCounts)> = HashMap::new();
    for row in rows {
        let shortname: String = row.try_get_by_index(0)?;
        let status: CoverageStatus = row.try_get_by_index(1)?;
        let sub: bool = row.try_get_by_index(2)?;
        let n = count(&row, 3)?;
        let entry = statuses.entry(shortname).or_default();
        entry.0.add(status, n);
        if !sub {
            entry.1.add(status, n);
        }
    }
    Ok(statuses)
}

/// The tactics of each technique within the tactic and set filters. Not the platform filter:
/// a test has its own platform, which the test condition checks.
async fn tactic_members(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<HashMap<String, Vec<String>>> {
    let mut values = Vec::new();
    let condition = Scope {
        platform: None,
        ..scope.clone()
    }
    .technique_sql(&mut values);
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!("SELECT t.mitre_id, ta.shortname FROM {TECHNIQUE_TACTICS} WHERE {condition}"),
            values,
        ))
        .await?;
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        members
            .entry(row.try_get_by_index(0)?)
            .or_default()
            .push(row.try_get_by_index(1)?);
    }
    Ok(members)
}

fn per_tactic(
    tactics: Vec<tactic::Model>,
    mut statuses: HashMap<String, (StatusCounts, StatusCounts)>,
    tally: &[TestGroup],
    members: &HashMap<String, Vec<String>>,
) -> Vec<TacticMetrics> {
    let mut tests: HashMap<&str, HashMap<TestState, u64>> = HashMap::new();
    for g in tally {
        for shortname in members.get(&g.technique).into_iter().flatten() {
            *tests
                .entry(shortname.as_str())
                .or_default()
                .entry(g.state)
                .or_default() += g.n;
        }
    }
    tactics
        .into_iter()
        .map(|t| {
            let (techniques, top_level) = statuses.remove(&t.shortname).unwrap_or_default();
            let by_state = tests.remove(t.shortname.as_str()).unwrap_or_default();
            TacticMetrics {
                coverage_percent: techniques.percent(),
                top_level_coverage_percent: top_level.percent(),
                techniques,
                top_level,
                total_tests: by_state.values().sum(),
                tests_by_state: states(&by_state),
                tactic: t.shortname,
                mitre_id: t.mitre_id,
                name: t.name,
            }
        })
        .collect()
}

/// The same figures per tactic, in matrix order.
pub async fn by_tactic(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<Vec<TacticMetrics>> {
    let (tactics, statuses, tally, members) = tokio::join!(
        tactics(conn, scope),
        tactic_technique_counts(conn, scope),
        test_tally(conn, scope),
        tactic_members(conn, scope),
    );
    Ok(per_tactic(tactics?, statuses?, &tally?, &members?))
}

/// The funnel: tests per state, and how many reached each stage.
pub async fn pipeline(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<TestPipeline> {
    Ok(funnel(&per_state(test_tally(conn, scope).await?.iter())))
}

fn funnel(counts: &HashMap<TestState, u64>) -> TestPipeline {
    let get = |s: TestState| counts.get(&s).copied().unwrap_or(0);
    let rejected = get(TestState::Rejected);
    let flow = [
        TestState::Draft,
        TestState::RedExecuting,
        TestState::BlueEvaluating,
        TestState::InReview,
        TestState::Validated,
    ];
    let stages = flow
        .iter()
        .enumerate()
        .map(|(i, state)| {
            // A rejected test went through review: it reached every stage up to review.
            let beyond: u64 = flow[i..].iter().map(|s| get(*s)).sum();
            let reached = if *state == TestState::Validated {
                beyond
            } else {
                beyond + rejected
            };
            PipelineStage {
                state: state.as_str().to_owned(),
                label: state.label().to_owned(),
                count: get(*state),
                reached,
            }
        })
        .collect();
    TestPipeline {
        stages,
        rejected,
        total: counts.values().sum(),
    }
}

struct Names {
    by_id: HashMap<Uuid, (String, String, String)>,
}

impl Names {
    async fn load(conn: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<Self> {
        let by_id = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .column(user::Column::DisplayName)
            .column(user::Column::Role)
            .filter(user::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, String, String, String)>()
            .all(conn)
            .await?
            .into_iter()
            .map(|(id, username, display, role)| (id, (username, display, role)))
            .collect();
        Ok(Self { by_id })
    }

    fn of(&self, id: Option<Uuid>, fallback: Option<String>) -> (String, String, Option<String>) {
        match id.and_then(|id| self.by_id.get(&id)) {
            Some((username, display, role)) => {
                (username.clone(), display.clone(), Some(role.clone()))
            }
            None => {
                let name = fallback.unwrap_or_else(|| "(system)".into());
                (name.clone(), name, None)
            }
        }
    }
}

fn bump(counts: &mut ActivityCounts, kind: ActivityKind, n: u64) {
    match kind {
        ActivityKind::RedExecution => counts.red_executions += n,
        ActivityKind::BlueEvaluation => counts.blue_evaluations += n,
        ActivityKind::RedEvidence => counts.red_evidence_uploads += n,
        ActivityKind::BlueEvidence => counts.blue_evidence_uploads += n,
        _ => {}
    }
}

fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// One group of the activity counts: per day or per actor, and kind.
struct ActivitySum {
    day: Option<NaiveDate>,
    actor: Option<Uuid>,
    username: Option<String>,
    kind: ActivityKind,
    n: u64,
}

/// The activity counts of `kinds` from `from` to `to` (inclusive), summed per day and kind, or
/// per actor and kind.
async fn activity_sums(
    conn: &impl ConnectionTrait,
    kinds: &[ActivityKind],
    (from, to): (NaiveDate, NaiveDate),
    per_actor: bool,
) -> AppResult<Vec<ActivitySum>> {
    let kinds = kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let (select, group) = if per_actor {
        ("actor_id, MAX(actor_username)", "actor_id")
    } else {
        ("day", "day")
    };
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!(
                "SELECT {select}, kind, CAST(SUM(count) AS BIGINT) FROM activity_counts \
                 WHERE day >= ? AND day <= ? AND kind IN ({kinds}) GROUP BY {group}, kind"
            ),
            vec![from.into(), to.into()],
        ))
        .await?;
    let mut sums = Vec::with_capacity(rows.len());
    for row in rows {
        let (day, actor, username, next) = if per_actor {
            let actor: Uuid = row.try_get_by_index(0)?;
            (None, activity::actor_of(actor), row.try_get_by_index(1)?, 2)
        } else {
            (Some(row.try_get_by_index::<NaiveDate>(0)?), None, None, 1)
        };
        let kind: String = row.try_get_by_index(next)?;
        let Some(kind) = ActivityKind::parse(&kind) else {
            continue;
        };
        sums.push(ActivitySum {
            day,
            actor,
            username,
            kind,
            n: count(&row, next + 1)?,
        });
    }
    Ok(sums)
}

/// Red executions (submissions to the blue team), blue evaluations (submissions to review)
/// and evidence uploads, per day or ISO week and per user.
pub async fn team_activity(
    conn: &impl ConnectionTrait,
    query: &MetricsQuery,
) -> AppResult<TeamActivity> {
    let (from, to) = closed_range(&query.date_from, &query.date_to, DEFAULT_DAYS)?;
    let weekly = match query.granularity.as_deref().map(str::trim) {
        None | Some("") | Some("day") => false,
        Some("week") => true,
        Some(other) => {
            return Err(AppError::field(
                "granularity",
                format!("Unknown granularity '{other}'; expected day or week"),
            ));
        }
    };
    let period_of = |d: NaiveDate| if weekly { week_start(d) } else { d };
    let mut series: BTreeMap<NaiveDate, ActivityCounts> = BTreeMap::new();
    let mut cursor = period_of(from);
    while cursor <= to {
        series.insert(cursor, ActivityCounts::default());
        cursor += Duration::days(if weekly { 7 } else { 1 });
    }
    let mut totals = ActivityCounts::default();
    let kinds = &ActivityKind::TEAM_WORK;
    for sum in activity_sums(conn, kinds, (from, to), false).await? {
        if let Some(day) = sum.day {
            bump(series.entry(period_of(day)).or_default(), sum.kind, sum.n);
            bump(&mut totals, sum.kind, sum.n);
        }
    }
    let mut users: HashMap<Option<Uuid>, (Option<String>, ActivityCounts)> = HashMap::new();
    for sum in activity_sums(conn, kinds, (from, to), true).await? {
        let entry = users.entry(sum.actor).or_default();
        entry.0 = entry.0.take().or(sum.username);
        bump(&mut entry.1, sum.kind, sum.n);
    }
    let names = Names::load(conn, users.keys().flatten().copied().collect()).await?;
    let mut by_user: Vec<UserActivity> = users
        .into_iter()
        .map(|(id, (username, counts))| {
            let (username, display_name, role) = names.of(id, username);
            UserActivity {
                user_id: id,
                username,
                display_name,
                role,
                counts,
            }
        })
        .collect();
    let total = |c: &ActivityCounts| {
        c.red_executions + c.blue_evaluations + c.red_evidence_uploads + c.blue_evidence_uploads
    };
    by_user.sort_by(|a, b| {
        total(&b.counts)
            .cmp(&total(&a.counts))
            .then_with(|| a.username.cmp(&b.username))
    });
    Ok(TeamActivity {
        granularity: if weekly { "week" } else { "day" }.into(),
        date_from: from,
        date_to: to,
        series: series
            .into_iter()
            .map(|(period, counts)| ActivityPoint { period, counts })
            .collect(),
        totals,
        by_user,
    })
}

/// Approvals and rejections per lead and side, from every vote cast in the range (a vote
/// later cleared by a reopen still happened).
pub async fn validation_rate(
    conn: &impl ConnectionTrait,
    query: &MetricsQuery,
) -> AppResult<ValidationRate> {
    let (from, to) = closed_range(&query.date_from, &query.date_to, DEFAULT_DAYS)?;
    // (actor, side) → (username, approved, rejected)
    type Votes = (Option<String>, u64, u64);
    let mut leads: BTreeMap<(Option<Uuid>, String), Votes> = BTreeMap::new();
    let mut sides: BTreeMap<String, (u64, u64)> =
        [("red".to_owned(), (0, 0)), ("blue".to_owned(), (0, 0))].into();
    for sum in activity_sums(conn, &ActivityKind::VOTES, (from, to), true).await? {
        let (side, approved) = match sum.kind {
            ActivityKind::RedApproved => ("red", true),
            ActivityKind::RedRejected => ("red", false),
            ActivityKind::BlueApproved => ("blue", true),
            _ => ("blue", false),
        };
        let entry = leads.entry((sum.actor, side.to_owned())).or_default();
        entry.0 = entry.0.take().or(sum.username);
        let totals = sides.entry(side.to_owned()).or_default();
        if approved {
            entry.1 += sum.n;
            totals.0 += sum.n;
        } else {
            entry.2 += sum.n;
            totals.1 += sum.n;
        }
    }
    let names = Names::load(conn, leads.keys().filter_map(|(id, _)| *id).collect()).await?;
    let mut by_lead: Vec<LeadValidation> = leads
        .into_iter()
        .map(|((id, side), (username, approved, rejected))| {
            let (username, display_name, _) = names.of(id, username);
            LeadValidation {
                user_id: id,
                username,
                display_name,
                side,
                counts: ValidationCounts::new(approved, rejected),
            }
        })
        .collect();
    by_lead.sort_by(|a, b| a.username.cmp(&b.username).then(a.side.cmp(&b.side)));
    Ok(ValidationRate {
        date_from: from,
        date_to: to,
        by_lead,
        by_side: sides
            .into_iter()
            .rev()
            .map(|(side, (approved, rejected))| SideValidation {
                side,
                counts: ValidationCounts::new(approved, rejected),
            })
            .collect(),
    })
}

/// The last updated tests in scope.
pub async fn recent_tests(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<Vec<TestSummary>> {
    let mut values = Vec::new();
    let condition = scope.test_sql(&mut values);
    let ids: Vec<Uuid> = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!(
                "SELECT s.id FROM tests s WHERE {condition} \
                 ORDER BY s.updated_at DESC, s.id DESC LIMIT {RECENT}"
            ),
            values,
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<_, _>>()?;
    let rows = test_reads::SummaryRow::by_ids(conn, &ids).await?;
    test_reads::summaries(conn, rows).await
}

/// Coverage over time from the weekly snapshots, oldest first; for one tactic when filtered.
pub async fn coverage_history(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<Vec<CoveragePoint>> {
    let mut snapshots = coverage_snapshot::Entity::find()
        .order_by_desc(coverage_snapshot::Column::TakenAt)
        .limit(HISTORY)
        .all(conn)
        .await?;
    snapshots.reverse();
    let number =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|n| n.as_u64()).unwrap_or(0);
    Ok(snapshots
        .into_iter()
        .filter_map(|s| {
            let score = match &scope.tactic {
                None => s.score,
                Some(tactic) => s.by_tactic.as_array().and_then(|entries| {
                    entries
                        .iter()
                        .find(|e| {
                            e.get("tactic").and_then(|t| t.as_str())
                                == Some(tactic.shortname.as_str())
                        })?
                        .get("score")?
                        .as_f64()
                }),
            };
            let counts = match &scope.tactic {
                None => StatusCounts {
                    total: u64::try_from(s.total).unwrap_or(0),
                    validated: u64::try_from(s.validated).unwrap_or(0),
                    partial: u64::try_from(s.partial).unwrap_or(0),
                    in_progress: u64::try_from(s.in_progress).unwrap_or(0),
                    not_covered: u64::try_from(s.not_covered).unwrap_or(0),
                },
                Some(tactic) => {
                    let entry = s.by_tactic.as_array()?.iter().find(|e| {
                        e.get("tactic").and_then(|t| t.as_str()) == Some(tactic.shortname.as_str())
                    })?;
                    StatusCounts {
                        total: number(entry, "total"),
                        validated: number(entry, "validated"),
                        partial: number(entry, "partial"),
                        in_progress: number(entry, "in_progress"),
                        not_covered: number(entry, "not_covered"),
                    }
                }
            };
            Some(CoveragePoint {
                taken_at: s.taken_at,
                coverage_percent: counts.percent(),
                score,
                counts,
            })
        })
        .collect())
}

/// Everything the dashboard shows, for `user` (whose pending tasks it lists). The figures
/// everyone sees are cached behind the versions they are computed from; the pending tasks are
/// the caller's own and read each time.
pub async fn dashboard(
    db: &DatabaseConnection,
    cache: &ReadCache,
    user: &CurrentUser,
    query: &MetricsQuery,
) -> AppResult<Dashboard> {
    let pending_query = TestQuery {
        mine: Some(true),
        limit: Some(8),
        ..Default::default()
    };
    let (shared, pending) = tokio::join!(
        cache.load(db, answers::DASHBOARD, query, || shared_dashboard(
            db, query
        )),
        test_reads::list(db, user, &pending_query),
    );
    let pending = pending?;
    Ok(Dashboard {
        pending_total: pending.total,
        pending: pending.items,
        ..Dashboard::clone(&*shared?)
    })
}

/// The dashboard without anyone's pending tasks.
async fn shared_dashboard(db: &DatabaseConnection, query: &MetricsQuery) -> AppResult<Dashboard> {
    let scope = scope(db, query).await?;
    // The small queries on the knowledge base one after another, the rest at once, each on
    // its own pooled connection (six at most, so a few dashboards at once do not drain the
    // pool). The per-state test figures of the summary, the tactics and the funnel share one
    // pass over the tests.
    let knowledge = async {
        Ok::<_, AppError>((
            technique_counts(db, &scope).await?,
            tactics(db, &scope).await?,
            tactic_technique_counts(db, &scope).await?,
            tactic_members(db, &scope).await?,
        ))
    };
    let (knowledge, tally, activity, validation, recent, history) = tokio::join!(
        knowledge,
        test_tally(db, &scope),
        team_activity(db, query),
        validation_rate(db, query),
        recent_tests(db, &scope),
        coverage_history(db, &scope),
    );
    let (techniques, tactics, statuses, members) = knowledge?;
    let tally = tally?;
    Ok(Dashboard {
        summary: summarize(techniques, &tally),
        by_tactic: per_tactic(tactics, statuses, &tally, &members),
        pipeline: funnel(&per_state(tally.iter())),
        activity: activity?,
        validation: validation?,
        recent: recent?,
        history: history?,
        pending_total: 0,
        pending: Vec::new(),
    })
}
