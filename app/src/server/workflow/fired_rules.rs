//! The detection rules a test's blue team says fired (`test_fired_rules`): read, checked
//! against the test's technique (`domain::detection::may_fire_for`) and replaced with the blue
//! section's edit.
use crate::domain::detection::may_fire_for;
use crate::error::{AppResult, FieldErrors};
use crate::server::entities::{detection_rule, test_fired_rule};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Rules one test may name.
pub const MAX_FIRED: usize = 50;

pub async fn of_test(conn: &impl ConnectionTrait, test_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(test_fired_rule::Entity::find()
        .select_only()
        .column(test_fired_rule::Column::RuleId)
        .filter(test_fired_rule::Column::TestId.eq(test_id))
        .order_by_asc(test_fired_rule::Column::RuleId)
        .into_tuple()
        .all(conn)
        .await?)
}

/// The checked, sorted list; what is wrong goes into `errors` under `fired_rule_ids`.
pub async fn check(
    conn: &impl ConnectionTrait,
    technique: &str,
    mut ids: Vec<Uuid>,
    errors: &mut FieldErrors,
) -> AppResult<Vec<Uuid>> {
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_FIRED {
        errors.insert(
            "fired_rule_ids".into(),
            format!("At most {MAX_FIRED} rules"),
        );
        return Ok(ids);
    }
    let rules = detection_rule::Entity::find()
        .filter(detection_rule::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?;
    let mut problems = Vec::new();
    for id in &ids {
        match rules.iter().find(|r| r.id == *id) {
            None => problems.push(format!("{id} is no detection rule")),
            Some(rule) => {
                let techniques: Vec<String> =
                    serde_json::from_value(rule.techniques.clone()).unwrap_or_default();
                if !may_fire_for(rule.source, &techniques, technique) {
                    problems.push(format!(
                        "'{}' maps to {}, not to {technique} or its parent",
                        rule.title,
                        if techniques.is_empty() {
                            "no technique".to_owned()
                        } else {
                            techniques.join(", ")
                        }
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        errors.insert("fired_rule_ids".into(), problems.join("; "));
    }
    Ok(ids)
}

pub async fn replace(conn: &impl ConnectionTrait, test_id: Uuid, ids: &[Uuid]) -> AppResult<()> {
    test_fired_rule::Entity::delete_many()
        .filter(test_fired_rule::Column::TestId.eq(test_id))
        .exec(conn)
        .await?;
    if !ids.is_empty() {
        test_fired_rule::Entity::insert_many(ids.iter().map(|rule_id| {
            test_fired_rule::ActiveModel {
                test_id: Set(test_id),
                rule_id: Set(*rule_id),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}
