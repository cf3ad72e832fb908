//! Detection rules from their repositories: Sigma (YAML) and Elastic's detection rules (TOML).
//! Each parser turns one file into an [`UpstreamRule`] or a reason to skip it; [`write`]
//! upserts them by (source, upstream id) in one transaction with one audit entry, replacing
//! the upstream fields of a changed rule and keeping its local ones (`notes`, `is_active`).
pub mod elastic;
pub mod sigma;

use crate::domain::audit::AuditAction;
use crate::domain::detection::RuleSource;
use crate::domain::sources::CatalogImport;
use crate::dto::catalog::SkippedFile;
use crate::dto::detection::RuleImportReport;
use crate::error::{AppError, AppResult};
use crate::server::entities::{detection_rule, detection_rule_technique};
use crate::server::importers::{
    Counts, ImportReport, Importer, Input, ProgressFn, SourceFile, content_hash, report,
};
use crate::server::knowledge::reads::known_techniques;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One rule as its repository gives it: only fields the upstream project owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpstreamRule {
    pub upstream_id: String,
    pub path: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub level: String,
    pub author: String,
    pub log_source: String,
    pub platforms: Vec<String>,
    pub language: String,
    pub query: String,
    pub false_positives: Vec<String>,
    pub references: Vec<String>,
    pub techniques: Vec<String>,
    pub license: String,
}

impl UpstreamRule {
    fn hash(&self) -> String {
        content_hash(&json!({
            "path": self.path, "title": self.title, "description": self.description,
            "status": self.status, "level": self.level, "author": self.author,
            "log_source": self.log_source, "platforms": self.platforms,
            "language": self.language, "query": self.query,
            "false_positives": self.false_positives, "references": self.references,
            "techniques": self.techniques, "license": self.license,
        }))
    }
}

/// Column bounds of `detection_rules`: a field longer than its column is cut, never refused.
fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The parsed files of one import: rules, and the files skipped with why.
pub struct ParsedRules {
    pub source: CatalogImport,
    pub files: usize,
    pub rules: Vec<UpstreamRule>,
    pub skipped: Vec<SkippedFile>,
}

fn parse_files(
    source: CatalogImport,
    files: Vec<SourceFile>,
    parse: fn(&str, &str) -> Result<UpstreamRule, String>,
    progress: ProgressFn<'_>,
) -> AppResult<ParsedRules> {
    if files.is_empty() {
        return Err(AppError::field(
            "file",
            format!(
                "No {} rule files in the upload: expected {}",
                source.label(),
                source.files()
            ),
        ));
    }
    let total = files.len();
    let mut rules: Vec<UpstreamRule> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for (done, file) in files.into_iter().enumerate() {
        if done % 100 == 0 {
            report(progress, "Parsing rules", done, total);
        }
        match parse(&file.path, &file.text) {
            Ok(rule) => match seen.get(&rule.upstream_id) {
                Some(first) => skipped.push(SkippedFile {
                    path: file.path,
                    reason: format!("the same id as {first}"),
                }),
                None => {
                    seen.insert(rule.upstream_id.clone(), file.path.clone());
                    rules.push(rule);
                }
            },
            Err(reason) => skipped.push(SkippedFile {
                path: file.path,
                reason,
            }),
        }
    }
    Ok(ParsedRules {
        source,
        files: total,
        rules,
        skipped,
    })
}

fn rule_source(source: CatalogImport) -> AppResult<RuleSource> {
    match source {
        CatalogImport::Sigma => Ok(RuleSource::Sigma),
        CatalogImport::ElasticRules => Ok(RuleSource::Elastic),
        other => Err(AppError::internal(format!("{other:?} imports no rules"))),
    }
}

/// Replaces a rule's technique rows.
pub async fn set_techniques(
    txn: &impl ConnectionTrait,
    rule_id: Uuid,
    techniques: &[String],
) -> AppResult<()> {
    detection_rule_technique::Entity::delete_many()
        .filter(detection_rule_technique::Column::RuleId.eq(rule_id))
        .exec(txn)
        .await?;
    if !techniques.is_empty() {
        detection_rule_technique::Entity::insert_many(techniques.iter().map(|t| {
            detection_rule_technique::ActiveModel {
                rule_id: Set(rule_id),
                mitre_id: Set(t.clone()),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Upserts the rules of one import in one transaction with its audit entry.
pub async fn write(
    db: &DatabaseConnection,
    actor: &Actor,
    parsed: ParsedRules,
    origin: &str,
    progress: ProgressFn<'_>,
) -> AppResult<RuleImportReport> {
    let source = rule_source(parsed.source)?;
    let txn = begin_write(db).await?;
    let existing: HashMap<String, (Uuid, String)> = detection_rule::Entity::find()
        .filter(detection_rule::Column::Source.eq(source))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.upstream_id?, (r.id, r.content_hash))))
        .collect();
    let known = known_techniques(&txn).await?;
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = RuleImportReport {
        source: origin.to_owned(),
        files: parsed.files,
        skipped: parsed.skipped,
        ..Default::default()
    };
    let now = Utc::now();
    let total = parsed.rules.len();
    for (done, rule) in parsed.rules.into_iter().enumerate() {
        if done % 100 == 0 {
            report(progress, "Writing rules", done, total);
        }
        for t in &rule.techniques {
            if !known.contains(t) {
                *unknown.entry(t.clone()).or_default() += 1;
            }
        }
        let hash = rule.hash();
        let techniques: Vec<String> = rule.techniques.iter().take(100).cloned().collect();
        let mut row = detection_rule::ActiveModel {
            path: Set(Some(bounded(&rule.path, 1000))),
            title: Set(bounded(&rule.title, 500)),
            description: Set(rule.description.clone()),
            status: Set(bounded(&rule.status, 32)),
            level: Set(bounded(&rule.level, 32)),
            author: Set(bounded(&rule.author, 1000)),
            log_source: Set(bounded(&rule.log_source, 1000)),
            platforms: Set(json!(rule.platforms)),
            language: Set(bounded(&rule.language, 32)),
            query: Set(rule.query.clone()),
            false_positives: Set(json!(rule.false_positives)),
            references: Set(json!(rule.references)),
            license: Set(bounded(&rule.license, 100)),
            techniques: Set(json!(techniques)),
            content_hash: Set(hash.clone()),
            updated_at: Set(now),
            ..Default::default()
        };
        match existing.get(&rule.upstream_id) {
            Some((_, old)) if *old == hash => out.unchanged += 1,
            Some((id, _)) => {
                row.id = Set(*id);
                row.update(&txn).await?;
                set_techniques(&txn, *id, &techniques).await?;
                out.updated += 1;
            }
            None => {
                let id = Uuid::new_v4();
                row.id = Set(id);
                row.source = Set(source);
                row.upstream_id = Set(Some(bounded(&rule.upstream_id, 200)));
                row.is_active = Set(true);
                row.notes = Set(String::new());
                row.created_by = Set(None);
                row.created_at = Set(now);
                row.insert(&txn).await?;
                set_techniques(&txn, id, &techniques).await?;
                out.added += 1;
            }
        }
    }
    out.unknown_techniques = unknown.into_iter().collect();
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::DetectionRulesImport, "detection_rules", source).after(
            json!({
                "source": origin, "files": out.files, "added": out.added, "updated": out.updated,
                "unchanged": out.unchanged, "skipped": out.skipped.len(),
                "unknown_techniques": out.unknown_techniques.len(),
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

impl ImportReport for RuleImportReport {
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
            "{} files: {} rules added, {} updated, {} unchanged, {} skipped.",
            self.files,
            self.added,
            self.updated,
            self.unchanged,
            self.skipped.len()
        )];
        lines.extend(
            self.skipped
                .iter()
                .map(|s| format!("  skipped {}: {}", s.path, s.reason)),
        );
        if !self.unknown_techniques.is_empty() {
            lines.push(format!(
                "Techniques not in the knowledge base: {}",
                self.unknown_techniques
                    .iter()
                    .map(|(t, n)| format!("{t} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        lines
    }
}

macro_rules! rule_importer {
    ($name:ident, $source:expr, $parse:path) => {
        pub struct $name;

        impl Importer for $name {
            type Parsed = ParsedRules;
            type Report = RuleImportReport;

            fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedRules> {
                parse_files($source, input.into_files()?, $parse, progress)
            }

            async fn upsert<'a>(
                db: &'a DatabaseConnection,
                actor: &'a Actor,
                parsed: ParsedRules,
                source: &'a str,
                progress: ProgressFn<'a>,
            ) -> AppResult<RuleImportReport> {
                write(db, actor, parsed, source, progress).await
            }
        }
    };
}

rule_importer!(SigmaRules, CatalogImport::Sigma, sigma::parse);
rule_importer!(ElasticRules, CatalogImport::ElasticRules, elastic::parse);
