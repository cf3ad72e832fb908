//! What validated tests have shown about detection rules (`domain::detection::RuleProof`):
//! computed from the tests whenever it is read, so it is never stale.
use crate::domain::detection::RuleProof;
use crate::domain::values::DetectionResult;
use crate::domain::workflow::TestState;
use crate::error::AppResult;
use crate::server::entities::{detection_rule, security_test, test_fired_rule};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The proof of each rule.
pub async fn of_rules(
    conn: &impl ConnectionTrait,
    rules: &[detection_rule::Model],
) -> AppResult<HashMap<Uuid, RuleProof>> {
    let ids: Vec<Uuid> = rules.iter().map(|r| r.id).collect();
    let mut fired: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let links: Vec<(Uuid, Uuid)> = test_fired_rule::Entity::find()
            .select_only()
            .column(test_fired_rule::Column::TestId)
            .column(test_fired_rule::Column::RuleId)
            .filter(test_fired_rule::Column::RuleId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        let tests: HashSet<Uuid> = links.iter().map(|(t, _)| *t).collect();
        let done: HashMap<Uuid, DateTime<Utc>> = security_test::Entity::find()
            .select_only()
            .column(security_test::Column::Id)
            .column(security_test::Column::CompletedAt)
            .filter(security_test::Column::Id.is_in(tests.into_iter().collect::<Vec<_>>()))
            .filter(security_test::Column::State.eq(TestState::Validated))
            .into_tuple::<(Uuid, Option<DateTime<Utc>>)>()
            .all(conn)
            .await?
            .into_iter()
            .filter_map(|(id, at)| Some((id, at?)))
            .collect();
        for (test, rule) in links {
            if let Some(at) = done.get(&test) {
                let entry = fired.entry(rule).or_insert(*at);
                if *at > *entry {
                    *entry = *at;
                }
            }
        }
    }
    let techniques: HashSet<String> = rules.iter().flat_map(|r| strings(&r.techniques)).collect();
    let mut misses: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
    let techniques: Vec<String> = techniques.into_iter().collect();
    for chunk in techniques.chunks(500) {
        let rows: Vec<(String, Option<DateTime<Utc>>)> = security_test::Entity::find()
            .select_only()
            .column(security_test::Column::TechniqueId)
            .column(security_test::Column::CompletedAt)
            .filter(security_test::Column::TechniqueId.is_in(chunk.to_vec()))
            .filter(security_test::Column::State.eq(TestState::Validated))
            .filter(security_test::Column::DetectionResult.eq(DetectionResult::NotDetected))
            .into_tuple()
            .all(conn)
            .await?;
        for (technique, at) in rows {
            if let Some(at) = at {
                misses.entry(technique).or_default().push(at);
            }
        }
    }
    Ok(rules
        .iter()
        .map(|r| {
            let missed = if r.is_active {
                strings(&r.techniques)
                    .iter()
                    .filter_map(|t| misses.get(t))
                    .flatten()
                    .filter(|at| **at >= r.created_at)
                    .max()
                    .copied()
            } else {
                None
            };
            (r.id, RuleProof::of(fired.get(&r.id).copied(), missed))
        })
        .collect())
}
