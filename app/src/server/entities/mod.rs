//! SeaORM entities: data only. Rules live in the services.
pub mod actor_technique;
pub mod audit_log;
pub mod coverage_snapshot;
pub mod evidence;
pub mod job_run;
pub mod notification;
pub mod remediation_step;
pub mod revoked_token;
pub mod security_test;
pub mod sync_run;
pub mod tactic;
pub mod technique;
pub mod technique_set;
pub mod technique_set_item;
pub mod test_template;
pub mod threat_actor;
pub mod user;
