//! What every catalog source writes: templates keyed by (source, upstream id), idempotent. A
//! template whose upstream fields hash as stored is unchanged; one that changed upstream has
//! those fields updated and keeps the local ones (active flag, severity, expected detection,
//! tools, remediation steps); a new one starts with the catalog's defaults.
use crate::domain::audit::AuditAction;
use crate::domain::sources::CatalogImport;
use crate::domain::values::Severity;
use crate::dto::catalog::{
    DependencyDto, InputArgumentDto, SkippedFile, SourceDetails, TemplateImportReport,
};
use crate::error::{AppError, AppResult};
use crate::server::entities::test_template;
use crate::server::importers::{Counts, ImportReport, ProgressFn, content_hash, report};
use crate::server::knowledge::reads::known_techniques;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// Rows per multi-row INSERT: well under both backends' bound-parameter limits.
const INSERT_CHUNK: usize = 200;

/// The longest name a template has.
pub const NAME_MAX: usize = 300;

/// One template as its source gives it: only fields the upstream project owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpstreamTemplate {
    pub external_id: String,
    pub technique_id: String,
    pub name: String,
    pub description: String,
    pub platforms: Vec<String>,
    pub executor_name: Option<String>,
    pub command: String,
    pub cleanup_command: Option<String>,
    pub elevation_required: bool,
    pub input_arguments: Vec<InputArgumentDto>,
    pub dependencies: Vec<DependencyDto>,
    pub dependency_executor_name: Option<String>,
    /// Where the entry is read upstream.
    pub source_url: String,
    pub details: Option<SourceDetails>,
    /// The expected detection a new template starts with (LOLBAS's detection hints); a local
    /// field afterwards, never overwritten.
    pub initial_expected_detection: String,
}

impl UpstreamTemplate {
    /// The hash of the upstream fields. The source URL is left out (it follows from the key),
    /// and `details` is in only when the source has any, so Atomic Red Team's hashes are the
    /// ones stored before sources had details: upgrading does not make every atomic "updated".
    fn hash(&self) -> String {
        let mut fields = json!({
            "technique_id": self.technique_id,
            "name": self.name,
            "description": self.description,
            "platforms": self.platforms,
            "executor_name": self.executor_name,
            "command": self.command,
            "cleanup_command": self.cleanup_command,
            "elevation_required": self.elevation_required,
            "input_arguments": self.input_arguments,
            "dependencies": self.dependencies,
            "dependency_executor_name": self.dependency_executor_name,
        });
        if let (Some(details), Some(map)) = (&self.details, fields.as_object_mut()) {
            map.insert("details".into(), json!(details));
        }
        content_hash(&fields)
    }

    /// Why the template cannot be stored as it is (a column it would overflow), if so.
    fn unfit(&self) -> Option<String> {
        for (field, value, max) in [
            ("upstream id", self.external_id.as_str(), 128),
            ("technique id", self.technique_id.as_str(), 32),
            (
                "executor",
                self.executor_name.as_deref().unwrap_or_default(),
                32,
            ),
            ("source URL", self.source_url.as_str(), 500),
        ] {
            if value.chars().count() > max {
                return Some(format!("its {field} is longer than {max} characters"));
            }
        }
        None
    }
}

/// What [`write`] did.
#[derive(Debug, Default)]
pub struct Written {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Technique ids the knowledge base does not know (yet); their templates are imported.
    pub unknown_techniques: Vec<String>,
    /// Templates left out, by upstream id: a second one with the same key, or one that does
    /// not fit the catalog's columns.
    pub skipped: Vec<SkippedFile>,
}

/// A file of a source that could not be imported, and why.
pub fn skipped(path: impl Into<String>, reason: impl Into<String>) -> SkippedFile {
    SkippedFile {
        path: path.into(),
        reason: reason.into(),
    }
}

impl Written {
    /// Puts the counts into an import's report.
    pub fn into_report(self, report: &mut TemplateImportReport) {
        report.added = self.added;
        report.updated = self.updated;
        report.unchanged = self.unchanged;
        report.unknown_techniques = self.unknown_techniques;
        report.skipped.extend(self.skipped);
    }
}

/// The whole upsert of a source that writes only templates: one transaction with the
/// templates and the audit entry; `report` holds what parsing found.
pub async fn import(
    db: &DatabaseConnection,
    actor: &Actor,
    source: CatalogImport,
    templates: &[UpstreamTemplate],
    mut report: TemplateImportReport,
    progress: ProgressFn<'_>,
) -> AppResult<TemplateImportReport> {
    let txn = begin_write(db).await?;
    write(&txn, source, templates, progress)
        .await?
        .into_report(&mut report);
    finish(txn, actor, source, &report).await?;
    Ok(report)
}

/// The catalog source `source` writes templates under; an error for a rule source.
pub fn templates_of(source: CatalogImport) -> AppResult<crate::domain::values::TemplateSource> {
    source
        .template_source()
        .ok_or_else(|| AppError::internal(format!("{} writes no templates", source.label())))
}

/// Writes the templates of `source` in the caller's transaction.
pub async fn write(
    txn: &DatabaseTransaction,
    source: CatalogImport,
    templates: &[UpstreamTemplate],
    progress: ProgressFn<'_>,
) -> AppResult<Written> {
    let template_source = templates_of(source)?;
    let known = known_techniques(txn).await?;
    let existing: HashMap<String, (Uuid, String)> = test_template::Entity::find()
        .filter(test_template::Column::Source.eq(template_source))
        .select_only()
        .column(test_template::Column::ExternalId)
        .column(test_template::Column::Id)
        .column(test_template::Column::ContentHash)
        .into_tuple::<(Option<String>, Uuid, String)>()
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|(external, id, hash)| external.map(|e| (e, (id, hash))))
        .collect();
    let now = Utc::now();
    let mut written = Written::default();
    let mut unknown = BTreeSet::new();
    let mut inserts = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let total = templates.len();
    for (done, template) in templates.iter().enumerate() {
        if let Some(reason) = template.unfit() {
            written.skipped.push(skipped(
                template.external_id.chars().take(200).collect::<String>(),
                reason,
            ));
            continue;
        }
        if !seen.insert(template.external_id.as_str()) {
            written.skipped.push(skipped(
                template.external_id.clone(),
                "a second entry with the same upstream id; the first is kept",
            ));
            continue;
        }
        if !known.contains(&template.technique_id) {
            unknown.insert(template.technique_id.clone());
        }
        let hash = template.hash();
        let mut row = test_template::ActiveModel {
            technique_id: Set(template.technique_id.clone()),
            name: Set(template.name.chars().take(NAME_MAX).collect()),
            description: Set(template.description.clone()),
            platforms: Set(json!(template.platforms)),
            executor_name: Set(template.executor_name.clone()),
            command: Set(template.command.clone()),
            cleanup_command: Set(template.cleanup_command.clone()),
            elevation_required: Set(template.elevation_required),
            input_arguments: Set(json!(template.input_arguments)),
            dependencies: Set(json!(template.dependencies)),
            dependency_executor_name: Set(template.dependency_executor_name.clone()),
            license: Set(Some(source.license().to_owned())),
            source_url: Set(Some(template.source_url.clone())),
            details: Set(template.details.as_ref().map(|d| json!(d))),
            content_hash: Set(hash.clone()),
            updated_at: Set(now),
            ..Default::default()
        };
        match existing.get(&template.external_id) {
            Some((_, stored)) if *stored == hash => written.unchanged += 1,
            Some((id, _)) => {
                row.id = Set(*id);
                test_template::Entity::update(row).exec(txn).await?;
                written.updated += 1;
            }
            None => {
                row.id = Set(Uuid::new_v4());
                row.source = Set(template_source);
                row.external_id = Set(Some(template.external_id.clone()));
                row.expected_detection = Set(template.initial_expected_detection.clone());
                row.suggested_tools = Set(json!([]));
                row.severity = Set(Severity::Medium);
                row.remediation_steps = Set(json!([]));
                row.is_active = Set(true);
                row.created_at = Set(now);
                inserts.push(row);
                written.added += 1;
            }
        }
        if done % 100 == 0 || done + 1 == total {
            report(progress, "Writing templates", done + 1, total);
        }
    }
    for chunk in inserts.chunks(INSERT_CHUNK) {
        test_template::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    written.unknown_techniques = unknown.into_iter().collect();
    Ok(written)
}

/// Records the import's one audit entry and commits it with what it wrote.
pub async fn finish(
    txn: DatabaseTransaction,
    actor: &Actor,
    source: CatalogImport,
    report: &TemplateImportReport,
) -> AppResult<()> {
    audit::record(
        &txn,
        actor,
        AuditRecord::new(
            AuditAction::TemplatesImport,
            "test_template",
            templates_of(source)?,
        )
        .after(json!({
            "files": report.files,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped.len(),
            "flagged": report.flagged.len(),
            "technique_sets": report.technique_sets,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

impl ImportReport for TemplateImportReport {
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
        if let Some(sets) = &self.technique_sets {
            lines.push(format!(
                "Technique sets: {} added, {} updated, {} unchanged; {} reference(s) to entries \
                 the source does not hold.",
                sets.added, sets.updated, sets.unchanged, sets.unresolved_references
            ));
        }
        for flagged in &self.flagged {
            lines.push(format!("  flagged {}: {}", flagged.path, flagged.reason));
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

/// `#{name}` placeholders of a command, in order of first appearance (Atomic's input
/// arguments, CALDERA's facts such as `#{host.user.name}`).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        if !name.is_empty()
            && name.len() <= 100
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !found.iter().any(|f| f == name)
        {
            found.push(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_are_found_once_in_order() {
        assert_eq!(
            placeholders("curl #{server}/file -H #{paw} #{server} #{host.user.name} #{} #{a b}"),
            vec!["server", "paw", "host.user.name"]
        );
        assert!(placeholders("no #{ end").is_empty());
    }
}
