//! The Atomic Red Team importer: atomics into the catalog, idempotent, keyed by each
//! atomic's GUID, in one transaction with its audit entry. A re-import updates what changed
//! upstream and keeps the admins' local fields (active flag, severity, expected detection,
//! tools, remediation steps). A malformed file is skipped with its path and line; the rest
//! goes on. Sources (directories, archives, uploads) are in `source`.
use super::parse::{AtomicFile, AtomicTest, parse_atomic_file};
use crate::domain::sources::CatalogImport;
use crate::dto::catalog::{DependencyDto, InputArgumentDto, SkippedFile, TemplateImportReport};
use crate::error::AppResult;
use crate::server::importers::templates::{self, UpstreamTemplate};
use crate::server::importers::{Importer, Input, ProgressFn, report};
use crate::server::platform::context::Actor;
use sea_orm::DatabaseConnection;
use std::collections::HashSet;

pub const SOURCE: CatalogImport = CatalogImport::AtomicRedTeam;

/// One atomic test as the catalog stores it.
fn template(technique_id: &str, test: &AtomicTest) -> UpstreamTemplate {
    UpstreamTemplate {
        external_id: test.guid.to_string(),
        technique_id: technique_id.to_owned(),
        name: test.name.clone(),
        description: test.description.clone(),
        platforms: test.supported_platforms.clone(),
        executor_name: Some(test.executor.name.clone()),
        command: test.executor.command.clone(),
        cleanup_command: test.executor.cleanup_command.clone(),
        elevation_required: test.executor.elevation_required,
        input_arguments: test
            .input_arguments
            .iter()
            .map(|a| InputArgumentDto {
                name: a.name.clone(),
                description: a.description.clone(),
                kind: a.kind.clone(),
                default: a.default.clone(),
            })
            .collect(),
        dependencies: test
            .dependencies
            .iter()
            .map(|d| DependencyDto {
                description: d.description.clone(),
                prereq_command: d.prereq_command.clone(),
                get_prereq_command: d.get_prereq_command.clone(),
            })
            .collect(),
        dependency_executor_name: test.dependency_executor_name.clone(),
        source_url: SOURCE.source_url(&format!("atomics/{technique_id}/{technique_id}.yaml")),
        details: None,
        initial_expected_detection: String::new(),
    }
}

/// The atomics of a source, parsed: the files that parsed, and the report so far (files read,
/// files skipped with the reason).
pub struct ParsedAtomics {
    atomics: Vec<AtomicFile>,
    summary: TemplateImportReport,
}

pub struct AtomicRedTeam;

impl Importer for AtomicRedTeam {
    type Parsed = ParsedAtomics;
    type Report = TemplateImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedAtomics> {
        let files = input.into_files()?;
        let mut summary = TemplateImportReport {
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
        progress: ProgressFn<'_>,
    ) -> AppResult<TemplateImportReport> {
        let ParsedAtomics {
            atomics: parsed,
            summary: report,
        } = parsed;
        let templates: Vec<UpstreamTemplate> = parsed
            .iter()
            .flat_map(|atomic| {
                atomic
                    .tests
                    .iter()
                    .map(|test| template(&atomic.attack_technique, test))
            })
            .collect();
        templates::import(db, actor, SOURCE, &templates, report, progress).await
    }
}
