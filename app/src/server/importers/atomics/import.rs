//! The Atomic Red Team importer: atomics into the catalog, idempotent, keyed by each
//! atomic's GUID, in one transaction with its audit entry. A re-import updates what changed
//! upstream and keeps the admins' local fields (active flag, severity, expected detection,
//! tools, remediation steps). A malformed file is skipped with its path and line; the rest
//! goes on. Sources (directories, archives, uploads) are in `source`.
use super::parse::{AtomicFile, AtomicTest, parse_atomic_file};
use crate::domain::audit::AuditAction;
use crate::domain::values::{Severity, TemplateSource};
use crate::dto::catalog::{AtomicImportReport, SkippedFile};
use crate::error::AppResult;
use crate::server::entities::test_template;
use crate::server::importers::{
    Counts, ImportReport, Importer, Input, ProgressFn, content_hash, report,
};
use crate::server::knowledge::reads::known_techniques;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

pub const SOURCE: TemplateSource = TemplateSource::AtomicRedTeam;

/// Rows per multi-row INSERT: well under both backends' bound-parameter limits.
const INSERT_CHUNK: usize = 200;

/// The fields the upstream project owns, as stored; hashed to tell what changed.
fn upstream_fields(technique_id: &str, test: &AtomicTest) -> Value {
    json!({
        "technique_id": technique_id,
        "name": test.name,
        "description": test.description,
        "platforms": test.supported_platforms,
        "executor_name": test.executor.name,
        "command": test.executor.command,
        "cleanup_command": test.executor.cleanup_command,
        "elevation_required": test.executor.elevation_required,
        "input_arguments": test.input_arguments.iter().map(|a| json!({
            "name": a.name, "description": a.description, "type": a.kind, "default": a.default,
        })).collect::<Vec<_>>(),
        "dependencies": test.dependencies.iter().map(|d| json!({
            "description": d.description,
            "prereq_command": d.prereq_command,
            "get_prereq_command": d.get_prereq_command,
        })).collect::<Vec<_>>(),
        "dependency_executor_name": test.dependency_executor_name,
    })
}

/// The atomics of a source, parsed: the files that parsed, and the report so far (files read,
/// files skipped with the reason).
pub struct ParsedAtomics {
    atomics: Vec<AtomicFile>,
    summary: AtomicImportReport,
}

pub struct AtomicRedTeam;

impl Importer for AtomicRedTeam {
    type Parsed = ParsedAtomics;
    type Report = AtomicImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedAtomics> {
        let files = input.into_files()?;
        let mut summary = AtomicImportReport {
            files: files.len(),
            ..Default::default()
        };
        let total = files.len();
        let mut parsed = Vec::new();
        let mut seen_guids = HashSet::new();
        for (done, file) in files.into_iter().enumerate() {
            match parse_atomic_file(&file.path, &file.text) {
                Ok(atomic) => {
                    let duplicate = atomic.tests.iter().find(|t| seen_guids.contains(&t.guid));
                    if let Some(test) = duplicate {
                        summary.skipped.push(SkippedFile {
                            path: file.path,
                            reason: format!(
                                "auto_generated_guid {} is also in another file",
                                test.guid
                            ),
                        });
                    } else {
                        seen_guids.extend(atomic.tests.iter().map(|t| t.guid));
                        parsed.push(atomic);
                    }
                }
                Err(err) => summary.skipped.push(SkippedFile {
                    reason: match err.line {
                        Some(line) => format!("line {line}: {}", err.message),
                        None => err.message,
                    },
                    path: err.path,
                }),
            }
            report(progress, "Parsing atomics", done + 1, total);
        }

        Ok(ParsedAtomics {
            atomics: parsed,
            summary,
        })
    }

    async fn upsert(
        db: &DatabaseConnection,
        actor: &Actor,
        parsed: ParsedAtomics,
        _source: &str,
        _progress: ProgressFn<'_>,
    ) -> AppResult<AtomicImportReport> {
        let ParsedAtomics {
            atomics: parsed,
            summary: mut report,
        } = parsed;
        let txn = begin_write(db).await?;
        let known = known_techniques(&txn).await?;
        let existing: HashMap<String, (Uuid, String)> = test_template::Entity::find()
            .filter(test_template::Column::Source.eq(SOURCE))
            .select_only()
            .column(test_template::Column::ExternalId)
            .column(test_template::Column::Id)
            .column(test_template::Column::ContentHash)
            .into_tuple::<(Option<String>, Uuid, String)>()
            .all(&txn)
            .await?
            .into_iter()
            .filter_map(|(external, id, hash)| external.map(|e| (e, (id, hash))))
            .collect();
        let now = Utc::now();
        let mut unknown = BTreeSet::new();
        let mut inserts = Vec::new();
        for atomic in &parsed {
            if !known.contains(&atomic.attack_technique) {
                unknown.insert(atomic.attack_technique.clone());
            }
            for test in &atomic.tests {
                let fields = upstream_fields(&atomic.attack_technique, test);
                let content_hash = content_hash(&fields);
                let guid = test.guid.to_string();
                let mut row = test_template::ActiveModel {
                    technique_id: Set(atomic.attack_technique.clone()),
                    name: Set(test.name.chars().take(300).collect()),
                    description: Set(test.description.clone()),
                    platforms: Set(fields["platforms"].clone()),
                    executor_name: Set(Some(test.executor.name.clone())),
                    command: Set(test.executor.command.clone()),
                    cleanup_command: Set(test.executor.cleanup_command.clone()),
                    elevation_required: Set(test.executor.elevation_required),
                    input_arguments: Set(fields["input_arguments"].clone()),
                    dependencies: Set(fields["dependencies"].clone()),
                    dependency_executor_name: Set(test.dependency_executor_name.clone()),
                    content_hash: Set(content_hash.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                };
                match existing.get(&guid) {
                    Some((_, stored)) if *stored == content_hash => report.unchanged += 1,
                    Some((id, _)) => {
                        row.id = Set(*id);
                        test_template::Entity::update(row).exec(&txn).await?;
                        report.updated += 1;
                    }
                    None => {
                        row.id = Set(Uuid::new_v4());
                        row.source = Set(SOURCE);
                        row.external_id = Set(Some(guid));
                        row.expected_detection = Set(String::new());
                        row.suggested_tools = Set(json!([]));
                        row.severity = Set(Severity::Medium);
                        row.remediation_steps = Set(json!([]));
                        row.is_active = Set(true);
                        row.created_at = Set(now);
                        inserts.push(row);
                        report.added += 1;
                    }
                }
            }
        }
        for chunk in inserts.chunks(INSERT_CHUNK) {
            test_template::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        report.unknown_techniques = unknown.into_iter().collect();
        audit::record(
            &txn,
            actor,
            AuditRecord::new(AuditAction::TemplatesImport, "test_template", SOURCE).after(json!({
                "files": report.files,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "skipped": report.skipped.len(),
            })),
        )
        .await?;
        txn.commit().await?;
        Ok(report)
    }
}

impl ImportReport for AtomicImportReport {
    fn counts(&self) -> Counts {
        Counts {
            added: self.added,
            updated: self.updated,
            unchanged: self.unchanged,
            skipped: self.skipped.clone(),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Templates: {} added, {} updated, {} unchanged. Files: {} read, {} skipped.",
            self.added,
            self.updated,
            self.unchanged,
            self.files,
            self.skipped.len()
        )];
        for skipped in &self.skipped {
            lines.push(format!("  skipped {}: {}", skipped.path, skipped.reason));
        }
        if !self.unknown_techniques.is_empty() {
            const LISTED: usize = 20;
            let unknown = &self.unknown_techniques;
            let more = unknown.len().saturating_sub(LISTED);
            lines.push(format!(
                "Imported, but {} technique(s) are not in the ATT&CK knowledge base (yet): {}{}",
                unknown.len(),
                unknown[..unknown.len().min(LISTED)].join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        lines
    }
}
