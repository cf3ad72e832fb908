//! Atomic Red Team: the atomics YAML parser and the catalog import.
pub mod import;
pub mod parse;
