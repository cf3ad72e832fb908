//! The test counters of `domain::tallies`, in `test_tallies`: added to in the transaction of
//! every change to a test (`rows::insert_draft` and `rows::save` call [`apply`]), read by the
//! test list and the technique lists instead of counting the tests, rebuilt from the tests by
//! the demo seeder, and recounted by the tests that check them.
use crate::domain::cache::CacheScope;
use crate::domain::tallies::{TallyDimension, TallyKey, TallySum, TestFacts, deltas};
use crate::domain::workflow::{TestState, Vote};
use crate::error::AppResult;
use crate::server::entities::security_test;
use crate::server::platform::db::{begin_write, statement};
use crate::server::platform::read_cache;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QuerySelect, Value,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Rows per upsert statement (four values each, well within both backends' limits).
const PER_STATEMENT: usize = 1_000;

pub fn facts(m: &security_test::Model) -> TestFacts {
    TestFacts {
        state: m.state,
        technique: m.technique_id.clone(),
        platform: m.platform.clone(),
        creator: m.created_by,
        campaign: m.campaign_id,
        red_assignee: m.assigned_red_id,
        blue_assignee: m.assigned_blue_id,
        red_voted: m.red_validation_status.is_some(),
        blue_voted: m.blue_validation_status.is_some(),
    }
}

/// Adds what the change from `before` to `after` does to the counters, in the caller's
/// transaction.
pub async fn apply(
    conn: &impl ConnectionTrait,
    before: Option<&security_test::Model>,
    after: Option<&security_test::Model>,
) -> AppResult<()> {
    let changes = deltas(before.map(facts).as_ref(), after.map(facts).as_ref());
    add(conn, changes).await
}

/// Adds `changes` to the stored counters, in key order.
async fn add(conn: &impl ConnectionTrait, changes: BTreeMap<TallyKey, i64>) -> AppResult<()> {
    let backend = conn.get_database_backend();
    let rows: Vec<_> = changes.into_iter().collect();
    for part in rows.chunks(PER_STATEMENT) {
        let mut values: Vec<Value> = Vec::with_capacity(part.len() * 4);
        for ((dimension, key, state), n) in part {
            values.push(dimension.as_str().into());
            values.push(key.clone().into());
            values.push(state.as_str().into());
            values.push((*n).into());
        }
        let placeholders = vec!["(?, ?, ?, ?)"; part.len()].join(", ");
        conn.execute_raw(statement(
            backend,
            &format!(
                "INSERT INTO test_tallies (dimension, tally_key, state, count) \
                 VALUES {placeholders} ON CONFLICT (dimension, tally_key, state) \
                 DO UPDATE SET count = test_tallies.count + excluded.count"
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Tests per state: the sum of the counters `sum` names (`domain::tallies::for_filter`,
/// `for_pending`), in one query; states without tests are absent.
pub async fn per_state(
    conn: &impl ConnectionTrait,
    sum: &TallySum,
) -> AppResult<HashMap<TestState, u64>> {
    let mut out = HashMap::new();
    if sum.is_empty() {
        return Ok(out);
    }
    let mut values: Vec<Value> = Vec::new();
    let mut parts = Vec::new();
    for (dimension, key, _) in sum {
        values.push(dimension.as_str().into());
        values.push(key.clone().into());
        parts.push("(dimension = ? AND tally_key = ?)");
    }
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            &format!(
                "SELECT dimension, tally_key, state, count FROM test_tallies WHERE {}",
                parts.join(" OR ")
            ),
            values,
        ))
        .await?;
    for row in rows {
        let dimension: String = row.try_get_by_index(0)?;
        let key: String = row.try_get_by_index(1)?;
        let state: TestState = row.try_get_by_index(2)?;
        let n: i64 = row.try_get_by_index(3)?;
        // A counter named twice (never, by the domain's sums) would count twice: as summed.
        for (d, k, states) in sum {
            if d.as_str() == dimension
                && *k == key
                && states.as_ref().is_none_or(|s| s.contains(&state))
            {
                *out.entry(state).or_default() += count(n);
            }
        }
    }
    Ok(out)
}

/// Tests per technique (every state), for every technique that has any.
pub async fn per_technique(conn: &impl ConnectionTrait) -> AppResult<HashMap<String, u64>> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT tally_key, CAST(SUM(count) AS BIGINT) FROM test_tallies \
             WHERE dimension = ? GROUP BY tally_key",
            vec![TallyDimension::Technique.as_str().into()],
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        if n > 0 {
            out.insert(key, count(n));
        }
    }
    Ok(out)
}

/// The counters as stored, without the ones that came back to zero.
pub async fn stored(conn: &impl ConnectionTrait) -> AppResult<BTreeMap<TallyKey, i64>> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT dimension, tally_key, state, count FROM test_tallies WHERE count <> 0",
            Vec::new(),
        ))
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let dimension: String = row.try_get_by_index(0)?;
        let key: String = row.try_get_by_index(1)?;
        let state: TestState = row.try_get_by_index(2)?;
        let n: i64 = row.try_get_by_index(3)?;
        let dimension = dimension
            .parse::<TallyDimension>()
            .map_err(crate::error::AppError::Internal)?;
        out.insert((dimension, key, state), n);
    }
    Ok(out)
}

#[derive(FromQueryResult)]
struct FactRow {
    state: TestState,
    technique_id: String,
    platform: Option<String>,
    created_by: Uuid,
    campaign_id: Option<Uuid>,
    assigned_red_id: Option<Uuid>,
    assigned_blue_id: Option<Uuid>,
    red_validation_status: Option<Vote>,
    blue_validation_status: Option<Vote>,
}

/// The counters as a full count of the tests gives them.
pub async fn recount(conn: &impl ConnectionTrait) -> AppResult<BTreeMap<TallyKey, i64>> {
    let rows: Vec<FactRow> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::State)
        .column(security_test::Column::TechniqueId)
        .column(security_test::Column::Platform)
        .column(security_test::Column::CreatedBy)
        .column(security_test::Column::CampaignId)
        .column(security_test::Column::AssignedRedId)
        .column(security_test::Column::AssignedBlueId)
        .column(security_test::Column::RedValidationStatus)
        .column(security_test::Column::BlueValidationStatus)
        .into_model()
        .all(conn)
        .await?;
    let mut out: BTreeMap<TallyKey, i64> = BTreeMap::new();
    for row in rows {
        let facts = TestFacts {
            state: row.state,
            technique: row.technique_id,
            platform: row.platform,
            creator: row.created_by,
            campaign: row.campaign_id,
            red_assignee: row.assigned_red_id,
            blue_assignee: row.assigned_blue_id,
            red_voted: row.red_validation_status.is_some(),
            blue_voted: row.blue_validation_status.is_some(),
        };
        for (key, n) in deltas(None, Some(&facts)) {
            *out.entry(key).or_default() += n;
        }
    }
    Ok(out)
}

/// Counts the tests once when the counters were never built (a database from before them):
/// every test has counters, so none at all beside tests means none were kept. Serialised on
/// the tests' cache version, which every test change also updates, so two servers starting
/// at once build them once.
pub async fn build_if_missing(db: &DatabaseConnection) -> AppResult<()> {
    let has = |sql: &'static str| async move {
        Ok::<_, crate::error::AppError>(
            db.query_one_raw(statement(db.get_database_backend(), sql, Vec::new()))
                .await?
                .is_some(),
        )
    };
    if has("SELECT 1 FROM test_tallies LIMIT 1").await?
        || !has("SELECT 1 FROM tests LIMIT 1").await?
    {
        return Ok(());
    }
    let txn = begin_write(db).await?;
    read_cache::bump(&txn, &[CacheScope::Tests]).await?;
    let built = txn
        .query_one_raw(statement(
            txn.get_database_backend(),
            "SELECT 1 FROM test_tallies LIMIT 1",
            Vec::new(),
        ))
        .await?
        .is_some();
    if !built {
        rebuild(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Replaces the counters by a full count (after a bulk load that wrote tests directly).
pub async fn rebuild(conn: &impl ConnectionTrait) -> AppResult<()> {
    let counted = recount(conn).await?;
    conn.execute_raw(statement(
        conn.get_database_backend(),
        "DELETE FROM test_tallies",
        Vec::new(),
    ))
    .await?;
    add(conn, counted).await
}
