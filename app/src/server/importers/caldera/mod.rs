//! MITRE CALDERA (the Stockpile plugin's abilities and adversary profiles) into the catalog.
//!
//! One template per ability, keyed by the ability's id: its executors (one per platform and
//! executor) travel in the template's details, the first is the template's command, and
//! creating a test for a platform takes that platform's executor. `#{fact}` variables become
//! input arguments the user fills in. An ability filed under a tactic that ATT&CK does not
//! give its technique is imported and flagged. Each adversary profile becomes the technique
//! set "CALDERA: <name>" (its abilities' techniques, in order), so a campaign can emulate it.
pub mod parse;

use crate::domain::audit::AuditAction;
use crate::domain::sources::CatalogImport;
use crate::dto::catalog::{
    CalderaDetails, InputArgumentDto, SetsWritten, SkippedFile, SourceDetails, TemplateImportReport,
};
use crate::error::AppResult;
use crate::server::entities::{technique, test_template};
use crate::server::importers::templates::{self, UpstreamTemplate, skipped};
use crate::server::importers::{self, Importer, Input, ProgressFn};
use crate::server::knowledge::technique_sets::{self, SetChange};
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use parse::{Ability, Adversary};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

pub const SOURCE: CatalogImport = CatalogImport::Caldera;

/// The prefix of the technique sets written from adversary profiles.
pub const SET_PREFIX: &str = "CALDERA: ";

pub struct ParsedCaldera {
    abilities: Vec<Ability>,
    adversaries: Vec<Adversary>,
    report: TemplateImportReport,
}

pub struct Caldera;

/// The template of one ability; `adversaries` names the profiles that use it.
pub fn template(ability: &Ability, adversaries: Vec<String>) -> UpstreamTemplate {
    let mut facts: Vec<String> = Vec::new();
    for executor in &ability.executors {
        for text in std::iter::once(&executor.command).chain(executor.cleanup.iter()) {
            for fact in templates::placeholders(text) {
                if !facts.contains(&fact) {
                    facts.push(fact);
                }
            }
        }
    }
    let mut platforms: Vec<String> = Vec::new();
    for executor in &ability.executors {
        if !platforms.contains(&executor.platform) {
            platforms.push(executor.platform.clone());
        }
    }
    let first = &ability.executors[0];
    UpstreamTemplate {
        external_id: ability.id.clone(),
        technique_id: ability.technique_id.clone(),
        name: ability.name.clone(),
        description: ability.description.clone(),
        platforms,
        executor_name: Some(parse::executor_name(&first.executor)),
        command: first.command.clone(),
        cleanup_command: first.cleanup.clone(),
        elevation_required: ability
            .privilege
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("elevated")),
        input_arguments: facts
            .into_iter()
            // Left unfilled, a fact stays in the command as CALDERA wrote it.
            .map(|name| InputArgumentDto {
                description: format!("The CALDERA fact {name}: fill in its value"),
                kind: "fact".into(),
                default: format!("#{{{name}}}"),
                name,
            })
            .collect(),
        dependencies: Vec::new(),
        dependency_executor_name: None,
        source_url: SOURCE.source_url(&ability.path),
        details: Some(SourceDetails::Caldera(CalderaDetails {
            path: ability.path.clone(),
            tactic: ability.tactic.clone(),
            technique_name: ability.technique_name.clone(),
            privilege: ability.privilege.clone(),
            executors: ability.executors.clone(),
            requirements: ability.requirements.clone(),
            adversaries,
        })),
        initial_expected_detection: String::new(),
    }
}

impl Importer for Caldera {
    type Parsed = ParsedCaldera;
    type Report = TemplateImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedCaldera> {
        let files = input.into_files()?;
        let mut report = TemplateImportReport {
            files: files.len(),
            ..Default::default()
        };
        let total = files.len();
        let (mut abilities, mut adversaries) = (Vec::new(), Vec::new());
        let (mut ability_ids, mut adversary_ids) = (HashSet::new(), HashSet::new());
        for (done, file) in files.into_iter().enumerate() {
            if file.path.starts_with("data/adversaries/") {
                match parse::adversary(&file.path, &file.text) {
                    Ok(a) if !adversary_ids.insert(a.id.clone()) => report.skipped.push(skipped(
                        file.path,
                        format!("adversary {} is also in another file", a.id),
                    )),
                    Ok(a) => adversaries.push(a),
                    Err(reason) => report.skipped.push(skipped(file.path, reason)),
                }
            } else {
                match parse::abilities(&file.path, &file.text) {
                    Ok(found) => {
                        if let Some(a) = found.iter().find(|a| ability_ids.contains(&a.id)) {
                            report.skipped.push(skipped(
                                file.path,
                                format!("ability {} is also in another file", a.id),
                            ));
                            continue;
                        }
                        ability_ids.extend(found.iter().map(|a| a.id.clone()));
                        abilities.extend(found);
                    }
                    Err(reason) => report.skipped.push(skipped(file.path, reason)),
                }
            }
            importers::report(progress, "Parsing abilities", done + 1, total);
        }
        Ok(ParsedCaldera {
            abilities,
            adversaries,
            report,
        })
    }

    async fn upsert(
        db: &DatabaseConnection,
        actor: &Actor,
        parsed: ParsedCaldera,
        _source: &str,
        progress: ProgressFn<'_>,
    ) -> AppResult<TemplateImportReport> {
        let ParsedCaldera {
            abilities,
            adversaries,
            mut report,
        } = parsed;
        let mut used_by: HashMap<&str, Vec<String>> = HashMap::new();
        for adversary in &adversaries {
            for id in &adversary.abilities {
                let names = used_by.entry(id.as_str()).or_default();
                if !names.contains(&adversary.name) {
                    names.push(adversary.name.clone());
                }
            }
        }
        let txn = begin_write(db).await?;
        // An upload of abilities alone keeps the profiles an earlier import named on each
        // (the details are hashed: they must not change with what else was uploaded).
        let stored_adversaries = if adversaries.is_empty() {
            stored_adversaries(&txn).await?
        } else {
            HashMap::new()
        };
        let written_templates: Vec<UpstreamTemplate> = abilities
            .iter()
            .map(|a| {
                let names = used_by
                    .remove(a.id.as_str())
                    .or_else(|| stored_adversaries.get(&a.id).cloned())
                    .unwrap_or_default();
                template(a, names)
            })
            .collect();
        templates::write(&txn, SOURCE, &written_templates, progress)
            .await?
            .into_report(&mut report);
        let tactics = technique_tactics(&txn, abilities.iter().map(|a| &a.technique_id)).await?;
        report.flagged = abilities
            .iter()
            .filter_map(|a| {
                let reason =
                    tactic_mismatch(&a.tactic, &a.technique_id, tactics.get(&a.technique_id)?)?;
                Some(SkippedFile {
                    path: a.path.clone(),
                    reason,
                })
            })
            .collect();
        if !adversaries.is_empty() {
            // Abilities of earlier imports count too: a profile may be uploaded on its own.
            let mut technique_of: HashMap<String, (String, String)> = test_template::Entity::find()
                .filter(
                    test_template::Column::Source
                        .eq(crate::domain::values::TemplateSource::Caldera),
                )
                .select_only()
                .column(test_template::Column::ExternalId)
                .column(test_template::Column::TechniqueId)
                .column(test_template::Column::Name)
                .into_tuple::<(Option<String>, String, String)>()
                .all(&txn)
                .await?
                .into_iter()
                .filter_map(|(id, technique, name)| Some((id?, (technique, name))))
                .collect();
            for a in &abilities {
                technique_of.insert(a.id.clone(), (a.technique_id.clone(), a.name.clone()));
            }
            let mut sets = SetsWritten::default();
            let mut changed = Vec::new();
            for adversary in &adversaries {
                let mut items: BTreeMap<String, String> = BTreeMap::new();
                for (step, id) in adversary.abilities.iter().enumerate() {
                    let Some((technique, name)) = technique_of.get(id) else {
                        sets.unresolved_references += 1;
                        continue;
                    };
                    let comment = items.entry(technique.clone()).or_default();
                    if !comment.is_empty() {
                        comment.push('\n');
                    }
                    comment.push_str(&format!("{}. {name}", step + 1));
                }
                if items.is_empty() {
                    report.skipped.push(skipped(
                        adversary.path.clone(),
                        format!(
                            "adversary {} uses no ability this catalog holds; no technique set",
                            adversary.name
                        ),
                    ));
                    continue;
                }
                let name = format!("{SET_PREFIX}{}", adversary.name);
                let description = format!(
                    "{}{}CALDERA adversary profile {}.",
                    adversary.description,
                    if adversary.description.is_empty() {
                        ""
                    } else {
                        " "
                    },
                    adversary.id
                );
                match technique_sets::put(&txn, actor.id, &name, &description, &items).await? {
                    SetChange::Added => sets.added += 1,
                    SetChange::Updated => sets.updated += 1,
                    SetChange::Unchanged => {
                        sets.unchanged += 1;
                        continue;
                    }
                }
                changed.push(name);
            }
            if !changed.is_empty() {
                // Technique sets are part of the knowledge base's cached answers.
                audit::record(
                    &txn,
                    actor,
                    AuditRecord::new(
                        AuditAction::TechniqueSetImport,
                        "technique_set",
                        SOURCE.slug(),
                    )
                    .after(json!({ "source": crate::domain::values::TemplateSource::Caldera, "sets": changed })),
                )
                .await?;
            }
            report.technique_sets = Some(sets);
        }
        templates::finish(txn, actor, SOURCE, &report).await?;
        Ok(report)
    }
}

/// Ability id → the adversary profiles the stored template names.
async fn stored_adversaries(
    conn: &impl sea_orm::ConnectionTrait,
) -> AppResult<HashMap<String, Vec<String>>> {
    let rows = test_template::Entity::find()
        .filter(test_template::Column::Source.eq(crate::domain::values::TemplateSource::Caldera))
        .select_only()
        .column(test_template::Column::ExternalId)
        .column(test_template::Column::Details)
        .into_tuple::<(Option<String>, Option<serde_json::Value>)>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, details)| {
            let Ok(SourceDetails::Caldera(details)) = serde_json::from_value(details?) else {
                return None;
            };
            Some((id?, details.adversaries))
        })
        .filter(|(_, names)| !names.is_empty())
        .collect())
}

/// The tactics of the given techniques, as the knowledge base holds them.
async fn technique_tactics<'a>(
    conn: &impl sea_orm::ConnectionTrait,
    ids: impl Iterator<Item = &'a String>,
) -> AppResult<HashMap<String, Vec<String>>> {
    let ids: Vec<String> = ids.cloned().collect::<HashSet<_>>().into_iter().collect();
    let mut tactics = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = technique::Entity::find()
            .select_only()
            .column(technique::Column::MitreId)
            .column(technique::Column::Tactics)
            .filter(technique::Column::MitreId.is_in(chunk.to_vec()))
            .into_tuple::<(String, serde_json::Value)>()
            .all(conn)
            .await?;
        for (id, list) in rows {
            tactics.insert(id, serde_json::from_value(list).unwrap_or_default());
        }
    }
    Ok(tactics)
}

/// Why an ability's tactic is not one ATT&CK gives its technique; `None` when it is (or when
/// the ability names no tactic).
pub fn tactic_mismatch(tactic: &str, technique_id: &str, tactics: &[String]) -> Option<String> {
    if tactic.is_empty() || tactics.is_empty() || tactics.iter().any(|t| t == tactic) {
        return None;
    }
    Some(format!(
        "filed under the tactic {tactic}, which ATT&CK does not give {technique_id} (it gives {})",
        tactics.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tactic_attack_does_not_give_the_technique_is_flagged() {
        let attack = vec![
            "defense-evasion".to_string(),
            "privilege-escalation".to_string(),
        ];
        assert_eq!(
            tactic_mismatch("credential-access", "T1055.001", &attack).as_deref(),
            Some(
                "filed under the tactic credential-access, which ATT&CK does not give T1055.001 \
                 (it gives defense-evasion, privilege-escalation)"
            )
        );
        assert_eq!(
            tactic_mismatch("defense-evasion", "T1055.001", &attack),
            None
        );
        assert_eq!(tactic_mismatch("", "T1055.001", &attack), None);
        assert_eq!(tactic_mismatch("discovery", "T9999", &[]), None);
    }

    #[test]
    fn facts_become_input_arguments_and_the_first_executor_the_command() {
        let abilities = parse::abilities(
            "data/abilities/collection/a.yml",
            r#"
- id: a
  name: Stage
  tactic: collection
  technique: {attack_id: T1074.001, name: Local Data Staging}
  privilege: Elevated
  platforms:
    darwin:
      sh:
        command: 'cp #{host.file.path} #{host.dir.staged}'
        cleanup: 'rm #{host.dir.staged}/x'
    windows:
      psh:
        command: 'Copy-Item #{host.file.path} #{server}'
"#,
        )
        .unwrap();
        let t = template(&abilities[0], vec!["Thief".into()]);
        assert_eq!(t.platforms, vec!["macos", "windows"]);
        assert_eq!(t.executor_name.as_deref(), Some("sh"));
        assert_eq!(t.command, "cp #{host.file.path} #{host.dir.staged}");
        assert!(t.elevation_required);
        let names: Vec<&str> = t.input_arguments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["host.file.path", "host.dir.staged", "server"]);
        assert_eq!(
            t.source_url,
            "https://github.com/mitre/stockpile/blob/master/data/abilities/collection/a.yml"
        );
        let Some(SourceDetails::Caldera(details)) = t.details else {
            panic!("CALDERA details")
        };
        assert_eq!(details.adversaries, vec!["Thief"]);
        assert_eq!(details.executors.len(), 2);
    }
}
