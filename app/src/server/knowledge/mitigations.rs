//! ATT&CK's mitigations, imported with the knowledge base: listed, read with the techniques
//! each mitigates (and ATT&CK's text for each), and offered on a technique's page and as
//! remediation steps.
use crate::dto::knowledge::{
    MitigatedTechnique, MitigationDetail, MitigationQuery, MitigationSummary, TechniqueMitigation,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::{mitigation, technique, technique_mitigation};
use crate::server::importers::attack::procedures::without_citations;
use crate::server::platform::db::escape_like;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Active techniques per mitigation.
async fn technique_counts(conn: &impl ConnectionTrait) -> AppResult<HashMap<Uuid, u32>> {
    let active: Vec<Uuid> = technique::Entity::find()
        .select_only()
        .column(technique::Column::Id)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .into_tuple()
        .all(conn)
        .await?;
    let active: std::collections::HashSet<Uuid> = active.into_iter().collect();
    let mut counts: HashMap<Uuid, u32> = HashMap::new();
    let links: Vec<(Uuid, Uuid)> = technique_mitigation::Entity::find()
        .select_only()
        .column(technique_mitigation::Column::MitigationId)
        .column(technique_mitigation::Column::TechniqueId)
        .into_tuple()
        .all(conn)
        .await?;
    for (mitigation, technique) in links {
        if active.contains(&technique) {
            *counts.entry(mitigation).or_default() += 1;
        }
    }
    Ok(counts)
}

fn summary(m: mitigation::Model, technique_count: u32) -> MitigationSummary {
    MitigationSummary {
        id: m.id,
        mitre_id: m.mitre_id,
        name: m.name,
        description: without_citations(&m.description),
        url: m.url,
        deprecated: m.deprecated,
        revoked: m.revoked,
        modified_at: m.modified_at,
        technique_count,
    }
}

pub async fn list(
    conn: &impl ConnectionTrait,
    query: &MitigationQuery,
) -> AppResult<Vec<MitigationSummary>> {
    let mut select = mitigation::Entity::find().order_by_asc(mitigation::Column::MitreId);
    if query.include_deprecated != Some(true) {
        select = select
            .filter(mitigation::Column::Deprecated.eq(false))
            .filter(mitigation::Column::Revoked.eq(false));
    }
    if let Some(search) = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = |column: mitigation::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            Condition::any()
                .add(like(mitigation::Column::MitreId))
                .add(like(mitigation::Column::Name))
                .add(like(mitigation::Column::Description)),
        );
    }
    let counts = technique_counts(conn).await?;
    Ok(select
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let count = counts.get(&m.id).copied().unwrap_or(0);
            summary(m, count)
        })
        .collect())
}

/// A mitigation by ATT&CK id (`M1038`) or id, with the active techniques it mitigates.
pub async fn detail(conn: &impl ConnectionTrait, key: &str) -> AppResult<MitigationDetail> {
    let key = key.trim();
    let found = match Uuid::parse_str(key) {
        Ok(id) => mitigation::Entity::find_by_id(id).one(conn).await?,
        // Older bundles reuse technique ids for deprecated mitigations: the active one wins.
        Err(_) => {
            mitigation::Entity::find()
                .filter(mitigation::Column::MitreId.eq(key.to_uppercase()))
                .order_by_asc(mitigation::Column::Deprecated)
                .one(conn)
                .await?
        }
    };
    let m = found.ok_or_else(|| AppError::NotFound(format!("Mitigation {key} not found")))?;
    let links: HashMap<Uuid, String> = technique_mitigation::Entity::find()
        .filter(technique_mitigation::Column::MitigationId.eq(m.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.technique_id, l.description))
        .collect();
    let mut techniques: Vec<MitigatedTechnique> = technique::Entity::find()
        .filter(technique::Column::Id.is_in(links.keys().copied().collect::<Vec<_>>()))
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| MitigatedTechnique {
            description: without_citations(links.get(&t.id).map_or("", String::as_str)),
            mitre_id: t.mitre_id,
            name: t.name,
            coverage_status: t.coverage_status,
        })
        .collect();
    techniques.sort_by(|a, b| a.mitre_id.cmp(&b.mitre_id));
    let count = techniques.len() as u32;
    Ok(MitigationDetail {
        summary: summary(m, count),
        techniques,
    })
}

/// The active mitigations of one technique, by ATT&CK id.
pub async fn of_technique(
    conn: &impl ConnectionTrait,
    technique_id: Uuid,
) -> AppResult<Vec<TechniqueMitigation>> {
    let links: HashMap<Uuid, String> = technique_mitigation::Entity::find()
        .filter(technique_mitigation::Column::TechniqueId.eq(technique_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| (l.mitigation_id, l.description))
        .collect();
    Ok(mitigation::Entity::find()
        .filter(mitigation::Column::Id.is_in(links.keys().copied().collect::<Vec<_>>()))
        .filter(mitigation::Column::Deprecated.eq(false))
        .filter(mitigation::Column::Revoked.eq(false))
        .order_by_asc(mitigation::Column::MitreId)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| TechniqueMitigation {
            description: without_citations(links.get(&m.id).map_or("", String::as_str)),
            mitre_id: m.mitre_id,
            name: m.name,
            url: m.url,
        })
        .collect())
}
