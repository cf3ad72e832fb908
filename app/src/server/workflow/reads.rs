//! Reading tests: the filtered list with its per-state counters, a test's detail, its
//! timeline (the audit trail of the test) and its retest chain. Changes live in the other
//! modules of `workflow`.
use super::rows::timer_of;
use crate::domain::audit::{TEST_ENTITY, TestEvent};
use crate::domain::rbac::Team;
use crate::domain::tallies::{CountedFilter, TallySum, for_filter, for_pending};
use crate::domain::values::{DetectionResult, RemediationStatus, Severity};
use crate::domain::workflow::{self, TestState, Vote};
use crate::dto::DEFAULT_PAGE_SIZE;
use crate::dto::workflow::{
    EvidenceDto, RemediationStepDto, TestDetail, TestPage, TestQuery, TestSummary, TimelineEntry,
    TimerDto,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::{
    audit_log, campaign, evidence, remediation_step, security_test, technique, user,
};
use crate::server::platform::context::CurrentUser;
use crate::server::platform::db::escape_like;
use crate::server::platform::pagination::page_bounds;
use crate::server::workflow::tallies;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use uuid::Uuid;

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<security_test::Model> {
    security_test::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Test {id} not found")))
}

/// Display names of the given users, for labels next to ids.
pub async fn user_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::DisplayName)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

async fn technique_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = String>,
) -> AppResult<HashMap<String, String>> {
    let ids: HashSet<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Name)
        .filter(technique::Column::MitreId.is_in(ids))
        .into_tuple::<(String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// From this offset on, a page of tests is found by id first.
const DEEP_PAGE: u64 = 1_000;

/// The columns of a test that its summary shows (not its long texts).
#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct SummaryRow {
    id: Uuid,
    title: String,
    technique_id: String,
    severity: Severity,
    platform: Option<String>,
    state: TestState,
    version: i32,
    created_by: Uuid,
    assigned_red_id: Option<Uuid>,
    assigned_blue_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
    retest_of: Option<Uuid>,
    detection_result: Option<DetectionResult>,
    red_validation_status: Option<Vote>,
    blue_validation_status: Option<Vote>,
    remediation_status: RemediationStatus,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SummaryRow {
    const COLUMNS: [security_test::Column; 18] = [
        security_test::Column::Id,
        security_test::Column::Title,
        security_test::Column::TechniqueId,
        security_test::Column::Severity,
        security_test::Column::Platform,
        security_test::Column::State,
        security_test::Column::Version,
        security_test::Column::CreatedBy,
        security_test::Column::AssignedRedId,
        security_test::Column::AssignedBlueId,
        security_test::Column::CampaignId,
        security_test::Column::RetestOf,
        security_test::Column::DetectionResult,
        security_test::Column::RedValidationStatus,
        security_test::Column::BlueValidationStatus,
        security_test::Column::RemediationStatus,
        security_test::Column::CreatedAt,
        security_test::Column::UpdatedAt,
    ];

    /// The tests matching `condition`, newest change first. A deep page finds its ids first
    /// (from the `(updated_at, id)` index alone, when unfiltered) and reads only those rows,
    /// rather than reading and skipping every row before it.
    pub(crate) async fn page(
        conn: &impl ConnectionTrait,
        condition: Condition,
        limit: u64,
        offset: u64,
    ) -> AppResult<Vec<Self>> {
        let newest_first = |select: sea_orm::Select<security_test::Entity>| {
            select
                .filter(condition)
                .order_by_desc(security_test::Column::UpdatedAt)
                .order_by_desc(security_test::Column::Id)
                .limit(limit)
                .offset(offset)
        };
        if offset < DEEP_PAGE {
            return Ok(newest_first(security_test::Entity::find())
                .select_only()
                .columns(Self::COLUMNS)
                .into_model::<Self>()
                .all(conn)
                .await?);
        }
        let ids: Vec<Uuid> = newest_first(security_test::Entity::find())
            .select_only()
            .column(security_test::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        Self::by_ids(conn, &ids).await
    }

    /// The tests with these ids, in the order given.
    pub(crate) async fn by_ids(conn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<Self>> {
        let mut rows: HashMap<Uuid, Self> = security_test::Entity::find()
            .select_only()
            .columns(Self::COLUMNS)
            .filter(security_test::Column::Id.is_in(ids.iter().copied()))
            .into_model::<Self>()
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }

    pub(crate) fn of(m: &security_test::Model) -> Self {
        Self {
            id: m.id,
            title: m.title.clone(),
            technique_id: m.technique_id.clone(),
            severity: m.severity,
            platform: m.platform.clone(),
            state: m.state,
            version: m.version,
            created_by: m.created_by,
            assigned_red_id: m.assigned_red_id,
            assigned_blue_id: m.assigned_blue_id,
            campaign_id: m.campaign_id,
            retest_of: m.retest_of,
            detection_result: m.detection_result,
            red_validation_status: m.red_validation_status,
            blue_validation_status: m.blue_validation_status,
            remediation_status: m.remediation_status,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn summary(
    m: SummaryRow,
    techniques: &HashMap<String, String>,
    names: &HashMap<Uuid, String>,
) -> TestSummary {
    TestSummary {
        technique_name: techniques.get(&m.technique_id).cloned(),
        created_by_name: names.get(&m.created_by).cloned(),
        id: m.id,
        title: m.title,
        technique_id: m.technique_id,
        severity: m.severity,
        platform: m.platform,
        state: m.state,
        version: m.version,
        created_by: m.created_by,
        assigned_red_id: m.assigned_red_id,
        assigned_blue_id: m.assigned_blue_id,
        campaign_id: m.campaign_id,
        retest_of: m.retest_of,
        detection_result: m.detection_result,
        red_validation_status: m.red_validation_status,
        blue_validation_status: m.blue_validation_status,
        remediation_status: m.remediation_status,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub(crate) async fn summaries(
    conn: &impl ConnectionTrait,
    rows: Vec<SummaryRow>,
) -> AppResult<Vec<TestSummary>> {
    let techniques = technique_names(conn, rows.iter().map(|m| m.technique_id.clone())).await?;
    let names = user_names(conn, rows.iter().map(|m| m.created_by)).await?;
    Ok(rows
        .into_iter()
        .map(|m| summary(m, &techniques, &names))
        .collect())
}

fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The tests `user` must act on next: where their role may move the test on (a transition,
/// or a vote for a side still unvoted). Technicians see the tests of their side assigned to
/// them or to nobody; leads and admins see all.
fn pending_condition(user: &CurrentUser) -> Condition {
    let (states, sides) = workflow::pending_work(user.role);
    let mut any = Condition::any();
    for state in states {
        let mut cond = Condition::all().add(security_test::Column::State.eq(state));
        let assignee = workflow::pending_assignee(user.role).map(|side| match side {
            Team::Red => security_test::Column::AssignedRedId,
            Team::Blue => security_test::Column::AssignedBlueId,
        });
        if let Some(column) = assignee {
            cond = cond.add(
                Condition::any()
                    .add(column.is_null())
                    .add(column.eq(user.id)),
            );
        }
        any = any.add(cond);
    }
    for side in sides {
        let vote = match side {
            Team::Red => security_test::Column::RedValidationStatus,
            Team::Blue => security_test::Column::BlueValidationStatus,
        };
        any = any.add(
            Condition::all()
                .add(security_test::Column::State.eq(TestState::InReview))
                .add(vote.is_null()),
        );
    }
    // A role with nothing to do matches nothing.
    if any.is_empty() {
        any = any.add(Expr::val(1).eq(0));
    }
    any
}

/// Every filter but the state one, which the counters ignore.
fn filter_condition(user: &CurrentUser, query: &TestQuery) -> AppResult<Condition> {
    let mut cond = Condition::all();
    if let Some(technique) = trimmed(&query.technique) {
        cond = cond.add(security_test::Column::TechniqueId.eq(technique.to_uppercase()));
    }
    if let Some(platform) = trimmed(&query.platform) {
        cond = cond.add(security_test::Column::Platform.eq(platform.to_lowercase()));
    }
    if let Some(creator) = query.creator {
        cond = cond.add(security_test::Column::CreatedBy.eq(creator));
    }
    if let Some(campaign) = query.campaign {
        cond = cond.add(security_test::Column::CampaignId.eq(campaign));
    }
    if let Some(side) = trimmed(&query.pending_validation_side) {
        let column = match Team::from_str(side) {
            Ok(Team::Red) => security_test::Column::RedValidationStatus,
            Ok(Team::Blue) => security_test::Column::BlueValidationStatus,
            Err(e) => return Err(AppError::field("pending_validation_side", e)),
        };
        cond = cond
            .add(security_test::Column::State.eq(TestState::InReview))
            .add(column.is_null());
    }
    if let Some(search) = trimmed(&query.search) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        cond = cond.add(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(security_test::Column::Title)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(security_test::Column::TechniqueId)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if query.mine == Some(true) {
        cond = cond.add(pending_condition(user));
    }
    Ok(cond)
}

/// The counters that answer `query`'s per-state counts, when they can: "my pending tasks"
/// alone, or one list filter alone (`domain::tallies`); otherwise the tests are counted.
fn tally_of(user: &CurrentUser, query: &TestQuery) -> Option<TallySum> {
    let side = match trimmed(&query.pending_validation_side) {
        Some(side) => Some(Team::from_str(side).ok()?),
        None => None,
    };
    let filter = CountedFilter {
        technique: trimmed(&query.technique).map(str::to_uppercase),
        platform: trimmed(&query.platform).map(str::to_lowercase),
        creator: query.creator,
        campaign: query.campaign,
        pending_validation_side: side,
    };
    if trimmed(&query.search).is_some() {
        return None;
    }
    if query.mine == Some(true) {
        return (filter == CountedFilter::default()).then(|| for_pending(user.role, user.id));
    }
    for_filter(&filter)
}

/// Tests per state matching `base` (every filter but the state one).
async fn state_counts(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    query: &TestQuery,
    base: &Condition,
) -> AppResult<HashMap<TestState, u64>> {
    if let Some(sum) = tally_of(user, query) {
        return tallies::per_state(conn, &sum).await;
    }
    Ok(security_test::Entity::find()
        .select_only()
        .column(security_test::Column::State)
        .column_as(security_test::Column::Id.count(), "n")
        .filter(base.clone())
        .group_by(security_test::Column::State)
        .into_tuple::<(TestState, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(state, n)| (state, u64::try_from(n).unwrap_or(0)))
        .collect())
}

pub async fn list(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    query: &TestQuery,
) -> AppResult<TestPage> {
    let (limit, offset) = page_bounds(query.limit, query.offset, DEFAULT_PAGE_SIZE)?;
    let state = trimmed(&query.state)
        .map(TestState::from_str)
        .transpose()
        .map_err(|e| AppError::field("state", e))?;
    let base = filter_condition(user, query)?;
    let per_state = state_counts(conn, user, query, &base).await?;
    let counts: BTreeMap<String, u64> = TestState::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                per_state.get(s).copied().unwrap_or(0),
            )
        })
        .collect();
    let mut cond = base;
    if let Some(state) = state {
        cond = cond.add(security_test::Column::State.eq(state));
    }
    let total = match state {
        Some(state) => counts.get(state.as_str()).copied().unwrap_or(0),
        None => counts.values().sum(),
    };
    // Nothing to page through: no query for rows that cannot exist.
    let rows = if offset >= total {
        Vec::new()
    } else {
        SummaryRow::page(conn, cond, limit, offset).await?
    };
    Ok(TestPage {
        items: summaries(conn, rows).await?,
        total,
        limit,
        offset,
        counts,
    })
}

pub fn evidence_dto(m: evidence::Model, names: &HashMap<Uuid, String>) -> EvidenceDto {
    EvidenceDto {
        id: m.id,
        test_id: m.test_id,
        uploaded_by_name: names.get(&m.uploaded_by).cloned(),
        team: m.team,
        filename: m.filename,
        content_type: m.content_type,
        size_bytes: m.size_bytes,
        sha256: m.sha256,
        description: m.description,
        uploaded_by: m.uploaded_by,
        uploaded_at: m.uploaded_at,
    }
}

pub fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The full test as `user` sees it, with what they may do now.
pub async fn detail(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    m: security_test::Model,
) -> AppResult<TestDetail> {
    let files = evidence::Entity::find()
        .filter(evidence::Column::TestId.eq(m.id))
        .order_by_asc(evidence::Column::UploadedAt)
        .order_by_asc(evidence::Column::Id)
        .all(conn)
        .await?;
    let steps = remediation_step::Entity::find()
        .filter(remediation_step::Column::TestId.eq(m.id))
        .order_by_asc(remediation_step::Column::Position)
        .all(conn)
        .await?;
    let names = user_names(
        conn,
        files
            .iter()
            .map(|f| f.uploaded_by)
            .chain(steps.iter().filter_map(|s| s.assignee_id))
            .chain([m.created_by])
            .chain(m.assigned_red_id)
            .chain(m.assigned_blue_id)
            .chain(m.remediation_owner),
    )
    .await?;
    let technique_name = technique_names(conn, [m.technique_id.clone()])
        .await?
        .remove(&m.technique_id);
    let (red_evidence, blue_evidence): (Vec<_>, Vec<_>) = files
        .into_iter()
        .map(|f| evidence_dto(f, &names))
        .partition(|e| e.team == Team::Red);
    let timer = timer_of(&m);
    let now = Utc::now();
    let mitigations = technique_mitigations(conn, &m.technique_id).await?;
    let countermeasures =
        crate::server::knowledge::countermeasures::of_technique(conn, &m.technique_id).await?;
    let worklog = super::worklog::of_test(conn, m.id).await?;
    let rule_choices = crate::server::detection::rules::choices_for(conn, &m.technique_id).await?;
    let fired = super::fired_rules::of_test(conn, m.id).await?;
    let fired_rules = crate::server::detection::rules::by_ids(conn, &fired).await?;
    let campaign_name = match m.campaign_id {
        Some(id) => campaign::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|c| c.name),
        None => None,
    };
    Ok(TestDetail {
        mitigations,
        countermeasures,
        worklog_minutes: worklog.iter().map(|e| e.minutes).sum(),
        worklog,
        fired_rules,
        rule_choices,
        id: m.id,
        technique_name,
        created_by_name: names.get(&m.created_by).cloned(),
        assigned_red_name: m.assigned_red_id.and_then(|id| names.get(&id).cloned()),
        assigned_blue_name: m.assigned_blue_id.and_then(|id| names.get(&id).cloned()),
        remediation_owner_name: m.remediation_owner.and_then(|id| names.get(&id).cloned()),
        suggested_tools: strings(&m.suggested_tools),
        timer: TimerDto {
            started_at: timer.started_at,
            paused_at: timer.paused_at,
            paused_seconds: timer.paused_seconds,
            stopped_at: timer.stopped_at,
            running: timer.is_running(),
            elapsed_seconds: timer.elapsed_seconds(now),
        },
        remediation_steps: steps
            .into_iter()
            .map(|s| RemediationStepDto {
                id: s.id,
                position: s.position,
                assignee_name: s.assignee_id.and_then(|a| names.get(&a).cloned()),
                title: s.title,
                notes: s.notes,
                status: s.status,
                assignee_id: s.assignee_id,
                due_date: s.due_date,
            })
            .collect(),
        red_evidence,
        blue_evidence,
        allowed_actions: workflow::open_actions(
            user.role,
            m.state,
            m.red_validation_status,
            m.blue_validation_status,
        ),
        title: m.title,
        description: m.description,
        technique_id: m.technique_id,
        objective: m.objective,
        target_environment: m.target_environment,
        severity: m.severity,
        platform: m.platform,
        campaign_id: m.campaign_id,
        campaign_name,
        retest_of: m.retest_of,
        template_id: m.template_id,
        procedure: m.procedure,
        expected_detection: m.expected_detection,
        assigned_red_id: m.assigned_red_id,
        assigned_blue_id: m.assigned_blue_id,
        state: m.state,
        version: m.version,
        created_by: m.created_by,
        tool_used: m.tool_used,
        command_executed: m.command_executed,
        output_observed: m.output_observed,
        red_notes: m.red_notes,
        attacker_ip: m.attacker_ip,
        target_ip: m.target_ip,
        start_time: m.start_time,
        end_time: m.end_time,
        detection_result: m.detection_result,
        detection_notes: m.detection_notes,
        alert_fired: m.alert_fired,
        alert_name: m.alert_name,
        response_action: m.response_action,
        time_to_detect_seconds: m.time_to_detect_seconds,
        blue_notes: m.blue_notes,
        red_validation_status: m.red_validation_status,
        red_validation_notes: m.red_validation_notes,
        red_validated_by: m.red_validated_by,
        red_validated_at: m.red_validated_at,
        blue_validation_status: m.blue_validation_status,
        blue_validation_notes: m.blue_validation_notes,
        blue_validated_by: m.blue_validated_by,
        blue_validated_at: m.blue_validated_at,
        remediation_status: m.remediation_status,
        remediation_notes: m.remediation_notes,
        remediation_owner: m.remediation_owner,
        remediation_due_date: m.remediation_due_date,
        red_submitted_at: m.red_submitted_at,
        blue_submitted_at: m.blue_submitted_at,
        completed_at: m.completed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The mitigations of a technique, or of its parent when it has none of its own.
async fn technique_mitigations(
    conn: &impl ConnectionTrait,
    mitre_id: &str,
) -> AppResult<Vec<crate::dto::knowledge::TechniqueMitigation>> {
    use crate::server::entities::technique;
    use crate::server::knowledge::mitigations;
    let mut key = Some(mitre_id.to_owned());
    while let Some(id) = key.take() {
        let Some((row, parent)) = technique::Entity::find()
            .select_only()
            .column(technique::Column::Id)
            .column(technique::Column::ParentMitreId)
            .filter(technique::Column::MitreId.eq(id))
            .into_tuple::<(Uuid, Option<String>)>()
            .one(conn)
            .await?
        else {
            break;
        };
        let found = mitigations::of_technique(conn, row).await?;
        if !found.is_empty() {
            return Ok(found);
        }
        key = parent;
    }
    Ok(Vec::new())
}

pub async fn get(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<TestDetail> {
    let model = find(conn, id).await?;
    detail(conn, user, model).await
}

/// The audit trail of one test, oldest first.
pub async fn timeline(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<TimelineEntry>> {
    find(conn, id).await?;
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::EntityType.eq(TEST_ENTITY))
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .order_by_asc(audit_log::Column::OccurredAt)
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let event =
                TestEvent::parse(&e.action, e.before_value.as_ref(), e.after_value.as_ref());
            let (from_state, to_state) = match &event {
                Some(TestEvent::Transition { from, to }) => (Some(*from), Some(*to)),
                _ => (None, None),
            };
            TimelineEntry {
                id: e.id,
                occurred_at: e.occurred_at,
                actor_id: e.actor_id,
                actor_username: e.actor_username.clone(),
                from_state,
                to_state,
                summary: event.map_or_else(|| e.action.clone(), |event| event.summary()),
                action: e.action,
                details: e.after_value,
            }
        })
        .collect())
}

/// Upper bound on a chain walk, whatever the data says.
const MAX_CHAIN: usize = 1000;

/// The first test of the chain `id` belongs to.
async fn chain_root(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Uuid> {
    let mut current = id;
    let mut seen = HashSet::from([id]);
    while seen.len() < MAX_CHAIN {
        let parent = security_test::Entity::find_by_id(current)
            .select_only()
            .column(security_test::Column::RetestOf)
            .into_tuple::<Option<Uuid>>()
            .one(conn)
            .await?
            .flatten();
        match parent {
            Some(parent) if seen.insert(parent) => current = parent,
            _ => break,
        }
    }
    Ok(current)
}

/// Every test linked to `id` by `retest_of`, oldest first.
pub async fn retest_chain(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<TestSummary>> {
    find(conn, id).await?;
    let root = chain_root(conn, id).await?;
    let mut members = vec![find(conn, root).await?];
    let mut seen = HashSet::from([root]);
    let mut frontier = vec![root];
    while !frontier.is_empty() && members.len() < MAX_CHAIN {
        let children = security_test::Entity::find()
            .filter(security_test::Column::RetestOf.is_in(frontier.clone()))
            .all(conn)
            .await?;
        frontier = Vec::new();
        for child in children {
            if seen.insert(child.id) {
                frontier.push(child.id);
                members.push(child);
            }
        }
    }
    members.sort_by_key(|m| (m.created_at, m.id));
    summaries(conn, members.iter().map(SummaryRow::of).collect()).await
}
