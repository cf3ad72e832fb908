//! Campaigns: a team's plan of tests, emulating a threat actor, one of ATT&CK's campaigns or a
//! technique set. This module keeps the campaigns themselves (create, change, list, read);
//! `members` adds and removes tests and completes a campaign, `generate` drafts its tests,
//! `progress` measures it, and `recurring` spawns the runs of a recurring one.
pub mod generate;
pub mod members;
pub mod progress;
pub mod recurring;

use crate::domain::audit::AuditAction;
use crate::domain::campaigns::{self, CampaignStatus, NAME_MAX, Recurrence};
use crate::domain::rbac::{Permission, Role};
use crate::domain::validation::{check_name, check_text};
use crate::domain::workflow::TestState;
use crate::dto::Page;
use crate::dto::campaigns::{
    AttackCampaignDto, CampaignDetail, CampaignQuery, CampaignRun, CampaignSummary,
    CreateCampaignRequest, NamedRef, StateCounts, UpdateCampaignRequest,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{
    attack_campaign, campaign, security_test, technique_set, threat_actor, user,
};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::{begin_write, escape_like};
use crate::server::platform::pagination::page_bounds;
use crate::server::workflow::reads::user_names;
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use uuid::Uuid;

/// The audit log's entity type of a campaign.
pub const ENTITY: &str = "campaign";

/// Leads and admins change campaigns; everyone signed in reads them.
pub fn check_manage(user: &CurrentUser) -> AppResult<()> {
    if user.role.can(Permission::ManageCampaigns) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "A {} may not change campaigns; leads and admins do",
            user.role.label()
        )))
    }
}

/// The campaign, or a 404.
pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Campaign {id} not found")))
}

/// A threat actor by ATT&CK id (`G0016`) or row id.
async fn resolve_actor(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<threat_actor::Model>> {
    let key = key.trim();
    Ok(match Uuid::parse_str(key) {
        Ok(id) => threat_actor::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            threat_actor::Entity::find()
                .filter(threat_actor::Column::MitreId.eq(key.to_uppercase()))
                .one(conn)
                .await?
        }
    })
}

/// One of ATT&CK's campaigns by ATT&CK id (`C0010`) or row id.
async fn resolve_attack_campaign(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<attack_campaign::Model>> {
    let key = key.trim();
    Ok(match Uuid::parse_str(key) {
        Ok(id) => attack_campaign::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            attack_campaign::Entity::find()
                .filter(attack_campaign::Column::MitreId.eq(key.to_uppercase()))
                .one(conn)
                .await?
        }
    })
}

async fn resolve_set(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<technique_set::Model>> {
    Ok(crate::server::knowledge::technique_sets::resolve(conn, key)
        .await
        .ok())
}

/// The references a request names, each checked into `errors`.
struct Refs {
    threat_actor: Option<Option<Uuid>>,
    attack_campaign: Option<Option<Uuid>>,
    technique_set: Option<Option<Uuid>>,
}

async fn resolve_refs(
    conn: &impl ConnectionTrait,
    actor: Option<Option<&str>>,
    attack: Option<Option<&str>>,
    set: Option<Option<&str>>,
    errors: &mut FieldErrors,
) -> AppResult<Refs> {
    fn blank(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    let threat_actor = match actor.map(blank) {
        None => None,
        Some(None) => Some(None),
        Some(Some(key)) => match resolve_actor(conn, key).await? {
            Some(a) => Some(Some(a.id)),
            None => {
                errors.insert(
                    "threat_actor".into(),
                    format!("Unknown threat actor '{key}'; give an ATT&CK group id such as G0016"),
                );
                None
            }
        },
    };
    let attack_campaign = match attack.map(blank) {
        None => None,
        Some(None) => Some(None),
        Some(Some(key)) => match resolve_attack_campaign(conn, key).await? {
            Some(c) => Some(Some(c.id)),
            None => {
                errors.insert(
                    "attack_campaign".into(),
                    format!("Unknown ATT&CK campaign '{key}'; give an id such as C0010"),
                );
                None
            }
        },
    };
    let technique_set = match set.map(blank) {
        None => None,
        Some(None) => Some(None),
        Some(Some(key)) => match resolve_set(conn, key).await? {
            Some(s) => Some(Some(s.id)),
            None => {
                errors.insert(
                    "technique_set".into(),
                    format!("Unknown technique set '{key}'"),
                );
                None
            }
        },
    };
    Ok(Refs {
        threat_actor,
        attack_campaign,
        technique_set,
    })
}

/// The owner must be an active lead or admin.
async fn check_owner(
    conn: &impl ConnectionTrait,
    owner: Option<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(owner) = owner else { return Ok(()) };
    let found = user::Entity::find_by_id(owner)
        .one(conn)
        .await?
        .filter(|u| u.is_active);
    match found {
        None => {
            errors.insert("owner_id".into(), format!("No active user {owner}"));
        }
        Some(u) => {
            let role = Role::from_str(&u.role).map_err(|e| AppError::internal(e.to_string()))?;
            if !campaigns::may_own(role) {
                errors.insert(
                    "owner_id".into(),
                    format!(
                        "{} is a {}; a campaign's owner is a lead or an admin",
                        u.display_name,
                        role.label()
                    ),
                );
            }
        }
    }
    Ok(())
}

fn parse_status(value: &str, errors: &mut FieldErrors) -> Option<CampaignStatus> {
    match CampaignStatus::from_str(value.trim()) {
        Ok(status) => Some(status),
        Err(e) => {
            errors.insert("status".into(), e.to_string());
            None
        }
    }
}

fn recurrence_of(model: &campaign::Model) -> Option<Recurrence> {
    model
        .recurrence
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// What the audit log keeps of a campaign.
fn snapshot(m: &campaign::Model) -> Value {
    json!({
        "name": m.name,
        "description": m.description,
        "objective": m.objective,
        "threat_actor_id": m.threat_actor_id,
        "attack_campaign_id": m.attack_campaign_id,
        "technique_set_id": m.technique_set_id,
        "target_environment": m.target_environment,
        "start_date": m.start_date,
        "end_date": m.end_date,
        "owner_id": m.owner_id,
        "status": m.status,
        "recurrence": m.recurrence,
    })
}

/// Text fields and their bounds, into `errors`.
fn check_texts(fields: &[(&str, Option<&String>)], errors: &mut FieldErrors) {
    for (field, value) in fields {
        if let Some(value) = value {
            check_text(field, value, errors);
        }
    }
}

/// `POST /campaigns`.
pub async fn create(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    request: CreateCampaignRequest,
) -> AppResult<CampaignDetail> {
    check_manage(user)?;
    let txn = begin_write(db).await?;
    let mut errors = FieldErrors::new();
    check_name(&request.name, NAME_MAX, &mut errors);
    check_texts(
        &[
            ("description", request.description.as_ref()),
            ("objective", request.objective.as_ref()),
            ("target_environment", request.target_environment.as_ref()),
        ],
        &mut errors,
    );
    let refs = resolve_refs(
        &txn,
        Some(request.threat_actor.as_deref()),
        Some(request.attack_campaign.as_deref()),
        Some(request.technique_set.as_deref()),
        &mut errors,
    )
    .await?;
    let owner = request.owner_id.or(Some(user.id));
    if request.owner_id.is_some() {
        check_owner(&txn, owner, &mut errors).await?;
    } else if !campaigns::may_own(user.role) {
        errors.insert("owner_id".into(), "Name the lead who owns it".into());
    }
    let status = match &request.status {
        Some(s) => parse_status(s, &mut errors).unwrap_or_default(),
        None => CampaignStatus::Planned,
    };
    if let Err(e) = campaigns::check_dates(request.start_date, request.end_date) {
        errors.insert("end_date".into(), e);
    }
    if let Err(e) = campaigns::check_recurrence(request.recurrence, request.start_date) {
        errors.insert("recurrence".into(), e);
    }
    AppError::invalid("The campaign is not valid", errors)?;
    let now = Utc::now();
    let id = Uuid::new_v4();
    let model = campaign::Model {
        id,
        name: request.name.trim().to_owned(),
        description: request.description.unwrap_or_default(),
        objective: request.objective.unwrap_or_default(),
        threat_actor_id: refs.threat_actor.flatten(),
        attack_campaign_id: refs.attack_campaign.flatten(),
        technique_set_id: refs.technique_set.flatten(),
        target_environment: request.target_environment.unwrap_or_default(),
        start_date: request.start_date,
        end_date: request.end_date,
        owner_id: owner,
        status,
        recurrence: request.recurrence.map(|r| json!(r)),
        // The first run of a series is its own series, period 0.
        series_id: request.recurrence.map(|_| id),
        period: request.recurrence.map(|_| 0),
        completed_at: (status == CampaignStatus::Completed).then_some(now),
        created_by: user.id,
        updated_by: user.id,
        created_at: now,
        updated_at: now,
    };
    let model = model.into_active_model().reset_all().insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::CampaignCreate, ENTITY, id).after(snapshot(&model)),
    )
    .await?;
    txn.commit().await?;
    detail(db, model).await
}

/// `PATCH /campaigns/{id}`. Setting `completed` completes it now (a lead's call, whatever
/// its tests say), with the owner told.
pub async fn update(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: UpdateCampaignRequest,
) -> AppResult<CampaignDetail> {
    check_manage(user)?;
    let txn = begin_write(db).await?;
    let before = lock(&txn, id).await?;
    let mut after = before.clone();
    let mut errors = FieldErrors::new();
    if let Some(name) = &request.name {
        check_name(name, NAME_MAX, &mut errors);
        after.name = name.trim().to_owned();
    }
    check_texts(
        &[
            ("description", request.description.as_ref()),
            ("objective", request.objective.as_ref()),
            ("target_environment", request.target_environment.as_ref()),
        ],
        &mut errors,
    );
    for (value, target) in [
        (request.description, &mut after.description),
        (request.objective, &mut after.objective),
        (request.target_environment, &mut after.target_environment),
    ] {
        if let Some(value) = value {
            *target = value;
        }
    }
    let refs = resolve_refs(
        &txn,
        request.threat_actor.as_ref().map(Option::as_deref),
        request.attack_campaign.as_ref().map(Option::as_deref),
        request.technique_set.as_ref().map(Option::as_deref),
        &mut errors,
    )
    .await?;
    if let Some(v) = refs.threat_actor {
        after.threat_actor_id = v;
    }
    if let Some(v) = refs.attack_campaign {
        after.attack_campaign_id = v;
    }
    if let Some(v) = refs.technique_set {
        after.technique_set_id = v;
    }
    if let Some(start) = request.start_date {
        after.start_date = start;
    }
    if let Some(end) = request.end_date {
        after.end_date = end;
    }
    if let Some(owner) = request.owner_id {
        check_owner(&txn, owner, &mut errors).await?;
        after.owner_id = owner;
    }
    if let Some(status) = &request.status
        && let Some(status) = parse_status(status, &mut errors)
    {
        after.status = status;
    }
    if let Some(recurrence) = request.recurrence {
        if recurrence.is_some() && before.series_id.is_some_and(|s| s != id) {
            errors.insert(
                "recurrence".into(),
                "This campaign is a run of a recurring series; change the recurrence on the \
                 series' first campaign"
                    .into(),
            );
        }
        after.recurrence = recurrence.map(|r| json!(r));
        if recurrence.is_some() {
            after.series_id = Some(id);
            after.period = Some(0);
        }
    }
    if let Err(e) = campaigns::check_dates(after.start_date, after.end_date) {
        errors.insert("end_date".into(), e);
    }
    if let Err(e) = campaigns::check_recurrence(recurrence_of(&after), after.start_date) {
        errors.insert("recurrence".into(), e);
    }
    AppError::invalid("The campaign is not valid", errors)?;
    let (old, new) = (snapshot(&before), snapshot(&after));
    if old == new {
        txn.commit().await?;
        return detail(db, before).await;
    }
    let now = Utc::now();
    let completing =
        after.status == CampaignStatus::Completed && before.status != CampaignStatus::Completed;
    if after.status != CampaignStatus::Completed {
        after.completed_at = None;
    }
    after.updated_by = user.id;
    after.updated_at = now;
    let saved = after.into_active_model().reset_all().update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::CampaignUpdate, ENTITY, id)
            .before(old)
            .after(new),
    )
    .await?;
    let saved = if completing {
        members::complete(&txn, actor, saved, members::CompletedBy::Lead).await?
    } else {
        saved
    };
    txn.commit().await?;
    detail(db, saved).await
}

/// The campaign's row, locked for the rest of the transaction on PostgreSQL.
pub async fn lock(txn: &sea_orm::DatabaseTransaction, id: Uuid) -> AppResult<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Campaign {id} not found")))
}

/// Tests per state of each campaign.
pub async fn state_counts(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, StateCounts>> {
    let rows: Vec<(Option<Uuid>, TestState, i64)> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::CampaignId)
        .column(security_test::Column::State)
        .column_as(security_test::Column::Id.count(), "n")
        .filter(security_test::Column::CampaignId.is_in(ids.iter().copied()))
        .group_by(security_test::Column::CampaignId)
        .group_by(security_test::Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    let mut counts: HashMap<Uuid, StateCounts> = ids
        .iter()
        .map(|id| (*id, counts_of(&BTreeMap::new())))
        .collect();
    let mut per: HashMap<Uuid, BTreeMap<TestState, u64>> = HashMap::new();
    for (campaign, state, n) in rows {
        if let Some(campaign) = campaign {
            *per.entry(campaign).or_default().entry(state).or_default() +=
                u64::try_from(n).unwrap_or(0);
        }
    }
    for (campaign, states) in per {
        counts.insert(campaign, counts_of(&states));
    }
    Ok(counts)
}

/// Every state present, and the finished ones summed.
pub fn counts_of(states: &BTreeMap<TestState, u64>) -> StateCounts {
    let by_state: BTreeMap<String, u64> = TestState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), states.get(s).copied().unwrap_or(0)))
        .collect();
    StateCounts {
        total: states.values().sum(),
        finished: states
            .iter()
            .filter(|(s, _)| !s.is_active())
            .map(|(_, n)| n)
            .sum(),
        by_state,
    }
}

async fn summaries(
    conn: &impl ConnectionTrait,
    models: &[campaign::Model],
) -> AppResult<Vec<CampaignSummary>> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut counts = state_counts(conn, &ids).await?;
    let names = user_names(conn, models.iter().filter_map(|m| m.owner_id)).await?;
    let actor_ids: HashSet<Uuid> = models.iter().filter_map(|m| m.threat_actor_id).collect();
    let actors: HashMap<Uuid, NamedRef> = threat_actor::Entity::find()
        .filter(threat_actor::Column::Id.is_in(actor_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.id,
                NamedRef {
                    id: a.id,
                    mitre_id: Some(a.mitre_id),
                    name: a.name,
                },
            )
        })
        .collect();
    let attack_ids: HashSet<Uuid> = models.iter().filter_map(|m| m.attack_campaign_id).collect();
    let attacks: HashMap<Uuid, NamedRef> = attack_campaign::Entity::find()
        .filter(attack_campaign::Column::Id.is_in(attack_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                NamedRef {
                    id: c.id,
                    mitre_id: Some(c.mitre_id),
                    name: c.name,
                },
            )
        })
        .collect();
    let set_ids: HashSet<Uuid> = models.iter().filter_map(|m| m.technique_set_id).collect();
    let sets: HashMap<Uuid, NamedRef> = technique_set::Entity::find()
        .filter(technique_set::Column::Id.is_in(set_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.id,
                NamedRef {
                    id: s.id,
                    mitre_id: None,
                    name: s.name,
                },
            )
        })
        .collect();
    Ok(models
        .iter()
        .map(|m| CampaignSummary {
            id: m.id,
            name: m.name.clone(),
            status: m.status,
            start_date: m.start_date,
            end_date: m.end_date,
            owner_id: m.owner_id,
            owner_name: m.owner_id.and_then(|o| names.get(&o).cloned()),
            threat_actor: m.threat_actor_id.and_then(|a| actors.get(&a).cloned()),
            attack_campaign: m.attack_campaign_id.and_then(|a| attacks.get(&a).cloned()),
            technique_set: m.technique_set_id.and_then(|s| sets.get(&s).cloned()),
            recurrence: recurrence_of(m),
            series_id: m.series_id,
            tests: counts.remove(&m.id).unwrap_or_default(),
            updated_at: m.updated_at,
        })
        .collect())
}

/// `GET /campaigns`: newest first, filtered by status and a search in the name.
pub async fn list(
    conn: &impl ConnectionTrait,
    query: &CampaignQuery,
) -> AppResult<Page<CampaignSummary>> {
    let (limit, offset) = page_bounds(query.limit, query.offset, crate::dto::DEFAULT_PAGE_SIZE)?;
    let mut cond = Condition::all();
    if let Some(status) = query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let status = CampaignStatus::from_str(status)
            .map_err(|e| AppError::field("status", e.to_string()))?;
        cond = cond.add(campaign::Column::Status.eq(status));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        cond = cond.add(
            Expr::expr(Func::lower(Expr::col(campaign::Column::Name)))
                .like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    let total = campaign::Entity::find()
        .filter(cond.clone())
        .count(conn)
        .await?;
    let models = campaign::Entity::find()
        .filter(cond)
        .order_by_desc(campaign::Column::CreatedAt)
        .order_by_desc(campaign::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(conn)
        .await?;
    Ok(Page {
        items: summaries(conn, &models).await?,
        total,
        limit,
        offset,
    })
}

/// Every campaign that still takes tests, by name, for the pickers.
pub async fn open_choices(conn: &impl ConnectionTrait) -> AppResult<Vec<(Uuid, String)>> {
    Ok(campaign::Entity::find()
        .select_only()
        .column(campaign::Column::Id)
        .column(campaign::Column::Name)
        .filter(campaign::Column::Status.is_in([CampaignStatus::Planned, CampaignStatus::Active]))
        .order_by_asc(campaign::Column::Name)
        .limit(500)
        .into_tuple()
        .all(conn)
        .await?)
}

pub async fn detail(
    conn: &impl ConnectionTrait,
    model: campaign::Model,
) -> AppResult<CampaignDetail> {
    let summary = summaries(conn, std::slice::from_ref(&model))
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("campaign summary missing"))?;
    let names = user_names(conn, [model.created_by, model.updated_by]).await?;
    let runs = match model.series_id {
        Some(series) => campaign::Entity::find()
            .filter(campaign::Column::SeriesId.eq(series))
            .filter(campaign::Column::Id.ne(model.id))
            .order_by_asc(campaign::Column::Period)
            .all(conn)
            .await?
            .into_iter()
            .map(|r| CampaignRun {
                id: r.id,
                name: r.name,
                period: r.period,
                status: r.status,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(CampaignDetail {
        summary,
        created_by_name: names.get(&model.created_by).cloned(),
        updated_by_name: names.get(&model.updated_by).cloned(),
        description: model.description,
        objective: model.objective,
        target_environment: model.target_environment,
        period: model.period,
        completed_at: model.completed_at,
        created_by: model.created_by,
        updated_by: model.updated_by,
        created_at: model.created_at,
        runs,
    })
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<CampaignDetail> {
    let model = find(conn, id).await?;
    detail(conn, model).await
}

fn attack_dto(c: attack_campaign::Model) -> AttackCampaignDto {
    let list = |v: &Value| crate::server::workflow::reads::strings(v);
    AttackCampaignDto {
        techniques: list(&c.techniques),
        actors: list(&c.actors),
        id: c.id,
        mitre_id: c.mitre_id,
        name: c.name,
        description: c.description,
        url: c.url,
        first_seen: c.first_seen,
        last_seen: c.last_seen,
    }
}

/// ATT&CK's campaigns (current ones), by ATT&CK id.
pub async fn attack_campaigns(conn: &impl ConnectionTrait) -> AppResult<Vec<AttackCampaignDto>> {
    Ok(attack_campaign::Entity::find()
        .filter(attack_campaign::Column::Deprecated.eq(false))
        .filter(attack_campaign::Column::Revoked.eq(false))
        .order_by_asc(attack_campaign::Column::MitreId)
        .all(conn)
        .await?
        .into_iter()
        .map(attack_dto)
        .collect())
}

/// One of ATT&CK's campaigns by ATT&CK id or row id, or a 404.
pub async fn attack_campaign(
    conn: &impl ConnectionTrait,
    key: &str,
) -> AppResult<AttackCampaignDto> {
    resolve_attack_campaign(conn, key)
        .await?
        .map(attack_dto)
        .ok_or_else(|| AppError::NotFound(format!("ATT&CK campaign '{key}' not found")))
}
