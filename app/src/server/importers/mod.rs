//! The one import pipeline, and one folder per source.
//!
//! Every import runs the same way:
//!
//! ```text
//! source ──read──▶ Input ──Importer::parse──▶ parsed ──Importer::upsert──▶ typed report
//! (configured URL,  (bytes, or   (pure, on the          (one transaction: idempotent
//!  uploaded file     files)        blocking pool;         by upstream id, with its one
//!  or folder,                      bad input is a         audit entry)
//!  CLI path)                       clear error)
//! ```
//!
//! [`run`] is that path. It is called by a background job (`jobs::runs` records the run, its
//! progress and its result, the System panel shows them), by the CLI (which draws the same
//! [`Progress`] as a bar) and by the synchronous ATT&CK upload. Sources that need the network
//! (TAXII, archive downloads) live in the server crate and only produce an [`Input`];
//! uploads wait in [`uploads::UploadDir`] until their job reads them.
//!
//! # How to add an importer
//! 1. A folder `importers/<source>/` with the parser of the source's format (pure functions
//!    over text, with unit tests on small fixtures) and the upsert.
//! 2. A type implementing [`Importer`]: `parse` turns an [`Input`] into the parsed data,
//!    `upsert` writes it in one transaction (keyed by the upstream id, keeping local edits)
//!    with one audit entry, reporting [`Progress`] and returning a report that implements
//!    [`ImportReport`] (added, updated, unchanged, skipped with reasons).
//! 3. A `JobName` for it, one arm in the server's job dispatch that reads the source into an
//!    [`Input`] and calls [`run`], and, if wanted, a CLI subcommand that does the same.
//!
//! Nothing else: progress, history, retries, the upload limits and the CLI bar come with it.
pub mod atomics;
pub mod attack;
pub mod caldera;
pub mod compliance;
pub mod d3fend;
pub mod feeds;
pub mod files;
pub mod gtfobins;
pub mod lolbas;
pub mod rules;
pub mod templates;
pub mod uploads;
pub mod yaml;

use crate::dto::catalog::SkippedFile;
use crate::error::{AppError, AppResult};
use crate::server::platform::context::Actor;
use sea_orm::DatabaseConnection;
use std::future::Future;

/// The SHA-256 of an upstream record's fields, as stored: a re-import compares it to tell
/// what changed upstream.
pub fn content_hash(fields: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(fields.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bounds on what an archive may unpack to, checked on the bytes actually inflated (an entry's
/// declared size is the archive's own claim, which a zip bomb lies about).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// One file, inflated.
    pub per_file: u64,
    /// All files read from the archive together, inflated.
    pub total: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            per_file: 8 * 1024 * 1024,
            total: 256 * 1024 * 1024,
        }
    }
}

impl ArchiveLimits {
    /// Reads one archive entry as text within the limits; `read` is what was read before.
    pub fn read_entry(
        &self,
        name: &str,
        entry: impl std::io::Read,
        read: &mut u64,
    ) -> AppResult<String> {
        use std::io::Read;
        let mut bytes = Vec::new();
        entry
            .take(self.per_file + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::BadRequest(format!("broken zip archive at {name}: {e}")))?;
        if bytes.len() as u64 > self.per_file {
            return Err(AppError::BadRequest(format!(
                "{name} unpacks to more than {} bytes; the archive is refused",
                self.per_file
            )));
        }
        *read += bytes.len() as u64;
        if *read > self.total {
            return Err(AppError::BadRequest(format!(
                "The archive unpacks to more than {} bytes; it is refused",
                self.total
            )));
        }
        String::from_utf8(bytes)
            .map_err(|_| AppError::BadRequest(format!("{name} is not UTF-8 text")))
    }
}

/// Who started an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Admin,
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Admin => "admin",
            Trigger::Cli => "cli",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "schedule" => Trigger::Schedule,
            "cli" => Trigger::Cli,
            _ => Trigger::Admin,
        }
    }
}

/// Where an import has got to: `done` of `total` units of `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

/// The last stage every import reports.
pub const DONE: &str = "Done";

/// Receives progress; called often, so it must be cheap (store or draw, never await).
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// For callers that do not show progress.
pub fn no_progress(_: Progress) {}

/// Reports `done` of `total` in `stage`.
pub fn report(progress: ProgressFn<'_>, stage: &'static str, done: usize, total: usize) {
    progress(Progress {
        stage,
        done: done as u64,
        total: total as u64,
    });
}

/// One text file of a source (a rule, an atomic, an ability), by its path in the source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// What a source was read into.
#[derive(Debug, Clone)]
pub enum Input {
    /// One document (a STIX bundle, a feed).
    Bytes(Vec<u8>),
    /// The relevant files of a folder or archive.
    Files(Vec<SourceFile>),
}

impl Input {
    pub fn into_bytes(self) -> AppResult<Vec<u8>> {
        match self {
            Input::Bytes(bytes) => Ok(bytes),
            Input::Files(_) => Err(AppError::BadRequest(
                "This import takes one file, not a folder".into(),
            )),
        }
    }

    pub fn into_files(self) -> AppResult<Vec<SourceFile>> {
        match self {
            Input::Files(files) => Ok(files),
            Input::Bytes(_) => Err(AppError::BadRequest(
                "This import takes a folder or an archive of files".into(),
            )),
        }
    }
}

/// What every import's report says, whatever else it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SkippedFile>,
}

pub trait ImportReport {
    fn counts(&self) -> Counts;
    /// The report for a terminal, line by line.
    fn lines(&self) -> Vec<String>;
}

/// A source's parser and upsert. See the module documentation.
pub trait Importer: 'static {
    type Parsed: Send + 'static;
    type Report: ImportReport + serde::Serialize + Send;

    /// Turns the source's input into what `upsert` writes. Runs on the blocking pool; a
    /// malformed input is an error that says what is wrong (and where), never a panic.
    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<Self::Parsed>;

    /// Writes the parsed data in one transaction with its audit entry; idempotent.
    fn upsert<'a>(
        db: &'a DatabaseConnection,
        actor: &'a Actor,
        parsed: Self::Parsed,
        source: &'a str,
        progress: ProgressFn<'a>,
    ) -> impl Future<Output = AppResult<Self::Report>> + Send + 'a;
}

/// Parses `input` (on the blocking pool) and upserts it. `source` names where it came from
/// (`file:…`, `upload:…`, `archive:…`, a TAXII URL) in the history and the audit entry.
pub async fn run<I: Importer>(
    db: &DatabaseConnection,
    actor: &Actor,
    input: Input,
    source: &str,
    progress: ProgressFn<'_>,
) -> AppResult<I::Report> {
    // The blocking task cannot borrow the caller's progress; it reports through a channel
    // that is drained here.
    let (sender, receiver) = std::sync::mpsc::channel::<Progress>();
    let parsing = tokio::task::spawn_blocking(move || {
        let forward = move |p: Progress| {
            let _ = sender.send(p);
        };
        I::parse(input, &forward)
    });
    let parsed = {
        let mut parsing = std::pin::pin!(parsing);
        loop {
            tokio::select! {
                done = &mut parsing => {
                    while let Ok(p) = receiver.try_recv() {
                        progress(p);
                    }
                    break done.map_err(|e| AppError::internal(format!("parser task: {e}")))??;
                }
                () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                    while let Ok(p) = receiver.try_recv() {
                        progress(p);
                    }
                }
            }
        }
    };
    let report = I::upsert(db, actor, parsed, source, progress).await?;
    report_done(progress);
    Ok(report)
}

fn report_done(progress: ProgressFn<'_>) {
    progress(Progress {
        stage: DONE,
        done: 1,
        total: 1,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_entries_are_read_within_their_limits() {
        let limits = ArchiveLimits {
            per_file: 10,
            total: 15,
        };
        let mut read = 0;
        assert_eq!(
            limits
                .read_entry("a", &b"0123456789"[..], &mut read)
                .unwrap(),
            "0123456789"
        );
        let err = limits
            .read_entry("big", std::io::repeat(b'x'), &mut read)
            .unwrap_err();
        assert!(err.detail().contains("big unpacks to more than 10 bytes"));
        let err = limits
            .read_entry("b", &b"123456"[..], &mut read)
            .unwrap_err();
        assert!(err.detail().contains("archive unpacks to more than 15"));
        let mut read = 0;
        assert!(
            limits
                .read_entry("c", &[0xff, 0xfe][..], &mut read)
                .is_err()
        );
    }
}
