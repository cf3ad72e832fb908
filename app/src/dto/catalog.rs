//! The test template catalog on the wire.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::values::{Severity, TemplateSource};

/// A file an import left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What an Atomic Red Team import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AtomicImportReport {
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SkippedFile>,
    /// Technique ids of imported atomics that the knowledge base does not know (yet).
    pub unknown_techniques: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDetail {
    #[serde(flatten)]
    pub summary: TemplateSummary,
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
