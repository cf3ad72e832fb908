use crate::dto::Page;
use crate::dto::audit::{AuditEntryDto, AuditQuery};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[server(prefix = "/api/fn", endpoint = "list_audit")]
pub async fn list_audit(query: AuditQuery) -> Result<Page<AuditEntryDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::context::ServerFnContext;
    use crate::server::services::audit;
    super::respond(async {
        let ctx = ServerFnContext::load()?;
        ctx.auth.require(Permission::ViewAuditLog)?;
        audit::list(&ctx.state.db, &query).await
    }
    .await)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditFilterOptions {
    pub actions: Vec<String>,
    pub entity_types: Vec<String>,
}

#[server(prefix = "/api/fn", endpoint = "audit_filter_options")]
pub async fn audit_filter_options() -> Result<AuditFilterOptions, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::context::ServerFnContext;
    use crate::server::services::audit;
    super::respond(async {
        let ctx = ServerFnContext::load()?;
        ctx.auth.require(Permission::ViewAuditLog)?;
        Ok(AuditFilterOptions {
            actions: audit::actions(&ctx.state.db).await?,
            entity_types: audit::entity_types(&ctx.state.db).await?,
        })
    }
    .await)
}
