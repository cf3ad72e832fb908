//! Reads an ATT&CK STIX bundle (2.0 or 2.1) into the few shapes Aegis keeps. Only the fields
//! used are deserialized, which keeps the full Enterprise bundle cheap in memory.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    objects: Vec<Object>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: Option<String>,
    description: Option<String>,
    modified: Option<DateTime<Utc>>,
    revoked: bool,
    x_mitre_deprecated: bool,
    x_mitre_version: Option<String>,
    x_mitre_is_subtechnique: bool,
    x_mitre_shortname: Option<String>,
    x_mitre_platforms: Vec<String>,
    x_mitre_data_sources: Vec<String>,
    x_mitre_detection: Option<String>,
    external_references: Vec<ExternalReference>,
    kill_chain_phases: Vec<KillChainPhase>,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
    tactic_refs: Vec<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    x_mitre_analytic_refs: Vec<String>,
    x_mitre_log_source_references: Vec<LogSourceReference>,
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    x_mitre_data_source_ref: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExternalReference {
    source_name: String,
    external_id: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillChainPhase {
    kill_chain_name: String,
    phase_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogSourceReference {
    x_mitre_data_component_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TacticData {
    pub stix_id: String,
    pub mitre_id: String,
    pub shortname: String,
    pub name: String,
    pub description: String,
    pub matrix_order: i32,
    pub url: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueData {
    pub stix_id: String,
    pub mitre_id: String,
    pub parent_mitre_id: Option<String>,
    pub is_subtechnique: bool,
    pub name: String,
    pub description: String,
    pub platforms: Vec<String>,
    /// Tactic shortnames, in the bundle's order.
    pub tactics: Vec<String>,
    pub data_sources: Vec<String>,
    pub detection: String,
    pub url: Option<String>,
    pub version: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActorData {
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub url: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub deprecated: bool,
    pub revoked: bool,
}

/// ATT&CK software: a `malware` or `tool` object.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftwareData {
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    /// `malware` or `tool`.
    pub kind: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub url: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub deprecated: bool,
    pub revoked: bool,
}

/// An ATT&CK mitigation: a `course-of-action` object.
#[derive(Debug, Clone, PartialEq)]
pub struct MitigationData {
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub deprecated: bool,
    pub revoked: bool,
}

/// One of ATT&CK's campaigns: a `campaign` object, the techniques it `uses` and the groups
/// it is `attributed-to`, as ATT&CK ids (sorted; only active relationships to objects the
/// bundle has).
#[derive(Debug, Clone, PartialEq)]
pub struct AttackCampaignData {
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: String,
    pub url: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub techniques: Vec<String>,
    pub actors: Vec<String>,
    pub modified_at: Option<DateTime<Utc>>,
    pub deprecated: bool,
    pub revoked: bool,
}

/// A procedure example: how a group or a piece of software used a technique, in ATT&CK's
/// words (the description of a `uses` relationship).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureData {
    pub relationship_id: String,
    /// The group or software, e.g. "APT29" or "Cobalt Strike".
    pub user: String,
    pub technique_stix_id: String,
    pub description: String,
}

/// One of ATT&CK's data components (`x-mitre-data-component`, DC…), with its data source's
/// name where the bundle links one (v18 no longer does).
#[derive(Debug, Clone, PartialEq)]
pub struct DataComponentData {
    pub stix_id: String,
    pub mitre_id: String,
    pub name: String,
    pub description: String,
    pub data_source: String,
    pub deprecated: bool,
    pub revoked: bool,
}

/// Everything Aegis takes from one bundle.
#[derive(Debug, Default)]
pub struct AttackData {
    pub tactics: Vec<TacticData>,
    pub techniques: Vec<TechniqueData>,
    pub actors: Vec<ActorData>,
    pub software: Vec<SoftwareData>,
    pub mitigations: Vec<MitigationData>,
    /// (mitigation STIX id, technique STIX id, ATT&CK's text) of active `mitigates`.
    pub mitigates: Vec<(String, String, String)>,
    /// (actor STIX id, technique STIX id) from `uses` relationships.
    pub actor_uses: Vec<(String, String)>,
    pub procedures: Vec<ProcedureData>,
    pub campaigns: Vec<AttackCampaignData>,
    pub data_components: Vec<DataComponentData>,
    /// (technique ATT&CK id, data component ATT&CK id) of every active technique: in v18
    /// through its detection strategies' analytics' log sources, in older bundles through
    /// the components' `detects` relationships, and in the oldest through the technique's
    /// own `x_mitre_data_sources` ("Source: Component").
    pub technique_components: Vec<(String, String)>,
    /// (revoked technique, the technique that replaces it), by ATT&CK id, from `revoked-by`.
    pub revoked_by: Vec<(String, String)>,
}

pub fn parse_bundle(bytes: &[u8]) -> Result<AttackData, AppError> {
    let bundle: Bundle = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            AppError::BadRequest(format!(
                "The file is truncated: JSON ends early at line {}",
                e.line()
            ))
        } else if e.is_syntax() {
            AppError::BadRequest(format!(
                "The file is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        } else {
            AppError::BadRequest(format!("The file is not a STIX bundle: {e}"))
        }
    })?;
    if bundle.kind != "bundle" {
        return Err(AppError::BadRequest(format!(
            "The file is not a STIX bundle: its type is '{}', expected 'bundle'",
            bundle.kind
        )));
    }
    let data = extract(bundle.objects);
    if data.techniques.is_empty() {
        return Err(AppError::BadRequest(
            "The STIX bundle holds no ATT&CK techniques (attack-pattern objects with an ATT&CK id)"
                .into(),
        ));
    }
    Ok(data)
}

fn attack_reference(object: &Object) -> Option<(&str, Option<&str>)> {
    object
        .external_references
        .iter()
        .find(|r| r.source_name == "mitre-attack")
        .and_then(|r| {
            r.external_id.as_deref().map(|id| {
                // A crafted bundle must not plant `javascript:` links: only safe URLs are kept.
                let url = r
                    .url
                    .as_deref()
                    .filter(|u| crate::domain::validation::is_safe_link(u));
                (id, url)
            })
        })
}

fn extract(objects: Vec<Object>) -> AttackData {
    let mut data = AttackData::default();
    let mut matrix_order: HashMap<String, i32> = HashMap::new();
    let mut data_component_names: HashMap<String, String> = HashMap::new();
    let mut data_source_names: HashMap<String, String> = HashMap::new();
    let mut components: Vec<Object> = Vec::new();
    let mut revocations: Vec<(String, String)> = Vec::new();
    // Technique STIX id → data component STIX ids.
    let mut component_ids: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut analytic_components: HashMap<String, Vec<String>> = HashMap::new();
    let mut strategies: HashMap<String, (String, Vec<String>)> = HashMap::new();
    let mut detects: Vec<(String, String)> = Vec::new();
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    // Groups and software by STIX id (active ones), and the `uses` that describe a procedure.
    let mut users: HashMap<String, String> = HashMap::new();
    let mut procedures: Vec<(String, String, String, String)> = Vec::new();
    // Campaigns, and (campaign, technique or group) of their active relationships.
    let mut campaigns = Vec::new();
    let mut campaign_links: Vec<(String, String)> = Vec::new();

    for object in objects {
        if matches!(object.kind.as_str(), "intrusion-set" | "malware" | "tool")
            && !object.revoked
            && !object.x_mitre_deprecated
            && let Some(name) = &object.name
        {
            users.insert(object.id.clone(), name.clone());
        }
        match object.kind.as_str() {
            "x-mitre-matrix" => {
                for (i, tactic) in object.tactic_refs.iter().enumerate() {
                    matrix_order.entry(tactic.clone()).or_insert(i as i32);
                }
            }
            "x-mitre-tactic" => tactics.push(object),
            "campaign" => campaigns.push(object),
            "attack-pattern" => techniques.push(object),
            "intrusion-set" => {
                if let Some((mitre_id, url)) = attack_reference(&object) {
                    data.actors.push(ActorData {
                        mitre_id: mitre_id.to_owned(),
                        url: url.map(str::to_owned),
                        stix_id: object.id,
                        name: object.name.unwrap_or_default(),
                        aliases: object.aliases,
                        description: object.description.unwrap_or_default(),
                        modified_at: object.modified,
                        deprecated: object.x_mitre_deprecated,
                        revoked: object.revoked,
                    });
                }
            }
            "course-of-action" => {
                if let Some((mitre_id, url)) = attack_reference(&object) {
                    data.mitigations.push(MitigationData {
                        mitre_id: mitre_id.to_owned(),
                        url: url.map(str::to_owned),
                        stix_id: object.id,
                        name: object.name.unwrap_or_default(),
                        description: object.description.unwrap_or_default(),
                        modified_at: object.modified,
                        deprecated: object.x_mitre_deprecated,
                        revoked: object.revoked,
                    });
                }
            }
            "malware" | "tool" => {
                if let Some((mitre_id, url)) = attack_reference(&object) {
                    data.software.push(SoftwareData {
                        mitre_id: mitre_id.to_owned(),
                        url: url.map(str::to_owned),
                        stix_id: object.id,
                        name: object.name.unwrap_or_default(),
                        kind: object.kind.clone(),
                        aliases: object.x_mitre_aliases,
                        description: object.description.unwrap_or_default(),
                        modified_at: object.modified,
                        deprecated: object.x_mitre_deprecated,
                        revoked: object.revoked,
                    });
                }
            }
            "x-mitre-data-component" => {
                data_component_names
                    .insert(object.id.clone(), object.name.clone().unwrap_or_default());
                components.push(object);
            }
            "x-mitre-data-source" => {
                data_source_names.insert(object.id, object.name.unwrap_or_default());
            }
            "x-mitre-analytic" => {
                let refs = object
                    .x_mitre_log_source_references
                    .into_iter()
                    .filter_map(|r| r.x_mitre_data_component_ref)
                    .collect();
                analytic_components.insert(object.id, refs);
            }
            "x-mitre-detection-strategy" => {
                strategies.insert(
                    object.id,
                    (
                        object.name.unwrap_or_default(),
                        object.x_mitre_analytic_refs,
                    ),
                );
            }
            "relationship" => {
                let (Some(source), Some(target)) = (object.source_ref, object.target_ref) else {
                    continue;
                };
                let active = !object.revoked && !object.x_mitre_deprecated;
                if object.relationship_type.as_deref() == Some("uses")
                    && active
                    && target.starts_with("attack-pattern--")
                    && (source.starts_with("intrusion-set--")
                        || source.starts_with("malware--")
                        || source.starts_with("tool--"))
                    && let Some(description) = object
                        .description
                        .as_deref()
                        .filter(|d| !d.trim().is_empty())
                {
                    procedures.push((
                        object.id.clone(),
                        source.clone(),
                        target.clone(),
                        description.to_owned(),
                    ));
                }
                if active
                    && source.starts_with("campaign--")
                    && ((object.relationship_type.as_deref() == Some("uses")
                        && target.starts_with("attack-pattern--"))
                        || (object.relationship_type.as_deref() == Some("attributed-to")
                            && target.starts_with("intrusion-set--")))
                {
                    campaign_links.push((source.clone(), target.clone()));
                }
                match object.relationship_type.as_deref() {
                    // Revoked or deprecated relationships no longer hold.
                    Some("uses")
                        if source.starts_with("intrusion-set--")
                            && target.starts_with("attack-pattern--")
                            && active =>
                    {
                        data.actor_uses.push((source, target));
                    }
                    Some("revoked-by")
                        if source.starts_with("attack-pattern--")
                            && target.starts_with("attack-pattern--") =>
                    {
                        revocations.push((source, target));
                    }
                    Some("detects") if target.starts_with("attack-pattern--") => {
                        detects.push((source, target))
                    }
                    Some("mitigates")
                        if source.starts_with("course-of-action--")
                            && target.starts_with("attack-pattern--")
                            && active =>
                    {
                        data.mitigates.push((
                            source,
                            target,
                            object.description.clone().unwrap_or_default(),
                        ));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    data.procedures = procedures
        .into_iter()
        .filter_map(|(relationship_id, source, target, description)| {
            Some(ProcedureData {
                relationship_id,
                user: users.get(&source)?.clone(),
                technique_stix_id: target,
                description,
            })
        })
        .collect();

    // ATT&CK v18 links detections through strategies → analytics → data components.
    let mut strategy_names: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut component_names: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (source, technique) in detects {
        if let Some((name, analytics)) = strategies.get(&source) {
            strategy_names
                .entry(technique.clone())
                .or_default()
                .insert(name.clone());
            for analytic in analytics {
                for component in analytic_components.get(analytic).into_iter().flatten() {
                    if data_component_names.contains_key(component) {
                        component_ids
                            .entry(technique.clone())
                            .or_default()
                            .insert(component.clone());
                    }
                    if let Some(name) = data_component_names.get(component) {
                        component_names
                            .entry(technique.clone())
                            .or_default()
                            .insert(name.clone());
                    }
                }
            }
        } else if let Some(name) = data_component_names.get(&source) {
            component_ids
                .entry(technique.clone())
                .or_default()
                .insert(source.clone());
            component_names
                .entry(technique)
                .or_default()
                .insert(name.clone());
        }
    }

    let fallback_order = matrix_order.len() as i32;
    for object in tactics {
        let Some((mitre_id, url)) = attack_reference(&object) else {
            continue;
        };
        let (mitre_id, url) = (mitre_id.to_owned(), url.map(str::to_owned));
        data.tactics.push(TacticData {
            matrix_order: matrix_order
                .get(&object.id)
                .copied()
                .unwrap_or(fallback_order),
            mitre_id,
            url,
            stix_id: object.id,
            shortname: object.x_mitre_shortname.unwrap_or_default(),
            name: object.name.unwrap_or_default(),
            description: object.description.unwrap_or_default(),
            modified_at: object.modified,
        });
    }
    data.tactics
        .sort_by(|a, b| (a.matrix_order, &a.mitre_id).cmp(&(b.matrix_order, &b.mitre_id)));

    for object in techniques {
        let Some((mitre_id, url)) = attack_reference(&object) else {
            continue;
        };
        let (mitre_id, url) = (mitre_id.to_owned(), url.map(str::to_owned));
        let is_subtechnique = object.x_mitre_is_subtechnique || mitre_id.contains('.');
        let parent_mitre_id =
            is_subtechnique.then(|| mitre_id.split('.').next().unwrap_or_default().to_owned());
        let mut data_sources: Vec<String> = object.x_mitre_data_sources;
        data_sources.extend(component_names.remove(&object.id).unwrap_or_default());
        data_sources.sort();
        data_sources.dedup();
        let detection = match object.x_mitre_detection.filter(|d| !d.trim().is_empty()) {
            Some(text) => text,
            None => strategy_names
                .remove(&object.id)
                .map(|names| names.into_iter().collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
        };
        data.techniques.push(TechniqueData {
            mitre_id,
            url,
            parent_mitre_id,
            is_subtechnique,
            stix_id: object.id,
            name: object.name.unwrap_or_default(),
            description: object.description.unwrap_or_default(),
            platforms: object.x_mitre_platforms,
            tactics: object
                .kill_chain_phases
                .into_iter()
                .filter(|p| p.kill_chain_name == "mitre-attack")
                .map(|p| p.phase_name)
                .collect(),
            data_sources,
            detection,
            version: object.x_mitre_version,
            modified_at: object.modified,
            deprecated: object.x_mitre_deprecated,
            revoked: object.revoked,
        });
    }

    // Data components, and which active techniques each can detect.
    let mut component_attack_ids: HashMap<String, String> = HashMap::new();
    let mut component_by_name: HashMap<String, String> = HashMap::new();
    for object in components {
        let Some((mitre_id, _)) = attack_reference(&object) else {
            continue;
        };
        let mitre_id = mitre_id.to_owned();
        let active = !object.revoked && !object.x_mitre_deprecated;
        let name = object.name.unwrap_or_default();
        if active {
            component_attack_ids.insert(object.id.clone(), mitre_id.clone());
            component_by_name.insert(name.to_lowercase(), mitre_id.clone());
        }
        data.data_components.push(DataComponentData {
            data_source: object
                .x_mitre_data_source_ref
                .as_ref()
                .and_then(|r| data_source_names.get(r))
                .cloned()
                .unwrap_or_default(),
            stix_id: object.id,
            mitre_id,
            name,
            description: object.description.unwrap_or_default(),
            deprecated: object.x_mitre_deprecated,
            revoked: object.revoked,
        });
    }
    data.data_components
        .sort_by(|a, b| a.mitre_id.cmp(&b.mitre_id));
    let mut links: BTreeSet<(String, String)> = BTreeSet::new();
    for t in data.techniques.iter().filter(|t| t.is_active()) {
        let linked: Vec<&String> = component_ids
            .get(&t.stix_id)
            .into_iter()
            .flatten()
            .filter_map(|c| component_attack_ids.get(c))
            .collect();
        if linked.is_empty() {
            // The oldest form: "Process: Process Creation" on the technique itself.
            for source in &t.data_sources {
                let component = source.rsplit_once(':').map_or(source.as_str(), |(_, c)| c);
                if let Some(id) = component_by_name.get(&component.trim().to_lowercase()) {
                    links.insert((t.mitre_id.clone(), id.clone()));
                }
            }
        }
        for id in linked {
            links.insert((t.mitre_id.clone(), id.clone()));
        }
    }
    data.technique_components = links.into_iter().collect();
    let every_id: HashMap<&str, &str> = data
        .techniques
        .iter()
        .map(|t| (t.stix_id.as_str(), t.mitre_id.as_str()))
        .collect();
    let mut revoked: BTreeSet<(String, String)> = BTreeSet::new();
    for (source, target) in &revocations {
        if let (Some(old), Some(new)) =
            (every_id.get(source.as_str()), every_id.get(target.as_str()))
            && old != new
        {
            revoked.insert(((*old).to_owned(), (*new).to_owned()));
        }
    }
    data.revoked_by = revoked.into_iter().collect();

    // Campaign links by ATT&CK id: active techniques and groups only.
    let mut attack_ids: HashMap<&str, &str> = HashMap::new();
    for t in data.techniques.iter().filter(|t| t.is_active()) {
        attack_ids.insert(&t.stix_id, &t.mitre_id);
    }
    for a in data.actors.iter().filter(|a| !a.deprecated && !a.revoked) {
        attack_ids.insert(&a.stix_id, &a.mitre_id);
    }
    let mut linked: HashMap<String, (BTreeSet<String>, BTreeSet<String>)> = HashMap::new();
    for (campaign, target) in &campaign_links {
        if let Some(id) = attack_ids.get(target.as_str()) {
            let entry = linked.entry(campaign.clone()).or_default();
            if target.starts_with("attack-pattern--") {
                entry.0.insert((*id).to_owned());
            } else {
                entry.1.insert((*id).to_owned());
            }
        }
    }
    for object in campaigns {
        let Some((mitre_id, url)) = attack_reference(&object) else {
            continue;
        };
        let (mitre_id, url) = (mitre_id.to_owned(), url.map(str::to_owned));
        let (techniques, actors) = linked.remove(&object.id).unwrap_or_default();
        data.campaigns.push(AttackCampaignData {
            mitre_id,
            url,
            stix_id: object.id,
            name: object.name.unwrap_or_default(),
            aliases: object.aliases,
            description: object.description.unwrap_or_default(),
            first_seen: object.first_seen,
            last_seen: object.last_seen,
            techniques: techniques.into_iter().collect(),
            actors: actors.into_iter().collect(),
            modified_at: object.modified,
            deprecated: object.x_mitre_deprecated,
            revoked: object.revoked,
        });
    }
    data.campaigns.sort_by(|a, b| a.mitre_id.cmp(&b.mitre_id));
    data
}

impl TechniqueData {
    pub fn is_active(&self) -> bool {
        !self.deprecated && !self.revoked
    }
}
