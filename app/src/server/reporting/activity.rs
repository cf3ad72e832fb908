//! The audit entries the dashboard counts (red executions, blue evaluations, evidence uploads,
//! validation votes), tallied per UTC day, actor and kind in `activity_counts` as they are
//! written, so the activity and validation figures never read the audit log itself.
pub use crate::domain::audit::ActivityKind;
use crate::error::AppResult;
use crate::server::platform::db::statement;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Value};
use serde_json::Value as Json;
use std::collections::HashMap;
use uuid::Uuid;

/// Rows per upsert statement (five values each, well within both backends' limits).
const PER_STATEMENT: usize = 1_000;

/// The stored actor: the nil UUID stands for "no signed-in actor" (a key cannot be NULL).
pub fn actor_key(actor: Option<Uuid>) -> Uuid {
    actor.unwrap_or_else(Uuid::nil)
}

pub fn actor_of(key: Uuid) -> Option<Uuid> {
    (!key.is_nil()).then_some(key)
}

/// Counts gathered before they are written: one entry, or a generator's millions.
#[derive(Debug, Default)]
pub struct ActivityTally {
    counts: HashMap<(NaiveDate, ActivityKind, Uuid), (Option<String>, i64)>,
}

impl ActivityTally {
    /// Counts the audit entry `(action, after)` of `actor` at `at`, if it is counted at all.
    pub fn add(
        &mut self,
        at: DateTime<Utc>,
        actor: Option<Uuid>,
        username: Option<&str>,
        action: &str,
        after: Option<&Json>,
    ) {
        let Some(kind) = ActivityKind::of_entry(action, after) else {
            return;
        };
        let entry = self
            .counts
            .entry((at.date_naive(), kind, actor_key(actor)))
            .or_default();
        if entry.0.is_none() {
            entry.0 = username.map(str::to_owned);
        }
        entry.1 += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Adds the counts to the table, in the caller's transaction.
    pub async fn save(self, conn: &impl ConnectionTrait) -> AppResult<()> {
        let backend = conn.get_database_backend();
        let rows: Vec<_> = self.counts.into_iter().collect();
        for part in rows.chunks(PER_STATEMENT) {
            let mut values: Vec<Value> = Vec::with_capacity(part.len() * 5);
            for ((day, kind, actor), (username, n)) in part {
                values.push((*day).into());
                values.push(kind.as_str().into());
                values.push((*actor).into());
                values.push(username.clone().into());
                values.push((*n).into());
            }
            let placeholders = vec!["(?, ?, ?, ?, ?)"; part.len()].join(", ");
            conn.execute_raw(statement(
                backend,
                &format!(
                    "INSERT INTO activity_counts (day, kind, actor_id, actor_username, count) \
                     VALUES {placeholders} ON CONFLICT (day, kind, actor_id) DO UPDATE SET \
                     count = activity_counts.count + excluded.count, \
                     actor_username = COALESCE(excluded.actor_username, \
                                               activity_counts.actor_username)"
                ),
                values,
            ))
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tally_groups_by_day_kind_and_actor() {
        let mut tally = ActivityTally::default();
        let at = DateTime::parse_from_rfc3339("2026-11-20T23:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let next = at + chrono::Duration::minutes(2);
        let id = Uuid::new_v4();
        let after = json!({"team": "red"});
        tally.add(at, Some(id), Some("ann"), "evidence.upload", Some(&after));
        tally.add(at, Some(id), Some("ann"), "evidence.upload", Some(&after));
        tally.add(next, Some(id), Some("ann"), "evidence.upload", Some(&after));
        tally.add(at, None, None, "evidence.upload", Some(&after));
        tally.add(at, Some(id), Some("ann"), "test.update", Some(&after));
        assert_eq!(tally.counts.len(), 3);
        let day = at.date_naive();
        assert_eq!(
            tally.counts[&(day, ActivityKind::RedEvidence, id)],
            (Some("ann".to_owned()), 2)
        );
        assert_eq!(
            tally.counts[&(day, ActivityKind::RedEvidence, Uuid::nil())].1,
            1
        );
        assert_eq!(actor_of(actor_key(None)), None);
        assert_eq!(actor_of(actor_key(Some(id))), Some(id));
    }
}
