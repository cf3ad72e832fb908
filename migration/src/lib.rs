//! The schema. One migration per change; a landed migration is never edited.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_users_audit_tokens;
mod m20261122_000002_attack_knowledge_base;
mod m20261123_000003_jobs_notifications_snapshots;
mod m20261124_000004_test_templates;
mod m20261125_000005_tests_evidence;
mod m20261125_000006_job_params;
mod m20261125_000007_template_search_text;
mod m20261125_000008_technique_sets_metrics;
mod m20261125_000009_activity_counts;
mod m20261201_000010_read_paths;
mod m20261201_000011_template_sources;
mod m20261201_000012_gtfobins_overrides;
mod m20261201_000013_threat_intel;
mod m20261201_000014_mitigations;
mod m20261201_000015_detection_rules;
mod m20261201_000016_fired_rules;
mod m20261201_000017_d3fend;
mod m20261201_000018_worklog;
mod m20261202_000019_campaigns;
mod m20261202_000020_webhooks;
mod m20261202_000021_scoring_compliance;
mod m20261202_000022_replicas;
mod m20261203_000023_run_heartbeat;
mod m20261203_000024_api_tokens;
mod m20261203_000025_single_sign_on;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users_audit_tokens::Migration),
            Box::new(m20261122_000002_attack_knowledge_base::Migration),
            Box::new(m20261123_000003_jobs_notifications_snapshots::Migration),
            Box::new(m20261124_000004_test_templates::Migration),
            Box::new(m20261125_000005_tests_evidence::Migration),
            Box::new(m20261125_000006_job_params::Migration),
            Box::new(m20261125_000007_template_search_text::Migration),
            Box::new(m20261125_000008_technique_sets_metrics::Migration),
            Box::new(m20261125_000009_activity_counts::Migration),
            Box::new(m20261201_000010_read_paths::Migration),
            Box::new(m20261201_000011_template_sources::Migration),
            Box::new(m20261201_000012_gtfobins_overrides::Migration),
            Box::new(m20261201_000013_threat_intel::Migration),
            Box::new(m20261201_000014_mitigations::Migration),
            Box::new(m20261201_000015_detection_rules::Migration),
            Box::new(m20261201_000016_fired_rules::Migration),
            Box::new(m20261201_000017_d3fend::Migration),
            Box::new(m20261201_000018_worklog::Migration),
            Box::new(m20261202_000019_campaigns::Migration),
            Box::new(m20261202_000020_webhooks::Migration),
            Box::new(m20261202_000021_scoring_compliance::Migration),
            Box::new(m20261202_000022_replicas::Migration),
            Box::new(m20261203_000023_run_heartbeat::Migration),
            Box::new(m20261203_000024_api_tokens::Migration),
            Box::new(m20261203_000025_single_sign_on::Migration),
        ]
    }
}
