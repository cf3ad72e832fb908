//! Atomic Red Team: the atomics YAML parser, where atomics come from (directories, archives,
//! uploads), and the catalog importer.
pub mod import;
pub mod parse;
pub mod source;
