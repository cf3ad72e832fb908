//! Background jobs as the System panel and `/api/v1/system` show them.
use crate::domain::sources::CatalogImport;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobName {
    MitreSync,
    NotificationCleanup,
    WeeklySnapshot,
    AtomicsImport,
    CalderaImport,
    LolbasImport,
    GtfobinsImport,
    IntelScan,
    SigmaImport,
    ElasticRulesImport,
    D3fendImport,
    RecurringCampaigns,
    ScoringRecompute,
    ComplianceImport,
}

impl JobName {
    pub const ALL: [JobName; 14] = [
        JobName::MitreSync,
        JobName::NotificationCleanup,
        JobName::WeeklySnapshot,
        JobName::AtomicsImport,
        JobName::CalderaImport,
        JobName::LolbasImport,
        JobName::GtfobinsImport,
        JobName::IntelScan,
        JobName::SigmaImport,
        JobName::ElasticRulesImport,
        JobName::D3fendImport,
        JobName::RecurringCampaigns,
        JobName::ScoringRecompute,
        JobName::ComplianceImport,
    ];

    /// The job that imports a catalog source.
    pub fn importing(source: CatalogImport) -> Self {
        match source {
            CatalogImport::AtomicRedTeam => JobName::AtomicsImport,
            CatalogImport::Caldera => JobName::CalderaImport,
            CatalogImport::Lolbas => JobName::LolbasImport,
            CatalogImport::Gtfobins => JobName::GtfobinsImport,
            CatalogImport::Sigma => JobName::SigmaImport,
            CatalogImport::ElasticRules => JobName::ElasticRulesImport,
        }
    }

    /// The catalog source the job imports, if it is an import (they run on demand).
    pub fn imports(self) -> Option<CatalogImport> {
        CatalogImport::ALL
            .into_iter()
            .find(|source| JobName::importing(*source) == self)
    }

    /// Imports run when asked, never on a schedule.
    pub fn on_demand(self) -> bool {
        self.imports().is_some()
            || matches!(self, JobName::D3fendImport | JobName::ComplianceImport)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobName::MitreSync => "mitre_sync",
            JobName::NotificationCleanup => "notification_cleanup",
            JobName::WeeklySnapshot => "weekly_snapshot",
            JobName::AtomicsImport => "atomics_import",
            JobName::CalderaImport => "caldera_import",
            JobName::LolbasImport => "lolbas_import",
            JobName::GtfobinsImport => "gtfobins_import",
            JobName::IntelScan => "intel_scan",
            JobName::SigmaImport => "sigma_import",
            JobName::ElasticRulesImport => "elastic_rules_import",
            JobName::D3fendImport => "d3fend_import",
            JobName::RecurringCampaigns => "recurring_campaigns",
            JobName::ScoringRecompute => "scoring_recompute",
            JobName::ComplianceImport => "compliance_import",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            JobName::MitreSync => "Sync ATT&CK from MITRE (TAXII, falling back to GitHub)",
            JobName::NotificationCleanup => "Delete read notifications older than 90 days",
            JobName::WeeklySnapshot => "Record coverage per tactic and overall (keeps 52)",
            JobName::AtomicsImport => {
                "Import Atomic Red Team into the test catalog (GitHub archive or an uploaded zip)"
            }
            JobName::CalderaImport => {
                "Import MITRE CALDERA abilities and adversary profiles into the test catalog"
            }
            JobName::LolbasImport => {
                "Import LOLBAS (Windows living-off-the-land binaries) into the test catalog"
            }
            JobName::GtfobinsImport => "Import GTFOBins (Unix binaries) into the test catalog",
            JobName::IntelScan => {
                "Scan the threat-intel feeds for items that mention techniques, actors and software"
            }
            JobName::SigmaImport => "Import SigmaHQ detection rules",
            JobName::ElasticRulesImport => "Import Elastic detection rules",
            JobName::D3fendImport => {
                "Import D3FEND countermeasures from the D3FEND ontology (URL or an uploaded file)"
            }
            JobName::RecurringCampaigns => {
                "Start the next run of each recurring campaign whose period has begun"
            }
            JobName::ScoringRecompute => {
                "Recompute every technique's score and priority (validations age, intel and actors change)"
            }
            JobName::ComplianceImport => {
                "Import a control framework's ATT&CK mapping (CTID JSON: NIST SP 800-53, CSA CCM, …)"
            }
        }
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobName::ALL
            .into_iter()
            .find(|j| j.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "Unknown job '{s}'; expected one of: {}",
                    JobName::ALL.map(JobName::as_str).join(", ")
                )
            })
    }
}

/// How far a running job has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobProgress {
    pub stage: String,
    pub done: u64,
    pub total: u64,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobRunDto {
    pub id: Uuid,
    pub job: String,
    pub trigger: String,
    pub requested_by: Option<String>,
    /// queued, running, retrying, succeeded or failed.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub progress: Option<JobProgress>,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub enqueued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's input, for jobs that take one (an import's source).
    #[serde(default)]
    pub params: Option<serde_json::Value>,
}

impl JobRunDto {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed")
    }
}

/// One job in the scheduler: when it runs, how it last went, and whether it runs now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduledJobStatus {
    pub job: JobName,
    pub description: String,
    /// The cron expression (UTC), or `None` when the schedule is switched off.
    pub schedule: Option<String>,
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<JobRunDto>,
    pub last_result: Option<String>,
    pub running: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SchedulerStatus {
    pub jobs: Vec<ScheduledJobStatus>,
}

/// The answer to "run this job": its id at once, before it has run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnqueuedJob {
    pub job_id: Uuid,
    pub job: JobName,
    pub status: String,
    /// True when a run of this job was already queued or running and that one is returned.
    pub already_running: bool,
}
