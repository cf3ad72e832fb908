//! Answers cached behind versions kept in the database (`cache_versions`, one row per
//! `domain::cache::CacheScope`). The audit writer bumps the scopes of every audited change in
//! that change's transaction ([`bump`]); a reader reads the current versions (one small query),
//! and a cached answer is served only while the versions it was computed under are still the
//! current ones. Because the versions live in the database, every server process on it sees a
//! change at once. The same stamp gives the answer's `ETag`, so a client that already holds it
//! gets a `304` without the answer being computed or sent.
use crate::domain::cache::CacheScope;
use crate::error::AppResult;
use crate::server::platform::db::statement;
use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The current version of every scope, in `CacheScope::ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Versions([i64; CacheScope::ALL.len()]);

impl Versions {
    pub fn of(&self, scope: CacheScope) -> i64 {
        self.0[scope as usize]
    }
}

pub async fn versions(conn: &impl ConnectionTrait) -> AppResult<Versions> {
    let rows = conn
        .query_all_raw(statement(
            conn.get_database_backend(),
            "SELECT scope, version FROM cache_versions",
            Vec::new(),
        ))
        .await?;
    let mut out = Versions::default();
    for row in rows {
        let scope: String = row.try_get_by_index(0)?;
        let version: i64 = row.try_get_by_index(1)?;
        if let Ok(scope) = scope.parse::<CacheScope>() {
            out.0[scope as usize] = version;
        }
    }
    Ok(out)
}

/// Makes the answers that depend on `scopes` stale, in the caller's transaction. One statement
/// per scope, always in the same order, so concurrent changes never wait on each other's
/// rows in opposite orders.
pub async fn bump(conn: &impl ConnectionTrait, scopes: &[CacheScope]) -> AppResult<()> {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    for scope in scopes {
        conn.execute_raw(statement(
            conn.get_database_backend(),
            "UPDATE cache_versions SET version = version + 1 WHERE scope = ?",
            vec![scope.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}

/// An answer that is cached: its name, the scopes it depends on, and whether it also depends
/// on the date (figures over "the last 30 days").
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub name: &'static str,
    pub scopes: &'static [CacheScope],
    pub daily: bool,
}

impl Answer {
    const fn new(name: &'static str, scopes: &'static [CacheScope]) -> Self {
        Self {
            name,
            scopes,
            daily: false,
        }
    }

    const fn daily(name: &'static str, scopes: &'static [CacheScope]) -> Self {
        Self {
            name,
            scopes,
            daily: true,
        }
    }

    /// The cache key of this answer to `query`.
    pub fn key(&self, query: &impl Serialize) -> String {
        let query = serde_json::to_string(query).unwrap_or_default();
        if self.daily {
            format!("{}|{query}|{}", self.name, Utc::now().date_naive())
        } else {
            format!("{}|{query}", self.name)
        }
    }
}

/// Every cached answer, with what makes it stale.
pub mod answers {
    use super::Answer;
    use crate::domain::cache::CacheScope::{Knowledge, Scores, Snapshots, Tests};

    pub const TACTICS: Answer = Answer::new("tactics", &[Knowledge]);
    pub const THREAT_ACTORS: Answer = Answer::new("threat-actors", &[Knowledge]);
    /// Techniques carry their coverage and test counts, which tests change.
    pub const TECHNIQUES: Answer = Answer::new("techniques", &[Knowledge, Tests]);
    /// The matrix carries each technique's heat cell (scores).
    pub const MATRIX: Answer = Answer::new("matrix", &[Knowledge, Tests, Scores]);
    /// Filtered by intel mentioned in the last N days: the window moves with the date.
    pub const TECHNIQUES_BY_INTEL: Answer = Answer::daily("techniques-intel", &[Knowledge, Tests]);
    pub const MATRIX_BY_INTEL: Answer = Answer::daily("matrix-intel", &[Knowledge, Tests, Scores]);
    pub const METRICS_SUMMARY: Answer = Answer::new("metrics-summary", &[Knowledge, Tests]);
    pub const METRICS_BY_TACTIC: Answer = Answer::new("metrics-by-tactic", &[Knowledge, Tests]);
    pub const METRICS_PIPELINE: Answer = Answer::new("metrics-pipeline", &[Knowledge, Tests]);
    pub const METRICS_RECENT: Answer = Answer::new("metrics-recent", &[Knowledge, Tests]);
    pub const METRICS_ACTIVITY: Answer = Answer::daily("metrics-activity", &[Knowledge, Tests]);
    pub const METRICS_VALIDATION: Answer = Answer::daily("metrics-validation", &[Knowledge, Tests]);
    pub const METRICS_HISTORY: Answer = Answer::new("metrics-history", &[Knowledge, Snapshots]);
    /// The dashboard's figures shared by everyone (not a person's own pending tasks).
    /// Scores are recomputed with every test change, and by the job and the configuration.
    pub const SCORING_SUMMARY: Answer = Answer::new("scoring-summary", &[Knowledge, Tests, Scores]);
    pub const SCORING_TECHNIQUES: Answer =
        Answer::new("scoring-techniques", &[Knowledge, Tests, Scores]);
    pub const DATA_SOURCES: Answer = Answer::new("data-sources", &[Knowledge, Scores]);
    pub const COMPLIANCE: Answer = Answer::new("compliance", &[Knowledge, Tests, Scores]);
    pub const DASHBOARD: Answer = Answer::daily("dashboard", &[Knowledge, Tests, Snapshots]);
}

/// One answer's identity at the current versions: what it is (`key`: the endpoint and its
/// normalised query), which scopes it depends on, and their versions now.
#[derive(Debug, Clone)]
pub struct Stamp {
    key: String,
    versions: Vec<i64>,
    etag: String,
}

impl Stamp {
    pub fn new(key: String, scopes: &[CacheScope], current: &Versions) -> Self {
        let versions: Vec<i64> = scopes.iter().map(|s| current.of(*s)).collect();
        let mut hash = Sha256::new();
        // A new release may shape the same answer differently.
        hash.update(env!("CARGO_PKG_VERSION").as_bytes());
        hash.update(key.as_bytes());
        for (scope, version) in scopes.iter().zip(&versions) {
            hash.update(format!("|{scope}={version}").as_bytes());
        }
        let etag = format!("W/\"{}\"", &hex::encode(hash.finalize())[..24]);
        Self {
            key,
            versions,
            etag,
        }
    }

    /// The answer's entity tag (weak: the same answer may be sent compressed or not).
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// Whether an `If-None-Match` header value names this answer.
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.trim() == "*"
            || if_none_match.split(',').any(|tag| {
                let tag = tag.trim();
                tag.trim_start_matches("W/") == self.etag.trim_start_matches("W/")
            })
    }
}

/// Kept answers by key and type (a REST handler keeps the JSON, a page the value).
type EntryKey = (String, TypeId);

struct Entry {
    versions: Vec<i64>,
    value: Arc<dyn Any + Send + Sync>,
}

/// The cached answers of one server process, at most `capacity` of them.
pub struct ReadCache {
    entries: Mutex<HashMap<EntryKey, Entry>>,
    /// One lock per answer being computed: concurrent misses of one answer wait for the first
    /// to compute it (single flight) instead of all querying the database at once.
    flights: Mutex<HashMap<EntryKey, Arc<tokio::sync::Mutex<()>>>>,
    capacity: usize,
}

/// Forgets a flight's lock once nobody waits on it, whether the load finished, failed or was
/// cancelled.
struct Flight<'a> {
    cache: &'a ReadCache,
    key: EntryKey,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        // The map's reference and this one: nobody else is waiting.
        if Arc::strong_count(&self.lock) <= 2 {
            flights.remove(&self.key);
        }
    }
}

impl Default for ReadCache {
    fn default() -> Self {
        Self::new(256)
    }
}

impl ReadCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The stamp of `answer` to `query` at the versions stored now.
    pub async fn stamp(
        &self,
        conn: &impl ConnectionTrait,
        answer: Answer,
        query: &impl Serialize,
    ) -> AppResult<Stamp> {
        Ok(Stamp::new(
            answer.key(query),
            answer.scopes,
            &versions(conn).await?,
        ))
    }

    /// `answer` to `query`: the kept one while current, else `load`'s.
    pub async fn load<T, Fut>(
        &self,
        conn: &impl ConnectionTrait,
        answer: Answer,
        query: &impl Serialize,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        Fut: Future<Output = AppResult<T>>,
    {
        let stamp = self.stamp(conn, answer, query).await?;
        self.get_or_load(&stamp, load).await
    }

    fn cached<T: Send + Sync + 'static>(&self, stamp: &Stamp) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&(stamp.key.clone(), TypeId::of::<T>()))?;
        if entry.versions != stamp.versions {
            return None;
        }
        entry.value.clone().downcast::<T>().ok()
    }

    fn keep<T: Send + Sync + 'static>(&self, stamp: &Stamp, value: Arc<T>) {
        let key = (stamp.key.clone(), TypeId::of::<T>());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            // Stale answers go first; if every one is current, start over rather than grow.
            entries.retain(|_, e| e.versions == stamp.versions);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                versions: stamp.versions.clone(),
                value,
            },
        );
    }

    /// The answer for `stamp`: the cached one if it was computed at the same versions, else
    /// `load`'s, which is kept for the next reader. Failures are not kept.
    pub async fn get_or_load<T, Fut>(
        &self,
        stamp: &Stamp,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        Fut: Future<Output = AppResult<T>>,
    {
        if let Some(hit) = self.cached::<T>(stamp) {
            return Ok(hit);
        }
        let key = (stamp.key.clone(), TypeId::of::<T>());
        let lock = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            flights.entry(key.clone()).or_default().clone()
        };
        let flight = Flight {
            cache: self,
            key,
            lock,
        };
        let _turn = flight.lock.lock().await;
        // Whoever held the lock before may have computed it at these versions.
        if let Some(hit) = self.cached::<T>(stamp) {
            return Ok(hit);
        }
        let value = Arc::new(load().await?);
        self.keep(stamp, value.clone());
        Ok(value)
    }

    /// How many answers are kept (for tests).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_misses_compute_an_answer_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(ReadCache::new(8));
        let loads = Arc::new(AtomicUsize::new(0));
        let stamp = Stamp::new("metrics".into(), &[CacheScope::Tests], &versions(1, 1));
        let mut readers = Vec::new();
        for _ in 0..16 {
            let (cache, loads, stamp) = (cache.clone(), loads.clone(), stamp.clone());
            readers.push(tokio::spawn(async move {
                cache
                    .get_or_load(&stamp, || async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                        Ok(42u32)
                    })
                    .await
                    .map(|v| *v)
            }));
        }
        for reader in readers {
            assert_eq!(reader.await.ok().and_then(Result::ok), Some(42));
        }
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "one load for sixteen readers"
        );
        assert!(
            cache.flights.lock().map(|f| f.is_empty()).unwrap_or(false),
            "no lock is left behind"
        );
        // A failed load is not kept, and the next reader tries again.
        let other = Stamp::new("other".into(), &[CacheScope::Tests], &versions(1, 1));
        let failed = cache
            .get_or_load::<u32, _>(&other, || async {
                Err(crate::error::AppError::internal("database down"))
            })
            .await;
        assert!(failed.is_err());
        let again = cache.get_or_load(&other, || async { Ok(7u32) }).await;
        assert_eq!(again.ok().map(|v| *v), Some(7));
    }

    fn versions(k: i64, t: i64) -> Versions {
        let mut v = Versions::default();
        v.0[CacheScope::Knowledge as usize] = k;
        v.0[CacheScope::Tests as usize] = t;
        v
    }

    #[test]
    fn a_stamp_changes_with_the_versions_it_depends_on_only() {
        let scopes = [CacheScope::Knowledge];
        let a = Stamp::new("techniques".into(), &scopes, &versions(1, 1));
        let b = Stamp::new("techniques".into(), &scopes, &versions(1, 2));
        let c = Stamp::new("techniques".into(), &scopes, &versions(2, 2));
        assert_eq!(a.etag(), b.etag());
        assert_ne!(a.etag(), c.etag());
        let other = Stamp::new("tactics".into(), &scopes, &versions(1, 1));
        assert_ne!(a.etag(), other.etag());
    }

    #[test]
    fn daily_answers_are_keyed_by_the_date_too() {
        let query = serde_json::json!({"tactic": "execution"});
        let key = answers::METRICS_ACTIVITY.key(&query);
        assert!(key.ends_with(&Utc::now().date_naive().to_string()));
        assert!(!answers::TECHNIQUES.key(&query).contains('-') || !answers::TECHNIQUES.daily);
        assert_ne!(answers::TECHNIQUES.key(&query), answers::MATRIX.key(&query));
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_in_lists() {
        let stamp = Stamp::new("x".into(), &[CacheScope::Tests], &versions(1, 1));
        let strong = stamp.etag().trim_start_matches("W/").to_owned();
        assert!(stamp.matches(stamp.etag()));
        assert!(stamp.matches(&strong));
        assert!(stamp.matches(&format!("\"other\", {}", stamp.etag())));
        assert!(stamp.matches("*"));
        assert!(!stamp.matches("\"other\""));
    }

    #[tokio::test]
    async fn an_answer_is_reused_until_its_versions_move() {
        let cache = ReadCache::new(4);
        let scopes = [CacheScope::Tests];
        let first = Stamp::new("k".into(), &scopes, &versions(1, 1));
        let a = cache
            .get_or_load(&first, || async { Ok(1_u32) })
            .await
            .unwrap();
        let b = cache
            .get_or_load(&first, || async { Ok(2_u32) })
            .await
            .unwrap();
        assert_eq!((*a, *b), (1, 1));
        let next = Stamp::new("k".into(), &scopes, &versions(1, 2));
        let c = cache
            .get_or_load(&next, || async { Ok(3_u32) })
            .await
            .unwrap();
        assert_eq!(*c, 3);
        // The same answer kept as another type is another entry.
        let d = cache
            .get_or_load(&next, || async { Ok("json") })
            .await
            .unwrap();
        let e = cache
            .get_or_load(&next, || async { Ok(4_u32) })
            .await
            .unwrap();
        assert_eq!((*d, *e), ("json", 3));
    }

    #[tokio::test]
    async fn the_cache_never_grows_past_its_capacity() {
        let cache = ReadCache::new(3);
        let current = versions(1, 1);
        for i in 0..10 {
            let stamp = Stamp::new(format!("k{i}"), &[CacheScope::Tests], &current);
            cache.get_or_load(&stamp, || async { Ok(i) }).await.unwrap();
            assert!(cache.len() <= 3);
        }
    }
}
