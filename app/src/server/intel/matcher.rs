//! The knowledge base as `domain::intel` matches it: every active technique, threat actor and
//! piece of software, with names and aliases.
use crate::domain::intel::{Matcher, MentionKind, Term, named_terms, technique_term};
use crate::error::AppResult;
use crate::server::entities::{software, technique, threat_actor};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

fn strings(value: serde_json::Value) -> Vec<String> {
    serde_json::from_value(value).unwrap_or_default()
}

/// Builds the matcher from what the knowledge base holds now.
pub async fn load(conn: &impl ConnectionTrait) -> AppResult<Matcher> {
    let techniques: Vec<(String, String, Option<String>)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Name)
        .column(technique::Column::ParentMitreId)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .into_tuple()
        .all(conn)
        .await?;
    let actors: Vec<(String, String, serde_json::Value)> = threat_actor::Entity::find()
        .select_only()
        .column(threat_actor::Column::MitreId)
        .column(threat_actor::Column::Name)
        .column(threat_actor::Column::Aliases)
        .filter(threat_actor::Column::Deprecated.eq(false))
        .filter(threat_actor::Column::Revoked.eq(false))
        .into_tuple()
        .all(conn)
        .await?;
    let software: Vec<(String, String, serde_json::Value)> = software::Entity::find()
        .select_only()
        .column(software::Column::MitreId)
        .column(software::Column::Name)
        .column(software::Column::Aliases)
        .filter(software::Column::Deprecated.eq(false))
        .filter(software::Column::Revoked.eq(false))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(build(techniques, actors, software))
}

/// The matcher of these rows: (id, name, parent id) per technique, (id, name, aliases) per
/// actor and piece of software.
pub fn build(
    techniques: Vec<(String, String, Option<String>)>,
    actors: Vec<(String, String, serde_json::Value)>,
    software: Vec<(String, String, serde_json::Value)>,
) -> Matcher {
    let names: HashMap<&str, &str> = techniques
        .iter()
        .map(|(id, name, _)| (id.as_str(), name.as_str()))
        .collect();
    let mut terms: Vec<Term> = techniques
        .iter()
        .map(|(id, name, parent)| {
            let parent_name = parent.as_deref().and_then(|p| names.get(p).copied());
            technique_term(id, name, parent_name)
        })
        .collect();
    for (kind, rows) in [
        (MentionKind::Actor, actors),
        (MentionKind::Software, software),
    ] {
        for (id, name, aliases) in rows {
            terms.extend(named_terms(kind, &id, &name, &strings(aliases)));
        }
    }
    let ids = terms
        .iter()
        .take(techniques.len())
        .map(|t| (t.mitre_id.clone(), t.name.clone()))
        .collect::<Vec<_>>();
    Matcher::new(ids, terms)
}
