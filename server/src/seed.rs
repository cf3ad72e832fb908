//! `aegis seed-demo`: fills a migrated database that already holds ATT&CK with a large,
//! realistic data set: users of every role, tests in every state over the last months,
//! evidence metadata, remediation, the audit history of each test plus everyday activity, and
//! weekly coverage snapshots. It serves demos and the reports benchmark.
//!
//! Rows are shaped exactly as the services write them (the same audit actions, entity types
//! and before/after JSON, the same field rules per state), so metrics, reports and timelines
//! read them as they read real work. Every choice comes from one seeded PRNG, so a seed always
//! gives the same data relative to the moment it runs.
use anyhow::{Context, bail};
use app::domain::audit::AuditAction;
use app::domain::audit::TEST_ENTITY;
use app::domain::coverage::{CoverageStatus, TestOutcome, coverage_status};
use app::domain::rbac::{Role, Team};
use app::domain::validation::{PASSWORD_MAX_LEN, PASSWORD_MIN_LEN};
use app::domain::values::{DetectionResult, RemediationStatus, Severity};
use app::domain::workflow::{TestState, Vote, review_outcome};
use app::server::admin::passwords;
use app::server::admin::users;
use app::server::entities::{
    audit_log, coverage_snapshot, evidence, remediation_step, security_test, tactic, technique,
    user,
};
use app::server::platform::audit::AuditRecord;
use app::server::platform::db::begin_write;
use app::server::reporting::activity::ActivityTally;
use chrono::{DateTime, Duration as Span, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use uuid::Uuid;

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

// Rows per INSERT: tests have 55 columns (27,500 bind parameters; SQLite allows 32,766 and
// PostgreSQL 65,535), the narrow tables 10 or 11.
const TEST_ROWS: usize = 500;
const NARROW_ROWS: usize = 2_000;
/// Tests (with their evidence and steps) per transaction.
const TESTS_PER_BATCH: usize = 1_000;
/// Audit entries per transaction (five statements).
const AUDIT_PER_BATCH: usize = 10_000;
/// Weekly snapshots kept by the snapshot job; more would be pruned at its next run.
const MAX_SNAPSHOTS: i64 = 52;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const MINUTE: i64 = 60;

/// SplitMix64: tiny, fast and fixed, so a seed means the same data in every version (a
/// library generator may change its stream between releases).
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`; `n` must not be 0.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut draw = self.below(total.max(1) as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if draw < *w {
                return i;
            }
            draw -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Seconds, log-uniform between `lo` and `hi`: most waits are short, some are long.
    fn wait(&mut self, lo: i64, hi: i64) -> i64 {
        let (l, h) = ((lo.max(1) as f64).ln(), (hi.max(2) as f64).ln());
        (l + (h - l) * self.unit()).exp() as i64
    }

    fn uuid(&mut self) -> Uuid {
        let high = u128::from(self.next_u64()) << 64;
        let bytes = (high | u128::from(self.next_u64())).to_le_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Two different values of `items` (at least two): an edit that changes something.
    fn change<T: Copy>(&mut self, items: &[T]) -> (T, T) {
        let old = self.below(items.len());
        let new = (old + 1 + self.below(items.len() - 1)) % items.len();
        (items[old], items[new])
    }

    fn sha256_hex(&mut self) -> String {
        (0..4)
            .map(|_| format!("{:016x}", self.next_u64()))
            .collect()
    }
}

/// Picks tested techniques with a Zipf-like skew: a few are tested again and again, many a
/// handful of times, as in a real programme.
struct Picker {
    order: Vec<usize>,
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(order: Vec<usize>) -> Self {
        let mut total = 0.0;
        let cumulative = (0..order.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0);
                total
            })
            .collect();
        Self { order, cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let draw = rng.unit() * total;
        let i = self
            .cumulative
            .partition_point(|c| *c <= draw)
            .min(self.order.len().saturating_sub(1));
        self.order[i]
    }
}

struct Tech {
    mitre_id: String,
    name: String,
    platforms: Vec<String>,
    /// Weights of detected, partial and not detected: how visible this technique is to the
    /// blue team's tooling.
    visibility: [u32; 3],
}

const WELL_SEEN: [u32; 3] = [75, 15, 10];
const POORLY_SEEN: [u32; 3] = [20, 30, 50];
const UNSEEN: [u32; 3] = [0, 25, 75];
const DETECTIONS: [DetectionResult; 3] = [
    DetectionResult::Detected,
    DetectionResult::Partial,
    DetectionResult::NotDetected,
];

struct Person {
    id: Uuid,
    username: String,
    ip: String,
}

#[derive(Default)]
struct Staff {
    people: Vec<Person>,
    red_techs: Vec<usize>,
    blue_techs: Vec<usize>,
    red_leads: Vec<usize>,
    blue_leads: Vec<usize>,
}

impl Staff {
    fn add(&mut self, role: Role, person: Person) {
        let index = self.people.len();
        self.people.push(person);
        match role {
            Role::RedTech => self.red_techs.push(index),
            Role::BlueTech => self.blue_techs.push(index),
            Role::RedLead => self.red_leads.push(index),
            Role::BlueLead => self.blue_leads.push(index),
            Role::Admin | Role::Viewer => {}
        }
    }
}

/// The seeded team: (role, username stem, how many).
const TEAM: [(Role, &str, usize); 5] = [
    (Role::RedTech, "red", 14),
    (Role::BlueTech, "blue", 14),
    (Role::RedLead, "red-lead", 4),
    (Role::BlueLead, "blue-lead", 4),
    (Role::Viewer, "viewer", 4),
];

const FIRST_NAMES: [&str; 20] = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn",
    "Drew", "Robin", "Charlie", "Frankie", "Hayden", "Kai", "Logan", "Parker", "Reese", "Rowan",
];
const LAST_NAMES: [&str; 20] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Roux", "Fournier", "Girard",
    "Bonnet", "Dupont",
];

const STATE_MIX: [TestState; 6] = [
    TestState::Draft,
    TestState::RedExecuting,
    TestState::BlueEvaluating,
    TestState::InReview,
    TestState::Validated,
    TestState::Rejected,
];
const STATE_WEIGHTS: [u32; 6] = [10, 10, 10, 10, 50, 10];
const SEVERITIES: [Severity; 4] = Severity::ALL;
const SEVERITY_WEIGHTS: [u32; 4] = [15, 40, 30, 15];
const VARIANTS: [&str; 10] = [
    "baseline execution",
    "obfuscated variant",
    "living-off-the-land variant",
    "as a standard user",
    "with elevated privileges",
    "over a C2 channel",
    "chained, \"low and slow\"",
    "retest after detection tuning",
    "from the threat-intel report",
    "purple-team exercise",
];
const TOOLS: [&str; 11] = [
    "Atomic Red Team",
    "Cobalt Strike",
    "Metasploit",
    "Sliver",
    "Mimikatz",
    "Impacket",
    "PowerShell",
    "BloodHound",
    "Rubeus",
    "CrackMapExec",
    "custom script",
];
const ENVIRONMENTS: [&str; 4] = [
    "Lab domain LAB.LOCAL",
    "Staging",
    "Production, approved change window",
    "Cloud sandbox account",
];
const ALERTS: [&str; 8] = [
    "EDR: Suspicious process chain",
    "SIEM: Encoded PowerShell command line",
    "Sigma: Credential dumping via LSASS access",
    "NDR: Beaconing to a rare domain",
    "EDR: Persistence via Run key",
    "SIEM: Multiple failed logons, then success",
    "Sigma: Suspicious scheduled task creation",
    "Cloud: Unusual API calls from a new location",
];
const RESPONSES: [&str; 5] = [
    "Host isolated",
    "Ticket opened with the SOC",
    "No action (announced test)",
    "Account disabled",
    "Process killed by EDR",
];
const EVIDENCE_FILES: [(&str, &str); 6] = [
    ("screenshot.png", "image/png"),
    ("edr-alert.json", "application/json"),
    ("capture.pcapng", "application/octet-stream"),
    ("command-output.txt", "text/plain"),
    ("sysmon-events.evtx", "application/octet-stream"),
    ("siem-export.csv", "text/csv"),
];
const REMEDIATION_STATUSES: [RemediationStatus; 4] = RemediationStatus::ALL;
const REMEDIATION_STEPS: [&str; 6] = [
    "Write a detection rule for the observed behaviour",
    "Enable the missing log source",
    "Tune the existing rule's threshold",
    "Add the rule to the SOC runbook",
    "Retest after deployment",
    "Harden the affected configuration",
];

#[derive(Default)]
struct Rows {
    tests: Vec<security_test::ActiveModel>,
    evidence: Vec<evidence::ActiveModel>,
    steps: Vec<remediation_step::ActiveModel>,
    audit: Vec<audit_log::ActiveModel>,
}

/// A test's phases, kept for the everyday edits added after all tests exist.
struct Life {
    id: Uuid,
    created: DateTime<Utc>,
    /// End of the first draft phase (execution started), or now.
    draft_end: DateTime<Utc>,
    /// The red team's execution window.
    execution: Option<(DateTime<Utc>, DateTime<Utc>)>,
    creator: usize,
    red: usize,
}

struct Generator<'a> {
    rng: Rng,
    /// Test ids come from their own stream, so the first one identifies the seed.
    test_ids: Rng,
    now: DateTime<Utc>,
    span: i64,
    techs: &'a [Tech],
    staff: &'a Staff,
    picker: Picker,
    /// Techniques whose testing has only just begun: a few tests each, all under way.
    fresh: Vec<usize>,
    fresh_quota: usize,
    snapshot_times: Vec<DateTime<Utc>>,
    /// Per snapshot, per technique: the coverage at that moment.
    snapshot_status: Vec<Vec<CoverageStatus>>,
    lives: Vec<Life>,
    tested: Vec<bool>,
    by_state: [usize; 6],
    evidence: usize,
    steps: usize,
    /// Audit rows of the users' and tests' own history.
    history_rows: usize,
    last_login: HashMap<usize, DateTime<Utc>>,
    /// The dashboard's activity counts of the audit rows, as `audit::record` keeps them.
    activity: ActivityTally,
}

fn state_index(state: TestState) -> usize {
    TestState::ALL
        .iter()
        .position(|s| *s == state)
        .unwrap_or_default()
}

fn at(t: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    t + Span::seconds(seconds)
}

/// A point `fraction` of the way through `from..to`.
fn within(from: DateTime<Utc>, to: DateTime<Utc>, fraction: f64) -> DateTime<Utc> {
    let millis = (to - from).num_milliseconds() as f64 * fraction;
    from + Span::milliseconds(millis as i64)
}

/// The fields `test.create` and `test.update` record, as `test_workflow::general_fields`.
fn general_fields(m: &security_test::Model) -> Value {
    json!({
        "title": m.title,
        "technique_id": m.technique_id,
        "description": m.description,
        "objective": m.objective,
        "target_environment": m.target_environment,
        "severity": m.severity,
        "platform": m.platform,
        "campaign_id": m.campaign_id,
        "retest_of": m.retest_of,
        "procedure": m.procedure,
        "expected_detection": m.expected_detection,
        "suggested_tools": m.suggested_tools,
        "assigned_red_id": m.assigned_red_id,
        "assigned_blue_id": m.assigned_blue_id,
    })
}

/// An edit's audit values as `test_workflow::audit_edit` writes them: the old values of the
/// changed fields, and their new values plus the list of changed fields.
fn edit(changes: &[(&str, Value, Value)]) -> (Value, Value) {
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    for (field, old, new) in changes {
        before.insert((*field).to_owned(), old.clone());
        after.insert((*field).to_owned(), new.clone());
    }
    let changed: Vec<&str> = changes.iter().map(|(field, _, _)| *field).collect();
    after.insert("changed".into(), json!(changed));
    (Value::Object(before), Value::Object(after))
}

fn command_for(platform: Option<&str>, tech: &Tech) -> String {
    match platform {
        Some("windows") => format!(
            "powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{}.ps1",
            tech.mitre_id
        ),
        Some("linux") => format!("bash -c './emulate.sh {}'", tech.mitre_id),
        Some("macos") => format!(
            "osascript -e 'do shell script \"./emulate {}\"'",
            tech.mitre_id
        ),
        _ => format!("./emulate --technique {}", tech.mitre_id),
    }
}

/// Timestamps of one test's life. Each field is set when the test got that far.
#[derive(Default)]
struct Timeline {
    started: Option<DateTime<Utc>>,
    /// End of the red window: submission, or the latest moment seen so far.
    red_end: Option<DateTime<Utc>>,
    blue_end: Option<DateTime<Utc>>,
    votes: Vec<DateTime<Utc>>,
    reopened: Option<DateTime<Utc>>,
    /// A remediation change after validation.
    remediation: Option<DateTime<Utc>>,
}

impl Generator<'_> {
    /// One audit row, as `audit::record` writes it for this actor (`None`: the seeder itself).
    fn record(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: Option<usize>,
        record: AuditRecord,
    ) {
        let person = actor.map(|i| &self.staff.people[i]);
        let username = person.map_or_else(|| "seed-demo".to_owned(), |p| p.username.clone());
        self.activity.add(
            at,
            person.map(|p| p.id),
            Some(&username),
            record.action.as_str(),
            record.after.as_ref(),
        );
        let row = audit_log::Model {
            id: self.rng.uuid(),
            occurred_at: at,
            actor_id: person.map(|p| p.id),
            actor_username: Some(username),
            action: record.action.as_str().to_owned(),
            entity_type: record.entity_type.to_owned(),
            entity_id: record.entity_id,
            before_value: record.before,
            after_value: record.after,
            client_ip: person.map(|p| p.ip.clone()),
            request_id: Some(self.rng.uuid().to_string()),
        };
        out.push(row.into_active_model().reset_all());
    }

    fn history(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: usize,
        record: AuditRecord,
    ) {
        self.history_rows += 1;
        self.record(out, at, Some(actor), record);
    }

    fn transition(
        &mut self,
        out: &mut Vec<audit_log::ActiveModel>,
        at: DateTime<Utc>,
        actor: usize,
        id: Uuid,
        from: TestState,
        to: TestState,
    ) {
        self.history(
            out,
            at,
            actor,
            AuditRecord::new(AuditAction::TestTransition, TEST_ENTITY, id)
                .before(json!({ "state": from.as_str() }))
                .after(json!({ "state": to.as_str() })),
        );
    }

    /// One test with its evidence, remediation steps and audit history.
    fn test(&mut self, n: usize, rows: &mut Rows) {
        let (techs, staff) = (self.techs, self.staff);
        let fresh = n < self.fresh_quota;
        let tech_index = if fresh {
            self.fresh[n % self.fresh.len()]
        } else {
            self.picker.pick(&mut self.rng)
        };
        let tech = &techs[tech_index];
        self.tested[tech_index] = true;
        let state = if fresh {
            STATE_MIX[self.rng.below(4)]
        } else {
            STATE_MIX[self.rng.weighted(&STATE_WEIGHTS)]
        };
        self.by_state[state_index(state)] += 1;
        // A reopened draft went through a rejection first; its earlier results stay.
        let reopened = state == TestState::Draft && self.rng.chance(0.15);
        let executed = reopened || state != TestState::Draft;
        let red_done = reopened
            || matches!(
                state,
                TestState::BlueEvaluating
                    | TestState::InReview
                    | TestState::Validated
                    | TestState::Rejected
            );
        let blue_done = reopened
            || matches!(
                state,
                TestState::InReview | TestState::Validated | TestState::Rejected
            );
        let rng = &mut self.rng;
        let red_first = rng.chance(0.5);
        let sides = if red_first {
            [Team::Red, Team::Blue]
        } else {
            [Team::Blue, Team::Red]
        };
        let votes: Vec<(Team, Vote)> = match state {
            TestState::Validated => vec![(sides[0], Vote::Approved), (sides[1], Vote::Approved)],
            TestState::Rejected => {
                if rng.chance(0.5) {
                    vec![(sides[0], Vote::Rejected)]
                } else {
                    vec![(sides[0], Vote::Approved), (sides[1], Vote::Rejected)]
                }
            }
            TestState::Draft if reopened => vec![(sides[0], Vote::Rejected)],
            TestState::InReview if rng.chance(0.5) => vec![(sides[0], Vote::Approved)],
            _ => Vec::new(),
        };

        // Waits between steps, then squeezed when the test is too young for them all.
        let mut waits: Vec<i64> = Vec::with_capacity(8);
        waits.push(rng.wait(10 * MINUTE, 5 * DAY)); // create → start
        waits.push(rng.wait(15 * MINUTE, 8 * HOUR)); // start → submit red
        waits.push(rng.wait(30 * MINUTE, 4 * DAY)); // submit red → submit blue
        for _ in &votes {
            waits.push(rng.wait(30 * MINUTE, 3 * DAY));
        }
        waits.push(rng.wait(HOUR, 5 * DAY)); // → reopen, remediation, or now
        let max_age = if fresh {
            (30 * DAY).min(self.span)
        } else if state.is_active() {
            (self.span / 3).max(2 * HOUR)
        } else {
            self.span
        };
        let age = rng.between(HOUR, max_age);
        let total: i64 = waits.iter().sum();
        if total > age - MINUTE {
            let scale = (age - MINUTE) as f64 / total as f64;
            for wait in &mut waits {
                *wait = ((*wait as f64 * scale) as i64).max(1);
            }
        }
        let created = at(self.now, -age);
        let mut clock = created;
        let mut next = {
            let mut waits = waits.into_iter();
            move |clock: &mut DateTime<Utc>| {
                *clock = at(*clock, waits.next().unwrap_or(1));
                *clock
            }
        };
        let mut time = Timeline::default();
        if executed {
            time.started = Some(next(&mut clock));
            time.red_end = Some(next(&mut clock));
        }
        // Windows of tests still in a phase run up to about now.
        if red_done {
            time.blue_end = Some(next(&mut clock));
        }
        for _ in &votes {
            time.votes.push(next(&mut clock));
        }
        let last = next(&mut clock);
        if reopened {
            time.reopened = Some(last);
        }

        let creator = if rng.chance(0.65) {
            *rng.pick(&staff.red_leads)
        } else {
            *rng.pick(&staff.blue_leads)
        };
        let red = *rng.pick(&staff.red_techs);
        let blue = *rng.pick(&staff.blue_techs);
        let red_lead = *rng.pick(&staff.red_leads);
        let blue_lead = *rng.pick(&staff.blue_leads);
        let assigned_red = rng.chance(0.85).then_some(red);
        let assigned_blue = rng.chance(0.8).then_some(blue);
        let platform = (!tech.platforms.is_empty()).then(|| rng.pick(&tech.platforms).clone());
        let severity = SEVERITIES[rng.weighted(&SEVERITY_WEIGHTS)];
        let mut tools: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(&TOOLS)).collect();
        tools.sort_unstable();
        tools.dedup();
        let variant = *rng.pick(&VARIANTS);
        let environment = *rng.pick(&ENVIRONMENTS);
        let id = self.test_ids.uuid();

        // Red results: filled once submitted, and by most technicians while executing.
        let red_filled = red_done || (executed && rng.chance(0.6));
        let detection = if blue_done || (state == TestState::BlueEvaluating && rng.chance(0.5)) {
            Some(rng.weighted(&tech.visibility))
        } else {
            None
        };
        let tool = *rng.pick(&TOOLS);
        let attacker_ip = format!("10.66.{}.{}", rng.below(255), 1 + rng.below(254));
        let target_ip = format!("10.20.{}.{}", rng.below(255), 1 + rng.below(254));
        let pause = executed && rng.chance(0.2);
        let paused_now = state == TestState::RedExecuting && !pause && rng.chance(0.1);
        let alert_fired = detection.map(|d| match d {
            0 => rng.chance(0.9),
            1 => rng.chance(0.5),
            _ => false,
        });
        let multiline = rng.chance(0.005);
        let alert_name = match alert_fired {
            Some(true) if multiline => {
                // Pasted from a SIEM, line break included: exports must quote it.
                Some(format!("{}\n(tuned)", rng.pick(&ALERTS)))
            }
            Some(true) => Some((*rng.pick(&ALERTS)).to_owned()),
            _ => None,
        };
        let time_to_detect = detection.filter(|d| *d < 2).map(|_| rng.wait(5, 4 * HOUR));
        let response = *rng.pick(&RESPONSES);
        let gap = detection.is_some_and(|d| d > 0);
        let remediated = state == TestState::Validated && gap && rng.chance(0.85);
        if remediated {
            time.remediation = Some(last);
        }
        let remediation_status = if remediated {
            REMEDIATION_STATUSES[rng.weighted(&[30, 35, 25, 10])]
        } else {
            RemediationStatus::NotStarted
        };
        let owner = remediated.then(|| {
            let pool = if rng.chance(0.5) {
                &staff.blue_leads
            } else {
                &staff.blue_techs
            };
            *rng.pick(pool)
        });
        let completed = if matches!(state, TestState::Validated | TestState::Rejected) {
            time.votes.last().copied()
        } else {
            None
        };
        let due = completed.map(|c| at(c, rng.between(14, 60) * DAY).date_naive());
        let step_count = if remediated && rng.chance(0.6) {
            1 + rng.below(3)
        } else {
            0
        };

        let red_window = time.started.zip(time.red_end);
        let blue_window = time.red_end.zip(time.blue_end).filter(|_| red_done);
        let title = format!("{}: {variant} #{}", tech.name, n + 1);
        let vote_of = |team: Team| {
            if reopened {
                return None;
            }
            votes
                .iter()
                .zip(&time.votes)
                .find(|((side, _), _)| *side == team)
                .map(|((_, vote), when)| (*vote, *when))
        };
        let red_vote = vote_of(Team::Red);
        let blue_vote = vote_of(Team::Blue);
        let vote_notes = |vote: Vote| {
            match vote {
            Vote::Approved => None,
            Vote::Rejected => Some("Evidence does not show the technique ran as planned; rerun with the full command line captured.".to_owned()),
        }
        };
        let paused_seconds = match (pause, red_window) {
            (true, Some((from, to))) => ((to - from).num_seconds() as f64 * 0.15) as i64,
            _ => 0,
        };
        let mut model = security_test::Model {
            id,
            title,
            description: format!(
                "Emulate {} ({}). Target: {environment}.\nScope agreed with the system owner; stop on any production impact.",
                tech.mitre_id, tech.name,
            ),
            technique_id: tech.mitre_id.clone(),
            objective: format!("Verify that {} is detected and alerted on", tech.name),
            target_environment: environment.to_owned(),
            severity,
            platform: platform.clone(),
            campaign_id: None,
            retest_of: None,
            template_id: None,
            procedure: format!(
                "1. Prepare the target host\n2. Run: {}\n3. Record the output and timestamps",
                command_for(platform.as_deref(), tech)
            ),
            expected_detection: "An EDR or SIEM alert within 15 minutes".to_owned(),
            suggested_tools: json!(tools),
            assigned_red_id: assigned_red.map(|i| staff.people[i].id),
            assigned_blue_id: assigned_blue.map(|i| staff.people[i].id),
            state,
            version: 1,
            created_by: staff.people[creator].id,
            tool_used: red_filled.then(|| tool.to_owned()),
            command_executed: red_filled.then(|| command_for(platform.as_deref(), tech)),
            output_observed: red_filled.then(|| "Completed, exit code 0".to_owned()),
            red_notes: red_filled.then(|| {
                format!("Ran with {tool} from {attacker_ip}.\nNo errors; artefacts left in place for the blue team.")
            }),
            attacker_ip: red_filled.then(|| attacker_ip.clone()),
            target_ip: red_filled.then(|| target_ip.clone()),
            start_time: red_window
                .filter(|_| red_filled)
                .map(|(from, to)| within(from, to, 0.1)),
            end_time: red_window
                .filter(|_| red_filled && red_done)
                .map(|(from, to)| within(from, to, 0.6)),
            detection_result: detection.map(|d| DETECTIONS[d]),
            detection_notes: detection.map(|d| match d {
                0 => "Alert raised and triaged by the SOC".to_owned(),
                1 => "Telemetry present, but no alert fired on its own".to_owned(),
                _ => "Nothing in the EDR or the SIEM for this activity".to_owned(),
            }),
            alert_fired,
            alert_name,
            response_action: detection.filter(|d| *d < 2).map(|_| response.to_owned()),
            time_to_detect_seconds: time_to_detect,
            blue_notes: detection.map(|_| "Checked EDR, SIEM and proxy logs for the window.".to_owned()),
            red_validation_status: red_vote.map(|(v, _)| v),
            red_validation_notes: red_vote.and_then(|(v, _)| vote_notes(v)),
            red_validated_by: red_vote.map(|_| staff.people[red_lead].id),
            red_validated_at: red_vote.map(|(_, when)| when),
            blue_validation_status: blue_vote.map(|(v, _)| v),
            blue_validation_notes: blue_vote.and_then(|(v, _)| vote_notes(v)),
            blue_validated_by: blue_vote.map(|_| staff.people[blue_lead].id),
            blue_validated_at: blue_vote.map(|(_, when)| when),
            timer_started_at: time.started,
            timer_paused_at: red_window
                .filter(|_| paused_now)
                .map(|(from, to)| within(from, to, 0.5)),
            timer_paused_seconds: paused_seconds,
            timer_stopped_at: time.red_end.filter(|_| red_done),
            remediation_status,
            remediation_notes: if remediated {
                "Detection gap confirmed; fix tracked with the detection engineering team."
                    .to_owned()
            } else {
                String::new()
            },
            remediation_owner: owner.map(|i| staff.people[i].id),
            remediation_due_date: due.filter(|_| remediated),
            red_submitted_at: time.red_end.filter(|_| red_done),
            blue_submitted_at: time.blue_end.filter(|_| blue_done),
            completed_at: if reopened { None } else { completed },
            created_at: created,
            updated_at: created,
        };

        // The history, in the order the services write it.
        let mut audit = std::mem::take(&mut rows.audit);
        let mut saves = Vec::new();
        self.history(
            &mut audit,
            created,
            creator,
            AuditRecord::new(AuditAction::TestCreate, TEST_ENTITY, id)
                .after(general_fields(&model)),
        );
        if let Some((from, to)) = red_window {
            self.transition(
                &mut audit,
                from,
                red,
                id,
                TestState::Draft,
                TestState::RedExecuting,
            );
            saves.push(from);
            if pause {
                let (paused, resumed) = (within(from, to, 0.3), within(from, to, 0.45));
                let elapsed = (paused - from).num_seconds();
                for (action, moment) in [
                    (AuditAction::TestTimerPause, paused),
                    (AuditAction::TestTimerResume, resumed),
                ] {
                    self.history(
                        &mut audit,
                        moment,
                        red,
                        AuditRecord::new(action, TEST_ENTITY, id)
                            .after(json!({ "elapsed_seconds": elapsed })),
                    );
                    saves.push(moment);
                }
            }
            if let Some(paused) = model.timer_paused_at {
                self.history(
                    &mut audit,
                    paused,
                    red,
                    AuditRecord::new(AuditAction::TestTimerPause, TEST_ENTITY, id)
                        .after(json!({ "elapsed_seconds": (paused - from).num_seconds() })),
                );
                saves.push(paused);
            }
            if red_filled {
                let moment = within(from, to, 0.8);
                let fields = [
                    ("tool_used", json!(model.tool_used)),
                    ("command_executed", json!(model.command_executed)),
                    ("output_observed", json!(model.output_observed)),
                    ("red_notes", json!(model.red_notes)),
                    ("attacker_ip", json!(model.attacker_ip)),
                    ("target_ip", json!(model.target_ip)),
                    ("start_time", json!(model.start_time)),
                    ("end_time", json!(model.end_time)),
                ];
                let changes: Vec<(&str, Value, Value)> = fields
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, Value::Null, v))
                    .collect();
                let (before, after) = edit(&changes);
                self.history(
                    &mut audit,
                    moment,
                    red,
                    AuditRecord::new(AuditAction::TestRedUpdate, TEST_ENTITY, id)
                        .before(before)
                        .after(after),
                );
                saves.push(moment);
            }
            // With the blue team's uploads below: evidence for about half the executed tests.
            if self.rng.chance(0.4) {
                let files = 1 + self.rng.below(3);
                self.upload(rows, &mut audit, id, Team::Red, red, (from, to), files);
            }
            if red_done {
                self.transition(
                    &mut audit,
                    to,
                    red,
                    id,
                    TestState::RedExecuting,
                    TestState::BlueEvaluating,
                );
                saves.push(to);
            }
        }
        if let Some((from, to)) = blue_window {
            if let Some(d) = detection {
                let moment = within(from, to, 0.7);
                let fields = [
                    ("detection_result", json!(DETECTIONS[d])),
                    ("detection_notes", json!(model.detection_notes)),
                    ("alert_fired", json!(model.alert_fired)),
                    ("alert_name", json!(model.alert_name)),
                    ("response_action", json!(model.response_action)),
                    (
                        "time_to_detect_seconds",
                        json!(model.time_to_detect_seconds),
                    ),
                    ("blue_notes", json!(model.blue_notes)),
                ];
                let changes: Vec<(&str, Value, Value)> = fields
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, Value::Null, v))
                    .collect();
                let (before, after) = edit(&changes);
                self.history(
                    &mut audit,
                    moment,
                    blue,
                    AuditRecord::new(AuditAction::TestBlueUpdate, TEST_ENTITY, id)
                        .before(before)
                        .after(after),
                );
                saves.push(moment);
            }
            if self.rng.chance(0.25) {
                let files = 1 + self.rng.below(2);
                self.upload(rows, &mut audit, id, Team::Blue, blue, (from, to), files);
            }
            if blue_done {
                self.transition(
                    &mut audit,
                    to,
                    blue,
                    id,
                    TestState::BlueEvaluating,
                    TestState::InReview,
                );
                saves.push(to);
            }
        }
        let mut outcome_red = None;
        let mut outcome_blue = None;
        let mut rejected_at = None;
        for ((team, vote), moment) in votes.iter().zip(time.votes.clone()) {
            let voter = match team {
                Team::Red => red_lead,
                Team::Blue => blue_lead,
            };
            self.history(
                &mut audit,
                moment,
                voter,
                AuditRecord::new(AuditAction::TestVote, TEST_ENTITY, id).after(json!({
                    "team": team.as_str(),
                    "status": vote.as_str(),
                    "notes": vote_notes(*vote).unwrap_or_default(),
                })),
            );
            saves.push(moment);
            match team {
                Team::Red => outcome_red = Some(*vote),
                Team::Blue => outcome_blue = Some(*vote),
            }
            let outcome = review_outcome(outcome_red, outcome_blue);
            if outcome != TestState::InReview {
                // The services stamp the transition just after the vote, in the same change.
                self.transition(
                    &mut audit,
                    moment + Span::milliseconds(1),
                    voter,
                    id,
                    TestState::InReview,
                    outcome,
                );
                if outcome == TestState::Rejected {
                    rejected_at = Some(moment);
                }
            }
        }
        if let Some(moment) = time.reopened {
            let lead = if self.rng.chance(0.5) {
                red_lead
            } else {
                blue_lead
            };
            self.transition(
                &mut audit,
                moment,
                lead,
                id,
                TestState::Rejected,
                TestState::Draft,
            );
            saves.push(moment);
        }
        let mut step_rows = Vec::new();
        if let (Some(moment), Some(owner)) = (time.remediation, owner) {
            let lead = blue_lead;
            if step_count > 0 {
                let mut after_steps = Vec::new();
                for position in 0..step_count {
                    let step_id = self.rng.uuid();
                    let title = REMEDIATION_STEPS[(position
                        + self.rng.below(REMEDIATION_STEPS.len()))
                        % REMEDIATION_STEPS.len()];
                    let status = match remediation_status {
                        RemediationStatus::Done => RemediationStatus::Done,
                        RemediationStatus::NotStarted => RemediationStatus::NotStarted,
                        _ => REMEDIATION_STATUSES[self.rng.below(3)],
                    };
                    let assignee = *self.rng.pick(&staff.blue_techs);
                    let assignee_id = staff.people[assignee].id;
                    after_steps.push(json!({"id": step_id, "title": title, "status": status, "assignee_id": assignee_id}));
                    step_rows.push(remediation_step::Model {
                        id: step_id,
                        test_id: id,
                        position: position as i32 + 1,
                        title: title.to_owned(),
                        notes: String::new(),
                        status,
                        assignee_id: Some(assignee_id),
                        due_date: model.remediation_due_date,
                        created_at: moment,
                        updated_at: moment,
                    });
                }
                self.history(
                    &mut audit,
                    moment,
                    lead,
                    AuditRecord::new(AuditAction::TestRemediationUpdate, TEST_ENTITY, id)
                        .before(json!({ "steps": [] }))
                        .after(json!({ "steps": after_steps, "changed": ["steps"] })),
                );
            }
            let changes: Vec<(&str, Value, Value)> = [
                (
                    "remediation_status",
                    json!("not_started"),
                    json!(remediation_status),
                ),
                (
                    "remediation_notes",
                    json!(""),
                    json!(model.remediation_notes),
                ),
                (
                    "remediation_owner",
                    Value::Null,
                    json!(staff.people[owner].id),
                ),
                (
                    "remediation_due_date",
                    Value::Null,
                    json!(model.remediation_due_date),
                ),
            ]
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .collect();
            let (before, after) = edit(&changes);
            self.history(
                &mut audit,
                moment,
                lead,
                AuditRecord::new(AuditAction::TestRemediationUpdate, TEST_ENTITY, id)
                    .before(before)
                    .after(after),
            );
            saves.push(moment);
        }
        rows.audit = audit;
        self.steps += step_rows.len();
        rows.steps.extend(
            step_rows
                .into_iter()
                .map(|s| s.into_active_model().reset_all()),
        );

        model.version = 1 + saves.len() as i32;
        model.updated_at = saves.iter().copied().max().unwrap_or(created);

        // Coverage over time: what this test said about its technique at each snapshot.
        let mut outcomes: Vec<(DateTime<Utc>, TestOutcome)> = vec![(created, TestOutcome::Active)];
        if let Some(rejected) = rejected_at {
            outcomes.push((rejected, TestOutcome::Rejected));
        }
        if let Some(reopened_at) = time.reopened {
            outcomes.push((reopened_at, TestOutcome::Active));
        }
        if state == TestState::Validated
            && let Some(done) = completed
        {
            let detection = match detection {
                Some(0) => DetectionResult::Detected,
                Some(1) => DetectionResult::Partial,
                _ => DetectionResult::NotDetected,
            };
            outcomes.push((done, TestOutcome::Validated(detection)));
        }
        for (s, taken) in self.snapshot_times.iter().enumerate() {
            let Some((_, outcome)) = outcomes.iter().rev().find(|(t, _)| t <= taken) else {
                continue;
            };
            let status = coverage_status([*outcome]);
            let slot = &mut self.snapshot_status[s][tech_index];
            *slot = (*slot).min(status);
        }

        self.lives.push(Life {
            id,
            created,
            draft_end: time.started.unwrap_or(self.now),
            execution: red_window,
            creator,
            red,
        });
        rows.tests.push(model.into_active_model().reset_all());
    }

    /// Evidence rows (metadata only, under keys shaped like the store's) with their
    /// `evidence.upload` entries, spread over the team's window.
    #[allow(clippy::too_many_arguments)]
    fn upload(
        &mut self,
        rows: &mut Rows,
        audit: &mut Vec<audit_log::ActiveModel>,
        test_id: Uuid,
        team: Team,
        uploader: usize,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        files: usize,
    ) {
        for i in 0..files {
            let (name, content_type) = *self.rng.pick(&EVIDENCE_FILES);
            let row = evidence::Model {
                id: self.rng.uuid(),
                test_id,
                team,
                filename: if i == 0 {
                    name.to_owned()
                } else {
                    format!("{}-{}", i + 1, name)
                },
                content_type: content_type.to_owned(),
                size_bytes: self.rng.wait(2_000, 50_000_000),
                sha256: self.rng.sha256_hex(),
                storage_key: format!("evidence/{test_id}/{}", self.rng.uuid()),
                description: String::new(),
                uploaded_by: self.staff.people[uploader].id,
                uploaded_at: within(from, to, 0.05 + 0.9 * self.rng.unit()),
            };
            self.history(
                audit,
                row.uploaded_at,
                uploader,
                AuditRecord::new(AuditAction::EvidenceUpload, TEST_ENTITY, test_id).after(json!({
                    "evidence_id": row.id,
                    "team": row.team,
                    "filename": row.filename,
                    "size_bytes": row.size_bytes,
                    "sha256": row.sha256,
                })),
            );
            self.evidence += 1;
            rows.evidence.push(row.into_active_model().reset_all());
        }
    }

    /// Everyday activity: sign-ins, and edits of tests in the phase that allows them.
    fn filler(&mut self, out: &mut Vec<audit_log::ActiveModel>) {
        let kind = self.rng.below(100);
        if kind < 45 || self.lives.is_empty() {
            let person = self.rng.below(self.staff.people.len());
            let moment = at(self.now, -self.rng.between(MINUTE, self.span));
            let latest = self.last_login.entry(person).or_insert(moment);
            *latest = (*latest).max(moment);
            let jti = self.rng.uuid().simple().to_string();
            self.record(
                out,
                moment,
                Some(person),
                AuditRecord::new(AuditAction::AuthLogin, "session", jti),
            );
            return;
        }
        let life = &self.lives[self.rng.below(self.lives.len())];
        let (id, creator, red) = (life.id, life.creator, life.red);
        let (created, draft_end, execution) = (life.created, life.draft_end, life.execution);
        match execution {
            Some((from, to)) if kind >= 80 => {
                let moment = within(from, to, self.rng.unit());
                let (field, old, new) = match self.rng.below(3) {
                    0 => (
                        "red_notes",
                        Value::Null,
                        json!("Second run after the first was interrupted."),
                    ),
                    1 => (
                        "output_observed",
                        json!("Completed"),
                        json!("Completed, exit code 0"),
                    ),
                    _ => {
                        let (old, new) = self.rng.change(&TOOLS);
                        ("tool_used", json!(old), json!(new))
                    }
                };
                let (before, after) = edit(&[(field, old, new)]);
                self.record(
                    out,
                    moment,
                    Some(red),
                    AuditRecord::new(AuditAction::TestRedUpdate, TEST_ENTITY, id)
                        .before(before)
                        .after(after),
                );
            }
            _ => {
                let moment = within(created, draft_end, self.rng.unit());
                let (field, old, new) = match self.rng.below(3) {
                    0 => (
                        "objective",
                        json!("Check detection"),
                        json!("Check detection and the alert's routing to the SOC"),
                    ),
                    1 => {
                        let (old, new) = self.rng.change(&SEVERITIES);
                        ("severity", json!(old), json!(new))
                    }
                    _ => {
                        let (old, new) = self.rng.change(&ENVIRONMENTS);
                        ("target_environment", json!(old), json!(new))
                    }
                };
                let (before, after) = edit(&[(field, old, new)]);
                self.record(
                    out,
                    moment,
                    Some(creator),
                    AuditRecord::new(AuditAction::TestUpdate, TEST_ENTITY, id)
                        .before(before)
                        .after(after),
                );
            }
        }
    }
}

enum Batch {
    Users(Vec<user::ActiveModel>),
    Tests(Rows),
    Audit(Vec<audit_log::ActiveModel>),
}

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
struct Writer {
    db: DatabaseConnection,
    running: JoinSet<Result<Written, DbErr>>,
    in_flight: usize,
    written: Written,
    progress: Option<Progress>,
}

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
    async fn submit(&mut self, batch: Batch) -> anyhow::Result<()> {
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

    async fn finish(&mut self) -> anyhow::Result<()> {
        while !self.running.is_empty() {
            self.join_one().await?;
        }
        Ok(())
    }
}

async fn load_techniques(db: &DatabaseConnection, rng: &mut Rng) -> anyhow::Result<Vec<Tech>> {
    let any = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .into_tuple::<String>()
        .one(db)
        .await?;
    if any.is_none() {
        bail!(
            "the techniques table is empty: import ATT&CK first (`aegis import-attack FILE` or \
             the System panel), then seed"
        );
    }
    let rows: Vec<(String, String, Value)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Name)
        .column(technique::Column::Platforms)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .order_by_asc(technique::Column::MitreId)
        .into_tuple()
        .all(db)
        .await?;
    if rows.is_empty() {
        bail!("every technique is deprecated or revoked: import a current ATT&CK release first");
    }
    Ok(rows
        .into_iter()
        .map(|(mitre_id, name, platforms)| {
            let platforms = platforms
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                // As the test form stores them.
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect();
            let visibility = [WELL_SEEN, POORLY_SEEN, UNSEEN][rng.weighted(&[45, 30, 25])];
            Tech {
                mitre_id,
                name,
                platforms,
                visibility,
            }
        })
        .collect())
}

/// The seeded team: existing `seed-…` users are reused, missing ones created with the shared
/// password (hashed once: Argon2 per user would cost seconds).
async fn ensure_staff(
    db: &DatabaseConnection,
    options: &SeedOptions,
    rng: &mut Rng,
    created_at: DateTime<Utc>,
) -> anyhow::Result<(Staff, Vec<user::Model>, usize)> {
    let existing: HashMap<String, user::Model> = user::Entity::find()
        .filter(user::Column::Username.starts_with(USERNAME_PREFIX))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect();
    let password = options.password.clone();
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .context("hashing the seed password")?
        .map_err(|e| anyhow::anyhow!("hashing the seed password: {}", e.detail()))?;
    let mut staff = Staff::default();
    let mut created = Vec::new();
    let mut reused = 0;
    let mut k = 0;
    for (role, stem, count) in TEAM {
        for i in 1..=count {
            k += 1;
            let username = format!("{USERNAME_PREFIX}{stem}-{i}");
            let id = rng.uuid();
            let person = |id| Person {
                id,
                username: username.clone(),
                ip: format!("10.10.{}.{}", k / 250, 1 + k % 250),
            };
            if let Some(found) = existing.get(&username) {
                reused += 1;
                let role = found.role.parse().unwrap_or(role);
                staff.add(role, person(found.id));
                continue;
            }
            let display_name = format!(
                "{} {}",
                FIRST_NAMES[(k * 7) % FIRST_NAMES.len()],
                LAST_NAMES[(k * 13) % LAST_NAMES.len()]
            );
            created.push(user::Model {
                id,
                username: username.clone(),
                display_name,
                email: Some(format!("{username}@example.com")),
                role: role.as_str().to_owned(),
                is_active: true,
                password_hash: hash.clone(),
                password_changed_at: created_at,
                last_login_at: None,
                created_at,
                updated_at: created_at,
            });
            staff.add(role, person(id));
        }
    }
    for (list, role) in [
        (&staff.red_techs, Role::RedTech),
        (&staff.blue_techs, Role::BlueTech),
        (&staff.red_leads, Role::RedLead),
        (&staff.blue_leads, Role::BlueLead),
    ] {
        if list.is_empty() {
            bail!(
                "no seeded {} left: a `{USERNAME_PREFIX}…` user changed role; rename it or pick another database",
                role.as_str()
            );
        }
    }
    Ok((staff, created, reused))
}

/// Every technique's coverage from all its tests (seeded or not), with the one domain rule;
/// only changed statuses are written, one statement per status and chunk.
async fn recompute_coverage(
    db: &DatabaseConnection,
) -> anyhow::Result<(usize, HashMap<String, CoverageStatus>)> {
    let tests: Vec<(String, TestState, Option<DetectionResult>)> = security_test::Entity::find()
        .select_only()
        .column(security_test::Column::TechniqueId)
        .column(security_test::Column::State)
        .column(security_test::Column::DetectionResult)
        .into_tuple()
        .all(db)
        .await?;
    let mut status: HashMap<String, CoverageStatus> = HashMap::new();
    for (mitre_id, state, detection) in tests {
        let outcome = TestOutcome::of(state, detection);
        let this = coverage_status([outcome]);
        status
            .entry(mitre_id)
            .and_modify(|s| *s = (*s).min(this))
            .or_insert(this);
    }
    let stored: Vec<(String, CoverageStatus)> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::CoverageStatus)
        .into_tuple()
        .all(db)
        .await?;
    let mut changes: HashMap<CoverageStatus, Vec<String>> = HashMap::new();
    for (mitre_id, current) in stored {
        let wanted = status
            .get(&mitre_id)
            .copied()
            .unwrap_or(CoverageStatus::NotCovered);
        if wanted != current {
            changes.entry(wanted).or_default().push(mitre_id);
        }
    }
    let mut updated = 0;
    for (wanted, ids) in changes {
        for chunk in ids.chunks(500) {
            technique::Entity::update_many()
                .col_expr(
                    technique::Column::CoverageStatus,
                    Expr::value(wanted.as_str()),
                )
                .filter(technique::Column::MitreId.is_in(chunk.to_vec()))
                .exec(db)
                .await?;
            updated += chunk.len();
        }
    }
    Ok((updated, status))
}

/// Weekly snapshots over the seeded period, as the snapshot job would have taken them.
async fn write_snapshots(
    db: &DatabaseConnection,
    rng: &mut Rng,
    techs: &[Tech],
    times: &[DateTime<Utc>],
    statuses: &[Vec<CoverageStatus>],
) -> anyhow::Result<usize> {
    if times.is_empty() {
        return Ok(0);
    }
    let tactics = tactic::Entity::find()
        .order_by_asc(tactic::Column::MatrixOrder)
        .all(db)
        .await?;
    let tactics_of: HashMap<String, Vec<String>> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .column(technique::Column::Tactics)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .into_tuple::<(String, Value)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, tactics)| {
            let names = tactics
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
            (id, names)
        })
        .collect();
    #[derive(Default, Clone, Copy)]
    struct Counts([i32; 4]);
    impl Counts {
        fn add(&mut self, status: CoverageStatus) {
            let i = CoverageStatus::ALL
                .iter()
                .position(|s| *s == status)
                .unwrap_or(3);
            self.0[i] += 1;
        }
        fn total(&self) -> i32 {
            self.0.iter().sum()
        }
        fn percent(&self) -> f64 {
            let total = self.total();
            if total == 0 {
                0.0
            } else {
                (f64::from(self.0[0]) * 1000.0 / f64::from(total)).round() / 10.0
            }
        }
    }
    let mut rows = Vec::with_capacity(times.len());
    for (taken_at, per_tech) in times.iter().zip(statuses) {
        let mut overall = Counts::default();
        let mut per_tactic: HashMap<&str, Counts> = HashMap::new();
        for (tech, status) in techs.iter().zip(per_tech) {
            overall.add(*status);
            for name in tactics_of.get(&tech.mitre_id).into_iter().flatten() {
                per_tactic.entry(name.as_str()).or_default().add(*status);
            }
        }
        // The shape `snapshots::take` writes.
        let by_tactic: Vec<Value> = tactics
            .iter()
            .map(|t| {
                let c = per_tactic
                    .get(t.shortname.as_str())
                    .copied()
                    .unwrap_or_default();
                json!({
                    "tactic": t.shortname,
                    "name": t.name,
                    "total": c.total(),
                    "validated": c.0[0],
                    "partial": c.0[1],
                    "in_progress": c.0[2],
                    "not_covered": c.0[3],
                    "coverage_percent": c.percent(),
                })
            })
            .collect();
        rows.push(
            coverage_snapshot::Model {
                id: rng.uuid(),
                taken_at: *taken_at,
                total: overall.total(),
                validated: overall.0[0],
                partial: overall.0[1],
                in_progress: overall.0[2],
                not_covered: overall.0[3],
                coverage_percent: overall.percent(),
                by_tactic: json!(by_tactic),
            }
            .into_active_model()
            .reset_all(),
        );
    }
    let count = rows.len();
    coverage_snapshot::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(count)
}

/// Refreshes the planner's statistics (and on PostgreSQL the visibility map, for index-only
/// scans), as autovacuum would some minutes later.
async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "VACUUM (ANALYZE) tests, evidence, remediation_steps, audit_logs, activity_counts, \
             techniques, users, coverage_snapshots"
        }
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
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
    let techs = load_techniques(db, &mut rng).await?;

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
    let (staff, new_users, users_reused) = ensure_staff(db, options, &mut rng, staff_since).await?;

    // Which techniques get tests: a shuffled order, the first few only just started, the
    // next two thirds or so tested with a Zipf skew, the rest never.
    let mut order: Vec<usize> = (0..techs.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let fresh_count = if techs.len() >= 20 {
        techs.len() * 8 / 100
    } else {
        0
    };
    let tested_count = (techs.len() * 62 / 100).max(1);
    let fresh: Vec<usize> = order[..fresh_count].to_vec();
    let picked: Vec<usize> =
        order[fresh_count..(fresh_count + tested_count).min(order.len())].to_vec();
    let picked = if picked.is_empty() { order } else { picked };
    let fresh_quota = if fresh.is_empty() {
        0
    } else {
        (fresh.len() * 3).min(options.tests / 50)
    };
    let weeks = (span / (7 * DAY)).min(MAX_SNAPSHOTS);
    let snapshot_times: Vec<DateTime<Utc>> =
        (1..=weeks).rev().map(|w| at(now, -w * 7 * DAY)).collect();

    let mut generator = Generator {
        rng,
        test_ids,
        now,
        span,
        techs: &techs,
        staff: &staff,
        picker: Picker::new(picked),
        fresh,
        fresh_quota,
        snapshot_status: vec![vec![CoverageStatus::NotCovered; techs.len()]; snapshot_times.len()],
        snapshot_times,
        lives: Vec::with_capacity(options.tests),
        tested: vec![false; techs.len()],
        by_state: [0; 6],
        evidence: 0,
        steps: 0,
        history_rows: 0,
        last_login: HashMap::new(),
        activity: ActivityTally::default(),
    };

    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let mut writer = Writer {
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
    };

    let users_created = new_users.len();
    if !new_users.is_empty() {
        let mut audit = Vec::new();
        for model in &new_users {
            let dto = users::to_dto(model).map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
            generator.history_rows += 1;
            generator.record(
                &mut audit,
                model.created_at,
                None,
                AuditRecord::new(AuditAction::UserCreate, users::ENTITY, model.id).after(&dto),
            );
        }
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
    // Once, after the batches: written alongside them, concurrent batches would lock the
    // same day's counters in different orders.
    let txn = begin_write(db).await?;
    std::mem::take(&mut generator.activity)
        .save(&txn)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
    txn.commit().await?;

    for (person, last) in &generator.last_login {
        user::Entity::update_many()
            .col_expr(user::Column::LastLoginAt, Expr::value(*last))
            .filter(user::Column::Id.eq(staff.people[*person].id))
            .filter(user::Column::Username.starts_with(USERNAME_PREFIX))
            .exec(db)
            .await?;
    }

    let (coverage_updated, status) = recompute_coverage(db).await?;
    let snapshots = write_snapshots(
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
    analyze(db).await?;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let x = a.below(10);
            assert!(x < 10);
            b.below(10);
            let w = a.wait(60, 3600);
            b.wait(60, 3600);
            assert!((59..=3600).contains(&w));
        }
        assert_eq!(Rng(1).uuid(), Rng(1).uuid());
        assert_eq!(Rng(1).uuid().get_version_num(), 4);
    }

    #[test]
    fn weights_are_respected() {
        let mut rng = Rng(3);
        let mut counts = [0; 3];
        for _ in 0..10_000 {
            counts[rng.weighted(&[0, 25, 75])] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[2] > counts[1] * 2);
    }

    #[test]
    fn edits_look_like_audit_edit() {
        let (before, after) = edit(&[("severity", json!("low"), json!("high"))]);
        assert_eq!(before, json!({"severity": "low"}));
        assert_eq!(after, json!({"severity": "high", "changed": ["severity"]}));
    }
}
