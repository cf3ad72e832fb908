//! Limits for sign-ins and password checks, counted in the database so that every server
//! process of a deployment counts the same attempts (and a restart forgives nothing).
//!
//! One row per key (`rate_limits`): the start of its window and the attempts in it. An
//! attempt is counted by one upsert that checks and counts at once: the database locks the
//! key's row, so parallel guesses, on one process or several, cannot all pass the check before
//! any is recorded. A window starts at a key's first attempt and lasts `window`; a refused
//! attempt is not counted. Expired rows are swept now and then by the process that counts, so
//! the table holds only the keys seen within a window. Keys are built from bounded input only
//! (at most 400 characters with the limiter's name).
use crate::error::AppResult;
use crate::server::platform::db::statement;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub struct RateLimiter {
    db: DatabaseConnection,
    /// Keeps this limiter's keys apart from the others' in the shared table.
    name: &'static str,
    max_attempts: u32,
    window: Duration,
    counted: AtomicU32,
}

/// Every this many counted attempts, the process sweeps the expired rows of its limiter.
const SWEEP_EVERY: u32 = 256;
const KEY_MAX_LEN: usize = 400;

impl RateLimiter {
    pub fn new(
        db: DatabaseConnection,
        name: &'static str,
        max_attempts: usize,
        window: Duration,
    ) -> Self {
        Self {
            db,
            name,
            max_attempts: u32::try_from(max_attempts.max(1)).unwrap_or(u32::MAX),
            window: window.max(Duration::from_millis(1)),
            counted: AtomicU32::new(0),
        }
    }

    fn key(&self, key: &str) -> String {
        let mut full = format!("{}:{key}", self.name);
        if full.len() > KEY_MAX_LEN {
            let mut end = KEY_MAX_LEN;
            while !full.is_char_boundary(end) {
                end -= 1;
            }
            full.truncate(end);
        }
        full
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// Counts one attempt for `key` now: `Ok(Err(seconds to wait))` when the key has used its
    /// attempts in the window (the attempt is then not counted).
    pub async fn try_acquire(&self, key: &str) -> AppResult<Result<(), u64>> {
        let key = self.key(key);
        let now = Utc::now().timestamp_millis();
        let expired = now.saturating_sub(self.window_ms());
        let backend = self.db.get_database_backend();
        let counted = self
            .db
            .execute_raw(statement(
                backend,
                r#"INSERT INTO rate_limits ("key", window_start_ms, attempts) VALUES (?, ?, 1)
                   ON CONFLICT ("key") DO UPDATE SET
                     attempts = CASE WHEN rate_limits.window_start_ms <= ? THEN 1
                                     ELSE rate_limits.attempts + 1 END,
                     window_start_ms = CASE WHEN rate_limits.window_start_ms <= ?
                                            THEN excluded.window_start_ms
                                            ELSE rate_limits.window_start_ms END
                   WHERE rate_limits.window_start_ms <= ? OR rate_limits.attempts < ?"#,
                vec![
                    key.clone().into(),
                    now.into(),
                    expired.into(),
                    expired.into(),
                    expired.into(),
                    i64::from(self.max_attempts).into(),
                ],
            ))
            .await?
            .rows_affected();
        if counted > 0 {
            if self.counted.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
                && let Err(err) = self.sweep(expired).await
            {
                // Housekeeping: the attempt counted; the next sweep takes the rows.
                tracing::warn!(error = %err.detail(), "could not sweep expired rate-limit rows");
            }
            return Ok(Ok(()));
        }
        let started = self
            .db
            .query_one_raw(statement(
                backend,
                r#"SELECT window_start_ms FROM rate_limits WHERE "key" = ?"#,
                vec![key.into()],
            ))
            .await?
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .unwrap_or(now);
        let left_ms = started.saturating_add(self.window_ms()).saturating_sub(now);
        // Whole seconds, rounded up: waiting that long is always enough.
        Ok(Err(u64::try_from(left_ms.saturating_add(999) / 1000)
            .unwrap_or(1)
            .max(1)))
    }

    /// Takes back the latest attempt of `key` (a success, or a failure of ours, that should
    /// not count).
    pub async fn release(&self, key: &str) -> AppResult<()> {
        let backend = self.db.get_database_backend();
        self.db
            .execute_raw(statement(
                backend,
                r#"UPDATE rate_limits SET attempts = attempts - 1 WHERE "key" = ? AND attempts > 0"#,
                vec![self.key(key).into()],
            ))
            .await?;
        Ok(())
    }

    /// Forgets `key` (after a successful sign-in).
    pub async fn reset(&self, key: &str) -> AppResult<()> {
        let backend = self.db.get_database_backend();
        self.db
            .execute_raw(statement(
                backend,
                r#"DELETE FROM rate_limits WHERE "key" = ?"#,
                vec![self.key(key).into()],
            ))
            .await?;
        Ok(())
    }

    /// Removes this limiter's rows whose window ended at or before `expired` (ms).
    async fn sweep(&self, expired: i64) -> AppResult<()> {
        let backend = self.db.get_database_backend();
        let prefix = format!("{}:%", crate::server::platform::db::escape_like(self.name));
        self.db
            .execute_raw(statement(
                backend,
                r#"DELETE FROM rate_limits WHERE window_start_ms <= ? AND "key" LIKE ? ESCAPE '\'"#,
                vec![expired.into(), prefix.into()],
            ))
            .await?;
        Ok(())
    }
}
