//! The test template catalog on the wire.
use serde::{Deserialize, Serialize};

/// A file an import left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What an Atomic Red Team import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AtomicImportReport {
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SkippedFile>,
    /// Technique ids of imported atomics that the knowledge base does not know (yet).
    pub unknown_techniques: Vec<String>,
}
