//! The ATT&CK knowledge base: reading techniques, tactics and actors, custom techniques and
//! technique sets, ATT&CK's mitigations, D3FEND's countermeasures. Imports into it are in `importers::attack`.
pub mod countermeasures;
pub mod custom_techniques;
pub mod data_components;
pub mod mitigations;
pub mod reads;
pub mod technique_sets;
