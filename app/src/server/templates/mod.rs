//! The test template catalog's sources. Parsing only, for now: the catalog's storage, import
//! job and API build on it.
pub mod atomics;
