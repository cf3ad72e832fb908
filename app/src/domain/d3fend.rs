//! D3FEND countermeasures: the defensive tactics, and how an ATT&CK technique is linked to the
//! D3FEND techniques that counter it.
//!
//! D3FEND has no direct "ATT&CK technique → countermeasure" relation. The link goes through a
//! *digital artifact*: an offensive technique acts on an artifact (`T1558.001 forges
//! KerberosTicketGrantingTicket`), a defensive technique acts on an artifact (`D3-TB
//! strengthens AccessToken`), and the two meet when the offensive artifact is the defensive
//! one or one of its subclasses (`KerberosTicketGrantingTicket ⊑ KerberosTicket ⊑
//! AccessToken`). That is the inference the D3FEND site computes; [`derive`] does it over an
//! [`Ontology`] read from D3FEND's OWL file:
//!
//! - an ATT&CK technique has the artifact restrictions of its own class and of its ancestor
//!   ATT&CK techniques (`T1059.001` inherits `executes ExecutableScript` from `T1059`), not the
//!   generic ones of the tactic classes (`CredentialAccessTechnique accesses Credential`),
//!   which would link every technique of a tactic to the same defences;
//! - a defensive technique has the artifact restrictions of its own class;
//! - its tactic is the first `enables <Tactic>` found on it or its ancestors;
//! - one (ATT&CK technique, D3FEND technique) pair keeps every artifact link that joins them,
//!   the most specific first (offensive and defensive artifact the same class).
use crate::domain::values::string_enum;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

string_enum! {
    /// D3FEND's defensive tactics, in D3FEND's order.
    pub enum D3fendTactic ("D3FEND tactic") {
        Model = "model" / "Model",
        Harden = "harden" / "Harden",
        Detect = "detect" / "Detect",
        Isolate = "isolate" / "Isolate",
        Deceive = "deceive" / "Deceive",
        Evict = "evict" / "Evict",
        Restore = "restore" / "Restore",
    }
}

impl D3fendTactic {
    /// The tactic a D3FEND class stands for, by its local name (`Harden`).
    pub fn of_class(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.label() == name)
    }
}

/// The class every digital artifact descends from.
pub const DIGITAL_ARTIFACT: &str = "DigitalArtifact";
/// The property that links a technique to its tactic.
pub const ENABLES: &str = "enables";
/// Artifact links kept per (ATT&CK technique, D3FEND technique) pair.
pub const LINKS_MAX: usize = 8;

/// One class of the ontology, by its local name, with what the derivation reads of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OntologyClass {
    pub label: Option<String>,
    /// Named superclasses (`rdfs:subClassOf :T1003`).
    pub parents: Vec<String>,
    /// `rdfs:subClassOf [owl:onProperty P; owl:someValuesFrom C]`, as (P, C).
    pub restrictions: Vec<(String, String)>,
    /// Direct assertions `:X :enables :Harden`.
    pub enables: Vec<String>,
    pub d3fend_id: Option<String>,
    pub attack_id: Option<String>,
    pub definition: Option<String>,
}

/// The classes of an ontology, by local name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ontology {
    pub classes: HashMap<String, OntologyClass>,
}

/// A D3FEND defensive technique.
#[derive(Debug, Clone, PartialEq)]
pub struct DefensiveTechnique {
    /// The class's local name (`TokenBinding`): D3FEND's pages are named by it.
    pub class_name: String,
    pub d3fend_id: String,
    pub name: String,
    pub tactic: D3fendTactic,
    /// The D3FEND id of the nearest ancestor that is a technique too.
    pub parent_d3fend_id: Option<String>,
    pub definition: String,
}

/// How an ATT&CK technique and a countermeasure meet: the offensive technique `offensive_relation`
/// `offensive_artifact`, which is (or is a kind of) the `defensive_artifact` the countermeasure
/// `defensive_relation`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactLink {
    pub offensive_relation: String,
    pub offensive_artifact: String,
    pub defensive_relation: String,
    pub defensive_artifact: String,
}

/// One derived pair, with its links (the most specific first, at most [`LINKS_MAX`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Countermeasure {
    pub attack_id: String,
    pub d3fend_id: String,
    pub links: Vec<ArtifactLink>,
}

/// What [`derive`] finds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    pub techniques: Vec<DefensiveTechnique>,
    /// Sorted by ATT&CK id, then D3FEND id.
    pub countermeasures: Vec<Countermeasure>,
    /// ATT&CK ids the ontology names (with or without a countermeasure).
    pub attack_ids: usize,
    /// D3FEND classes with an id but no tactic (skipped), by D3FEND id.
    pub without_tactic: Vec<String>,
}

impl Ontology {
    fn class(&self, name: &str) -> Option<&OntologyClass> {
        self.classes.get(name)
    }

    /// `name` and its ancestors, nearest first, each with its distance; cycles are cut.
    fn ancestors(&self, name: &str) -> Vec<(String, usize)> {
        let mut seen = HashSet::from([name.to_owned()]);
        let mut out = vec![(name.to_owned(), 0)];
        let mut queue = VecDeque::from([(name.to_owned(), 0)]);
        while let Some((current, depth)) = queue.pop_front() {
            for parent in self.class(&current).map_or(&[][..], |c| &c.parents) {
                if seen.insert(parent.clone()) {
                    out.push((parent.clone(), depth + 1));
                    queue.push_back((parent.clone(), depth + 1));
                }
            }
        }
        out
    }

    fn label(&self, name: &str) -> String {
        self.class(name)
            .and_then(|c| c.label.clone())
            .unwrap_or_else(|| name.to_owned())
    }

    fn tactic(&self, name: &str) -> Option<D3fendTactic> {
        self.ancestors(name).into_iter().find_map(|(ancestor, _)| {
            let class = self.class(&ancestor)?;
            class
                .restrictions
                .iter()
                .filter(|(property, _)| property == ENABLES)
                .map(|(_, target)| target)
                .chain(&class.enables)
                .find_map(|target| D3fendTactic::of_class(target))
        })
    }
}

/// Derives the defensive techniques and every ATT&CK → D3FEND pair of the ontology.
pub fn derive(ontology: &Ontology) -> Derived {
    let is_artifact = |name: &str| {
        ontology
            .ancestors(name)
            .iter()
            .any(|(a, _)| a == DIGITAL_ARTIFACT)
    };
    let artifacts: HashSet<&str> = ontology
        .classes
        .keys()
        .map(String::as_str)
        .filter(|name| is_artifact(name))
        .collect();
    let artifact_restrictions = |class: &OntologyClass| -> Vec<(String, String)> {
        class
            .restrictions
            .iter()
            .filter(|(property, target)| property != ENABLES && artifacts.contains(target.as_str()))
            .cloned()
            .collect()
    };

    // Defensive techniques, and which of them act on each artifact.
    let mut techniques = Vec::new();
    let mut without_tactic = Vec::new();
    let mut acting_on: HashMap<&str, Vec<(&str, String)>> = HashMap::new();
    let mut names: Vec<&String> = ontology.classes.keys().collect();
    names.sort();
    for name in &names {
        let class = &ontology.classes[*name];
        let Some(d3fend_id) = class.d3fend_id.as_deref() else {
            continue;
        };
        if D3fendTactic::of_class(name).is_some() {
            continue;
        }
        let Some(tactic) = ontology.tactic(name) else {
            without_tactic.push(d3fend_id.to_owned());
            continue;
        };
        let parent_d3fend_id = ontology
            .ancestors(name)
            .into_iter()
            .skip(1)
            .find_map(|(a, _)| {
                let parent = ontology.class(&a)?;
                if D3fendTactic::of_class(&a).is_some() {
                    return None;
                }
                parent.d3fend_id.clone()
            });
        for (relation, artifact) in artifact_restrictions(class) {
            if let Some(artifact) = artifacts.get(artifact.as_str()) {
                acting_on
                    .entry(artifact)
                    .or_default()
                    .push((d3fend_id, relation));
            }
        }
        techniques.push(DefensiveTechnique {
            class_name: (*name).clone(),
            d3fend_id: d3fend_id.to_owned(),
            name: ontology.label(name),
            tactic,
            parent_d3fend_id,
            definition: class.definition.clone().unwrap_or_default(),
        });
    }

    // ATT&CK techniques: their own artifacts and their ancestor techniques'.
    let mut pairs: BTreeMap<(String, String), Vec<(usize, ArtifactLink)>> = BTreeMap::new();
    let mut attack_ids = HashSet::new();
    for name in &names {
        let class = &ontology.classes[*name];
        let Some(attack_id) = class.attack_id.as_deref() else {
            continue;
        };
        attack_ids.insert(attack_id);
        let offensive: Vec<(String, String)> = ontology
            .ancestors(name)
            .into_iter()
            .filter_map(|(a, _)| ontology.class(&a).filter(|c| c.attack_id.is_some()))
            .flat_map(artifact_restrictions)
            .collect();
        for (offensive_relation, offensive_artifact) in offensive {
            for (defensive_artifact, distance) in ontology.ancestors(&offensive_artifact) {
                let Some(defences) = acting_on.get(defensive_artifact.as_str()) else {
                    continue;
                };
                for (d3fend_id, defensive_relation) in defences {
                    pairs
                        .entry((attack_id.to_owned(), (*d3fend_id).to_owned()))
                        .or_default()
                        .push((
                            distance,
                            ArtifactLink {
                                offensive_relation: offensive_relation.clone(),
                                offensive_artifact: ontology.label(&offensive_artifact),
                                defensive_relation: defensive_relation.clone(),
                                defensive_artifact: ontology.label(&defensive_artifact),
                            },
                        ));
                }
            }
        }
    }
    let countermeasures = pairs
        .into_iter()
        .map(|((attack_id, d3fend_id), mut links)| {
            links.sort();
            let mut seen = HashSet::new();
            Countermeasure {
                attack_id,
                d3fend_id,
                links: links
                    .into_iter()
                    .map(|(_, l)| l)
                    .filter(|l| seen.insert(l.clone()))
                    .take(LINKS_MAX)
                    .collect(),
            }
        })
        .collect();
    Derived {
        techniques,
        countermeasures,
        attack_ids: attack_ids.len(),
        without_tactic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(
        parents: &[&str],
        restrictions: &[(&str, &str)],
        d3fend_id: Option<&str>,
        attack_id: Option<&str>,
    ) -> OntologyClass {
        OntologyClass {
            label: None,
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            restrictions: restrictions
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
                .collect(),
            enables: Vec::new(),
            d3fend_id: d3fend_id.map(str::to_owned),
            attack_id: attack_id.map(str::to_owned),
            definition: None,
        }
    }

    /// The README's real chain, trimmed: Golden Ticket → Token Binding and Credential Hardening.
    fn golden_ticket() -> Ontology {
        let mut classes = HashMap::new();
        classes.insert("DigitalArtifact".into(), class(&[], &[], None, None));
        classes.insert(
            "Credential".into(),
            class(&["DigitalArtifact"], &[], None, None),
        );
        classes.insert(
            "AccessToken".into(),
            class(&["Credential"], &[], None, None),
        );
        classes.insert(
            "KerberosTicket".into(),
            class(&["AccessToken"], &[], None, None),
        );
        classes.insert(
            "KerberosTicketGrantingTicket".into(),
            OntologyClass {
                label: Some("Kerberos Ticket Granting Ticket".into()),
                ..class(&["KerberosTicket"], &[], None, None)
            },
        );
        classes.insert(
            "Process".into(),
            class(&["DigitalArtifact"], &[], None, None),
        );
        classes.insert("TA0006".into(), class(&[], &[], None, None));
        classes.insert(
            "CredentialAccessTechnique".into(),
            class(
                &[],
                &[("accesses", "Credential"), ("enables", "TA0006")],
                None,
                None,
            ),
        );
        classes.insert(
            "T1558".into(),
            class(
                &["CredentialAccessTechnique"],
                &[("may-access", "KerberosTicket")],
                None,
                Some("T1558"),
            ),
        );
        classes.insert(
            "T1558.001".into(),
            OntologyClass {
                label: Some("Golden Ticket".into()),
                ..class(
                    &["T1558"],
                    &[("forges", "KerberosTicketGrantingTicket")],
                    None,
                    Some("T1558.001"),
                )
            },
        );
        classes.insert("Harden".into(), class(&[], &[], Some("D3-HARDEN"), None));
        classes.insert("Evict".into(), class(&[], &[], None, None));
        classes.insert(
            "CredentialHardening".into(),
            OntologyClass {
                label: Some("Credential Hardening".into()),
                ..class(
                    &["DefensiveTechnique"],
                    &[("enables", "Harden"), ("hardens", "Credential")],
                    Some("D3-CH"),
                    None,
                )
            },
        );
        classes.insert(
            "TokenBinding".into(),
            OntologyClass {
                label: Some("Token Binding".into()),
                definition: Some("Binds tokens.".into()),
                ..class(
                    &["CredentialHardening"],
                    &[("strengthens", "AccessToken")],
                    Some("D3-TB"),
                    None,
                )
            },
        );
        classes.insert(
            "ProcessTermination".into(),
            OntologyClass {
                enables: vec!["Evict".into()],
                ..class(&[], &[("terminates", "Process")], Some("D3-PT"), None)
            },
        );
        classes.insert(
            "Orphan".into(),
            class(&[], &[("analyzes", "Process")], Some("D3-X"), None),
        );
        Ontology { classes }
    }

    fn pairs(derived: &Derived, attack_id: &str) -> Vec<String> {
        derived
            .countermeasures
            .iter()
            .filter(|c| c.attack_id == attack_id)
            .map(|c| c.d3fend_id.clone())
            .collect()
    }

    #[test]
    fn a_technique_meets_the_defences_of_its_artifacts_and_their_superclasses() {
        let derived = derive(&golden_ticket());
        assert_eq!(pairs(&derived, "T1558.001"), ["D3-CH", "D3-TB"]);
        let tb = derived
            .countermeasures
            .iter()
            .find(|c| c.attack_id == "T1558.001" && c.d3fend_id == "D3-TB")
            .unwrap();
        // The nearest artifact first: KerberosTicket (from T1558) is one step from AccessToken,
        // the ticket-granting ticket two.
        assert_eq!(
            tb.links[0],
            ArtifactLink {
                offensive_relation: "may-access".into(),
                offensive_artifact: "KerberosTicket".into(),
                defensive_relation: "strengthens".into(),
                defensive_artifact: "AccessToken".into(),
            }
        );
        assert_eq!(
            tb.links[1].offensive_artifact,
            "Kerberos Ticket Granting Ticket"
        );
        assert_eq!(tb.links.len(), 2);
        // The parent has its own artifact only.
        assert_eq!(pairs(&derived, "T1558"), ["D3-CH", "D3-TB"]);
        assert_eq!(derived.attack_ids, 2);
    }

    #[test]
    fn tactic_classes_add_no_artifacts_and_unrelated_defences_stay_out() {
        let mut ontology = golden_ticket();
        ontology.classes.insert(
            "T1003".into(),
            class(&["CredentialAccessTechnique"], &[], None, Some("T1003")),
        );
        let derived = derive(&ontology);
        // `CredentialAccessTechnique accesses Credential` would link T1003 to D3-CH.
        assert!(pairs(&derived, "T1003").is_empty());
        assert!(!pairs(&derived, "T1558.001").contains(&"D3-PT".to_owned()));
    }

    #[test]
    fn defensive_techniques_take_the_nearest_tactic_and_parent() {
        let derived = derive(&golden_ticket());
        let by_id = |id: &str| {
            derived
                .techniques
                .iter()
                .find(|t| t.d3fend_id == id)
                .cloned()
                .unwrap()
        };
        let tb = by_id("D3-TB");
        assert_eq!(tb.tactic, D3fendTactic::Harden);
        assert_eq!(tb.parent_d3fend_id.as_deref(), Some("D3-CH"));
        assert_eq!(tb.name, "Token Binding");
        assert_eq!(tb.class_name, "TokenBinding");
        assert_eq!(tb.definition, "Binds tokens.");
        assert_eq!(by_id("D3-CH").parent_d3fend_id, None);
        // A direct `enables` assertion counts as much as a restriction.
        assert_eq!(by_id("D3-PT").tactic, D3fendTactic::Evict);
        // Tactics are not techniques; a class with no tactic is reported.
        assert!(
            derived
                .techniques
                .iter()
                .all(|t| t.d3fend_id != "D3-HARDEN")
        );
        assert_eq!(derived.without_tactic, ["D3-X"]);
    }

    #[test]
    fn subclass_cycles_end() {
        let mut ontology = golden_ticket();
        ontology
            .classes
            .get_mut("DigitalArtifact")
            .unwrap()
            .parents
            .push("KerberosTicket".into());
        let derived = derive(&ontology);
        assert_eq!(pairs(&derived, "T1558.001"), ["D3-CH", "D3-TB"]);
    }

    #[test]
    fn tactics_read_from_class_names() {
        assert_eq!(
            D3fendTactic::of_class("Deceive"),
            Some(D3fendTactic::Deceive)
        );
        assert_eq!(D3fendTactic::of_class("deceive"), None);
        assert_eq!(D3fendTactic::ALL.len(), 7);
    }
}
