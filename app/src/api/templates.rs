//! Server functions of the template catalog.
use crate::dto::Page;
use crate::dto::templates::{TemplateDetail, TemplateQuery, TemplateSummary};
use crate::dto::tests::TestDetail;
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "list_templates")]
pub async fn list_templates(
    #[server(default)] query: TemplateQuery,
) -> Result<Page<TemplateSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::context::ServerFnContext;
    use crate::server::services::templates;
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
    use crate::server::context::ServerFnContext;
    use crate::server::services::templates;
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
/// the form keeps (blank ones are left to their defaults).
#[server(prefix = "/api/fn", endpoint = "test_from_template")]
pub async fn test_from_template(
    template_id: Uuid,
    title: String,
    arguments: String,
) -> Result<TestDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::tests::FromTemplateRequest;
    use crate::server::context::ServerFnContext;
    use crate::server::services::test_workflow;
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
                ..Default::default()
            };
            test_workflow::create_from_template(&ctx.state.db, user, &ctx.actor(), request).await
        }
        .await,
    )
}
