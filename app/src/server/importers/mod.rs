//! Importers, one folder per source.
pub mod atomics;
pub mod attack;
