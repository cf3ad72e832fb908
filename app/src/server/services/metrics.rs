//! Dashboard metrics, aggregated by the database: coverage per status and tactic, tests per
//! state, team activity and validation votes from the audit log. Only aggregates leave the
//! database; the largest result is one row per (day, kind) or (user, kind).
use crate::domain::coverage::CoverageStatus;
use crate::domain::workflow::{TestState, Vote};
use crate::dto::metrics::{
    ActivityCounts, ActivityPoint, CoveragePoint, Dashboard, LeadValidation, MetricsQuery,
    MetricsSummary, PipelineStage, SideValidation, StateCount, StatusCounts, TacticMetrics,
    TeamActivity, TestPipeline, UserActivity, ValidationCounts, ValidationRate,
};
use crate::dto::tests::{TestQuery, TestSummary};
use crate::error::{AppError, AppResult};
use crate::server::context::CurrentUser;
use crate::server::db::{json_text, statement, utc_day};
use crate::server::entities::{coverage_snapshot, security_test, tactic, user};
use crate::server::services::scope::{Scope, closed_range, start_of};
use crate::server::services::tests as test_reads;
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, Value,
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
        &query.date_from,
        &query.date_to,
    )
    .await
}

fn count(row: &QueryResult, index: usize) -> AppResult<u64> {
    let n: i64 = row.try_get_by_index(index)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn add_status(counts: &mut StatusCounts, status: &str, n: u64) {
    counts.add(status.parse().unwrap_or(CoverageStatus::NotCovered), n);
}

fn states(counts: &HashMap<String, u64>) -> Vec<StateCount> {
    TestState::ALL
        .iter()
        .map(|s| StateCount {
            state: s.as_str().to_owned(),
            count: counts.get(s.as_str()).copied().unwrap_or(0),
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
        let status: String = row.try_get_by_index(0)?;
        let sub: bool = row.try_get_by_index(1)?;
        let n = count(&row, 2)?;
        add_status(&mut all, &status, n);
        if !sub {
            add_status(&mut top, &status, n);
        }
    }
    Ok((all, top))
}

/// Tests in scope per state.
async fn test_states(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<HashMap<String, u64>> {
    let mut values = Vec::new();
    let condition = scope.test_sql(&mut values);
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!("SELECT s.state, COUNT(*) FROM tests s WHERE {condition} GROUP BY s.state"),
            values,
        ))
        .await?;
    let mut counts = HashMap::new();
    for row in rows {
        counts.insert(row.try_get_by_index::<String>(0)?, count(&row, 1)?);
    }
    Ok(counts)
}

/// The SQL condition for a test whose remediation is open: a gap found (or an owner named),
/// and the work not done or declined.
pub const OPEN_REMEDIATION: &str = "(s.detection_result IN ('not_detected', 'partial') \
     OR s.remediation_owner IS NOT NULL) \
     AND s.remediation_status IN ('not_started', 'in_progress')";

pub async fn summary(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<MetricsSummary> {
    let (techniques, top_level) = technique_counts(conn, scope).await?;
    let by_state = test_states(conn, scope).await?;
    let mut values = Vec::new();
    let condition = scope.test_sql(&mut values);
    let open = conn
        .query_one_raw(statement(
            conn.get_database_backend(),
            &format!("SELECT COUNT(*) FROM tests s WHERE {condition} AND {OPEN_REMEDIATION}"),
            values,
        ))
        .await?
        .map(|row| count(&row, 0))
        .transpose()?
        .unwrap_or(0);
    Ok(MetricsSummary {
        coverage_percent: techniques.percent(),
        top_level_coverage_percent: top_level.percent(),
        techniques,
        top_level,
        total_tests: by_state.values().sum(),
        tests_by_state: states(&by_state),
        open_remediations: open,
    })
}

/// The same figures per tactic, in matrix order (every tactic, even the empty ones, unless a
/// tactic filter picks one).
pub async fn by_tactic(
    conn: &impl ConnectionTrait,
    scope: &Scope,
) -> AppResult<Vec<TacticMetrics>> {
    let backend = conn.get_database_backend();
    let mut tactics = tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .order_by_asc(tactic::Column::MitreId)
        .all(conn)
        .await?;
    if let Some(only) = &scope.tactic {
        tactics.retain(|t| t.id == only.id);
    }
    // Techniques per tactic and status: a tactic's techniques are those whose JSON list of
    // tactic shortnames holds it.
    let mut values = Vec::new();
    let condition = scope.technique_sql(&mut values);
    let technique_rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT ta.shortname, t.coverage_status, t.is_subtechnique, COUNT(*) \
                 FROM techniques t JOIN tactics ta \
                 ON CAST(t.tactics AS TEXT) LIKE '%\"' || ta.shortname || '\"%' \
                 WHERE {condition} \
                 GROUP BY ta.shortname, t.coverage_status, t.is_subtechnique"
            ),
            values,
        ))
        .await?;
    let mut statuses: HashMap<String, (StatusCounts, StatusCounts)> = HashMap::new();
    for row in technique_rows {
        let shortname: String = row.try_get_by_index(0)?;
        let status: String = row.try_get_by_index(1)?;
        let sub: bool = row.try_get_by_index(2)?;
        let n = count(&row, 3)?;
        let entry = statuses.entry(shortname).or_default();
        add_status(&mut entry.0, &status, n);
        if !sub {
            add_status(&mut entry.1, &status, n);
        }
    }
    // Tests per tactic and state: grouped per technique first (a few thousand groups at
    // most), so the join to tactics touches groups, not every test.
    let mut values = Vec::new();
    let test_condition = scope.test_sql(&mut values);
    let mut technique_values = Vec::new();
    let technique_condition = Scope {
        platform: None,
        ..scope.clone()
    }
    .technique_sql(&mut technique_values);
    values.extend(technique_values);
    let test_rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT ta.shortname, g.state, CAST(SUM(g.n) AS BIGINT) FROM \
                 (SELECT s.technique_id, s.state, COUNT(*) AS n FROM tests s \
                  WHERE {test_condition} GROUP BY s.technique_id, s.state) g \
                 JOIN techniques t ON t.mitre_id = g.technique_id \
                 JOIN tactics ta ON CAST(t.tactics AS TEXT) LIKE '%\"' || ta.shortname || '\"%' \
                 WHERE {technique_condition} \
                 GROUP BY ta.shortname, g.state"
            ),
            values,
        ))
        .await?;
    let mut tests: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for row in test_rows {
        let shortname: String = row.try_get_by_index(0)?;
        let state: String = row.try_get_by_index(1)?;
        let n = count(&row, 2)?;
        *tests
            .entry(shortname)
            .or_default()
            .entry(state)
            .or_default() += n;
    }
    Ok(tactics
        .into_iter()
        .map(|t| {
            let (techniques, top_level) = statuses.remove(&t.shortname).unwrap_or_default();
            let by_state = tests.remove(&t.shortname).unwrap_or_default();
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
        .collect())
}

/// The funnel: tests per state, and how many reached each stage.
pub async fn pipeline(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<TestPipeline> {
    Ok(funnel(&test_states(conn, scope).await?))
}

fn funnel(counts: &HashMap<String, u64>) -> TestPipeline {
    let get = |s: TestState| counts.get(s.as_str()).copied().unwrap_or(0);
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

/// The kind of a team-activity event, from its audit entry.
fn activity_kind(action: &str, state: Option<&str>, team: Option<&str>) -> Option<usize> {
    match (action, state, team) {
        ("test.transition", Some(s), _) if s == TestState::BlueEvaluating.as_str() => Some(0),
        ("test.transition", Some(s), _) if s == TestState::InReview.as_str() => Some(1),
        ("evidence.upload", _, Some("red")) => Some(2),
        ("evidence.upload", _, Some("blue")) => Some(3),
        _ => None,
    }
}

fn bump(counts: &mut ActivityCounts, kind: usize, n: u64) {
    match kind {
        0 => counts.red_executions += n,
        1 => counts.blue_evaluations += n,
        2 => counts.red_evidence_uploads += n,
        _ => counts.blue_evidence_uploads += n,
    }
}

fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Red executions (submissions to the blue team), blue evaluations (submissions to review)
/// and evidence uploads, per day or ISO week and per user, from the audit log.
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
    let backend = conn.get_database_backend();
    let state = json_text(backend, "a.after_value", "state");
    let team = json_text(backend, "a.after_value", "team");
    let day = utc_day(backend, "a.occurred_at");
    let window = "a.action IN ('test.transition', 'evidence.upload') \
                  AND a.occurred_at >= ? AND a.occurred_at < ?";
    let bounds = || -> Vec<Value> {
        vec![
            start_of(from).into(),
            start_of(to + Duration::days(1)).into(),
        ]
    };
    let relevant = format!(
        "(a.action = 'evidence.upload' OR {state} IN ('{}', '{}'))",
        TestState::BlueEvaluating.as_str(),
        TestState::InReview.as_str()
    );
    let per_day = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT {day}, a.action, {state}, {team}, COUNT(*) FROM audit_logs a \
                 WHERE {window} AND {relevant} GROUP BY 1, 2, 3, 4"
            ),
            bounds(),
        ))
        .await?;
    let period_of = |d: NaiveDate| if weekly { week_start(d) } else { d };
    let mut series: BTreeMap<NaiveDate, ActivityCounts> = BTreeMap::new();
    let mut cursor = period_of(from);
    while cursor <= to {
        series.insert(cursor, ActivityCounts::default());
        cursor += Duration::days(if weekly { 7 } else { 1 });
    }
    let mut totals = ActivityCounts::default();
    for row in per_day {
        let day: String = row.try_get_by_index(0)?;
        let action: String = row.try_get_by_index(1)?;
        let state: Option<String> = row.try_get_by_index(2)?;
        let team: Option<String> = row.try_get_by_index(3)?;
        let n = count(&row, 4)?;
        let (Some(kind), Ok(day)) = (
            activity_kind(&action, state.as_deref(), team.as_deref()),
            NaiveDate::parse_from_str(&day, "%Y-%m-%d"),
        ) else {
            continue;
        };
        bump(series.entry(period_of(day)).or_default(), kind, n);
        bump(&mut totals, kind, n);
    }
    let per_user = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT a.actor_id, MAX(a.actor_username), a.action, {state}, {team}, COUNT(*) \
                 FROM audit_logs a WHERE {window} AND {relevant} \
                 GROUP BY a.actor_id, a.action, {state}, {team}"
            ),
            bounds(),
        ))
        .await?;
    let mut users: HashMap<Option<Uuid>, (Option<String>, ActivityCounts)> = HashMap::new();
    for row in per_user {
        let actor: Option<Uuid> = row.try_get_by_index(0)?;
        let username: Option<String> = row.try_get_by_index(1)?;
        let action: String = row.try_get_by_index(2)?;
        let state: Option<String> = row.try_get_by_index(3)?;
        let team: Option<String> = row.try_get_by_index(4)?;
        let n = count(&row, 5)?;
        if let Some(kind) = activity_kind(&action, state.as_deref(), team.as_deref()) {
            let entry = users.entry(actor).or_default();
            entry.0 = entry.0.take().or(username);
            bump(&mut entry.1, kind, n);
        }
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
    let backend = conn.get_database_backend();
    let team = json_text(backend, "a.after_value", "team");
    let status = json_text(backend, "a.after_value", "status");
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT a.actor_id, MAX(a.actor_username), {team}, {status}, COUNT(*) \
                 FROM audit_logs a \
                 WHERE a.action = 'test.vote' AND a.occurred_at >= ? AND a.occurred_at < ? \
                 GROUP BY a.actor_id, {team}, {status}"
            ),
            vec![
                start_of(from).into(),
                start_of(to + Duration::days(1)).into(),
            ],
        ))
        .await?;
    // (actor, side) → (username, approved, rejected)
    type Votes = (Option<String>, u64, u64);
    let mut leads: BTreeMap<(Option<Uuid>, String), Votes> = BTreeMap::new();
    let mut sides: BTreeMap<String, (u64, u64)> =
        [("red".to_owned(), (0, 0)), ("blue".to_owned(), (0, 0))].into();
    for row in rows {
        let actor: Option<Uuid> = row.try_get_by_index(0)?;
        let username: Option<String> = row.try_get_by_index(1)?;
        let Some(side) = row.try_get_by_index::<Option<String>>(2)? else {
            continue;
        };
        let status: Option<String> = row.try_get_by_index(3)?;
        let n = count(&row, 4)?;
        let approved = status.as_deref() == Some(Vote::Approved.as_str());
        let entry = leads.entry((actor, side.clone())).or_default();
        entry.0 = entry.0.take().or(username);
        let totals = sides.entry(side).or_default();
        if approved {
            entry.1 += n;
            totals.0 += n;
        } else {
            entry.2 += n;
            totals.1 += n;
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
    let mut models = security_test::Entity::find()
        .filter(security_test::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    models.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    test_reads::summaries(conn, &models).await
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
                counts,
            })
        })
        .collect())
}

/// Everything the dashboard shows, for `user` (whose pending tasks it lists).
pub async fn dashboard(
    db: &DatabaseConnection,
    user: &CurrentUser,
    query: &MetricsQuery,
) -> AppResult<Dashboard> {
    let scope = scope(db, query).await?;
    let pending_query = TestQuery {
        mine: Some(true),
        limit: Some(8),
        ..Default::default()
    };
    let (summary, by_tactic, activity, validation, recent, history, pending) = tokio::join!(
        summary(db, &scope),
        by_tactic(db, &scope),
        team_activity(db, query),
        validation_rate(db, query),
        recent_tests(db, &scope),
        coverage_history(db, &scope),
        test_reads::list(db, user, &pending_query),
    );
    let summary = summary?;
    let pipeline = pipeline_from(&summary.tests_by_state);
    let pending = pending?;
    Ok(Dashboard {
        summary,
        by_tactic: by_tactic?,
        pipeline,
        activity: activity?,
        validation: validation?,
        recent: recent?,
        history: history?,
        pending_total: pending.total,
        pending: pending.items,
    })
}

/// The funnel from per-state counts already at hand.
fn pipeline_from(states: &[StateCount]) -> TestPipeline {
    let counts: HashMap<String, u64> = states.iter().map(|s| (s.state.clone(), s.count)).collect();
    funnel(&counts)
}
