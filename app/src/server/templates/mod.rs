//! The test template catalog's sources: the Atomic Red Team parser and its importer, and
//! ATT&CK's procedure examples.
pub mod atomics;
pub mod import;
pub mod procedures;
