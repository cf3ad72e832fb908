use crate::dto::Page;
use crate::dto::admin::audit::{AuditEntryDto, AuditFilterChoices, AuditQuery};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "list_audit")]
pub async fn list_audit(
    #[server(default)] query: AuditQuery,
) -> Result<Page<AuditEntryDto>, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::audit;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewAuditLog)?;
            audit::list(&ctx.state.db, &query).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "audit_filter_options")]
pub async fn audit_filter_options() -> Result<AuditFilterChoices, AppError> {
    use crate::domain::rbac::Permission;
    use crate::server::platform::audit;
    use crate::server::platform::context::ServerFnContext;
    crate::api::respond(
        async {
            let ctx = ServerFnContext::load()?;
            ctx.auth.require(Permission::ViewAuditLog)?;
            Ok(AuditFilterChoices {
                actions: audit::actions(&ctx.state.db).await?,
                entity_types: audit::entity_types(&ctx.state.db).await?,
            })
        }
        .await,
    )
}
