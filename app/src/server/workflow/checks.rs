//! The checks of a test's input that need the database: the technique, assignees and retest
//! links. The pure ones are in `domain::test_input`.
use crate::domain::rbac::{Role, Team};
use crate::domain::workflow::{Denied, may_work_for};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::server::entities::{security_test, technique, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;
use std::str::FromStr;
use uuid::Uuid;

/// A refusal of the workflow rules as the HTTP error it is.
pub fn refusal(denied: Denied) -> AppError {
    match denied.status() {
        403 => AppError::Forbidden(denied.message()),
        _ => AppError::Conflict(denied.message()),
    }
}

/// The technique must be known and current; returns the id upper-cased.
pub async fn check_technique(
    conn: &impl ConnectionTrait,
    technique_id: &str,
    errors: &mut FieldErrors,
) -> AppResult<String> {
    let id = technique_id.trim().to_uppercase();
    if id.is_empty() {
        errors.insert("technique_id".into(), "Technique is required".into());
        return Ok(id);
    }
    let known = technique::Entity::find()
        .filter(technique::Column::MitreId.eq(id.clone()))
        .one(conn)
        .await?;
    match known {
        Some(t) if t.deprecated || t.revoked => {
            errors.insert(
                "technique_id".into(),
                format!("{id} is deprecated or revoked in ATT&CK; choose its successor"),
            );
        }
        Some(_) => {}
        None => {
            errors.insert(
                "technique_id".into(),
                format!("Unknown technique '{id}'; sync ATT&CK or create a custom technique"),
            );
        }
    }
    Ok(id)
}

/// The user must exist, be active and, for an assignment to a side, be one who may work for
/// it (`domain::workflow::may_work_for`).
pub async fn check_user(
    conn: &impl ConnectionTrait,
    field: &str,
    id: Option<Uuid>,
    team: Option<Team>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(id) = id else { return Ok(()) };
    let found = user::Entity::find_by_id(id).one(conn).await?;
    let Some(found) = found.filter(|u| u.is_active) else {
        errors.insert(field.into(), format!("No active user {id}"));
        return Ok(());
    };
    if let Some(team) = team {
        let role = Role::from_str(&found.role).map_err(|e| AppError::internal(e.to_string()))?;
        if !may_work_for(role, team) {
            errors.insert(
                field.into(),
                format!(
                    "{} is a {}, not a member of the {} team",
                    found.display_name,
                    role.label(),
                    team
                ),
            );
        }
    }
    Ok(())
}

/// `retest_of` must name another test, and must not make a cycle.
pub async fn check_retest_of(
    conn: &impl ConnectionTrait,
    this: Option<Uuid>,
    retest_of: Option<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    let Some(parent) = retest_of else {
        return Ok(());
    };
    if Some(parent) == this {
        errors.insert("retest_of".into(), "A test cannot retest itself".into());
        return Ok(());
    }
    if security_test::Entity::find_by_id(parent)
        .one(conn)
        .await?
        .is_none()
    {
        errors.insert("retest_of".into(), format!("No test {parent}"));
        return Ok(());
    }
    // Linking to one of its own retests would close a loop.
    if let Some(this) = this
        && is_ancestor(conn, this, parent).await?
    {
        errors.insert(
            "retest_of".into(),
            "That test is already a retest of this one".into(),
        );
    }
    Ok(())
}

/// A new test's assignees (each of their side) and the test it retests.
pub async fn check_new_links(
    conn: &impl ConnectionTrait,
    red: Option<Uuid>,
    blue: Option<Uuid>,
    retest_of: Option<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<()> {
    check_user(conn, "assigned_red_id", red, Some(Team::Red), errors).await?;
    check_user(conn, "assigned_blue_id", blue, Some(Team::Blue), errors).await?;
    check_retest_of(conn, None, retest_of, errors).await
}

/// Is `ancestor` on the `retest_of` path up from `test`?
async fn is_ancestor(conn: &impl ConnectionTrait, ancestor: Uuid, test: Uuid) -> AppResult<bool> {
    let mut seen = HashSet::new();
    let mut current = Some(test);
    while let Some(id) = current {
        if id == ancestor {
            return Ok(true);
        }
        if !seen.insert(id) {
            break;
        }
        current = security_test::Entity::find_by_id(id)
            .select_only()
            .column(security_test::Column::RetestOf)
            .into_tuple::<Option<Uuid>>()
            .one(conn)
            .await?
            .flatten();
    }
    Ok(false)
}
