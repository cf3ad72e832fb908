//! Atomic Red Team: the atomics YAML parser and the catalog importer (sources are read by
//! `importers::files`).
pub mod import;
pub mod parse;
