//! D3FEND's defensive techniques and the countermeasures of ATT&CK techniques.
use crate::domain::d3fend::{ArtifactLink, D3fendTactic};
use serde::{Deserialize, Serialize};

/// The page of a D3FEND technique on d3fend.mitre.org.
pub fn technique_url(class_name: &str) -> String {
    format!("https://d3fend.mitre.org/technique/d3f:{class_name}/")
}

/// A D3FEND defensive technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct D3fendTechniqueDto {
    pub d3fend_id: String,
    pub name: String,
    pub tactic: D3fendTactic,
    pub parent_d3fend_id: Option<String>,
    pub definition: String,
    pub url: String,
    /// ATT&CK techniques (by id) it counters.
    pub attack_technique_count: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct D3fendQuery {
    /// `harden`, `detect`, `isolate`, `deceive`, `evict`, `restore` or `model`.
    #[serde(default)]
    pub tactic: Option<String>,
    /// In the id, name or definition.
    #[serde(default)]
    pub search: Option<String>,
}

/// A D3FEND technique that counters an ATT&CK technique, and the artifact that links them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Countermeasure {
    pub d3fend_id: String,
    pub name: String,
    pub tactic: D3fendTactic,
    pub definition: String,
    pub url: String,
    /// The defensive artifact of the most specific link (`Access Token`).
    pub artifact: String,
    /// Every link that joins them, the most specific first.
    pub links: Vec<ArtifactLink>,
    /// The ATT&CK technique the countermeasure was derived for: the asked one, or its parent
    /// when D3FEND does not know the sub-technique.
    pub attack_id: String,
}

impl Countermeasure {
    /// `Kerberos Ticket Granting Ticket (forges) → Access Token (strengthens)`.
    pub fn link_text(link: &ArtifactLink) -> String {
        if link.offensive_artifact == link.defensive_artifact {
            format!(
                "{} ({} / {})",
                link.offensive_artifact, link.offensive_relation, link.defensive_relation
            )
        } else {
            format!(
                "{} ({}) is a kind of {} ({})",
                link.offensive_artifact,
                link.offensive_relation,
                link.defensive_artifact,
                link.defensive_relation
            )
        }
    }
}

/// What a D3FEND import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct D3fendImportReport {
    pub source: String,
    pub triples: usize,
    pub techniques_added: usize,
    pub techniques_updated: usize,
    pub techniques_unchanged: usize,
    pub techniques_removed: usize,
    pub countermeasures_added: usize,
    pub countermeasures_updated: usize,
    pub countermeasures_unchanged: usize,
    pub countermeasures_removed: usize,
    /// ATT&CK ids the ontology names, and how many of them have a countermeasure.
    pub attack_ids: usize,
    pub attack_ids_countered: usize,
    /// ATT&CK ids with countermeasures that the knowledge base does not hold.
    pub unknown_attack_ids: usize,
    /// Classes with a D3FEND id but no defensive tactic (D3FEND's analytic techniques, such
    /// as `D3A-ABC`), not imported as countermeasures.
    pub without_tactic: usize,
}
