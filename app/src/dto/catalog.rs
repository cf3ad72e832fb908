//! The test template catalog on the wire.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::values::{Severity, TemplateSource};

/// A file an import left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What an import into the template catalog (Atomic Red Team, CALDERA, LOLBAS, GTFOBins) did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateImportReport {
    /// Files of the source read.
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SkippedFile>,
    /// Technique ids of imported templates that the knowledge base does not know (yet).
    pub unknown_techniques: Vec<String>,
    /// Templates imported with a caveat (a CALDERA ability filed under a tactic ATT&CK does not
    /// give its technique), by upstream id.
    #[serde(default)]
    pub flagged: Vec<SkippedFile>,
    /// Technique sets written from the source (CALDERA's adversary profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique_sets: Option<SetsWritten>,
}

/// Technique sets an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetsWritten {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// References to entries the source does not hold (abilities of other CALDERA plugins).
    pub unresolved_references: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InputArgumentDto {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub default: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DependencyDto {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub prereq_command: String,
    #[serde(default)]
    pub get_prereq_command: String,
}

/// A template as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateSummary {
    pub id: Uuid,
    pub source: TemplateSource,
    pub external_id: Option<String>,
    pub technique_id: String,
    /// False when the knowledge base does not know the technique (yet).
    pub technique_known: bool,
    pub name: String,
    pub platforms: Vec<String>,
    pub executor_name: Option<String>,
    pub severity: Severity,
    pub is_active: bool,
}

/// One CALDERA executor: how the ability runs on one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalderaExecutor {
    /// The catalog's platform name (`windows`, `linux`, `macos`).
    pub platform: String,
    /// CALDERA's executor (`psh`, `sh`, `cmd`, …).
    pub executor: String,
    pub command: String,
    #[serde(default)]
    pub cleanup: Option<String>,
    #[serde(default)]
    pub payloads: Vec<String>,
    #[serde(default)]
    pub parsers: Vec<String>,
    #[serde(default)]
    pub timeout: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalderaDetails {
    /// The upstream file.
    pub path: String,
    /// The tactic CALDERA files the ability under.
    pub tactic: String,
    /// CALDERA's own name for the technique (not always ATT&CK's).
    #[serde(default)]
    pub technique_name: String,
    #[serde(default)]
    pub privilege: Option<String>,
    pub executors: Vec<CalderaExecutor>,
    #[serde(default)]
    pub requirements: Vec<String>,
    /// The adversary profiles that use the ability.
    #[serde(default)]
    pub adversaries: Vec<String>,
}

/// A detection hint of a LOLBAS entry: `Sigma`, `Elastic`, `Splunk`, `IOC`, `BlockRule`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DetectionHint {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LolbasDetails {
    pub path: String,
    /// The binary, script or library (`Certutil.exe`).
    pub binary: String,
    #[serde(default)]
    pub binary_description: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub usecase: String,
    #[serde(default)]
    pub category: String,
    /// As LOLBAS writes it (`User`, `Administrator, Backup Operators`, …).
    #[serde(default)]
    pub privileges: String,
    #[serde(default)]
    pub operating_system: String,
    /// The command as LOLBAS writes it, with its `{PATH:.exe}`-style placeholders.
    #[serde(default)]
    pub original_command: String,
    #[serde(default)]
    pub full_paths: Vec<String>,
    #[serde(default)]
    pub detections: Vec<DetectionHint>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GtfobinsDetails {
    pub path: String,
    pub binary: String,
    /// `shell`, `file-read`, `sudo`…: the GTFOBins function.
    pub function: String,
    pub function_label: String,
    /// `unprivileged`, `sudo`, `suid` or `capabilities`.
    pub context: String,
    /// Every technique of the mapping (`domain::gtfobins`), the template's first.
    pub techniques: Vec<String>,
    /// `function_default`, `refined` or `inherited`: GTFOBins itself maps no example.
    pub mapping: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// Capabilities the example needs (`CAP_SETUID`).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The entry whose functions an `inherit` example reaches.
    #[serde(default)]
    pub inherits_from: Option<String>,
    /// Other names of the binary (GTFOBins alias entries).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// What only a template's source has, shown on its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum SourceDetails {
    Caldera(CalderaDetails),
    Lolbas(LolbasDetails),
    Gtfobins(GtfobinsDetails),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateDetail {
    #[serde(flatten)]
    pub summary: TemplateSummary,
    /// The upstream licence (SPDX id), `None` for custom templates.
    #[serde(default)]
    pub license: Option<String>,
    /// Where the upstream entry is read.
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default)]
    pub source_details: Option<SourceDetails>,
    /// Caveats of the template (a CALDERA tactic ATT&CK does not give the technique).
    #[serde(default)]
    pub flags: Vec<String>,
    pub description: String,
    pub command: String,
    pub cleanup_command: Option<String>,
    pub elevation_required: bool,
    pub input_arguments: Vec<InputArgumentDto>,
    pub dependencies: Vec<DependencyDto>,
    pub dependency_executor_name: Option<String>,
    pub expected_detection: String,
    pub suggested_tools: Vec<String>,
    pub remediation_steps: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /test-templates` filters. Inactive templates are listed only for admins who ask.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateQuery {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub mitre_technique_id: Option<String>,
    #[serde(default)]
    pub include_inactive: Option<bool>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `GET /test-templates/stats`: the catalog at a glance (all templates, active or not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TemplateStats {
    pub total: u64,
    pub active: u64,
    pub by_source: std::collections::BTreeMap<String, u64>,
    pub by_platform: std::collections::BTreeMap<String, u64>,
    pub by_severity: std::collections::BTreeMap<String, u64>,
    /// Tactic shortname → templates whose technique belongs to it.
    pub by_tactic: std::collections::BTreeMap<String, u64>,
    /// Distinct known techniques with at least one active template.
    pub techniques_with_templates: u64,
    /// Templates whose technique the knowledge base does not know.
    pub unknown_technique_templates: u64,
}

/// A custom template, written by an admin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateRequest {
    pub technique_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub executor_name: Option<String>,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub cleanup_command: Option<String>,
    #[serde(default)]
    pub elevation_required: bool,
    #[serde(default)]
    pub input_arguments: Vec<InputArgumentDto>,
    #[serde(default)]
    pub expected_detection: String,
    #[serde(default)]
    pub suggested_tools: Vec<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub remediation_steps: Vec<String>,
}

/// Every field of a custom template may change; of an imported one only the local fields
/// (`severity`, `expected_detection`, `suggested_tools`, `remediation_steps`, `is_active`),
/// which a re-import keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplateRequest {
    #[serde(default)]
    pub technique_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub executor_name: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub cleanup_command: Option<String>,
    #[serde(default)]
    pub elevation_required: Option<bool>,
    #[serde(default)]
    pub input_arguments: Option<Vec<InputArgumentDto>>,
    #[serde(default)]
    pub expected_detection: Option<String>,
    #[serde(default)]
    pub suggested_tools: Option<Vec<String>>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub remediation_steps: Option<Vec<String>>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// One GTFOBins function as imports map it: the techniques of Aegis's table
/// (`domain::gtfobins`), and the installation's own when an admin set them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GtfobinsFunctionMapping {
    pub function: String,
    pub label: String,
    /// The table's techniques (before the refinements by code and context).
    pub defaults: Vec<String>,
    /// The installation's techniques, in place of the table's; empty when none are set.
    pub local: Vec<String>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /system/gtfobins-mapping/{function}`: the function's techniques for this installation
/// (an empty list goes back to the table's). The next GTFOBins import applies them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GtfobinsMappingRequest {
    pub techniques: Vec<String>,
}
