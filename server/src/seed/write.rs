//! Batched inserts: each batch in its own transaction, on its own connection, while the next
//! batches are generated.
use super::SeedOptions;
use anyhow::Context;
use app::server::entities::{audit_log, evidence, remediation_step, security_test, user};
use app::server::platform::db::begin_write;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait};
use std::time::Instant;
use tokio::task::JoinSet;

// Rows per INSERT: tests have 55 columns (27,500 bind parameters; SQLite allows 32,766 and
// PostgreSQL 65,535), the narrow tables 10 or 11.
const TEST_ROWS: usize = 500;
const NARROW_ROWS: usize = 2_000;
/// Tests (with their evidence and steps) per transaction.
pub(super) const TESTS_PER_BATCH: usize = 1_000;
/// Audit entries per transaction (five statements).
pub(super) const AUDIT_PER_BATCH: usize = 10_000;

/// The rows of some tests: the tests themselves, their evidence, steps and audit history.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) tests: Vec<security_test::ActiveModel>,
    pub(super) evidence: Vec<evidence::ActiveModel>,
    pub(super) steps: Vec<remediation_step::ActiveModel>,
    pub(super) audit: Vec<audit_log::ActiveModel>,
}

pub(super) enum Batch {
    Users(Vec<user::ActiveModel>),
    Tests(Rows),
    Audit(Vec<audit_log::ActiveModel>),
}

/// Rows of each counted kind a batch (or all batches so far) wrote.
#[derive(Default, Clone, Copy)]
struct Written {
    tests: usize,
    audit: usize,
}

/// Inserts `rows` (an owned `Vec` of one entity's active models) a statement at a time.
macro_rules! insert_all {
    ($txn:expr, $entity:ident, $rows:expr, $per_statement:expr) => {{
        let mut rows = $rows.into_iter();
        while !rows.as_slice().is_empty() {
            let part: Vec<$entity::ActiveModel> = rows.by_ref().take($per_statement).collect();
            $entity::Entity::insert_many(part)
                .exec_without_returning($txn)
                .await?;
        }
    }};
}

/// One batch in one transaction.
async fn write(db: DatabaseConnection, batch: Batch) -> Result<Written, DbErr> {
    let txn = begin_write(&db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Demo data can be generated again: not waiting for each commit's WAL flush saves
        // hundreds of round trips to the disk. A crash loses the last batches, nothing else.
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    let mut written = Written::default();
    match batch {
        Batch::Users(rows) => insert_all!(&txn, user, rows, NARROW_ROWS),
        Batch::Tests(rows) => {
            written.tests = rows.tests.len();
            written.audit = rows.audit.len();
            // Tests first: evidence and steps refer to them.
            insert_all!(&txn, security_test, rows.tests, TEST_ROWS);
            insert_all!(&txn, evidence, rows.evidence, NARROW_ROWS);
            insert_all!(&txn, remediation_step, rows.steps, NARROW_ROWS);
            insert_all!(&txn, audit_log, rows.audit, NARROW_ROWS);
        }
        Batch::Audit(rows) => {
            written.audit = rows.len();
            insert_all!(&txn, audit_log, rows, NARROW_ROWS);
        }
    }
    txn.commit().await?;
    Ok(written)
}

/// Writes batches on their own connections while the next ones are generated.
pub(super) struct Writer {
    db: DatabaseConnection,
    running: JoinSet<Result<Written, DbErr>>,
    in_flight: usize,
    written: Written,
    progress: Option<Progress>,
}

/// The progress lines on stderr: one per tenth of the tests and of the audit entries.
struct Progress {
    started: Instant,
    tests: usize,
    audit: usize,
    next_tests: usize,
    next_audit: usize,
}

impl Progress {
    fn step(total: usize) -> usize {
        (total / 10).max(1)
    }

    fn report(&mut self, written: Written) {
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.tests > 0 && written.tests >= self.next_tests {
            eprintln!("tests {}/{} ({elapsed:.1} s)", written.tests, self.tests);
            while self.next_tests <= written.tests {
                self.next_tests += Self::step(self.tests);
            }
        }
        if self.audit > 0 && written.audit >= self.next_audit {
            eprintln!("audit {}/{} ({elapsed:.1} s)", written.audit, self.audit);
            while self.next_audit <= written.audit {
                self.next_audit += Self::step(self.audit);
            }
        }
    }
}

impl Writer {
    pub(super) fn new(db: &DatabaseConnection, started: Instant, options: &SeedOptions) -> Self {
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        Self {
            db: db.clone(),
            running: JoinSet::new(),
            // PostgreSQL takes writes on several connections at once; SQLite has one writer.
            in_flight: if postgres { 3 } else { 1 },
            written: Written::default(),
            progress: options.progress.then(|| Progress {
                started,
                tests: options.tests,
                audit: options.audit,
                next_tests: Progress::step(options.tests),
                next_audit: Progress::step(options.audit),
            }),
        }
    }

    pub(super) async fn submit(&mut self, batch: Batch) -> anyhow::Result<()> {
        while self.running.len() >= self.in_flight {
            self.join_one().await?;
        }
        self.running.spawn(write(self.db.clone(), batch));
        Ok(())
    }

    async fn join_one(&mut self) -> anyhow::Result<()> {
        if let Some(result) = self.running.join_next().await {
            let written = result.context("a seeding task stopped")??;
            self.written.tests += written.tests;
            self.written.audit += written.audit;
            if let Some(progress) = &mut self.progress {
                progress.report(self.written);
            }
        }
        Ok(())
    }

    pub(super) async fn finish(&mut self) -> anyhow::Result<()> {
        while !self.running.is_empty() {
            self.join_one().await?;
        }
        Ok(())
    }
}
