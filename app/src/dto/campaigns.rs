//! Wire types of campaigns: the team's testing campaigns, their progress, the tests generated
//! for them, and ATT&CK's own campaigns they can emulate.
use crate::domain::campaigns::{CampaignStatus, Recurrence};
use crate::dto::workflow::{TestSummary, nullable};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Who or what a campaign emulates, by ATT&CK id and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NamedRef {
    pub id: Uuid,
    /// `G0016`, `C0010`; `None` for a technique set.
    pub mitre_id: Option<String>,
    pub name: String,
}

/// Tests per state and the share finished, for the list's progress bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateCounts {
    pub total: u64,
    /// State → tests, every state present.
    pub by_state: BTreeMap<String, u64>,
    /// Validated or rejected.
    pub finished: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignSummary {
    pub id: Uuid,
    pub name: String,
    pub status: CampaignStatus,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub threat_actor: Option<NamedRef>,
    pub attack_campaign: Option<NamedRef>,
    pub technique_set: Option<NamedRef>,
    pub recurrence: Option<Recurrence>,
    /// The first campaign of the series this one is a run of.
    pub series_id: Option<Uuid>,
    pub tests: StateCounts,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub summary: CampaignSummary,
    pub description: String,
    pub objective: String,
    pub target_environment: String,
    pub period: Option<i32>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_by_name: Option<String>,
    pub updated_by: Uuid,
    pub updated_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The other runs of its series, oldest first.
    pub runs: Vec<CampaignRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignRun {
    pub id: Uuid,
    pub name: String,
    pub period: Option<i32>,
    pub status: CampaignStatus,
}

/// `POST /campaigns`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCampaignRequest {
    pub name: String,
    pub description: Option<String>,
    pub objective: Option<String>,
    /// An ATT&CK group id (`G0016`) or the actor's id.
    pub threat_actor: Option<String>,
    /// An ATT&CK campaign id (`C0010`) or its id.
    pub attack_campaign: Option<String>,
    /// A technique set's id or name.
    pub technique_set: Option<String>,
    pub target_environment: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// A lead or an admin; the creator when absent.
    pub owner_id: Option<Uuid>,
    pub status: Option<String>,
    pub recurrence: Option<Recurrence>,
}

/// `PATCH /campaigns/{id}`: absent fields stay, `null` clears the optional ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCampaignRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub objective: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub threat_actor: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub attack_campaign: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub technique_set: Option<Option<String>>,
    pub target_environment: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    pub end_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    pub owner_id: Option<Option<Uuid>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub recurrence: Option<Option<Recurrence>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignQuery {
    pub status: Option<String>,
    pub search: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

/// `POST /campaigns/{id}/tests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddTestsRequest {
    pub test_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AddTestsReport {
    pub added: Vec<Uuid>,
    /// Tests already in the campaign.
    pub unchanged: Vec<Uuid>,
}

/// `POST /campaigns/{id}/generate`: from what the campaign emulates, or from one source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// `threat_actor`, `attack_campaign` or `technique_set`; all the campaign names when absent.
    pub from: Option<String>,
    /// The generated tests' platform (and the template picked for it).
    pub platform: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SkippedTechnique {
    pub technique_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GenerateReport {
    pub created: Vec<TestSummary>,
    pub skipped: Vec<SkippedTechnique>,
}

/// A technique's standing within a campaign: the coverage rule over the campaign's tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignTechnique {
    pub technique_id: String,
    pub name: Option<String>,
    pub status: crate::domain::coverage::CoverageStatus,
    pub tests: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TacticProgress {
    pub tactic: String,
    pub name: String,
    pub techniques: u64,
    pub covered: u64,
    pub partial: u64,
    pub not_covered: u64,
}

/// `GET /campaigns/{id}/progress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CampaignProgress {
    pub campaign_id: Uuid,
    pub tests: StateCounts,
    /// Share of tests validated or rejected, 0–100.
    pub percent_finished: u8,
    pub techniques_covered: u64,
    pub techniques_partial: u64,
    /// Techniques whose tests are still under way, or rejected.
    pub techniques_not_covered: u64,
    pub techniques: Vec<CampaignTechnique>,
    pub by_tactic: Vec<TacticProgress>,
    /// Minutes in the worklogs of its tests.
    pub time_spent_minutes: i64,
    /// Tests whose remediation is not done (gaps still being closed).
    pub open_remediations: u64,
}

/// One of ATT&CK's campaigns, for the pickers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttackCampaignDto {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub techniques: Vec<String>,
    pub actors: Vec<String>,
}
