//! The scoring engine on the wire: configurations, technique scores, the summary, the
//! heatmap's cells and the data-component inventory.
use crate::domain::scoring::{Contribution, PriorityFactor, ScoreFactor, ScoringConfig};
use crate::domain::visibility::DataQuality;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A saved configuration. Version 0 is the built-in default (nothing saved yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoringConfigDto {
    pub version: i32,
    pub config: ScoringConfig,
    pub note: String,
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// `GET /scoring/config`: the configuration in force and the last saved ones (newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoringConfigState {
    #[serde(flatten)]
    pub current: ScoringConfigDto,
    pub history: Vec<ScoringConfigDto>,
}

/// `PUT /scoring/config`: the new configuration and, optionally, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScoringConfigUpdate {
    #[serde(flatten)]
    pub config: ScoringConfig,
    #[serde(default)]
    pub note: Option<String>,
}

/// A technique's score and priority with every factor's part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TechniqueScore {
    pub mitre_id: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub coverage_status: crate::domain::coverage::CoverageStatus,
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
    pub visibility: Option<f64>,
    /// Validated, but only longer ago than the half-life.
    pub stale: bool,
    pub factors: Vec<Contribution<ScoreFactor>>,
    pub priority_factors: Vec<Contribution<PriorityFactor>>,
    pub computed_at: Option<DateTime<Utc>>,
}

/// `GET /scoring/techniques`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ScoreQuery {
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// A tactic shortname or id.
    pub tactic: Option<String>,
    /// `score` (lowest first), `priority` or `gap` (highest first), or `mitre_id` (default).
    pub sort: Option<String>,
    pub stale: Option<bool>,
    pub search: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TacticScore {
    pub tactic: String,
    pub name: String,
    pub techniques: u64,
    /// Mean score weighted by priority.
    pub score: f64,
    pub mean_priority: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskGapItem {
    pub mitre_id: String,
    pub name: String,
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
}

/// `GET /scoring/summary`, and the Scoring page's preview of an unsaved configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoringSummary {
    pub config_version: i32,
    pub techniques: u64,
    /// Mean score weighted by priority.
    pub overall: f64,
    pub mean_score: f64,
    pub mean_priority: f64,
    pub stale: u64,
    pub by_tactic: Vec<TacticScore>,
    /// High-priority techniques with low scores, largest gap first.
    pub risk_gap: Vec<RiskGapItem>,
}

/// The Scoring page's preview: the summary now, and under the unsaved configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoringPreview {
    pub current: ScoringSummary,
    pub preview: ScoringSummary,
}

/// What a matrix cell shows in a heatmap mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HeatCell {
    pub score: f64,
    pub priority: f64,
    pub gap: f64,
    pub visibility: Option<f64>,
    pub stale: bool,
    /// "Coverage status 30.0 · Detection quality 20.5 · …": the points of each factor.
    pub explain: String,
}

impl HeatCell {
    /// The cell's value in a heatmap mode (0–100); `None` for the status mode and for
    /// visibility where ATT&CK names no data component.
    pub fn value(&self, mode: crate::domain::heat::HeatMode) -> Option<f64> {
        use crate::domain::heat::HeatMode;
        match mode {
            HeatMode::Status => None,
            HeatMode::Score => Some(self.score),
            HeatMode::Priority => Some(self.priority),
            HeatMode::Gap => Some(self.gap),
            HeatMode::Visibility => self.visibility,
        }
    }
}

/// One of ATT&CK's data components and whether the team collects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DataComponentDto {
    pub id: Uuid,
    pub mitre_id: String,
    pub name: String,
    pub description: String,
    pub data_source: String,
    pub deprecated: bool,
    pub collected: bool,
    pub quality: DataQuality,
    pub notes: String,
    /// Techniques it can detect.
    pub techniques: u64,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `GET /data-sources`: the inventory and how much of the matrix it lets the team see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DataSourceInventory {
    pub items: Vec<DataComponentDto>,
    pub collected: u64,
    /// Techniques with a known data component.
    pub techniques_with_components: u64,
    /// Their mean visibility, in percent.
    pub mean_visibility: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct DataSourceQuery {
    pub search: Option<String>,
    pub collected: Option<bool>,
}

/// `PATCH /data-sources/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct DataComponentUpdate {
    pub collected: Option<bool>,
    pub quality: Option<DataQuality>,
    pub notes: Option<String>,
}
