//! The ATT&CK knowledge base: the matrix, a technique, threat actors.
pub mod actors;
pub mod data_sources;
pub mod matrix;
pub mod technique;
