//! The ATT&CK knowledge base: the matrix, a technique, threat actors.
pub mod actors;
pub mod matrix;
pub mod technique;
