//! ATT&CK data: reading STIX bundles and bringing them into the database.
pub mod import;
pub mod stix;
