//! MITRE ATT&CK: the STIX bundle parser, the knowledge-base import and the procedure examples
//! it turns into catalog templates.
pub mod import;
pub mod procedures;
mod related;
pub mod stix;
