//! `aegis seed-demo`: fills a migrated database that already holds ATT&CK with a large,
//! realistic data set: users of every role, tests in every state over the last months,
//! evidence metadata, remediation, the audit history of each test plus everyday activity, and
//! weekly coverage snapshots. It serves demos and the reports benchmark.
//!
//! Rows are built as the services build them: each test starts as the draft
//! `workflow::rows::draft_row` makes and remediation steps are `rows::step_row`s; the audit
//! entries are the typed `domain::audit::TestEvent`s (edits diffed by
//! `workflow::snapshots::edit_event` over the section's fields), so metrics, reports and
//! timelines read them as they read real work. Every choice comes from one seeded PRNG, so a
//! seed always gives the same data relative to the moment it runs.
//!
//! The phases, one module each: `techniques` and `staff` (what the tests are about and who
//! does them), `plan` (one test's draws), `generate` (its row), `history` (its audit entries,
//! evidence and steps, and everyday activity), `write` (batched inserts) and `finish`
//! (activity counters, coverage, weekly snapshots, statistics). `rng`, `clock` and
//! `vocabulary` hold the randomness, the time arithmetic and the word lists.
mod clock;
mod finish;
mod generate;
mod history;
mod plan;
mod rng;
mod staff;
mod techniques;
mod vocabulary;
mod write;

use anyhow::bail;
use app::domain::coverage::CoverageStatus;
use app::domain::validation::{PASSWORD_MAX_LEN, PASSWORD_MIN_LEN};
use app::domain::workflow::TestState;
use app::server::entities::security_test;
use chrono::Utc;
use clock::{DAY, at};
use generate::{Generator, state_index};
use rng::Rng;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel};
use std::fmt;
use std::time::{Duration, Instant};
use write::{AUDIT_PER_BATCH, Batch, Rows, TESTS_PER_BATCH, Writer};

/// The variable `aegis seed-demo` reads the seeded users' shared password from.
pub const PASSWORD_ENV: &str = "AEGIS_SEED_PASSWORD";
pub const DEFAULT_PASSWORD: &str = "seed-password-123";

/// Every seeded username starts with this.
pub const USERNAME_PREFIX: &str = "seed-";

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub tests: usize,
    /// Audit entries in total: the tests' own histories first, then everyday activity until
    /// this many. When the histories alone are more, they are all kept (history is never cut).
    pub audit: usize,
    /// Tests are spread over this many days up to now.
    pub days: u32,
    pub seed: u64,
    /// The one password of every seeded user.
    pub password: String,
    /// Progress lines on stderr.
    pub progress: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            tests: 100_000,
            audit: 1_000_000,
            days: 365,
            seed: 42,
            password: DEFAULT_PASSWORD.to_owned(),
            progress: true,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub users_created: usize,
    pub users_reused: usize,
    pub tests: usize,
    /// Lifecycle order, zeros included.
    pub tests_by_state: Vec<(&'static str, usize)>,
    pub evidence: usize,
    pub remediation_steps: usize,
    /// The tests' and users' own audit trail.
    pub audit_history: usize,
    /// Logins and edits added to reach the requested total.
    pub audit_filler: usize,
    pub snapshots: usize,
    /// Active (neither deprecated nor revoked) techniques, and how many got tests.
    pub techniques: usize,
    pub techniques_tested: usize,
    /// Active techniques per coverage status after the recomputation, strongest first.
    pub coverage: Vec<(&'static str, usize)>,
    /// Techniques whose stored coverage status changed.
    pub coverage_updated: usize,
    pub elapsed: Duration,
}

impl SeedReport {
    pub fn audit_total(&self) -> usize {
        self.audit_history + self.audit_filler
    }
}

/// `name count, name count, …`
fn counts(items: &[(&str, usize)]) -> String {
    items
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Seeded in {:.1} s.", self.elapsed.as_secs_f64())?;
        writeln!(
            f,
            "Users: {} created, {} already there.",
            self.users_created, self.users_reused
        )?;
        writeln!(
            f,
            "Tests: {} ({}).",
            self.tests,
            counts(&self.tests_by_state)
        )?;
        writeln!(
            f,
            "Evidence files (metadata): {}. Remediation steps: {}.",
            self.evidence, self.remediation_steps
        )?;
        writeln!(
            f,
            "Audit entries: {} ({} history, {} logins and edits).",
            self.audit_total(),
            self.audit_history,
            self.audit_filler
        )?;
        writeln!(
            f,
            "Techniques: {} active, {} with tests; coverage {}; {} statuses updated.",
            self.techniques,
            self.techniques_tested,
            counts(&self.coverage),
            self.coverage_updated
        )?;
        write!(f, "Weekly coverage snapshots: {}.", self.snapshots)
    }
}

/// Generates and writes the whole data set. See the module documentation.
pub async fn seed(db: &DatabaseConnection, options: &SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    if options.days == 0 {
        bail!("days must be at least 1");
    }
    let length = options.password.chars().count();
    if !(PASSWORD_MIN_LEN..=PASSWORD_MAX_LEN).contains(&length) {
        bail!(
            "the seed password must have {PASSWORD_MIN_LEN} to {PASSWORD_MAX_LEN} characters (set {PASSWORD_ENV})"
        );
    }
    let now = Utc::now();
    let span = i64::from(options.days) * DAY;
    let mut rng = Rng(options.seed);
    let techs = techniques::load_techniques(db, &mut rng).await?;

    // The first test id tells whether this seed was already applied here.
    let test_ids = Rng(options.seed ^ 0x7E57_1D5E_ED00_0001);
    let first_test = test_ids.clone().uuid();
    if security_test::Entity::find_by_id(first_test)
        .one(db)
        .await?
        .is_some()
    {
        bail!(
            "this database already holds the tests of seed {}: pick another seed",
            options.seed
        );
    }

    let staff_since = at(now, -span - DAY);
    let (staff, new_users, users_reused) =
        staff::ensure_staff(db, options, &mut rng, staff_since).await?;
    let mut generator = Generator::new(rng, test_ids, now, span, &techs, &staff, options.tests);
    let mut writer = Writer::new(db, started, options);

    let users_created = new_users.len();
    if !new_users.is_empty() {
        let audit = generator.users_created(&new_users)?;
        let rows = new_users
            .into_iter()
            .map(|u| u.into_active_model().reset_all())
            .collect();
        writer.submit(Batch::Users(rows)).await?;
        writer.submit(Batch::Audit(audit)).await?;
    }

    let mut rows = Rows::default();
    for n in 0..options.tests {
        generator.test(n, &mut rows);
        if rows.tests.len() >= TESTS_PER_BATCH {
            writer
                .submit(Batch::Tests(std::mem::take(&mut rows)))
                .await?;
        }
    }
    if !rows.tests.is_empty() {
        writer.submit(Batch::Tests(rows)).await?;
    }

    let filler = options.audit.saturating_sub(generator.history_rows);
    if filler == 0 && options.audit > 0 && options.progress {
        eprintln!(
            "the tests' own history is {} audit entries, at or above the {} asked for: no everyday activity added",
            generator.history_rows, options.audit
        );
    }
    let mut audit = Vec::with_capacity(AUDIT_PER_BATCH.min(filler));
    for _ in 0..filler {
        generator.filler(&mut audit);
        if audit.len() >= AUDIT_PER_BATCH {
            writer
                .submit(Batch::Audit(std::mem::take(&mut audit)))
                .await?;
        }
    }
    if !audit.is_empty() {
        writer.submit(Batch::Audit(audit)).await?;
    }
    writer.finish().await?;
    finish::save_activity(db, std::mem::take(&mut generator.activity)).await?;
    finish::record_logins(db, &staff, &generator.last_login).await?;

    let (coverage_updated, status) = finish::recompute_coverage(db).await?;
    let snapshots = finish::write_snapshots(
        db,
        &mut generator.rng,
        &techs,
        &generator.snapshot_times,
        &generator.snapshot_status,
    )
    .await?;
    if options.progress {
        eprintln!(
            "coverage recomputed, {snapshots} snapshots written; analyzing ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    finish::recount(db).await?;
    app::server::scoring::compute::recompute_current(db).await?;
    finish::analyze(db).await?;

    let mut coverage = [0usize; 4];
    for tech in &techs {
        let s = status
            .get(&tech.mitre_id)
            .copied()
            .unwrap_or(CoverageStatus::NotCovered);
        if let Some(i) = CoverageStatus::ALL.iter().position(|c| *c == s) {
            coverage[i] += 1;
        }
    }
    Ok(SeedReport {
        users_created,
        users_reused,
        tests: options.tests,
        tests_by_state: TestState::ALL
            .iter()
            .map(|s| (s.as_str(), generator.by_state[state_index(*s)]))
            .collect(),
        evidence: generator.evidence,
        remediation_steps: generator.steps,
        audit_history: generator.history_rows,
        audit_filler: filler,
        snapshots,
        techniques: techs.len(),
        techniques_tested: generator.tested.iter().filter(|t| **t).count(),
        coverage: CoverageStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .zip(coverage)
            .collect(),
        coverage_updated,
        elapsed: started.elapsed(),
    })
}
