//! `POST /campaigns/{id}/generate`: one draft test per technique of what the campaign emulates
//! (its threat actor, ATT&CK campaign or technique set), from the best matching catalog
//! template of each technique when one exists, else a blank draft. Idempotent: a technique
//! that already has a test in the campaign is skipped, with the reason.
use super::{ENTITY, check_manage, lock};
use crate::domain::audit::{AuditAction, TestEvent};
use crate::domain::campaigns::BATCH_MAX;
use crate::domain::values::Severity;
use crate::dto::campaigns::{GenerateReport, GenerateRequest, SkippedTechnique};
use crate::error::{AppError, AppResult};
use crate::server::entities::{
    actor_technique, attack_campaign, campaign, security_test, technique, test_template,
};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use crate::server::workflow::coverage::recompute_coverage;
use crate::server::workflow::create::insert_generated;
use crate::server::workflow::reads::{SummaryRow, strings, summaries};
use crate::server::workflow::rows::{NewTest, insert_draft};
use crate::server::workflow::snapshots::general_fields;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// What to draft tests from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    ThreatActor,
    AttackCampaign,
    TechniqueSet,
}

fn sources(request: &GenerateRequest) -> AppResult<Vec<Source>> {
    match request.from.as_deref().map(str::trim) {
        None | Some("") => Ok(vec![
            Source::ThreatActor,
            Source::AttackCampaign,
            Source::TechniqueSet,
        ]),
        Some("threat_actor") => Ok(vec![Source::ThreatActor]),
        Some("attack_campaign") => Ok(vec![Source::AttackCampaign]),
        Some("technique_set") => Ok(vec![Source::TechniqueSet]),
        Some(other) => Err(AppError::field(
            "from",
            format!("'{other}' is not one of threat_actor, attack_campaign, technique_set"),
        )),
    }
}

/// The ATT&CK ids the campaign's sources name, sorted.
async fn wanted(
    conn: &impl ConnectionTrait,
    campaign: &campaign::Model,
    from: &[Source],
) -> AppResult<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let mut named = false;
    for source in from {
        match source {
            Source::ThreatActor => {
                let Some(actor) = campaign.threat_actor_id else {
                    continue;
                };
                named = true;
                let rows: Vec<String> = technique::Entity::find()
                    .select_only()
                    .column(technique::Column::MitreId)
                    .filter(
                        technique::Column::Id.in_subquery(
                            sea_orm::sea_query::Query::select()
                                .column(actor_technique::Column::TechniqueId)
                                .from(actor_technique::Entity)
                                .and_where(actor_technique::Column::ActorId.eq(actor))
                                .to_owned(),
                        ),
                    )
                    .into_tuple()
                    .all(conn)
                    .await?;
                ids.extend(rows);
            }
            Source::AttackCampaign => {
                let Some(id) = campaign.attack_campaign_id else {
                    continue;
                };
                named = true;
                if let Some(c) = attack_campaign::Entity::find_by_id(id).one(conn).await? {
                    ids.extend(strings(&c.techniques));
                }
            }
            Source::TechniqueSet => {
                let Some(set) = campaign.technique_set_id else {
                    continue;
                };
                named = true;
                ids.extend(crate::server::knowledge::technique_sets::members(conn, set).await?);
            }
        }
    }
    if !named {
        return Err(AppError::Conflict(
            "The campaign names no threat actor, ATT&CK campaign or technique set to generate \
             tests from; set one first"
                .into(),
        ));
    }
    Ok(ids)
}

/// The best template for a technique: active, runnable on `platform` when one is asked for,
/// with a command before one without, then by name.
fn best<'a>(
    templates: &'a [test_template::Model],
    platform: Option<&str>,
) -> Option<&'a test_template::Model> {
    templates
        .iter()
        .filter(|t| {
            platform.is_none_or(|p| {
                let platforms = strings(&t.platforms);
                platforms.is_empty() || platforms.iter().any(|q| q.eq_ignore_ascii_case(p))
            })
        })
        .min_by(|a, b| {
            (a.command.trim().is_empty(), &a.name, a.id).cmp(&(
                b.command.trim().is_empty(),
                &b.name,
                b.id,
            ))
        })
}

pub async fn generate(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    id: Uuid,
    request: GenerateRequest,
) -> AppResult<GenerateReport> {
    check_manage(user)?;
    let from = sources(&request)?;
    let platform = match request.platform.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => {
            let mut errors = crate::error::FieldErrors::new();
            let clean = crate::domain::test_input::clean_platform(Some(p.to_owned()), &mut errors);
            AppError::invalid("The platform is not valid", errors)?;
            clean
        }
    };
    let txn = begin_write(db).await?;
    let campaign = lock(&txn, id).await?;
    if !campaign.status.is_open() {
        return Err(AppError::Conflict(format!(
            "Campaign \"{}\" is {} and takes no more tests",
            campaign.name, campaign.status
        )));
    }
    let wanted = wanted(&txn, &campaign, &from).await?;
    let present: HashSet<String> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::TechniqueId)
        .filter(security_test::Column::CampaignId.eq(id))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let known: HashMap<String, technique::Model> = technique::Entity::find()
        .filter(technique::Column::MitreId.is_in(wanted.iter().cloned()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| (t.mitre_id.clone(), t))
        .collect();
    let mut templates: HashMap<String, Vec<test_template::Model>> = HashMap::new();
    for t in test_template::Entity::find()
        .filter(test_template::Column::IsActive.eq(true))
        .filter(test_template::Column::TechniqueId.is_in(wanted.iter().cloned()))
        .all(&txn)
        .await?
    {
        templates.entry(t.technique_id.clone()).or_default().push(t);
    }
    let mut skipped = Vec::new();
    let mut created = Vec::new();
    for technique_id in &wanted {
        let skip = |reason: &str| SkippedTechnique {
            technique_id: technique_id.clone(),
            reason: reason.to_owned(),
        };
        if present.contains(technique_id) {
            skipped.push(skip("already in the campaign"));
            continue;
        }
        let Some(technique) = known.get(technique_id) else {
            skipped.push(skip("not in the knowledge base; sync ATT&CK"));
            continue;
        };
        if technique.deprecated || technique.revoked {
            skipped.push(skip("deprecated or revoked in ATT&CK"));
            continue;
        }
        if created.len() >= BATCH_MAX {
            skipped.push(skip("over the limit of one generation; generate again"));
            continue;
        }
        let template = templates
            .get(technique_id)
            .and_then(|ts| best(ts, platform.as_deref()));
        let objective = if campaign.objective.trim().is_empty() {
            None
        } else {
            Some(campaign.objective.clone())
        };
        let new = NewTest {
            title: template.map_or_else(
                || format!("{} {}", technique.mitre_id, technique.name),
                |t| t.name.clone(),
            ),
            description: template.map(|t| t.description.clone()).unwrap_or_default(),
            technique_id: technique_id.clone(),
            objective: objective.unwrap_or_else(|| match template {
                Some(t) => format!("Run \"{}\" and verify that it is detected", t.name),
                None => format!("Emulate {} and verify that it is detected", technique.name),
            }),
            target_environment: campaign.target_environment.clone(),
            severity: template.map_or(Severity::Medium, |t| t.severity),
            platform: platform.clone(),
            campaign_id: Some(id),
            retest_of: None,
            template_id: template.map(|t| t.id),
            procedure: String::new(),
            expected_detection: template
                .map(|t| t.expected_detection.clone())
                .unwrap_or_default(),
            suggested_tools: template
                .map(|t| strings(&t.suggested_tools))
                .unwrap_or_default(),
            assigned_red_id: None,
            assigned_blue_id: None,
            created_by: user.id,
        };
        let model = match template {
            Some(t) => insert_generated(&txn, t, new).await?,
            None => insert_draft(&txn, new).await?,
        };
        let mut after = general_fields(&model);
        if let (Some(map), Some(t)) = (after.as_object_mut(), template) {
            map.insert("template_id".into(), json!(t.id));
            map.insert("template_name".into(), json!(t.name));
        }
        audit::record(
            &txn,
            actor,
            AuditRecord::test_event(model.id, &TestEvent::Created { after }),
        )
        .await?;
        recompute_coverage(&txn, &model.technique_id).await?;
        created.push(model);
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::CampaignGenerate, ENTITY, id).after(json!({
            "created": created.iter().map(|m| json!({"id": m.id, "technique_id": m.technique_id})).collect::<Vec<_>>(),
            "skipped": skipped.len(),
        })),
    )
    .await?;
    let rows: Vec<SummaryRow> = created.iter().map(SummaryRow::of).collect();
    let created = summaries(&txn, rows).await?;
    txn.commit().await?;
    Ok(GenerateReport { created, skipped })
}
