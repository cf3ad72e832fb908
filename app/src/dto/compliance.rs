//! Control frameworks mapped onto ATT&CK, and what the team's coverage says about them.
use crate::domain::coverage::CoverageStatus;
use crate::domain::values::DetectionResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an import of a framework's mapping did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComplianceImportReport {
    pub framework_id: Uuid,
    pub key: String,
    pub name: String,
    pub version: String,
    pub attack_version: String,
    /// Rows in the file.
    pub rows: u64,
    pub controls_added: u64,
    pub controls_updated: u64,
    pub controls_unchanged: u64,
    pub mappings_added: u64,
    pub mappings_removed: u64,
    pub mappings_unchanged: u64,
    /// Rows repeating a (control, technique) pair already read.
    pub duplicates: u64,
    /// Rows the file marks `non_mappable` (a technique with no control, or a control with no
    /// technique).
    pub non_mappable: u64,
    /// Mappings to techniques ATT&CK has since revoked, moved to their replacement
    /// (`T1574.002 → T1574.001`).
    pub revoked_resolved: Vec<String>,
    /// Techniques the knowledge base does not hold (another domain, or not imported): their
    /// mappings are left out.
    pub unknown_techniques: Vec<String>,
}

/// What the techniques mapped to a control, a family or a framework say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ComplianceFigures {
    /// Mapped techniques the knowledge base holds.
    pub technique_count: u64,
    pub validated: u64,
    pub partial: u64,
    pub in_progress: u64,
    pub not_covered: u64,
    /// Validated techniques as a share of the mapped ones.
    pub coverage_percent: f64,
    pub mean_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FrameworkSummary {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub version: String,
    pub attack_version: String,
    pub domain: String,
    pub imported_at: DateTime<Utc>,
    pub control_count: u64,
    #[serde(flatten)]
    pub figures: ComplianceFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ControlSummary {
    pub id: Uuid,
    pub control_id: String,
    pub name: String,
    pub family: String,
    #[serde(flatten)]
    pub figures: ComplianceFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FamilySummary {
    pub family: String,
    pub name: String,
    pub control_count: u64,
    #[serde(flatten)]
    pub figures: ComplianceFigures,
}

/// `GET /compliance/frameworks/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FrameworkDetail {
    #[serde(flatten)]
    pub framework: FrameworkSummary,
    pub families: Vec<FamilySummary>,
    pub controls: Vec<ControlSummary>,
}

/// A validated test behind a technique's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EvidenceTest {
    pub id: Uuid,
    pub title: String,
    pub detection_result: Option<DetectionResult>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Evidence tests shown per technique (the count says how many there are).
pub const EVIDENCE_SHOWN: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MappedTechnique {
    pub mitre_id: String,
    pub name: String,
    pub coverage_status: CoverageStatus,
    pub score: f64,
    pub mapping_type: String,
    pub comments: String,
    pub validated_tests: u64,
    /// The latest validated tests, newest first.
    pub evidence: Vec<EvidenceTest>,
}

/// `GET /compliance/controls/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ControlDetail {
    #[serde(flatten)]
    pub control: ControlSummary,
    pub family_name: String,
    pub framework_id: Uuid,
    pub framework_name: String,
    pub techniques: Vec<MappedTechnique>,
    /// The mapped techniques that are not covered at all.
    pub uncovered_techniques: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ComplianceReportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> ComplianceFigures {
        ComplianceFigures {
            technique_count: 2,
            validated: 1,
            not_covered: 1,
            coverage_percent: 50.0,
            mean_score: 43.3,
            ..Default::default()
        }
    }

    fn control() -> ControlSummary {
        ControlSummary {
            id: Uuid::nil(),
            control_id: "AC-2".into(),
            name: "Account Management".into(),
            family: "AC".into(),
            figures: figures(),
        }
    }

    /// The flattened summaries must not share a key with the struct around them: a duplicate
    /// key reads back wrong (or not at all), and the browser reads these to hydrate its pages.
    #[test]
    fn details_read_back_what_they_wrote() {
        let detail = FrameworkDetail {
            framework: FrameworkSummary {
                id: Uuid::nil(),
                key: "nist_800_53".into(),
                name: "NIST SP 800-53".into(),
                version: "rev5".into(),
                attack_version: "16.1".into(),
                domain: "enterprise".into(),
                imported_at: DateTime::UNIX_EPOCH,
                control_count: 1,
                figures: figures(),
            },
            families: vec![FamilySummary {
                family: "AC".into(),
                name: "Access Control".into(),
                control_count: 1,
                figures: figures(),
            }],
            controls: vec![control()],
        };
        let json = serde_json::to_string(&detail).unwrap();
        assert_eq!(json.matches("\"controls\"").count(), 1, "{json}");
        assert_eq!(
            serde_json::from_str::<FrameworkDetail>(&json).unwrap(),
            detail
        );

        let detail = ControlDetail {
            control: control(),
            family_name: "Access Control".into(),
            framework_id: Uuid::nil(),
            framework_name: "NIST SP 800-53 rev5".into(),
            techniques: vec![MappedTechnique {
                mitre_id: "T1059.001".into(),
                name: "PowerShell".into(),
                coverage_status: CoverageStatus::Validated,
                score: 80.0,
                mapping_type: "protects".into(),
                comments: String::new(),
                validated_tests: 1,
                evidence: vec![],
            }],
            uncovered_techniques: vec!["T1053".into()],
        };
        let json = serde_json::to_string(&detail).unwrap();
        assert_eq!(json.matches("\"techniques\"").count(), 1, "{json}");
        assert_eq!(json.matches("\"not_covered\"").count(), 1, "{json}");
        assert_eq!(
            serde_json::from_str::<ControlDetail>(&json).unwrap(),
            detail
        );
    }
}
