//! The test template catalog: listing, stats, custom templates and edits. Imports into it are
//! in `importers`.
pub mod gtfobins;
pub mod templates;
