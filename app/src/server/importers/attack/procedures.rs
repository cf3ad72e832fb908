//! Templates from ATT&CK's procedure examples (source `mitre`): how a group or a piece of
//! software used a technique. Every ATT&CK import keeps them in step, keyed by the `uses`
//! relationship's id, so even a team without Atomic Red Team starts with a catalog. Like
//! atomics, a changed procedure updates only the fields ATT&CK owns.
use crate::domain::values::{Severity, TemplateSource};
use crate::error::AppResult;
use crate::server::entities::test_template;
use crate::server::importers::attack::stix::ProcedureData;
use crate::server::importers::content_hash;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, Statement,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

pub const SOURCE: TemplateSource = TemplateSource::Mitre;

/// What a procedure's technique contributes.
pub struct TechniqueRef {
    pub mitre_id: String,
    pub name: String,
    pub platforms: Vec<String>,
}

/// ATT&CK's prose cites its sources as `(Citation: Name)`; the catalog shows the text only.
pub fn without_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("(Citation:") {
        out.push_str(&rest[..start]);
        match rest[start..].find(')') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
}

/// Adds and updates procedure templates; returns (added, updated). `suspended` is what
/// [`set_search_index_aside`] returned at the start of the transaction: the index is built
/// again once the rows are in.
pub async fn sync_procedures(
    txn: &impl ConnectionTrait,
    procedures: &[ProcedureData],
    techniques: &HashMap<String, TechniqueRef>,
    suspended: Option<SearchIndex>,
) -> AppResult<(u32, u32)> {
    let existing: HashMap<String, (Uuid, String)> = test_template::Entity::find()
        .select_only()
        .column(test_template::Column::ExternalId)
        .column(test_template::Column::Id)
        .column(test_template::Column::ContentHash)
        .filter(test_template::Column::Source.eq(SOURCE))
        .into_tuple::<(Option<String>, Uuid, String)>()
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|(external, id, hash)| Some((external?, (id, hash))))
        .collect();
    let now = Utc::now();
    let (mut added, mut updated) = (0, 0);
    let mut new_rows = Vec::new();
    for procedure in procedures {
        let Some(technique) = techniques.get(&procedure.technique_stix_id) else {
            continue;
        };
        let name: String = format!("{}: {}", procedure.user, technique.name)
            .chars()
            .take(300)
            .collect();
        let description = without_citations(&procedure.description);
        let platforms: Vec<String> = technique
            .platforms
            .iter()
            .map(|p| p.to_lowercase())
            .collect();
        let hash = content_hash(&json!({
            "technique_id": technique.mitre_id,
            "name": name,
            "description": description,
            "platforms": platforms,
        }));
        match existing.get(&procedure.relationship_id) {
            Some((_, old)) if *old == hash => {}
            Some((id, _)) => {
                test_template::ActiveModel {
                    id: Set(*id),
                    technique_id: Set(technique.mitre_id.clone()),
                    name: Set(name),
                    description: Set(description),
                    platforms: Set(json!(platforms)),
                    content_hash: Set(hash),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                updated += 1;
            }
            None => {
                new_rows.push(test_template::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    source: Set(SOURCE),
                    external_id: Set(Some(procedure.relationship_id.clone())),
                    technique_id: Set(technique.mitre_id.clone()),
                    name: Set(name),
                    description: Set(description),
                    platforms: Set(json!(platforms)),
                    executor_name: Set(None),
                    command: Set(String::new()),
                    cleanup_command: Set(None),
                    elevation_required: Set(false),
                    input_arguments: Set(json!([])),
                    dependencies: Set(json!([])),
                    dependency_executor_name: Set(None),
                    expected_detection: Set(String::new()),
                    suggested_tools: Set(json!([])),
                    severity: Set(Severity::Medium),
                    remediation_steps: Set(json!([])),
                    is_active: Set(true),
                    content_hash: Set(hash),
                    license: Set(Some("ATT&CK Terms of Use".into())),
                    source_url: Set(Some(format!(
                        "https://attack.mitre.org/techniques/{}/",
                        technique.mitre_id.replace('.', "/")
                    ))),
                    details: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                added += 1;
            }
        }
    }
    // Batches keep each statement under the databases' bind-parameter limits.
    let mut rows = new_rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(500).collect();
        test_template::Entity::insert_many(batch)
            .exec_without_returning(txn)
            .await?;
    }
    if let Some(SearchIndex(definition)) = suspended {
        txn.execute_unprepared("SET LOCAL maintenance_work_mem = '256MB'")
            .await?;
        txn.execute_unprepared(&definition).await?;
    }
    Ok((added, updated))
}

/// Above this many new procedures at once (the first ATT&CK import brings ~15,000),
/// PostgreSQL's trigram index on the catalog's search text is dropped and built again once the
/// rows are in, in the same transaction: one build costs less than updating the index row by
/// row.
const REBUILD_INDEX_ABOVE: usize = 2_000;

/// The definition of a search index set aside by [`set_search_index_aside`].
pub struct SearchIndex(String);

/// First thing in an import's transaction: when `procedures` outnumber the stored ones by more
/// than [`REBUILD_INDEX_ABOVE`] (PostgreSQL only), drops the catalog's search index (migration
/// 7) and returns its definition. Dropping it locks the templates table until commit; taking
/// that lock before the import locks any technique keeps the order of a test created from a
/// template (template read, then technique written), which then waits instead of deadlocking.
pub async fn set_search_index_aside(
    txn: &impl ConnectionTrait,
    procedures: &[ProcedureData],
) -> AppResult<Option<SearchIndex>> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let stored = test_template::Entity::find()
        .filter(test_template::Column::Source.eq(SOURCE))
        .count(txn)
        .await?;
    if procedures.len()
        <= usize::try_from(stored)
            .unwrap_or(usize::MAX)
            .saturating_add(REBUILD_INDEX_ABOVE)
    {
        return Ok(None);
    }
    let definition = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname = 'ix_test_templates_search_text'",
        ))
        .await?
        .map(|row| row.try_get_by_index::<String>(0))
        .transpose()?;
    if definition.is_some() {
        txn.execute_unprepared("DROP INDEX ix_test_templates_search_text")
            .await?;
    }
    Ok(definition.map(SearchIndex))
}

#[cfg(test)]
mod tests {
    #[test]
    fn citations_are_dropped() {
        assert_eq!(
            super::without_citations(
                "[APT29](https://attack.mitre.org/groups/G0016) used PowerShell.(Citation: Mandiant No Easy Breach) It also ran scripts. (Citation: F-Secure)"
            ),
            "[APT29](https://attack.mitre.org/groups/G0016) used PowerShell. It also ran scripts."
        );
    }
}
