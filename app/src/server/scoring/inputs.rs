//! Loads what the scores depend on, for one technique (in a test's transaction) or all of
//! them (the job, a configuration change, the preview): a handful of narrow queries, never the
//! tests' rows beyond the validated ones' five columns.
use crate::domain::coverage::CoverageStatus;
use crate::domain::detection::RuleProof;
use crate::domain::intel::MentionKind;
use crate::domain::scoring::ValidatedTest;
use crate::domain::values::DetectionResult;
use crate::domain::visibility::DataQuality;
use crate::domain::workflow::TestState;
use crate::error::AppResult;
use crate::server::detection::proof;
use crate::server::entities::{detection_rule, technique, technique_set_item, test_fired_rule};
use crate::server::platform::db::statement;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// An active technique, as the scores need it.
#[derive(Debug, Clone)]
pub struct TechniqueRow {
    pub mitre_id: String,
    pub name: String,
    pub platforms: Vec<String>,
    pub tactics: Vec<String>,
    pub status: CoverageStatus,
}

/// A validated test, before its age is known.
#[derive(Debug, Clone)]
pub struct Validation {
    pub detection: Option<DetectionResult>,
    pub alert_fired: Option<bool>,
    pub time_to_detect_seconds: Option<i64>,
    pub at: Option<DateTime<Utc>>,
    pub platform: Option<String>,
}

impl Validation {
    pub fn at_age(&self, now: DateTime<Utc>) -> ValidatedTest {
        let age_days = self
            .at
            .map_or(0.0, |at| (now - at).num_seconds() as f64 / 86_400.0);
        ValidatedTest {
            detection: self.detection.unwrap_or(DetectionResult::NotDetected),
            alert_fired: self.alert_fired,
            time_to_detect_seconds: self.time_to_detect_seconds,
            age_days,
            platform: self.platform.clone(),
        }
    }
}

/// Everything the scores of the loaded techniques depend on.
#[derive(Debug, Default)]
pub struct Inputs {
    pub techniques: Vec<TechniqueRow>,
    pub validated: HashMap<String, Vec<Validation>>,
    pub proven_rules: HashMap<String, u32>,
    /// (collected, quality) of each technique's data components.
    pub components: HashMap<String, Vec<(bool, DataQuality)>>,
    /// The active threat actors (ATT&CK ids) using each technique.
    pub actors: HashMap<String, Vec<String>>,
    /// The technique sets each technique is in.
    pub sets: HashMap<String, HashSet<Uuid>>,
    pub mentions: HashMap<String, u32>,
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// `AND <column> = ?` for one technique, nothing for all.
fn only_sql(column: &str, only: Option<&str>, values: &mut Vec<sea_orm::Value>) -> String {
    match only {
        Some(id) => {
            values.push(id.to_owned().into());
            format!(" AND {column} = ?")
        }
        None => String::new(),
    }
}

/// Loads the inputs of one active technique (`only`) or of every active one.
pub async fn load(conn: &impl ConnectionTrait, only: Option<&str>) -> AppResult<Inputs> {
    let backend = conn.get_database_backend();
    let mut techniques = technique::Entity::find()
        .select_only()
        .columns([
            technique::Column::MitreId,
            technique::Column::Name,
            technique::Column::Platforms,
            technique::Column::Tactics,
            technique::Column::CoverageStatus,
        ])
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false));
    if let Some(id) = only {
        techniques = techniques.filter(technique::Column::MitreId.eq(id));
    }
    let techniques: Vec<TechniqueRow> = techniques
        .into_tuple::<(
            String,
            String,
            serde_json::Value,
            serde_json::Value,
            CoverageStatus,
        )>()
        .all(conn)
        .await?
        .into_iter()
        .map(
            |(mitre_id, name, platforms, tactics, status)| TechniqueRow {
                mitre_id,
                name,
                platforms: strings(&platforms),
                tactics: strings(&tactics),
                status,
            },
        )
        .collect();
    let mut out = Inputs {
        techniques,
        ..Default::default()
    };
    if out.techniques.is_empty() {
        return Ok(out);
    }

    let mut values = vec![TestState::Validated.as_str().into()];
    let only_tests = only_sql("technique_id", only, &mut values);
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT technique_id, detection_result, alert_fired, time_to_detect_seconds, \
                 completed_at, platform FROM tests WHERE state = ?{only_tests}"
            ),
            values,
        ))
        .await?;
    for row in rows {
        let technique: String = row.try_get_by_index(0)?;
        let detection: Option<String> = row.try_get_by_index(1)?;
        out.validated
            .entry(technique)
            .or_default()
            .push(Validation {
                detection: detection.and_then(|d| d.parse().ok()),
                alert_fired: row.try_get_by_index(2)?,
                time_to_detect_seconds: row.try_get_by_index(3)?,
                at: row.try_get_by_index(4)?,
                platform: row.try_get_by_index(5)?,
            });
    }

    out.proven_rules = proven_rules(conn, only).await?;

    let mut values = Vec::new();
    let only_components = only_sql("l.technique_id", only, &mut values);
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT l.technique_id, c.collected, c.quality FROM technique_data_components l \
                 JOIN data_components c ON c.id = l.component_id WHERE 1 = 1{only_components}"
            ),
            values,
        ))
        .await?;
    for row in rows {
        let technique: String = row.try_get_by_index(0)?;
        let collected: bool = row.try_get_by_index(1)?;
        let quality: String = row.try_get_by_index(2)?;
        out.components
            .entry(technique)
            .or_default()
            .push((collected, quality.parse().unwrap_or_default()));
    }

    let mut values = vec![false.into(), false.into()];
    let only_actors = only_sql("t.mitre_id", only, &mut values);
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT t.mitre_id, a.mitre_id FROM actor_techniques x \
                 JOIN techniques t ON t.id = x.technique_id \
                 JOIN threat_actors a ON a.id = x.actor_id \
                 WHERE a.deprecated = ? AND a.revoked = ?{only_actors}"
            ),
            values,
        ))
        .await?;
    for row in rows {
        let technique: String = row.try_get_by_index(0)?;
        let actor: String = row.try_get_by_index(1)?;
        out.actors.entry(technique).or_default().push(actor);
    }

    let mut items = technique_set_item::Entity::find()
        .select_only()
        .column(technique_set_item::Column::TechniqueId)
        .column(technique_set_item::Column::SetId);
    if let Some(id) = only {
        items = items.filter(technique_set_item::Column::TechniqueId.eq(id));
    }
    for (technique, set) in items.into_tuple::<(String, Uuid)>().all(conn).await? {
        out.sets.entry(technique).or_default().insert(set);
    }

    let mut values = vec![MentionKind::Technique.as_str().into()];
    let only_mentions = only_sql("mitre_id", only, &mut values);
    let rows = conn
        .query_all_raw(statement(
            backend,
            &format!(
                "SELECT mitre_id, COUNT(*) FROM intel_mentions WHERE kind = ?{only_mentions} \
                 GROUP BY mitre_id"
            ),
            values,
        ))
        .await?;
    for row in rows {
        let technique: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        out.mentions
            .insert(technique, u32::try_from(n).unwrap_or(u32::MAX));
    }
    Ok(out)
}

/// Proven rules per technique: only rules some test named as fired can be proven, so only
/// those are read and judged (`detection::proof`).
async fn proven_rules(
    conn: &impl ConnectionTrait,
    only: Option<&str>,
) -> AppResult<HashMap<String, u32>> {
    let fired: Vec<Uuid> = match only {
        // The rules of this technique that some test named (over the rule → technique index).
        Some(id) => {
            let rows = conn
                .query_all_raw(statement(
                    conn.get_database_backend(),
                    "SELECT DISTINCT d.rule_id FROM detection_rule_techniques d \
                     JOIN test_fired_rules f ON f.rule_id = d.rule_id WHERE d.mitre_id = ?",
                    vec![id.to_owned().into()],
                ))
                .await?;
            rows.iter()
                .map(|r| r.try_get_by_index(0))
                .collect::<Result<_, _>>()?
        }
        None => {
            test_fired_rule::Entity::find()
                .select_only()
                .column(test_fired_rule::Column::RuleId)
                .distinct()
                .into_tuple()
                .all(conn)
                .await?
        }
    };
    let mut out: HashMap<String, u32> = HashMap::new();
    for chunk in fired.chunks(500) {
        let rules = detection_rule::Entity::find()
            .filter(detection_rule::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?;
        if rules.is_empty() {
            continue;
        }
        let proofs = proof::of_rules(conn, &rules).await?;
        for rule in &rules {
            if rule.is_active && proofs.get(&rule.id) == Some(&RuleProof::Proven) {
                for technique in strings(&rule.techniques) {
                    if only.is_none_or(|id| id == technique) {
                        *out.entry(technique).or_default() += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}
