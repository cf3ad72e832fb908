//! The red/blue test workflow. Every change runs in one write transaction that locks the
//! test's row, checks the rules of `domain::workflow`, writes the audit entry the timeline
//! reads (`domain::audit::TestEvent`), recomputes coverage when the outcome may have changed,
//! and notifies whoever must act next (`domain::notices`).
//!
//! - `reads`: the list with its counters, a test's detail, timeline and retest chain
//! - `create`, `edit`, `remediation`, `transition`: the commands
//! - `rows`: the row builders (also used by the demo seeder and the benchmarks), lock and save
//! - `snapshots`: the audited fields of each section; `checks`: input checks that need the
//!   database; `notify`: sends `domain::notices`; `coverage`: the coverage recompute
//! - `evidence`, `evidence_store`: evidence files and where they are kept
//! - `tallies`: the per-state test counters every change keeps (`domain::tallies`)
//! - `worklog`: who worked on a test, when and for how long
pub mod checks;
pub mod coverage;
pub mod create;
pub mod edit;
pub mod events;
pub mod evidence;
pub mod evidence_store;
pub mod fired_rules;
pub mod notify;
pub mod reads;
pub mod remediation;
pub mod rows;
pub mod snapshots;
pub mod tallies;
pub mod transition;
pub mod worklog;

pub use coverage::recompute_coverage;
pub use create::{create, create_from_template};
pub use edit::{update_blue, update_general, update_red};
pub use remediation::update_remediation;
pub use transition::{timer, transition, vote};
