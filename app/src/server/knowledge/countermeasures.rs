//! D3FEND's defensive techniques and the countermeasures of each ATT&CK technique, as
//! `importers::d3fend` derived them from the ontology.
use crate::domain::d3fend::{ArtifactLink, D3fendTactic};
use crate::dto::d3fend::{Countermeasure, D3fendQuery, D3fendTechniqueDto, technique_url};
use crate::error::{AppError, AppResult};
use crate::server::entities::{d3fend_countermeasure, d3fend_technique};
use crate::server::platform::db::escape_like;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Longest search accepted.
const SEARCH_MAX: usize = 200;

/// The D3FEND techniques, by tactic (D3FEND's order) and id, filtered by tactic and text.
pub async fn list(
    conn: &impl ConnectionTrait,
    query: &D3fendQuery,
) -> AppResult<Vec<D3fendTechniqueDto>> {
    let mut select = d3fend_technique::Entity::find();
    if let Some(tactic) = query
        .tactic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let tactic: D3fendTactic = tactic
            .to_lowercase()
            .parse()
            .map_err(|e: String| AppError::field("tactic", e))?;
        select = select.filter(d3fend_technique::Column::Tactic.eq(tactic));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if search.chars().count() > SEARCH_MAX {
            return Err(AppError::field(
                "search",
                format!("At most {SEARCH_MAX} characters"),
            ));
        }
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = |column: d3fend_technique::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            Condition::any()
                .add(like(d3fend_technique::Column::D3fendId))
                .add(like(d3fend_technique::Column::Name))
                .add(like(d3fend_technique::Column::Definition)),
        );
    }
    let counts: HashMap<Uuid, u32> = d3fend_countermeasure::Entity::find()
        .select_only()
        .column(d3fend_countermeasure::Column::D3fendTechniqueId)
        .column_as(d3fend_countermeasure::Column::AttackId.count(), "n")
        .group_by(d3fend_countermeasure::Column::D3fendTechniqueId)
        .into_tuple::<(Uuid, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, n)| (id, n as u32))
        .collect();
    let mut list: Vec<D3fendTechniqueDto> = select
        .all(conn)
        .await?
        .into_iter()
        .map(|t| D3fendTechniqueDto {
            attack_technique_count: counts.get(&t.id).copied().unwrap_or(0),
            url: technique_url(&t.class_name),
            d3fend_id: t.d3fend_id,
            name: t.name,
            tactic: t.tactic,
            parent_d3fend_id: t.parent_d3fend_id,
            definition: t.definition,
        })
        .collect();
    list.sort_by(|a, b| (a.tactic, &a.name).cmp(&(b.tactic, &b.name)));
    Ok(list)
}

/// The countermeasures of one ATT&CK technique, by tactic then name; a sub-technique D3FEND
/// does not know gets its parent's.
pub async fn of_technique(
    conn: &impl ConnectionTrait,
    mitre_id: &str,
) -> AppResult<Vec<Countermeasure>> {
    let mitre_id = mitre_id.trim().to_uppercase();
    let mut keys = vec![mitre_id.clone()];
    if let Some((parent, _)) = mitre_id.split_once('.') {
        keys.push(parent.to_owned());
    }
    for key in keys {
        let rows = d3fend_countermeasure::Entity::find()
            .filter(d3fend_countermeasure::Column::AttackId.eq(key.clone()))
            .all(conn)
            .await?;
        if rows.is_empty() {
            continue;
        }
        let links: HashMap<Uuid, Vec<ArtifactLink>> = rows
            .into_iter()
            .map(|r| {
                (
                    r.d3fend_technique_id,
                    serde_json::from_value(r.links).unwrap_or_default(),
                )
            })
            .collect();
        let mut list: Vec<Countermeasure> = d3fend_technique::Entity::find()
            .filter(d3fend_technique::Column::Id.is_in(links.keys().copied().collect::<Vec<_>>()))
            .order_by_asc(d3fend_technique::Column::Name)
            .all(conn)
            .await?
            .into_iter()
            .map(|t| {
                let links = links.get(&t.id).cloned().unwrap_or_default();
                Countermeasure {
                    artifact: links
                        .first()
                        .map(|l| l.defensive_artifact.clone())
                        .unwrap_or_default(),
                    links,
                    url: technique_url(&t.class_name),
                    d3fend_id: t.d3fend_id,
                    name: t.name,
                    tactic: t.tactic,
                    definition: t.definition,
                    attack_id: key.clone(),
                }
            })
            .collect();
        list.sort_by(|a, b| (a.tactic, &a.name).cmp(&(b.tactic, &b.name)));
        return Ok(list);
    }
    Ok(Vec::new())
}
