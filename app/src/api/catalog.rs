//! Server functions of the template catalog.
// A form posts one argument per field.
#![allow(clippy::too_many_arguments)]
use crate::dto::Page;
use crate::dto::catalog::{TemplateDetail, TemplateQuery, TemplateSummary};
use crate::dto::workflow::TestDetail;
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "list_templates")]
pub async fn list_templates(
    #[server(default)] query: TemplateQuery,
) -> Result<Page<TemplateSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let admin = user.role.can(Permission::ManageTemplates);
            templates::list(&ctx.state.db, &query, admin).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_template")]
pub async fn get_template(id: Uuid) -> Result<TemplateDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let admin = user.role.can(Permission::ManageTemplates);
            templates::get(&ctx.state.db, id, admin).await
        }
        .await,
    )
}

/// "Create test from this template". `arguments` is the JSON object of input-argument values
/// the form keeps (blank ones are left to their defaults); `platform`, when the template runs
/// on several, picks one (and a CALDERA ability's executor for it).
#[server(prefix = "/api/fn", endpoint = "test_from_template")]
pub async fn test_from_template(
    template_id: Uuid,
    title: String,
    arguments: String,
    #[server(default)] platform: Option<String>,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::workflow::FromTemplateRequest;
    use crate::server::platform::context::ServerFnContext;
    use crate::server::workflow;
    use std::collections::BTreeMap;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            let user = ctx.auth.require(Permission::ViewData)?;
            let values: BTreeMap<String, String> = serde_json::from_str(&arguments)
                .map_err(|e| AppError::field("arguments", format!("Unreadable values: {e}")))?;
            let request = FromTemplateRequest {
                template_id,
                title: Some(title).filter(|t| !t.trim().is_empty()),
                input_arguments: values
                    .into_iter()
                    .filter(|(_, v)| !v.trim().is_empty())
                    .collect(),
                platform: platform.filter(|p| !p.trim().is_empty()),
                ..Default::default()
            };
            workflow::create_from_template(&ctx.state.db, user, &ctx.actor(), request).await
        }
        .await,
    )
}

/// One item per line or comma, blanks dropped.
#[cfg(feature = "ssr")]
fn items(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One item per line (remediation steps may contain commas).
#[cfg(feature = "ssr")]
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[server(prefix = "/api/fn", endpoint = "template_stats")]
pub async fn template_stats() -> Result<crate::dto::catalog::TemplateStats, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            templates::stats(&ctx.state.db).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "toggle_template")]
pub async fn toggle_template(id: Uuid) -> Result<TemplateDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            templates::set_active(&ctx.state.db, &ctx.actor(), id, None).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_template")]
pub async fn create_template(
    technique_id: String,
    name: String,
    description: String,
    platforms: String,
    executor_name: String,
    command: String,
    cleanup_command: String,
    expected_detection: String,
    suggested_tools: String,
    severity: String,
    remediation_steps: String,
) -> Result<TemplateDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::catalog::CreateTemplateRequest;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            let blank = |s: String| Some(s).filter(|s| !s.trim().is_empty());
            let request = CreateTemplateRequest {
                technique_id,
                name,
                description,
                platforms: items(&platforms),
                executor_name: blank(executor_name),
                command,
                cleanup_command: blank(cleanup_command),
                elevation_required: false,
                input_arguments: Vec::new(),
                expected_detection,
                suggested_tools: items(&suggested_tools),
                severity: blank(severity),
                remediation_steps: lines(&remediation_steps),
            };
            templates::create(&ctx.state.db, &ctx.actor(), request).await
        }
        .await,
    )
}

/// The local fields of any template; `name`, `description` and `command` only for custom
/// ones (the form sends them only then).
#[server(prefix = "/api/fn", endpoint = "update_template")]
pub async fn update_template(
    id: Uuid,
    severity: String,
    expected_detection: String,
    suggested_tools: String,
    remediation_steps: String,
    #[server(default)] name: Option<String>,
    #[server(default)] description: Option<String>,
    #[server(default)] command: Option<String>,
) -> Result<TemplateDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::catalog::UpdateTemplateRequest;
    use crate::server::catalog::templates;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            let request = UpdateTemplateRequest {
                severity: Some(severity),
                expected_detection: Some(expected_detection),
                suggested_tools: Some(items(&suggested_tools)),
                remediation_steps: Some(lines(&remediation_steps)),
                name,
                description,
                command,
                ..Default::default()
            };
            templates::update(&ctx.state.db, &ctx.actor(), id, request).await
        }
        .await,
    )
}

/// The System panel's GTFOBins mapping: each function's techniques, the table's and the
/// installation's own.
#[server(prefix = "/api/fn", endpoint = "gtfobins_mapping")]
pub async fn gtfobins_mapping()
-> Result<Vec<crate::dto::catalog::GtfobinsFunctionMapping>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::catalog::gtfobins;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            gtfobins::mapping(&ctx.state.db).await
        }
        .await,
    )
}

/// Sets a GTFOBins function's techniques for this installation: `techniques` as typed,
/// comma- or space-separated (blank restores the table's).
#[server(prefix = "/api/fn", endpoint = "set_gtfobins_mapping")]
pub async fn set_gtfobins_mapping(
    function: String,
    techniques: String,
) -> Result<crate::dto::catalog::GtfobinsFunctionMapping, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::catalog::GtfobinsMappingRequest;
    use crate::server::catalog::gtfobins;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageTemplates)?;
            let techniques = techniques
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect();
            gtfobins::set(
                &ctx.state.db,
                &ctx.actor(),
                &function,
                GtfobinsMappingRequest { techniques },
            )
            .await
        }
        .await,
    )
}
