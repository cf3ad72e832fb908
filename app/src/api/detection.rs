//! Detection rules as the Detection rules pages and the technique page use them.
use crate::dto::Page;
use crate::dto::detection::{RuleDetail, RuleQuery, RuleSummary};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[server(prefix = "/api/fn", endpoint = "detection_rules")]
pub async fn detection_rules(query: RuleQuery) -> Result<Page<RuleSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::detection::rules;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            rules::list(&ctx.state.db, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "detection_rule")]
pub async fn detection_rule(id: Uuid) -> Result<RuleDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::detection::rules;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            rules::get(&ctx.state.db, id).await
        }
        .await,
    )
}

/// The rules of a technique (its sub-techniques' for a parent).
#[server(prefix = "/api/fn", endpoint = "technique_rules")]
pub async fn technique_rules(mitre_id: String) -> Result<Vec<RuleSummary>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::detection::rules;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewData)?;
            rules::of_technique(&ctx.state.db, &mitre_id).await
        }
        .await,
    )
}

/// A blue lead's or an admin's local fields of a rule: notes, and whether it is active.
#[server(prefix = "/api/fn", endpoint = "save_rule_notes")]
pub async fn save_rule_notes(
    id: Uuid,
    notes: String,
    is_active: Option<String>,
) -> Result<RuleDetail, AppError> {
    use crate::domain::rbac::Permission;
    use crate::dto::detection::RuleRequest;
    use crate::server::detection::rules;
    use crate::server::platform::context::ServerFnContext;
    super::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ManageDetectionRules)?;
            rules::update(
                &ctx.state.db,
                &ctx.actor(),
                id,
                &RuleRequest {
                    notes: Some(notes),
                    is_active: Some(is_active.is_some_and(|v| v == "true" || v == "on")),
                    ..Default::default()
                },
            )
            .await
        }
        .await,
    )
}
