//! Reports: coverage (JSON, CSV, ATT&CK Navigator layer), test results and remediation status
//! (JSON or CSV, streamed from the database as they are read).
use crate::domain::coverage::CoverageStatus;
use crate::domain::heat::{self, HeatMode};
use crate::domain::values::{DetectionResult, RemediationStatus, Severity, sql_list};
use crate::domain::workflow::{TestState, Vote};
use crate::dto::knowledge::TechniqueQuery;
use crate::dto::reporting::metrics::StatusCounts;
use crate::dto::reporting::reports::{
    CoverageReport, CoverageRow, RemediationRow, ReportQuery, TestResultRow,
};
use crate::dto::scoring::HeatCell;
use crate::error::{AppError, AppResult};
use crate::server::entities::user;
use crate::server::knowledge::reads;
use crate::server::platform::db::statement;
use crate::server::reporting::export::{Body, Format, ReportRow, ReportWriter};
use crate::server::reporting::scope::Scope;
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QuerySelect, Value,
};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

/// The ATT&CK release the exported layers name; Navigator only uses it to warn when the layer
/// and the matrix it opens differ.
pub const LAYER_ATTACK_VERSION: &str = "18";
pub const LAYER_FORMAT: &str = "4.5";
pub const NAVIGATOR_VERSION: &str = "5.1.0";

pub fn format_of(query: &ReportQuery) -> AppResult<Format> {
    match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(AppError::field(
            "format",
            format!("Unknown format '{other}'; expected json or csv"),
        )),
    }
}

pub async fn scope(conn: &impl ConnectionTrait, query: &ReportQuery) -> AppResult<Scope> {
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

fn text<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn time(value: &Option<DateTime<Utc>>) -> String {
    value.map(|t| t.to_rfc3339()).unwrap_or_default()
}

impl ReportRow for CoverageRow {
    const HEADER: &'static [&'static str] = &[
        "technique_id",
        "name",
        "tactics",
        "platforms",
        "is_subtechnique",
        "parent_technique_id",
        "coverage_status",
        "tests_total",
        "tests_validated",
        "tests_rejected",
        "tests_active",
        "last_validated_at",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.mitre_id.clone(),
            self.name.clone(),
            self.tactics.join("; "),
            self.platforms.join("; "),
            self.is_subtechnique.to_string(),
            text(&self.parent_mitre_id),
            self.coverage_status.as_str().to_owned(),
            self.tests_total.to_string(),
            self.tests_validated.to_string(),
            self.tests_rejected.to_string(),
            self.tests_active.to_string(),
            time(&self.last_validated_at),
        ]
    }
}

impl ReportRow for TestResultRow {
    const HEADER: &'static [&'static str] = &[
        "test_id",
        "title",
        "technique_id",
        "state",
        "severity",
        "platform",
        "created_at",
        "red_assignee",
        "tool_used",
        "red_submitted_at",
        "blue_assignee",
        "detection_result",
        "alert_fired",
        "alert_name",
        "time_to_detect_seconds",
        "blue_submitted_at",
        "red_validation_status",
        "red_validated_by",
        "blue_validation_status",
        "blue_validated_by",
        "completed_at",
        "evidence_count",
        "worklog_minutes",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.technique_id.clone(),
            self.state.as_str().to_owned(),
            self.severity.as_str().to_owned(),
            text(&self.platform),
            self.created_at.to_rfc3339(),
            text(&self.red_assignee),
            text(&self.tool_used),
            time(&self.red_submitted_at),
            text(&self.blue_assignee),
            text(&self.detection_result),
            text(&self.alert_fired),
            text(&self.alert_name),
            text(&self.time_to_detect_seconds),
            time(&self.blue_submitted_at),
            text(&self.red_validation_status),
            text(&self.red_validated_by),
            text(&self.blue_validation_status),
            text(&self.blue_validated_by),
            time(&self.completed_at),
            self.evidence_count.to_string(),
            self.worklog_minutes.to_string(),
        ]
    }
}

impl ReportRow for RemediationRow {
    const HEADER: &'static [&'static str] = &[
        "test_id",
        "title",
        "technique_id",
        "state",
        "detection_result",
        "remediation_status",
        "owner",
        "due_date",
        "overdue",
        "steps_total",
        "steps_done",
        "notes",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.test_id.to_string(),
            self.title.clone(),
            self.technique_id.clone(),
            self.state.as_str().to_owned(),
            text(&self.detection_result),
            self.remediation_status.as_str().to_owned(),
            text(&self.owner),
            text(&self.due_date),
            self.overdue.to_string(),
            self.steps_total.to_string(),
            self.steps_done.to_string(),
            self.notes.clone(),
        ]
    }
}

/// Every technique in scope with its status, its tests and its last validation.
pub async fn coverage(conn: &impl ConnectionTrait, scope: &Scope) -> AppResult<CoverageReport> {
    let techniques = reads::list_techniques(
        conn,
        &TechniqueQuery {
            tactic: scope.tactic.as_ref().map(|t| t.shortname.clone()),
            platform: scope.platform.clone(),
            technique_set: scope.technique_set.map(|id| id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    // Per technique and state: the count, and the latest validation among validated tests.
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT s.technique_id, s.state, COUNT(*), MAX(s.completed_at) FROM tests s \
             GROUP BY s.technique_id, s.state",
            Vec::new(),
        ))
        .await?;
    #[derive(Default)]
    struct Tally {
        total: u64,
        validated: u64,
        rejected: u64,
        last_validated: Option<DateTime<Utc>>,
    }
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    for row in rows {
        let technique: String = row.try_get_by_index(0)?;
        let state: TestState = row.try_get_by_index(1)?;
        let n = u64::try_from(row.try_get_by_index::<i64>(2)?).unwrap_or(0);
        let tally = tallies.entry(technique).or_default();
        tally.total += n;
        match state {
            TestState::Validated => {
                tally.validated += n;
                tally.last_validated = row.try_get_by_index(3)?;
            }
            TestState::Rejected => tally.rejected += n,
            _ => {}
        }
    }
    let mut totals = StatusCounts::default();
    let techniques: Vec<CoverageRow> = techniques
        .into_iter()
        .map(|t| {
            let tally = tallies.remove(&t.mitre_id).unwrap_or_default();
            totals.add(t.coverage_status, 1);
            CoverageRow {
                coverage_status: t.coverage_status,
                tests_active: tally.total - tally.validated - tally.rejected,
                tests_total: tally.total,
                tests_validated: tally.validated,
                tests_rejected: tally.rejected,
                last_validated_at: tally.last_validated,
                mitre_id: t.mitre_id,
                name: t.name,
                tactics: t.tactics,
                platforms: t.platforms,
                is_subtechnique: t.is_subtechnique,
                parent_mitre_id: t.parent_mitre_id,
            }
        })
        .collect();
    Ok(CoverageReport {
        generated_at: Utc::now(),
        coverage_percent: totals.percent(),
        totals,
        techniques,
    })
}

/// The coverage report as CSV (bounded by the size of the matrix, so built from memory).
pub fn coverage_csv(report: CoverageReport) -> Body {
    let (mut writer, body) = ReportWriter::new::<CoverageRow>(Format::Csv, &json!({}));
    tokio::spawn(async move {
        for row in &report.techniques {
            if writer.row(row).await.is_err() {
                return;
            }
        }
        let _ = writer.finish().await;
    });
    body
}

/// The heatmap mode a layer export asks for (status by default).
pub fn layer_mode(query: &ReportQuery) -> AppResult<HeatMode> {
    match query.mode.as_deref().map(str::trim) {
        None | Some("") => Ok(HeatMode::Status),
        Some(mode) => mode.parse().map_err(|e: String| AppError::field("mode", e)),
    }
}

/// The coverage as an ATT&CK Navigator layer (format 4.5): one entry per technique and
/// tactic, scored and coloured by status, or by the heatmap `mode` from the `heat` cells
/// (score, priority, gap or visibility in `score`, with a gradient and legend to match).
pub fn navigator_layer(
    report: &CoverageReport,
    scope: &Scope,
    mode: HeatMode,
    heat: &HashMap<String, HeatCell>,
) -> Json {
    let mut techniques = Vec::new();
    for row in &report.techniques {
        let status = row.coverage_status;
        let cell = heat.get(&row.mitre_id);
        let value = cell.and_then(|c| c.value(mode));
        // Status scores stay whole numbers, as before the heatmap modes.
        let (score, color) = match (mode, value) {
            (HeatMode::Status, _) => (json!(status.score()), status.color().to_owned()),
            (_, Some(v)) => (json!(v), heat::gradient(mode, v)),
            (_, None) => (Json::Null, "#f1f5f9".to_owned()),
        };
        let comment = format!(
            "{}: {} test(s), {} validated, {} rejected, {} under way{}",
            status.label(),
            row.tests_total,
            row.tests_validated,
            row.tests_rejected,
            row.tests_active,
            row.last_validated_at
                .map(|t| format!("; last validated {}", t.format("%Y-%m-%d")))
                .unwrap_or_default()
        );
        let comment = match (mode, cell) {
            (HeatMode::Status, _) | (_, None) => comment,
            (_, Some(c)) => format!(
                "{comment}. Score {}, priority {}, gap {}{}. {}",
                c.score,
                c.priority,
                c.gap,
                c.visibility
                    .map(|v| format!(", visibility {v}%"))
                    .unwrap_or_default(),
                c.explain
            ),
        };
        let mut metadata = vec![
            json!({ "name": "status", "value": status.as_str() }),
            json!({ "name": "tests", "value": row.tests_total.to_string() }),
            json!({ "name": "validated tests", "value": row.tests_validated.to_string() }),
        ];
        if let Some(c) = cell {
            metadata.push(json!({ "name": "score", "value": c.score.to_string() }));
            metadata.push(json!({ "name": "priority", "value": c.priority.to_string() }));
            metadata.push(json!({ "name": "gap", "value": c.gap.to_string() }));
        }
        for tactic in &row.tactics {
            techniques.push(json!({
                "techniqueID": row.mitre_id,
                "tactic": tactic,
                "score": score,
                "color": color,
                "comment": comment,
                "enabled": true,
                "metadata": metadata,
                "links": [],
                "showSubtechniques": false,
            }));
        }
    }
    let mut name = match mode {
        HeatMode::Status => "Aegis detection coverage".to_owned(),
        other => format!("Aegis detection coverage: {}", other.label()),
    };
    if let Some(tactic) = &scope.tactic {
        name.push_str(&format!(" ({})", tactic.name));
    }
    let totals = &report.totals;
    json!({
        "name": name,
        "versions": {
            "attack": LAYER_ATTACK_VERSION,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_FORMAT,
        },
        "domain": "enterprise-attack",
        "description": format!(
            "Detection coverage exported from Aegis on {}: {} techniques, {} validated, {} partially covered, {} in progress, {} not covered ({}% validated).",
            report.generated_at.format("%Y-%m-%d %H:%M UTC"),
            totals.total,
            totals.validated,
            totals.partial,
            totals.in_progress,
            totals.not_covered,
            report.coverage_percent,
        ),
        "filters": {
            "platforms": match &scope.platform {
                Some(p) => json!([p]),
                None => json!(["Windows", "Linux", "macOS", "Network Devices", "ESXi", "PRE",
                    "Containers", "IaaS", "SaaS", "Office Suite", "Identity Provider"]),
            },
        },
        "sorting": 0,
        "layout": {
            "layout": "side",
            "aggregateFunction": "average",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
            "expandedSubtechniques": "none",
        },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": match mode {
                HeatMode::Status => vec![
                    CoverageStatus::NotCovered.color().to_owned(),
                    CoverageStatus::InProgress.color().to_owned(),
                    CoverageStatus::Partial.color().to_owned(),
                    CoverageStatus::Validated.color().to_owned(),
                ],
                other => heat::gradient_stops(other),
            },
            "minValue": 0,
            "maxValue": 100,
        },
        "legendItems": match mode {
            HeatMode::Status => CoverageStatus::ALL
                .iter()
                .map(|s| json!({ "label": s.label(), "color": s.color() }))
                .collect::<Vec<_>>(),
            other => [0.0, 50.0, 100.0]
                .iter()
                .map(|v| json!({ "label": format!("{} {v}", other.label()), "color": heat::gradient(other, *v) }))
                .collect::<Vec<_>>(),
        },
        "metadata": [
            { "name": "generated_by", "value": "Aegis" },
            { "name": "generated_at", "value": report.generated_at.to_rfc3339() },
        ],
        "links": [],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
    })
}

/// Display names of every user, for the name columns (users are few; tests are many).
async fn all_user_names(conn: &impl ConnectionTrait) -> AppResult<HashMap<Uuid, String>> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::DisplayName)
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

fn limit_sql(query: &ReportQuery) -> String {
    query
        .limit
        .map(|n| format!(" LIMIT {}", n.min(1_000_000)))
        .unwrap_or_default()
}

#[derive(FromQueryResult)]
struct TestResultDb {
    id: Uuid,
    title: String,
    technique_id: String,
    state: TestState,
    severity: Severity,
    platform: Option<String>,
    created_at: DateTime<Utc>,
    assigned_red_id: Option<Uuid>,
    tool_used: Option<String>,
    red_submitted_at: Option<DateTime<Utc>>,
    assigned_blue_id: Option<Uuid>,
    detection_result: Option<DetectionResult>,
    alert_fired: Option<bool>,
    alert_name: Option<String>,
    time_to_detect_seconds: Option<i64>,
    blue_submitted_at: Option<DateTime<Utc>>,
    red_validation_status: Option<Vote>,
    red_validated_by: Option<Uuid>,
    blue_validation_status: Option<Vote>,
    blue_validated_by: Option<Uuid>,
    completed_at: Option<DateTime<Utc>>,
    evidence_count: i64,
    worklog_minutes: i64,
}

/// Streams rows of `sql` through `convert` into a report body.
async fn stream_report<D, R>(
    db: &DatabaseConnection,
    format: Format,
    head: Json,
    sql: sea_orm::Statement,
    convert: impl Fn(D) -> R + Send + 'static,
) -> AppResult<Body>
where
    D: FromQueryResult + Send + Sync + 'static,
    R: ReportRow + Send + Sync + 'static,
{
    let db = db.clone();
    let (mut writer, body) = ReportWriter::new::<R>(format, &head);
    tokio::spawn(async move {
        let mut rows = match D::find_by_statement(sql).stream(&db).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::error!(error = %err, "report query failed");
                writer.fail(format!("report query failed: {err}")).await;
                return;
            }
        };
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => {
                    if writer.row(&convert(row)).await.is_err() {
                        return;
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "report stream failed");
                    drop(rows);
                    writer.fail(format!("report stream failed: {err}")).await;
                    return;
                }
            }
        }
        drop(rows);
        let _ = writer.finish().await;
    });
    Ok(body)
}

fn head(kind: &str, query: &ReportQuery) -> Json {
    json!({
        "report": kind,
        "generated_at": Utc::now(),
        "filters": {
            "tactic": query.tactic,
            "platform": query.platform,
            "technique_set": query.technique_set,
            "state": query.state,
            "status": query.status,
            "date_from": query.date_from,
            "date_to": query.date_to,
        },
    })
}

/// Each test in scope (creation date within the range) with its red and blue outcomes, time
/// to detect, votes and evidence count, oldest first.
pub async fn test_results(db: &DatabaseConnection, query: &ReportQuery) -> AppResult<Body> {
    let format = format_of(query)?;
    let scope = scope(db, query).await?;
    let mut values: Vec<Value> = Vec::new();
    let mut condition = scope.test_sql(&mut values);
    if let Some(state) = query
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let state = TestState::from_str(state).map_err(|e| AppError::field("state", e))?;
        condition.push_str(" AND s.state = ?");
        values.push(state.as_str().into());
    }
    let sql = statement(
        db.get_database_backend(),
        &format!(
            "SELECT s.id, s.title, s.technique_id, s.state, s.severity, s.platform, \
             s.created_at, s.assigned_red_id, s.tool_used, s.red_submitted_at, \
             s.assigned_blue_id, s.detection_result, s.alert_fired, s.alert_name, \
             s.time_to_detect_seconds, s.blue_submitted_at, s.red_validation_status, \
             s.red_validated_by, s.blue_validation_status, s.blue_validated_by, \
             s.completed_at, COALESCE(ev.n, 0) AS evidence_count, \
             COALESCE(wl.m, 0) AS worklog_minutes \
             FROM tests s LEFT JOIN \
             (SELECT test_id, COUNT(*) AS n FROM evidence GROUP BY test_id) ev \
             ON ev.test_id = s.id LEFT JOIN \
             (SELECT test_id, SUM(minutes) AS m FROM worklog_entries GROUP BY test_id) wl \
             ON wl.test_id = s.id \
             WHERE {condition} ORDER BY s.created_at, s.id{}",
            limit_sql(query)
        ),
        values,
    );
    let names = all_user_names(db).await?;
    let name = move |id: Option<Uuid>| id.and_then(|id| names.get(&id).cloned());
    stream_report(
        db,
        format,
        head("test-results", query),
        sql,
        move |r: TestResultDb| TestResultRow {
            red_assignee: name(r.assigned_red_id),
            blue_assignee: name(r.assigned_blue_id),
            red_validated_by: name(r.red_validated_by),
            blue_validated_by: name(r.blue_validated_by),
            evidence_count: u64::try_from(r.evidence_count).unwrap_or(0),
            worklog_minutes: u64::try_from(r.worklog_minutes).unwrap_or(0),
            id: r.id,
            title: r.title,
            technique_id: r.technique_id,
            state: r.state,
            severity: r.severity,
            platform: r.platform,
            created_at: r.created_at,
            tool_used: r.tool_used,
            red_submitted_at: r.red_submitted_at,
            detection_result: r.detection_result,
            alert_fired: r.alert_fired,
            alert_name: r.alert_name,
            time_to_detect_seconds: r.time_to_detect_seconds,
            blue_submitted_at: r.blue_submitted_at,
            red_validation_status: r.red_validation_status,
            blue_validation_status: r.blue_validation_status,
            completed_at: r.completed_at,
        },
    )
    .await
}

#[derive(FromQueryResult)]
struct RemediationDb {
    id: Uuid,
    title: String,
    technique_id: String,
    state: TestState,
    detection_result: Option<DetectionResult>,
    remediation_status: RemediationStatus,
    remediation_owner: Option<Uuid>,
    remediation_due_date: Option<NaiveDate>,
    remediation_notes: String,
    steps_total: i64,
    steps_done: i64,
}

/// Tests with a remediation to track: a gap found, an owner named, work started or steps
/// planned. Soonest due first.
pub async fn remediation_status(db: &DatabaseConnection, query: &ReportQuery) -> AppResult<Body> {
    let format = format_of(query)?;
    let scope = scope(db, query).await?;
    let mut values: Vec<Value> = Vec::new();
    let mut condition = scope.test_sql(&mut values);
    if let Some(status) = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status: RemediationStatus = status.parse().map_err(|e| AppError::field("status", e))?;
        condition.push_str(" AND s.remediation_status = ?");
        values.push(status.as_str().into());
    }
    let sql = statement(
        db.get_database_backend(),
        &format!(
            "SELECT s.id, s.title, s.technique_id, s.state, s.detection_result, \
             s.remediation_status, s.remediation_owner, s.remediation_due_date, \
             s.remediation_notes, COALESCE(st.total, 0) AS steps_total, \
             COALESCE(st.done, 0) AS steps_done \
             FROM tests s LEFT JOIN \
             (SELECT test_id, COUNT(*) AS total, \
              CAST(SUM(CASE WHEN status = '{done}' THEN 1 ELSE 0 END) AS BIGINT) AS done \
              FROM remediation_steps GROUP BY test_id) st ON st.test_id = s.id \
             WHERE {condition} AND (s.detection_result IN {gaps} \
             OR s.remediation_owner IS NOT NULL OR s.remediation_status <> '{not_started}' \
             OR st.total > 0) \
             ORDER BY CASE WHEN s.remediation_due_date IS NULL THEN 1 ELSE 0 END, \
             s.remediation_due_date, s.created_at, s.id{}",
            limit_sql(query),
            done = RemediationStatus::Done.as_str(),
            not_started = RemediationStatus::NotStarted.as_str(),
            gaps = sql_list(
                &DetectionResult::ALL,
                DetectionResult::as_str,
                DetectionResult::is_gap
            ),
        ),
        values,
    );
    let names = all_user_names(db).await?;
    let today = Utc::now().date_naive();
    stream_report(
        db,
        format,
        head("remediation-status", query),
        sql,
        move |r: RemediationDb| RemediationRow {
            overdue: r.remediation_due_date.is_some_and(|due| due < today)
                && matches!(r.remediation_status.as_str(), "not_started" | "in_progress"),
            owner: r.remediation_owner.and_then(|id| names.get(&id).cloned()),
            test_id: r.id,
            title: r.title,
            technique_id: r.technique_id,
            state: r.state,
            detection_result: r.detection_result,
            remediation_status: r.remediation_status,
            due_date: r.remediation_due_date,
            steps_total: u64::try_from(r.steps_total).unwrap_or(0),
            steps_done: u64::try_from(r.steps_done).unwrap_or(0),
            notes: r.remediation_notes,
        },
    )
    .await
}
