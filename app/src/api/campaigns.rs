//! Server functions of the Campaigns pages, the campaign picker of the test pages and the
//! Webhooks panel. Forms send text; blank text means "no value" and the services validate
//! everything, exactly as for the REST API.
// A form posts one argument per field.
#![allow(clippy::too_many_arguments)]
#[cfg(feature = "ssr")]
use super::form;
use crate::dto::Page;
use crate::dto::campaigns::{
    AttackCampaignDto, CampaignDetail, CampaignProgress, CampaignQuery, CampaignSummary,
    GenerateReport,
};
use crate::dto::knowledge::ThreatActorSummary;
use crate::dto::webhooks::{DeliveryDto, WebhookDto};
use crate::dto::workflow::{TestPage, TestSummary};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "list_campaigns")]
pub async fn list_campaigns(
    #[server(default)] query: CampaignQuery,
) -> Result<Page<CampaignSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::campaigns;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            campaigns::list(&ctx.state.db, &query).await
        }
        .await,
    )
}

/// A campaign with its progress, its tests and (for those who manage campaigns) the drafts
/// in no campaign that could join it.
#[server(prefix = "/api/fn", endpoint = "campaign_page")]
pub async fn campaign_page(
    id: Uuid,
) -> Result<(CampaignDetail, CampaignProgress, TestPage, Vec<TestSummary>), AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::TestQuery;
    use crate::server::campaigns::{self, progress};
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow::reads;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let detail = campaigns::get(&ctx.state.db, id).await?;
            let progress = progress::progress(&ctx.state.db, id).await?;
            let tests = reads::list(
                &ctx.state.db,
                user,
                &TestQuery {
                    campaign: Some(id),
                    limit: Some(500),
                    ..Default::default()
                },
            )
            .await?;
            let candidates = if user.role.can(Permission::ManageCampaigns) {
                let drafts = TestQuery {
                    state: Some("draft".into()),
                    limit: Some(100),
                    ..Default::default()
                };
                reads::list(&ctx.state.db, user, &drafts)
                    .await?
                    .items
                    .into_iter()
                    .filter(|t| t.campaign_id.is_none())
                    .collect()
            } else {
                Vec::new()
            };
            Ok((detail, progress, tests, candidates))
        }
        .await,
    )
}

/// What a campaign can emulate: threat actors, ATT&CK campaigns and technique sets (by name).
#[server(prefix = "/api/fn", endpoint = "campaign_sources")]
pub async fn campaign_sources()
-> Result<(Vec<ThreatActorSummary>, Vec<AttackCampaignDto>, Vec<String>), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::campaigns;
    use crate::server::knowledge::{reads, technique_sets};
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            Ok((
                reads::threat_actors(&ctx.state.db, None).await?,
                campaigns::attack_campaigns(&ctx.state.db).await?,
                technique_sets::list(&ctx.state.db)
                    .await?
                    .into_iter()
                    .map(|s| s.name)
                    .collect(),
            ))
        }
        .await,
    )
}

/// Campaigns that still take tests, for the test pages' picker.
#[server(prefix = "/api/fn", endpoint = "campaign_choices")]
pub async fn campaign_choices() -> Result<Vec<(Uuid, String)>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::campaigns;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            campaigns::open_choices(&ctx.state.db).await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn recurrence(
    every: String,
    days: String,
) -> crate::error::AppResult<Option<crate::domain::campaigns::Recurrence>> {
    use crate::domain::campaigns::Recurrence;
    Ok(match every.trim() {
        "" | "none" => None,
        "weekly" => Some(Recurrence::Weekly),
        "monthly" => Some(Recurrence::Monthly),
        "quarterly" => Some(Recurrence::Quarterly),
        "days" => Some(Recurrence::Days {
            days: days
                .trim()
                .parse()
                .map_err(|_| AppError::field("recurrence", "Every how many days?"))?,
        }),
        other => {
            return Err(AppError::field(
                "recurrence",
                format!("'{other}' is not weekly, monthly, quarterly or days"),
            ));
        }
    })
}

#[server(prefix = "/api/fn", endpoint = "create_campaign")]
pub async fn create_campaign(
    name: String,
    objective: String,
    description: String,
    threat_actor: String,
    attack_campaign: String,
    technique_set: String,
    target_environment: String,
    start_date: String,
    end_date: String,
    status: String,
    every: String,
    days: String,
) -> Result<CampaignDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::campaigns::CreateCampaignRequest;
    use crate::server::campaigns;
    use crate::server::platform::context::ServerFnContext;
    use form::{date, text};
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = CreateCampaignRequest {
                name,
                objective: text(objective),
                description: text(description),
                threat_actor: text(threat_actor),
                attack_campaign: text(attack_campaign),
                technique_set: text(technique_set),
                target_environment: text(target_environment),
                start_date: date("start_date", start_date)?,
                end_date: date("end_date", end_date)?,
                owner_id: None,
                status: text(status),
                recurrence: recurrence(every, days)?,
            };
            campaigns::create(&ctx.state.db, user, &ctx.actor(), request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "set_campaign_status")]
pub async fn set_campaign_status(id: Uuid, status: String) -> Result<CampaignDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::campaigns::UpdateCampaignRequest;
    use crate::server::campaigns;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = UpdateCampaignRequest {
                status: Some(status),
                ..Default::default()
            };
            campaigns::update(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// The campaign's own fields, as its page edits them (blank dates clear them).
#[server(prefix = "/api/fn", endpoint = "edit_campaign")]
pub async fn edit_campaign(
    id: Uuid,
    name: String,
    objective: String,
    description: String,
    target_environment: String,
    start_date: String,
    end_date: String,
) -> Result<CampaignDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::campaigns::UpdateCampaignRequest;
    use crate::server::campaigns;
    use crate::server::platform::context::ServerFnContext;
    use form::date;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = UpdateCampaignRequest {
                name: Some(name),
                objective: Some(objective),
                description: Some(description),
                target_environment: Some(target_environment),
                start_date: Some(date("start_date", start_date)?),
                end_date: Some(date("end_date", end_date)?),
                ..Default::default()
            };
            campaigns::update(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "generate_campaign_tests")]
pub async fn generate_campaign_tests(
    id: Uuid,
    from: String,
    platform: String,
) -> Result<GenerateReport, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::campaigns::GenerateRequest;
    use crate::server::campaigns::generate;
    use crate::server::platform::context::ServerFnContext;
    use form::text;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let request = GenerateRequest {
                from: text(from),
                platform: text(platform),
            };
            generate::generate(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// Adds the tests named (ids separated by commas, spaces or lines).
#[server(prefix = "/api/fn", endpoint = "add_campaign_tests")]
pub async fn add_campaign_tests(
    id: Uuid,
    test_ids: String,
) -> Result<crate::dto::campaigns::AddTestsReport, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::campaigns::AddTestsRequest;
    use crate::server::campaigns::members;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let ids = test_ids
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Uuid::parse_str(s)
                        .map_err(|_| AppError::field("test_ids", format!("'{s}' is not a test id")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            members::add_tests(
                &ctx.state.db,
                user,
                &ctx.actor(),
                id,
                AddTestsRequest { test_ids: ids },
            )
            .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "remove_campaign_test")]
pub async fn remove_campaign_test(id: Uuid, test_id: Uuid) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::campaigns::members;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            members::remove_test(&ctx.state.db, user, &ctx.actor(), id, test_id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::webhooks;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            webhooks::list(&ctx.state.db).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "add_webhook")]
pub async fn add_webhook(
    url: String,
    secret: String,
    description: String,
    #[server(default)] state_changed: Option<String>,
    #[server(default)] validated: Option<String>,
    #[server(default)] rejected: Option<String>,
    #[server(default)] completed: Option<String>,
    #[server(default)] intel: Option<String>,
) -> Result<WebhookDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::webhooks::CreateWebhookRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::webhooks;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ManageSystem)?;
            let events = checked_events([
                (state_changed, "test.state_changed"),
                (validated, "test.validated"),
                (rejected, "test.rejected"),
                (completed, "campaign.completed"),
                (intel, "intel.matched"),
            ]);
            let request = CreateWebhookRequest {
                url,
                secret,
                events,
                description: form::text(description),
                is_active: Some(true),
            };
            webhooks::create(&ctx.state.db, user, &ctx.actor(), request).await
        }
        .await,
    )
}

/// The events of the Webhooks panel's checkboxes (one per event, checked or absent).
#[cfg(feature = "ssr")]
fn checked_events(boxes: [(Option<String>, &str); 5]) -> Vec<String> {
    boxes
        .into_iter()
        .filter(|(checked, _)| checked.is_some())
        .map(|(_, event)| event.to_owned())
        .collect()
}

/// The Webhooks panel's edit: URL, description, events, and a new secret when one is typed.
#[server(prefix = "/api/fn", endpoint = "edit_webhook")]
pub async fn edit_webhook(
    id: Uuid,
    url: String,
    description: String,
    secret: String,
    #[server(default)] state_changed: Option<String>,
    #[server(default)] validated: Option<String>,
    #[server(default)] rejected: Option<String>,
    #[server(default)] completed: Option<String>,
    #[server(default)] intel: Option<String>,
) -> Result<WebhookDto, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::webhooks::UpdateWebhookRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::webhooks;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ManageSystem)?;
            let request = UpdateWebhookRequest {
                url: Some(url),
                description: Some(description),
                secret: form::text(secret),
                events: Some(checked_events([
                    (state_changed, "test.state_changed"),
                    (validated, "test.validated"),
                    (rejected, "test.rejected"),
                    (completed, "campaign.completed"),
                    (intel, "intel.matched"),
                ])),
                is_active: None,
            };
            webhooks::update(&ctx.state.db, user, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// Switches a webhook on or off, sends it a ping, or removes it (`op`: on, off, ping, remove).
#[server(prefix = "/api/fn", endpoint = "change_webhook")]
pub async fn change_webhook(id: Uuid, op: String) -> Result<(), AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::webhooks::UpdateWebhookRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::webhooks;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ManageSystem)?;
            let (db, actor) = (&ctx.state.db, ctx.actor());
            match op.as_str() {
                "on" | "off" => {
                    let request = UpdateWebhookRequest {
                        is_active: Some(op == "on"),
                        ..Default::default()
                    };
                    webhooks::update(db, user, &actor, id, request).await?;
                }
                "ping" => {
                    webhooks::ping(db, user, &actor, id).await?;
                }
                "remove" => webhooks::delete(db, user, &actor, id).await?,
                other => {
                    return Err(AppError::BadRequest(format!("Unknown change '{other}'")));
                }
            }
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(id: Uuid) -> Result<Vec<DeliveryDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::webhooks::DeliveryQuery;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::webhooks;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageSystem)?;
            let query = DeliveryQuery {
                limit: Some(20),
                ..Default::default()
            };
            Ok(webhooks::deliveries(&ctx.state.db, id, &query).await?.items)
        }
        .await,
    )
}
