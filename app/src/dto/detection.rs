//! Detection rules: Sigma, Elastic and custom, with the techniques they map to.
use crate::domain::detection::{RuleProof, RuleSource};
use crate::dto::catalog::SkippedFile;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleSummary {
    pub id: Uuid,
    pub source: RuleSource,
    pub upstream_id: Option<String>,
    pub title: String,
    pub status: String,
    pub level: String,
    pub platforms: Vec<String>,
    pub language: String,
    pub techniques: Vec<String>,
    pub is_active: bool,
    /// What validated tests have shown about it.
    #[serde(default)]
    pub proof: RuleProof,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleDetail {
    #[serde(flatten)]
    pub summary: RuleSummary,
    pub path: Option<String>,
    /// Where the rule is read upstream.
    pub source_url: Option<String>,
    pub description: String,
    pub author: String,
    pub log_source: String,
    /// Sigma's `detection` block (YAML) or Elastic's query.
    pub query: String,
    pub false_positives: Vec<String>,
    pub references: Vec<String>,
    pub license: String,
    /// Techniques the knowledge base does not hold (a newer ATT&CK, a typo upstream).
    pub unknown_techniques: Vec<String>,
    pub notes: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleQuery {
    /// `sigma`, `elastic` or `custom`.
    #[serde(default)]
    pub source: Option<String>,
    /// An ATT&CK id; a parent also finds rules of its sub-techniques.
    #[serde(default)]
    pub technique: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// In the title, description or upstream id.
    #[serde(default)]
    pub search: Option<String>,
    /// Inactive rules are listed too when true.
    #[serde(default)]
    pub include_inactive: Option<bool>,
    /// `proven`, `untested` or `failed`.
    #[serde(default)]
    pub proof: Option<String>,
    /// `true`: proven rules only; `false`: the others.
    #[serde(default)]
    pub validated: Option<bool>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
}

/// A custom rule, or the local fields of any rule (`notes`, `is_active`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub log_source: Option<String>,
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub false_positives: Option<Vec<String>>,
    #[serde(default)]
    pub references: Option<Vec<String>>,
    #[serde(default)]
    pub techniques: Option<Vec<String>>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a Sigma or Elastic import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleImportReport {
    pub source: String,
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<SkippedFile>,
    /// Techniques rules map to that the knowledge base does not hold, with how many rules.
    pub unknown_techniques: Vec<(String, usize)>,
}
