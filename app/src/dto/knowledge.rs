use crate::domain::coverage::CoverageStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What one sync or import did. `changed` lists the techniques now flagged for review.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub tactics_added: u32,
    pub tactics_updated: u32,
    pub techniques_added: u32,
    pub techniques_updated: u32,
    pub techniques_unchanged: u32,
    pub techniques_deprecated: u32,
    pub techniques_revoked: u32,
    pub actors_added: u32,
    pub actors_updated: u32,
    pub actor_links_added: u32,
    pub actor_links_removed: u32,
    #[serde(default)]
    pub software_added: u32,
    #[serde(default)]
    pub software_updated: u32,
    /// ATT&CK's campaigns (`C0010`…).
    #[serde(default)]
    pub campaigns_added: u32,
    #[serde(default)]
    pub campaigns_updated: u32,
    #[serde(default)]
    pub mitigations_added: u32,
    #[serde(default)]
    pub mitigations_updated: u32,
    #[serde(default)]
    pub mitigation_links_added: u32,
    #[serde(default)]
    pub mitigation_links_updated: u32,
    #[serde(default)]
    pub mitigation_links_removed: u32,
    /// ATT&CK's data components (`DC0001`…) and which techniques each can detect.
    #[serde(default)]
    pub data_components_added: u32,
    #[serde(default)]
    pub data_components_updated: u32,
    #[serde(default)]
    pub data_component_links: u32,
    /// Catalog templates from ATT&CK's procedure examples.
    #[serde(default)]
    pub procedure_templates_added: u32,
    #[serde(default)]
    pub procedure_templates_updated: u32,
    /// ATT&CK techniques not applied because a custom technique holds their id.
    pub skipped_custom: Vec<String>,
    pub changed: Vec<TechniqueChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueChange {
    pub mitre_id: String,
    pub name: String,
    /// Which of name, description, tactics, platforms, deprecated, revoked changed.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TacticDto {
    pub mitre_id: String,
    pub shortname: String,
    pub name: String,
    pub description: String,
    pub matrix_order: i32,
    pub url: Option<String>,
}

/// A technique as lists and the matrix show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueSummary {
    pub mitre_id: String,
    pub name: String,
    pub parent_mitre_id: Option<String>,
    pub is_subtechnique: bool,
    pub tactics: Vec<String>,
    pub platforms: Vec<String>,
    pub coverage_status: CoverageStatus,
    pub review_required: bool,
    pub deprecated: bool,
    pub revoked: bool,
    pub is_custom: bool,
    /// Ids of the sub-techniques, for a parent.
    pub subtechniques: Vec<String>,
    /// Tests of this technique, in every state: the evidence behind its status.
    pub test_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActorRef {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueDetail {
    #[serde(flatten)]
    pub summary: TechniqueSummary,
    pub stix_id: Option<String>,
    pub description: String,
    pub data_sources: Vec<String>,
    pub detection: String,
    pub url: Option<String>,
    pub version: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub subtechnique_details: Vec<TechniqueSummary>,
    pub actors: Vec<ActorRef>,
    /// ATT&CK's mitigations of it, with ATT&CK's text for this technique.
    #[serde(default)]
    pub mitigations: Vec<TechniqueMitigation>,
    /// D3FEND's countermeasures of it, with the artifact that links each.
    #[serde(default)]
    pub countermeasures: Vec<crate::dto::d3fend::Countermeasure>,
    /// The team's own notes.
    pub notes: String,
}

/// A mitigation of one technique, as the technique page and the remediation steps offer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueMitigation {
    pub mitre_id: String,
    pub name: String,
    /// What ATT&CK says this mitigation does against this technique.
    pub description: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MitigationSummary {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub deprecated: bool,
    pub revoked: bool,
    pub modified_at: Option<DateTime<Utc>>,
    /// Active techniques it mitigates.
    pub technique_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MitigationDetail {
    #[serde(flatten)]
    pub summary: MitigationSummary,
    pub techniques: Vec<MitigatedTechnique>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MitigatedTechnique {
    pub mitre_id: String,
    pub name: String,
    pub coverage_status: crate::domain::coverage::CoverageStatus,
    /// ATT&CK's text for this technique.
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MitigationQuery {
    /// In the id, name or description.
    #[serde(default)]
    pub search: Option<String>,
    /// Deprecated and revoked mitigations (the technique-named ones of older ATT&CK) are
    /// hidden unless asked for.
    #[serde(default)]
    pub include_deprecated: Option<bool>,
}

/// A custom technique, created by an admin for what ATT&CK does not (yet) describe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTechniqueRequest {
    pub mitre_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parent_mitre_id: Option<String>,
    /// Tactic shortnames, e.g. `execution`.
    pub tactics: Vec<String>,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub data_sources: Vec<String>,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub notes: String,
}

/// Only `notes` may change on an ATT&CK technique (the sync owns the rest); every field may
/// change on a custom one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTechniqueRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tactics: Option<Vec<String>>,
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub data_sources: Option<Vec<String>>,
    #[serde(default)]
    pub detection: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueQuery {
    #[serde(default)]
    pub tactic: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub review_required: Option<bool>,
    #[serde(default)]
    pub platform: Option<String>,
    /// A threat actor's ATT&CK id (`G0016`) or id.
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    /// Deprecated and revoked techniques are hidden unless asked for.
    #[serde(default)]
    pub include_deprecated: Option<bool>,
    /// Only the techniques of this technique set (an imported Navigator layer), by id or name.
    #[serde(default)]
    pub technique_set: Option<String>,
    /// Only techniques intel mentioned in the last this many days (dismissed items aside).
    #[serde(default)]
    pub intel_days: Option<u32>,
    /// The detection rules layer: `any` (techniques with an active rule), `proven` (with a
    /// rule a validated test proved), `none` (without an active rule).
    #[serde(default)]
    pub rules: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThreatActorSummary {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub technique_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThreatActorDetail {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub url: Option<String>,
    pub techniques: Vec<TechniqueSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncRunDto {
    pub id: Uuid,
    pub kind: String,
    pub trigger: String,
    pub source: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
    pub triggered_by: Option<String>,
}
