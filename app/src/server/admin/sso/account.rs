//! The account behind a verified sign-in: found by (issuer, subject), linked by a verified
//! email, or created; its role re-evaluated and audited; a session opened for it.
use super::{Finished, Identity, Refusal, Sso, refuse};
use crate::domain::audit::AuditAction;
use crate::domain::rbac::Role;
use crate::domain::sso::{SsoFailure, username_for};
use crate::domain::validation;
use crate::error::{AppError, AppResult};
use crate::server::admin::tokens::{self, SessionKind};
use crate::server::admin::users;
use crate::server::entities::user;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, RequestMeta};
use crate::server::platform::db::begin_write;
use crate::server::platform::state::AppState;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// The account for a verified identity, its role re-evaluated, and a session for it.
pub(super) async fn sign_in(
    state: &AppState,
    sso: &Sso,
    meta: &RequestMeta,
    identity: Identity,
    next: String,
) -> AppResult<Result<Finished, SsoFailure>> {
    let who = json!({ "subject": identity.subject, "email": identity.email });
    let Some(role) = sso.settings.role_map.resolve(&identity.groups) else {
        let mut extra = who.clone();
        extra["groups"] = json!(identity.groups.iter().take(20).collect::<Vec<_>>());
        let refusal = Refusal::new(
            SsoFailure::NoRole,
            "no group of the person is mapped to a role",
        );
        return Ok(Err(refuse(state, meta, refusal, extra).await));
    };

    let issuer = sso.settings.issuer.as_str();
    let txn = begin_write(&state.db).await?;
    let found = user::Entity::find()
        .filter(user::Column::OidcIssuer.eq(issuer))
        .filter(user::Column::OidcSubject.eq(identity.subject.clone()))
        .one(&txn)
        .await?;
    let (account, created, linked) = match found {
        Some(account) => (account, false, false),
        None => match linkable(&txn, &identity, &state.auth.break_glass_admin).await? {
            Some(account) => (account, false, true),
            None if sso.settings.auto_create => (
                create_account(&txn, &identity, issuer, role).await?,
                true,
                false,
            ),
            None => {
                txn.rollback().await?;
                let refusal = Refusal::new(
                    SsoFailure::NoAccount,
                    "no account has this subject and new accounts are not created (AEGIS_OIDC_AUTO_CREATE)",
                );
                return Ok(Err(refuse(state, meta, refusal, who).await));
            }
        },
    };
    if !account.is_active {
        txn.rollback().await?;
        let mut extra = who;
        extra["username"] = json!(account.username);
        let refusal = Refusal::new(SsoFailure::Deactivated, "the account is deactivated");
        return Ok(Err(refuse(state, meta, refusal, extra).await));
    }

    let before = users::to_dto(&account)?;
    let (access_token, claims) = tokens::issue(&state.auth, account.id, SessionKind::SingleSignOn)?;
    let actor = Actor {
        id: Some(account.id),
        username: Some(account.username.clone()),
        client_ip: meta.client_ip.clone(),
        request_id: Some(meta.request_id.clone()),
        via_token: None,
    };
    let now = Utc::now();
    let mut active: user::ActiveModel = account.clone().into();
    active.last_login_at = Set(Some(now));
    if linked {
        active.oidc_issuer = Set(Some(issuer.to_owned()));
        active.oidc_subject = Set(Some(identity.subject.clone()));
    }
    let mut role_changed = !created && before.role != role;
    // The last active admin stays one: the invariant every other path keeps (the provider's
    // groups take effect once another admin exists).
    if role_changed
        && before.role == Role::Admin
        && users::other_active_admins(&txn, account.id).await? == 0
    {
        tracing::warn!(user = %account.username, "single sign-on would demote the last active admin; kept");
        role_changed = false;
    }
    if role_changed {
        active.role = Set(role.as_str().to_owned());
        active.updated_at = Set(now);
    }
    let updated = active.update(&txn).await.map_err(conflict_or)?;
    if created {
        audit::record(
            &txn,
            &actor,
            AuditRecord::new(AuditAction::UserCreate, users::ENTITY, updated.id).after(
                json!({ "user": users::to_dto(&updated)?, "sso_subject": identity.subject }),
            ),
        )
        .await?;
    }
    if linked {
        audit::record(
            &txn,
            &actor,
            AuditRecord::new(AuditAction::UserSsoLink, users::ENTITY, updated.id)
                .after(json!({ "sso_subject": identity.subject, "email": identity.email })),
        )
        .await?;
    }
    if role_changed {
        audit::record(
            &txn,
            &actor,
            AuditRecord::new(AuditAction::UserSsoRole, users::ENTITY, updated.id)
                .before(json!({ "role": before.role }))
                .after(json!({ "role": role, "groups": identity.groups.iter().take(20).collect::<Vec<_>>() })),
        )
        .await?;
    }
    audit::record(
        &txn,
        &actor,
        AuditRecord::new(AuditAction::AuthLogin, "session", &claims.jti)
            .after(json!({ "method": "sso", "role": users::role_of(&updated)? })),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(Finished { access_token, next }))
}

/// An account made before its first SSO sign-in, found by the provider's verified email: a
/// person's account (with a password, not a service account), not yet linked, not the
/// break-glass admin, and the only one with that email.
async fn linkable(
    conn: &impl ConnectionTrait,
    identity: &Identity,
    break_glass_admin: &str,
) -> AppResult<Option<user::Model>> {
    let Some(email) = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
    else {
        return Ok(None);
    };
    let mut found = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .limit(2)
        .all(conn)
        .await?;
    if found.len() != 1 {
        return Ok(None);
    }
    let account = found.remove(0);
    let eligible = account.oidc_subject.is_none()
        && !account.password_hash.is_empty()
        && account.username != break_glass_admin;
    Ok(eligible.then_some(account))
}

/// A unique index lost to a concurrent sign-in is a conflict (retried), not our fault.
fn conflict_or(err: sea_orm::DbErr) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => AppError::Conflict(detail),
        _ => err.into(),
    }
}

async fn create_account(
    conn: &impl ConnectionTrait,
    identity: &Identity,
    issuer: &str,
    role: Role,
) -> AppResult<user::Model> {
    let base = username_for(
        identity.preferred_username.as_deref(),
        identity.email.as_deref(),
        &identity.subject,
    );
    let mut username = base.clone();
    let mut n = 1;
    while users::find_by_username(conn, &username).await?.is_some() {
        n += 1;
        if n > 50 {
            return Err(AppError::Conflict(format!(
                "No free username near '{base}' for a new SSO account"
            )));
        }
        username = format!("{base}-{n}");
    }
    // An email another account holds is left off rather than refusing the person.
    let email = match identity.email.as_deref() {
        Some(email)
            if user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .count(conn)
                .await?
                == 0 =>
        {
            let mut errors = crate::error::FieldErrors::new();
            validation::check_email(email, &mut errors);
            errors.is_empty().then(|| email.to_owned())
        }
        _ => None,
    };
    let now = Utc::now();
    user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.clone()),
        display_name: Set(identity.name.clone().unwrap_or_else(|| username.clone())),
        email: Set(email),
        role: Set(role.as_str().to_owned()),
        is_active: Set(true),
        password_hash: Set(String::new()),
        password_changed_at: Set(now),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        oidc_issuer: Set(Some(issuer.to_owned())),
        oidc_subject: Set(Some(identity.subject.clone())),
    }
    .insert(conn)
    .await
    .map_err(conflict_or)
}
