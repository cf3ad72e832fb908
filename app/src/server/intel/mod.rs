//! Threat-intel monitoring: the feeds admins subscribe to (`feeds`), the items scans find in
//! them and their triage (`items`), the knowledge base as a matcher (`matcher`), and the scan
//! that fetches every active feed and tells leads what matters (`scan`). Fetching is the
//! server crate's (`jobs::feed_source`); parsing and storing one document is the import
//! pipeline's (`importers::feeds`).
pub mod feeds;
pub mod items;
pub mod matcher;
pub mod scan;
