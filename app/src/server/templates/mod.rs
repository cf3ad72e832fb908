//! The test template catalog's sources: the Atomic Red Team parser and its importer.
pub mod atomics;
pub mod import;
