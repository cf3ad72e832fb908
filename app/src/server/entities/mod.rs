//! SeaORM entities: data only. Rules live in the services.
pub mod audit_log;
pub mod revoked_token;
pub mod user;
