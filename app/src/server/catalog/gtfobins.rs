//! The installation's own techniques for GTFOBins functions, in place of the defaults of
//! `domain::gtfobins`: read by every GTFOBins import, set by admins (audited).
use crate::domain::audit::AuditAction;
use crate::domain::gtfobins::FUNCTIONS;
use crate::dto::catalog::{GtfobinsFunctionMapping, GtfobinsMappingRequest};
use crate::error::{AppError, AppResult};
use crate::server::entities::gtfobins_override;
use crate::server::importers::yaml::technique_id;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;
use std::collections::HashMap;

/// Techniques one override may list.
const MAX_TECHNIQUES: usize = 10;

/// Function → the installation's techniques.
pub async fn overrides(conn: &impl ConnectionTrait) -> AppResult<HashMap<String, Vec<String>>> {
    Ok(gtfobins_override::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|o| {
            let ids = serde_json::from_value(o.techniques).unwrap_or_default();
            (o.function, ids)
        })
        .collect())
}

fn entry(
    function: &crate::domain::gtfobins::Function,
    stored: Option<&gtfobins_override::Model>,
) -> GtfobinsFunctionMapping {
    GtfobinsFunctionMapping {
        function: function.name.to_owned(),
        label: function.label.to_owned(),
        defaults: function.defaults.iter().map(|s| (*s).to_owned()).collect(),
        local: stored
            .and_then(|o| serde_json::from_value(o.techniques.clone()).ok())
            .unwrap_or_default(),
        updated_by: stored.and_then(|o| o.updated_by.clone()),
        updated_at: stored.map(|o| o.updated_at),
    }
}

/// Every function that maps to techniques of its own (not `inherit`), with its override.
pub async fn mapping(conn: &impl ConnectionTrait) -> AppResult<Vec<GtfobinsFunctionMapping>> {
    let stored: HashMap<String, gtfobins_override::Model> = gtfobins_override::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.function.clone(), o))
        .collect();
    Ok(FUNCTIONS
        .iter()
        .filter(|f| !f.defaults.is_empty())
        .map(|f| entry(f, stored.get(f.name)))
        .collect())
}

/// Sets (or, with no techniques, clears) a function's override, with its audit entry.
pub async fn set(
    db: &DatabaseConnection,
    actor: &Actor,
    function: &str,
    request: GtfobinsMappingRequest,
) -> AppResult<GtfobinsFunctionMapping> {
    let Some(known) = FUNCTIONS
        .iter()
        .find(|f| f.name == function && !f.defaults.is_empty())
    else {
        return Err(AppError::NotFound(format!(
            "No GTFOBins function '{function}' maps to techniques of its own"
        )));
    };
    if request.techniques.len() > MAX_TECHNIQUES {
        return Err(AppError::field(
            "techniques",
            format!("At most {MAX_TECHNIQUES} techniques"),
        ));
    }
    let mut techniques: Vec<String> = Vec::new();
    for raw in &request.techniques {
        let Some(id) = technique_id(raw) else {
            return Err(AppError::field(
                "techniques",
                format!("'{raw}' is not an ATT&CK technique id (T1234 or T1234.001)"),
            ));
        };
        if !techniques.contains(&id) {
            techniques.push(id);
        }
    }
    let txn = begin_write(db).await?;
    let before = gtfobins_override::Entity::find_by_id(function.to_owned())
        .one(&txn)
        .await?;
    let before_ids: Vec<String> = before
        .as_ref()
        .and_then(|o| serde_json::from_value(o.techniques.clone()).ok())
        .unwrap_or_default();
    let stored = if techniques.is_empty() {
        gtfobins_override::Entity::delete_by_id(function.to_owned())
            .exec(&txn)
            .await?;
        None
    } else {
        let row = gtfobins_override::ActiveModel {
            function: Set(function.to_owned()),
            techniques: Set(json!(techniques)),
            updated_by: Set(actor.username.clone()),
            updated_at: Set(Utc::now()),
        };
        Some(match before {
            Some(_) => row.update(&txn).await?,
            None => row.insert(&txn).await?,
        })
    };
    audit::record(
        &txn,
        actor,
        AuditRecord::new(
            AuditAction::GtfobinsMappingUpdate,
            "gtfobins_function",
            function,
        )
        .before(json!({ "techniques": before_ids }))
        .after(json!({ "techniques": techniques })),
    )
    .await?;
    txn.commit().await?;
    Ok(entry(known, stored.as_ref()))
}
