//! Control frameworks mapped onto ATT&CK, from the Center for Threat-Informed Defense's
//! mapping JSON (the Mappings Explorer's unified schema: `{metadata, mapping_objects[]}`):
//! NIST SP 800-53 rev 5, CSA CCM 4.1 and any other framework in that schema.
//!
//! The caveats of the real files are handled here: control ids are normalised
//! (`domain::compliance::control_id`: NIST's `AC-02` is `AC-2`); `non_mappable` rows have a
//! null on one side or the other (a technique with no control in NIST, a control with no
//! technique in CSA CCM) and are counted, the control kept when it has one; repeated pairs are
//! read once; techniques ATT&CK has revoked since the mapping's release move to their
//! replacement (`technique_revocations`), and techniques the knowledge base does not hold are
//! reported and left out. Idempotent per (framework, version).
use crate::domain::audit::AuditAction;
use crate::domain::compliance::{
    CONTROL_ID_MAX, CONTROL_NAME_MAX, FAMILY_MAX, control_id, family_of, framework_name,
};
use crate::dto::compliance::ComplianceImportReport;
use crate::error::{AppError, AppResult};
use crate::server::entities::{
    compliance_control, compliance_framework, compliance_mapping, technique, technique_revocation,
};
use crate::server::importers::{Counts, ImportReport, Importer, Input, ProgressFn, report};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// Most rows a file may hold.
pub const ROWS_MAX: usize = 200_000;
const COMMENTS_MAX: usize = 4_000;
const KEY_MAX: usize = 100;

#[derive(Deserialize)]
struct MappingFile {
    metadata: Metadata,
    mapping_objects: Vec<MappingObject>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metadata {
    attack_version: Option<String>,
    technology_domain: Option<String>,
    mapping_framework: Option<String>,
    mapping_framework_version: Option<String>,
    capability_groups: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MappingObject {
    capability_id: Option<String>,
    capability_description: Option<String>,
    capability_group: Option<String>,
    mapping_type: Option<String>,
    attack_object_id: Option<String>,
    status: Option<String>,
    comments: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedControl {
    pub control_id: String,
    pub name: String,
    pub family: String,
    pub family_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMapping {
    pub control_id: String,
    pub technique: String,
    pub mapping_type: String,
    pub comments: String,
}

/// A framework's mapping, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedFramework {
    pub key: String,
    pub version: String,
    pub attack_version: String,
    pub domain: String,
    pub rows: u64,
    pub controls: Vec<ParsedControl>,
    pub mappings: Vec<ParsedMapping>,
    pub duplicates: u64,
    pub non_mappable: u64,
}

fn bounded(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

fn is_technique_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, ""));
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && (sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())))
}

/// Reads a mapping file. A file that is not in the schema says what is wrong.
pub fn parse(bytes: &[u8]) -> AppResult<ParsedFramework> {
    let file: MappingFile = serde_json::from_slice(bytes).map_err(|e| {
        AppError::BadRequest(format!(
            "Not a mapping file in the CTID schema ({{metadata, mapping_objects}}): {e}"
        ))
    })?;
    let meta = file.metadata;
    let key = meta
        .mapping_framework
        .as_deref()
        .map(|k| bounded(k, KEY_MAX).to_lowercase())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            AppError::BadRequest(
                "metadata.mapping_framework is missing: which framework is this?".into(),
            )
        })?;
    let version = meta
        .mapping_framework_version
        .as_deref()
        .map(|v| bounded(v, 64))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            AppError::BadRequest("metadata.mapping_framework_version is missing".into())
        })?;
    if file.mapping_objects.len() > ROWS_MAX {
        return Err(AppError::BadRequest(format!(
            "The file has {} mappings; at most {ROWS_MAX} are read",
            file.mapping_objects.len()
        )));
    }
    let mut out = ParsedFramework {
        key,
        version,
        attack_version: bounded(meta.attack_version.as_deref().unwrap_or(""), 32),
        domain: bounded(
            meta.technology_domain.as_deref().unwrap_or("enterprise"),
            64,
        ),
        rows: file.mapping_objects.len() as u64,
        ..Default::default()
    };
    let mut controls: BTreeMap<String, ParsedControl> = BTreeMap::new();
    let mut pairs: HashSet<(String, String)> = HashSet::new();
    for (row, object) in file.mapping_objects.into_iter().enumerate() {
        let non_mappable = object.status.as_deref() == Some("non_mappable")
            || object.mapping_type.as_deref() == Some("non_mappable");
        if non_mappable {
            out.non_mappable += 1;
        }
        let control = object
            .capability_id
            .as_deref()
            .map(control_id)
            .filter(|c| !c.is_empty());
        if let Some(id) = &control {
            if id.chars().count() > CONTROL_ID_MAX {
                return Err(AppError::BadRequest(format!(
                    "mapping_objects[{row}]: the control id is longer than {CONTROL_ID_MAX} characters"
                )));
            }
            let family = object
                .capability_group
                .as_deref()
                .map(|g| bounded(g, FAMILY_MAX))
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| family_of(id));
            let family_name = meta
                .capability_groups
                .get(&family)
                .map(|n| bounded(n, 300))
                .unwrap_or_else(|| family.clone());
            let name = bounded(
                object.capability_description.as_deref().unwrap_or(""),
                CONTROL_NAME_MAX,
            );
            let entry = controls.entry(id.clone()).or_insert(ParsedControl {
                control_id: id.clone(),
                name: name.clone(),
                family,
                family_name,
            });
            if entry.name.is_empty() {
                entry.name = name;
            }
        }
        if non_mappable {
            continue;
        }
        let (Some(control), Some(technique)) = (control, object.attack_object_id) else {
            continue;
        };
        let technique = technique.trim().to_uppercase();
        if !is_technique_id(&technique) {
            return Err(AppError::BadRequest(format!(
                "mapping_objects[{row}]: '{}' is not an ATT&CK technique id",
                technique.chars().take(40).collect::<String>()
            )));
        }
        if !pairs.insert((control.clone(), technique.clone())) {
            out.duplicates += 1;
            continue;
        }
        out.mappings.push(ParsedMapping {
            control_id: control,
            technique,
            mapping_type: bounded(object.mapping_type.as_deref().unwrap_or("mitigates"), 64),
            comments: bounded(object.comments.as_deref().unwrap_or(""), COMMENTS_MAX),
        });
    }
    if controls.is_empty() {
        return Err(AppError::BadRequest(
            "The file maps no control: mapping_objects has no capability_id".into(),
        ));
    }
    out.controls = controls.into_values().collect();
    Ok(out)
}

pub struct ComplianceMapping;

impl Importer for ComplianceMapping {
    type Parsed = ParsedFramework;
    type Report = ComplianceImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedFramework> {
        let bytes = input.into_bytes()?;
        report(progress, "Reading the mapping", 0, 1);
        parse(&bytes)
    }

    async fn upsert<'a>(
        db: &'a DatabaseConnection,
        actor: &'a Actor,
        parsed: ParsedFramework,
        source: &'a str,
        progress: ProgressFn<'a>,
    ) -> AppResult<ComplianceImportReport> {
        write(db, actor, parsed, source, progress).await
    }
}

/// Writes the framework, its controls (by id) and its mappings (replacing the framework's
/// previous ones) in one transaction with one audit entry.
pub async fn write(
    db: &DatabaseConnection,
    actor: &Actor,
    parsed: ParsedFramework,
    source: &str,
    progress: ProgressFn<'_>,
) -> AppResult<ComplianceImportReport> {
    let txn = begin_write(db).await?;
    let name = framework_name(&parsed.key);
    let mut out = ComplianceImportReport {
        key: parsed.key.clone(),
        name: name.clone(),
        version: parsed.version.clone(),
        attack_version: parsed.attack_version.clone(),
        rows: parsed.rows,
        duplicates: parsed.duplicates,
        non_mappable: parsed.non_mappable,
        ..Default::default()
    };
    let existing = compliance_framework::Entity::find()
        .filter(compliance_framework::Column::Key.eq(parsed.key.clone()))
        .filter(compliance_framework::Column::Version.eq(parsed.version.clone()))
        .one(&txn)
        .await?;
    let now = Utc::now();
    let framework_id = match existing {
        Some(f) => {
            let mut row = f.clone().into_active_model();
            row.attack_version = Set(parsed.attack_version.clone());
            row.domain = Set(parsed.domain.clone());
            row.source = Set(source.to_owned());
            row.imported_at = Set(now);
            row.update(&txn).await?;
            f.id
        }
        None => {
            let id = Uuid::new_v4();
            compliance_framework::ActiveModel {
                id: Set(id),
                key: Set(parsed.key.clone()),
                name: Set(name),
                version: Set(parsed.version.clone()),
                attack_version: Set(parsed.attack_version.clone()),
                domain: Set(parsed.domain.clone()),
                source: Set(source.to_owned()),
                imported_at: Set(now),
            }
            .insert(&txn)
            .await?;
            id
        }
    };
    out.framework_id = framework_id;

    report(progress, "Writing controls", 0, parsed.controls.len());
    let old_controls: HashMap<String, compliance_control::Model> =
        compliance_control::Entity::find()
            .filter(compliance_control::Column::FrameworkId.eq(framework_id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| (c.control_id.clone(), c))
            .collect();
    let mut control_ids: HashMap<String, Uuid> = HashMap::new();
    for c in &parsed.controls {
        match old_controls.get(&c.control_id) {
            Some(old) => {
                control_ids.insert(c.control_id.clone(), old.id);
                if old.name != c.name || old.family != c.family || old.family_name != c.family_name
                {
                    let mut row = old.clone().into_active_model();
                    row.name = Set(c.name.clone());
                    row.family = Set(c.family.clone());
                    row.family_name = Set(c.family_name.clone());
                    row.update(&txn).await?;
                    out.controls_updated += 1;
                } else {
                    out.controls_unchanged += 1;
                }
            }
            None => {
                let id = Uuid::new_v4();
                control_ids.insert(c.control_id.clone(), id);
                compliance_control::ActiveModel {
                    id: Set(id),
                    framework_id: Set(framework_id),
                    control_id: Set(c.control_id.clone()),
                    name: Set(c.name.clone()),
                    family: Set(c.family.clone()),
                    family_name: Set(c.family_name.clone()),
                }
                .insert(&txn)
                .await?;
                out.controls_added += 1;
            }
        }
    }
    // Controls the file no longer has go, with their mappings.
    let gone: Vec<Uuid> = old_controls
        .values()
        .filter(|c| !control_ids.contains_key(&c.control_id))
        .map(|c| c.id)
        .collect();

    // Resolve the techniques against the knowledge base.
    let active: HashSet<String> = technique::Entity::find()
        .select_only()
        .column(technique::Column::MitreId)
        .filter(technique::Column::Deprecated.eq(false))
        .filter(technique::Column::Revoked.eq(false))
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let revoked: HashMap<String, String> = technique_revocation::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.mitre_id, r.revoked_by))
        .collect();
    let mut resolved: BTreeSet<String> = BTreeSet::new();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    let mut wanted: BTreeMap<(Uuid, String), (String, String)> = BTreeMap::new();
    for m in parsed.mappings {
        let Some(&control) = control_ids.get(&m.control_id) else {
            continue;
        };
        let technique = if active.contains(&m.technique) {
            m.technique
        } else {
            // Follow revoked-by (a replacement can itself be revoked later).
            let mut current = m.technique.clone();
            let mut hops = 0;
            while let Some(next) = revoked.get(&current) {
                current = next.clone();
                hops += 1;
                if hops > 5 || active.contains(&current) {
                    break;
                }
            }
            if active.contains(&current) {
                resolved.insert(format!("{} → {current}", m.technique));
                current
            } else {
                unknown.insert(m.technique);
                continue;
            }
        };
        // Two ids resolving to one technique make one mapping.
        wanted
            .entry((control, technique))
            .or_insert((m.mapping_type, m.comments));
    }
    out.revoked_resolved = resolved.into_iter().collect();
    out.unknown_techniques = unknown.into_iter().collect();

    report(progress, "Writing mappings", 0, wanted.len());
    let all_controls: Vec<Uuid> = old_controls.values().map(|c| c.id).collect();
    let mut existing: HashMap<(Uuid, String), (String, String)> = HashMap::new();
    for chunk in all_controls.chunks(500) {
        for m in compliance_mapping::Entity::find()
            .filter(compliance_mapping::Column::ControlId.is_in(chunk.to_vec()))
            .all(&txn)
            .await?
        {
            existing.insert((m.control_id, m.technique_id), (m.mapping_type, m.comments));
        }
    }
    let mut inserts = Vec::new();
    for ((control, technique), (mapping_type, comments)) in &wanted {
        match existing.remove(&(*control, technique.clone())) {
            Some(old) if old == (mapping_type.clone(), comments.clone()) => {
                out.mappings_unchanged += 1;
            }
            Some(_) => {
                compliance_mapping::ActiveModel {
                    control_id: Set(*control),
                    technique_id: Set(technique.clone()),
                    mapping_type: Set(mapping_type.clone()),
                    comments: Set(comments.clone()),
                }
                .update(&txn)
                .await?;
                out.mappings_unchanged += 1;
            }
            None => {
                inserts.push(compliance_mapping::ActiveModel {
                    control_id: Set(*control),
                    technique_id: Set(technique.clone()),
                    mapping_type: Set(mapping_type.clone()),
                    comments: Set(comments.clone()),
                });
                out.mappings_added += 1;
            }
        }
    }
    let mut rows = inserts.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        compliance_mapping::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    // What is left of the old pairs is no longer mapped.
    for (control, technique) in existing.into_keys() {
        compliance_mapping::Entity::delete_many()
            .filter(compliance_mapping::Column::ControlId.eq(control))
            .filter(compliance_mapping::Column::TechniqueId.eq(technique))
            .exec(&txn)
            .await?;
        out.mappings_removed += 1;
    }
    for chunk in gone.chunks(500) {
        compliance_mapping::Entity::delete_many()
            .filter(compliance_mapping::Column::ControlId.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
        compliance_control::Entity::delete_many()
            .filter(compliance_control::Column::Id.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        actor,
        AuditRecord::new(
            AuditAction::ComplianceImport,
            "compliance_framework",
            framework_id,
        )
        .after(serde_json::json!({ "source": source, "report": &out })),
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

impl ImportReport for ComplianceImportReport {
    fn counts(&self) -> Counts {
        Counts {
            added: (self.controls_added + self.mappings_added) as usize,
            updated: (self.controls_updated + self.mappings_removed) as usize,
            unchanged: (self.controls_unchanged + self.mappings_unchanged) as usize,
            skipped: self
                .unknown_techniques
                .iter()
                .map(|t| crate::dto::catalog::SkippedFile {
                    path: t.clone(),
                    reason: "not in the knowledge base".into(),
                })
                .collect(),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "{} {} (ATT&CK {}): {} rows; controls {} added, {} updated, {} unchanged.",
                self.name,
                self.version,
                self.attack_version,
                self.rows,
                self.controls_added,
                self.controls_updated,
                self.controls_unchanged
            ),
            format!(
                "Mappings {} added, {} removed, {} unchanged; {} repeated rows, {} non-mappable.",
                self.mappings_added,
                self.mappings_removed,
                self.mappings_unchanged,
                self.duplicates,
                self.non_mappable
            ),
        ];
        if !self.revoked_resolved.is_empty() {
            lines.push(format!(
                "Revoked techniques moved to their replacement: {}.",
                self.revoked_resolved.join(", ")
            ));
        }
        if !self.unknown_techniques.is_empty() {
            lines.push(format!(
                "Not in the knowledge base (left out): {}.",
                self.unknown_techniques.join(", ")
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "metadata": {"attack_version": "16.1", "technology_domain": "enterprise",
        "mapping_framework": "nist_800_53", "mapping_framework_version": "rev5",
        "capability_groups": {"AC": "Access Control", "CM": "Configuration Management"}},
      "mapping_objects": [
        {"capability_id": "AC-02", "capability_description": "Account Management", "capability_group": "AC",
         "mapping_type": "mitigates", "attack_object_id": "T1078", "status": "complete", "comments": "c", "references": []},
        {"capability_id": "AC-02", "capability_description": "Account Management", "capability_group": "AC",
         "mapping_type": "mitigates", "attack_object_id": "T1078", "status": "complete"},
        {"capability_id": "CM-10", "capability_description": "Software Usage Restrictions", "capability_group": "CM",
         "mapping_type": "mitigates", "attack_object_id": "T1059.001", "status": "complete"},
        {"capability_id": null, "capability_group": null, "mapping_type": null,
         "attack_object_id": "T1001", "status": "non_mappable", "comments": "no mitiigations in att&ck"},
        {"capability_id": "CM-02", "capability_description": "Baseline Configuration", "capability_group": "CM",
         "mapping_type": "non_mappable", "attack_object_id": null, "status": "non_mappable"}
      ]}"#;

    #[test]
    fn reads_the_ctid_schema_with_its_caveats() {
        let parsed = parse(FILE.as_bytes()).unwrap();
        assert_eq!(parsed.key, "nist_800_53");
        assert_eq!(parsed.version, "rev5");
        assert_eq!(parsed.attack_version, "16.1");
        assert_eq!(parsed.rows, 5);
        assert_eq!(parsed.duplicates, 1);
        assert_eq!(parsed.non_mappable, 2);
        let ids: Vec<&str> = parsed
            .controls
            .iter()
            .map(|c| c.control_id.as_str())
            .collect();
        assert_eq!(ids, ["AC-2", "CM-10", "CM-2"]);
        assert_eq!(parsed.controls[0].family_name, "Access Control");
        assert_eq!(parsed.mappings.len(), 2);
        assert_eq!(parsed.mappings[0].technique, "T1078");
        assert_eq!(parsed.mappings[0].comments, "c");
    }

    #[test]
    fn refuses_what_is_not_a_mapping() {
        for bad in [
            "not json",
            r#"{"metadata": {}, "mapping_objects": []}"#,
            r#"{"metadata": {"mapping_framework": "x"}, "mapping_objects": []}"#,
            r#"{"metadata": {"mapping_framework": "x", "mapping_framework_version": "1"}, "mapping_objects": []}"#,
            r#"{"metadata": {"mapping_framework": "x", "mapping_framework_version": "1"}, "mapping_objects": [{"capability_id": "A-1", "attack_object_id": "DROP TABLE"}]}"#,
        ] {
            let err = parse(bad.as_bytes()).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}: {err:?}");
        }
        assert!(is_technique_id("T1059") && is_technique_id("T1059.001"));
        assert!(
            !is_technique_id("T105") && !is_technique_id("T1059.1") && !is_technique_id("S0001")
        );
    }
}
