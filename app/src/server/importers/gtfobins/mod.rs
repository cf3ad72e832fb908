//! GTFOBins (Unix binaries that get around local security restrictions) into the catalog.
//!
//! Each entry (`_gtfobins/<binary>`, YAML without an extension since 2025) maps functions to
//! examples, each working in one or more contexts (`unprivileged`, `sudo`, `suid`,
//! `capabilities`, a context may override the code). One template per example and context,
//! keyed `<binary>/<function>/<n>/<context>`, Linux, run with `sh`. GTFOBins names no ATT&CK
//! technique: `domain::gtfobins` maps each example, and the details record that basis. Alias
//! entries (`apt` → `apt-get`) are not templates of their own: they are named on their
//! target's templates and reported as skipped. `_data/functions.yml`, when given, supplies the
//! labels, descriptions and defaults of functions the table does not know.
use crate::domain::gtfobins::{self, Context};
use crate::domain::sources::CatalogImport;
use crate::dto::catalog::{GtfobinsDetails, SourceDetails, TemplateImportReport};
use crate::error::AppResult;
use crate::server::importers::templates::{self, UpstreamTemplate, skipped};
use crate::server::importers::yaml::{self, get, text, texts, trimmed};
use crate::server::importers::{self, Importer, Input, ProgressFn, SourceFile};
use crate::server::platform::context::Actor;
use sea_orm::DatabaseConnection;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, HashMap};

pub const SOURCE: CatalogImport = CatalogImport::Gtfobins;

/// The file of function definitions.
pub const FUNCTIONS_FILE: &str = "_data/functions.yml";

#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub function: String,
    /// 1-based, within the function.
    pub index: usize,
    pub code: String,
    pub comment: Option<String>,
    pub from: Option<String>,
    /// The example's own techniques (`mitre:`), which GTFOBins allows in place of the
    /// function's default; no shipped example has one yet.
    pub mitre: Vec<String>,
    /// Each context the example works in, with its own code and needed capabilities.
    pub contexts: Vec<(Context, Option<String>, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Functions {
        comment: Option<String>,
        examples: Vec<Example>,
    },
    Alias(String),
}

/// A function as `functions.yml` defines it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionInfo {
    pub label: String,
    pub description: String,
    pub mitre: Vec<String>,
}

/// `_data/functions.yml`: function → label, description, default techniques.
pub fn parse_functions(source: &str) -> Result<HashMap<String, FunctionInfo>, String> {
    let value: Value = serde_yaml_ng::from_str(source).map_err(|e| yaml::error(&e))?;
    let Value::Mapping(map) = value else {
        return Err("not a map of functions".into());
    };
    Ok(map
        .iter()
        .filter_map(|(name, body)| {
            let name = text(name)?;
            let Value::Mapping(body) = body else {
                return None;
            };
            Some((
                name,
                FunctionInfo {
                    label: trimmed(get(body, "label")).unwrap_or_default(),
                    description: trimmed(get(body, "description")).unwrap_or_default(),
                    // Only ids of the shape of one are taken.
                    mitre: texts(get(body, "mitre"))
                        .iter()
                        .filter_map(|id| yaml::technique_id(id))
                        .collect(),
                },
            ))
        })
        .collect())
}

/// One entry file.
pub fn parse_entry(source: &str) -> Result<Entry, String> {
    let value: Value = serde_yaml_ng::from_str(source).map_err(|e| yaml::error(&e))?;
    let Value::Mapping(map) = value else {
        return Err("not a GTFOBins entry".into());
    };
    if let Some(target) = trimmed(get(&map, "alias")) {
        return Ok(Entry::Alias(target));
    }
    let Some(Value::Mapping(functions)) = get(&map, "functions") else {
        return Err("the entry has no functions".into());
    };
    let mut examples = Vec::new();
    for (function, list) in functions {
        let Some(function) = text(function) else {
            continue;
        };
        let Value::Sequence(list) = list else {
            return Err(format!("function {function} is not a list of examples"));
        };
        for (i, item) in list.iter().enumerate() {
            let Value::Mapping(item) = item else {
                return Err(format!("example {} of {function} is not a map", i + 1));
            };
            let code = get(item, "code")
                .and_then(text)
                .map(|c| c.trim_end().to_owned())
                .filter(|c| !c.trim().is_empty())
                .ok_or(format!("example {} of {function} has no code", i + 1))?;
            let mut contexts = Vec::new();
            if let Some(Value::Mapping(found)) = get(item, "contexts") {
                for (name, body) in found {
                    let Some(context) = text(name).as_deref().and_then(Context::parse) else {
                        continue;
                    };
                    let (own, list) = match body {
                        Value::Mapping(body) => (
                            get(body, "code")
                                .and_then(text)
                                .map(|c| c.trim_end().to_owned())
                                .filter(|c| !c.trim().is_empty()),
                            texts(get(body, "list")),
                        ),
                        _ => (None, Vec::new()),
                    };
                    contexts.push((context, own, list));
                }
            }
            if contexts.is_empty() {
                return Err(format!(
                    "example {} of {function} names no context it works in",
                    i + 1
                ));
            }
            contexts.sort_by_key(|(c, _, _)| *c);
            examples.push(Example {
                function: function.clone(),
                index: i + 1,
                code,
                comment: trimmed(get(item, "comment")),
                from: trimmed(get(item, "from")),
                mitre: texts(get(item, "mitre"))
                    .iter()
                    .filter_map(|id| yaml::technique_id(id))
                    .collect(),
                contexts,
            });
        }
    }
    if examples.is_empty() {
        return Err("the entry has no examples".into());
    }
    Ok(Entry::Functions {
        comment: trimmed(get(&map, "comment")),
        examples,
    })
}

/// The techniques an entry gives when entered unprivileged (what an `inherit` example leading
/// to it reaches), following further `inherit`s a few steps.
fn reached(
    binary: &str,
    entries: &BTreeMap<String, (Option<String>, Vec<Example>)>,
    upstream: &HashMap<String, FunctionInfo>,
    overrides: &HashMap<String, Vec<String>>,
    depth: usize,
) -> Vec<String> {
    let Some((_, examples)) = entries.get(binary) else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for example in examples {
        let inherited = match (&example.from, depth) {
            (Some(from), 0..3) => reached(from, entries, upstream, overrides, depth + 1),
            _ => Vec::new(),
        };
        let defaults = upstream
            .get(&example.function)
            .map(|f| f.mitre.clone())
            .unwrap_or_default();
        if let Some(mapping) = gtfobins::map_with(
            &example.function,
            Context::Unprivileged,
            &example.code,
            &defaults,
            &inherited,
            overrides
                .get(&example.function)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        ) {
            for id in mapping.techniques {
                if !found.contains(&id) {
                    found.push(id);
                }
            }
        }
    }
    found
}

pub struct ParsedGtfobins {
    entries: Entries,
    report: TemplateImportReport,
}

/// The entries of a GTFOBins source, parsed: binary → (comment, examples), the functions of
/// `functions.yml`, the aliases per target, and each binary's file.
#[derive(Debug, Default)]
pub struct Entries {
    upstream: HashMap<String, FunctionInfo>,
    entries: BTreeMap<String, (Option<String>, Vec<Example>)>,
    aliases: BTreeMap<String, Vec<String>>,
    paths: HashMap<String, String>,
}

/// Every template of the entries, mapped without local overrides (see [`templates_from`]).
pub fn templates_of(
    files: Vec<SourceFile>,
    report: &mut TemplateImportReport,
) -> Vec<UpstreamTemplate> {
    let entries = read_entries(files, report);
    templates_from(&entries, &HashMap::new(), report)
}

/// Parses the files; files that cannot be read (and aliases) are reported in `report`.
pub fn read_entries(files: Vec<SourceFile>, report: &mut TemplateImportReport) -> Entries {
    let mut upstream = HashMap::new();
    let mut entries: BTreeMap<String, (Option<String>, Vec<Example>)> = BTreeMap::new();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut paths = HashMap::new();
    for file in files {
        if file.path == FUNCTIONS_FILE {
            match parse_functions(&file.text) {
                Ok(found) => upstream = found,
                Err(reason) => report.skipped.push(skipped(file.path, reason)),
            }
            continue;
        }
        let binary = file.path.rsplit('/').next().unwrap_or_default().to_owned();
        match parse_entry(&file.text) {
            Ok(Entry::Alias(target)) => {
                report.skipped.push(skipped(
                    file.path,
                    format!("an alias of {target}: its templates are {target}'s"),
                ));
                aliases.entry(target).or_default().push(binary);
            }
            Ok(Entry::Functions { comment, examples }) => {
                paths.insert(binary.clone(), file.path);
                entries.insert(binary, (comment, examples));
            }
            Err(reason) => report.skipped.push(skipped(file.path, reason)),
        }
    }
    Entries {
        upstream,
        entries,
        aliases,
        paths,
    }
}

/// Every template of the entries, with the installation's `overrides` (function →
/// techniques); examples nothing maps are reported in `report`.
pub fn templates_from(
    parsed: &Entries,
    overrides: &HashMap<String, Vec<String>>,
    report: &mut TemplateImportReport,
) -> Vec<UpstreamTemplate> {
    let Entries {
        upstream,
        entries,
        aliases,
        paths,
    } = parsed;
    let none = Vec::new();
    let mut all = Vec::new();
    for (binary, (_, examples)) in entries {
        let path = &paths[binary];
        for example in examples {
            let inherited = match &example.from {
                Some(from) => reached(from, entries, upstream, overrides, 1),
                None => Vec::new(),
            };
            // An admin's override first, then the example's own techniques, then the table.
            let admin = overrides.get(&example.function).unwrap_or(&none);
            let (local, from_example) = if admin.is_empty() && !example.mitre.is_empty() {
                (&example.mitre, true)
            } else {
                (admin, false)
            };
            let info = upstream.get(&example.function);
            let defaults = info.map(|f| f.mitre.clone()).unwrap_or_default();
            let label = gtfobins::function(&example.function)
                .map(|f| f.label.to_owned())
                .or_else(|| info.map(|f| f.label.clone()).filter(|l| !l.is_empty()))
                .unwrap_or_else(|| example.function.clone());
            let several = examples
                .iter()
                .filter(|e| e.function == example.function)
                .count()
                > 1;
            for (context, own_code, capabilities) in &example.contexts {
                let code = own_code.clone().unwrap_or_else(|| example.code.clone());
                let Some(mut mapping) = gtfobins::map_with(
                    &example.function,
                    *context,
                    &code,
                    &defaults,
                    &inherited,
                    local,
                ) else {
                    report.skipped.push(skipped(
                        path.clone(),
                        format!(
                            "{} example {} ({}): no ATT&CK technique maps it{}",
                            example.function,
                            example.index,
                            context.as_str(),
                            example
                                .from
                                .as_ref()
                                .map(|f| format!(
                                    " (it leads to {f}, which this import does not hold)"
                                ))
                                .unwrap_or_default()
                        ),
                    ));
                    continue;
                };
                // In Aegis's words, from the table only: an import without `functions.yml`
                // describes every template as one with it does (stable hashes).
                if from_example {
                    mapping.basis = gtfobins::Basis::UpstreamExample;
                }
                let mut description = match gtfobins::function(&example.function) {
                    Some(f) => format!("{binary} {}.", f.does),
                    None => format!("{binary}: the GTFOBins function {label}."),
                };
                if let Some(from) = &example.from {
                    description.push_str(&format!(" It leads to {from}."));
                }
                if *context != Context::Unprivileged {
                    description.push_str(&format!(" Run in the {} context.", context.label()));
                }
                if let Some(comment) = &example.comment {
                    description.push_str("\n\n");
                    description.push_str(comment);
                }
                all.push(UpstreamTemplate {
                    external_id: format!(
                        "{binary}/{}/{}/{}",
                        example.function,
                        example.index,
                        context.as_str()
                    ),
                    technique_id: mapping.techniques[0].clone(),
                    name: format!(
                        "{binary}: {label}{} ({})",
                        if several {
                            format!(" #{}", example.index)
                        } else {
                            String::new()
                        },
                        context.label()
                    ),
                    description: description.trim().to_owned(),
                    platforms: vec!["linux".into()],
                    executor_name: Some("sh".into()),
                    command: code,
                    cleanup_command: None,
                    elevation_required: context.elevated(),
                    input_arguments: Vec::new(),
                    dependencies: Vec::new(),
                    dependency_executor_name: None,
                    source_url: SOURCE.source_url(path),
                    details: Some(SourceDetails::Gtfobins(GtfobinsDetails {
                        path: path.clone(),
                        binary: binary.clone(),
                        function: example.function.clone(),
                        function_label: label.clone(),
                        context: context.as_str().into(),
                        techniques: mapping.techniques,
                        mapping: mapping.basis.as_str().into(),
                        comment: example.comment.clone(),
                        capabilities: capabilities.clone(),
                        inherits_from: example.from.clone(),
                        aliases: aliases.get(binary).cloned().unwrap_or_default(),
                    })),
                    initial_expected_detection: String::new(),
                });
            }
        }
    }
    all
}

pub struct Gtfobins;

impl Importer for Gtfobins {
    type Parsed = ParsedGtfobins;
    type Report = TemplateImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedGtfobins> {
        let files = input.into_files()?;
        let mut report = TemplateImportReport {
            files: files.len(),
            ..Default::default()
        };
        importers::report(progress, "Parsing GTFOBins entries", 0, 1);
        let entries = read_entries(files, &mut report);
        importers::report(progress, "Parsing GTFOBins entries", 1, 1);
        Ok(ParsedGtfobins { entries, report })
    }

    async fn upsert(
        db: &DatabaseConnection,
        actor: &Actor,
        parsed: ParsedGtfobins,
        _source: &str,
        progress: ProgressFn<'_>,
    ) -> AppResult<TemplateImportReport> {
        // The installation's own techniques per function apply at every import.
        let overrides = crate::server::catalog::gtfobins::overrides(db).await?;
        let ParsedGtfobins {
            entries,
            mut report,
        } = parsed;
        let all = templates_from(&entries, &overrides, &mut report);
        templates::import(db, actor, SOURCE, &all, report, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    const GDB: &str = r#"---
functions:
  inherit:
  - code: |-
      gdb -nx -ex 'python ...' -ex quit
    contexts:
      sudo:
      unprivileged:
    from: python
  shell:
  - code: |-
      gdb -nx -ex '!/bin/sh' -ex quit
    contexts:
      capabilities:
        code: |-
          gdb -nx -ex 'python import os; os.setuid(0)' -ex '!/bin/sh' -ex quit
        list:
        - CAP_SETUID
      unprivileged:
...
"#;

    const PYTHON: &str = "---\nfunctions:\n  file-read:\n  - code: python -c 'print(open(\"f\").read())'\n    contexts:\n      unprivileged:\n...\n";

    #[test]
    fn one_template_per_example_and_context_mapped_by_the_table() {
        let mut report = TemplateImportReport::default();
        let t = templates_of(
            vec![
                file("_gtfobins/gdb", GDB),
                file("_gtfobins/python", PYTHON),
                file("_gtfobins/gdb-alias", "---\nalias: gdb\n...\n"),
            ],
            &mut report,
        );
        let ids: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.external_id.as_str(), t.technique_id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("gdb/inherit/1/unprivileged", "T1005"),
                ("gdb/inherit/1/sudo", "T1548.003"),
                ("gdb/shell/1/unprivileged", "T1059.004"),
                ("gdb/shell/1/capabilities", "T1548"),
                ("python/file-read/1/unprivileged", "T1005"),
            ]
        );
        assert_eq!(report.skipped.len(), 1);
        assert!(report.skipped[0].reason.contains("an alias of gdb"));
        let caps = &t[3];
        assert_eq!(
            caps.command,
            "gdb -nx -ex 'python import os; os.setuid(0)' -ex '!/bin/sh' -ex quit"
        );
        assert!(caps.elevation_required);
        assert_eq!(caps.name, "gdb: Shell (Capabilities)");
        let Some(SourceDetails::Gtfobins(d)) = &caps.details else {
            panic!("GTFOBins details")
        };
        assert_eq!(d.capabilities, vec!["CAP_SETUID"]);
        assert_eq!(d.techniques, vec!["T1548", "T1059.004"]);
        assert_eq!(d.mapping, "refined");
        assert_eq!(d.aliases, vec!["gdb-alias"]);
        let Some(SourceDetails::Gtfobins(d)) = &t[0].details else {
            panic!("GTFOBins details")
        };
        assert_eq!(d.inherits_from.as_deref(), Some("python"));
        assert_eq!(d.mapping, "inherited");
        assert_eq!(t[0].source_url, "https://gtfobins.github.io/gtfobins/gdb/");
    }

    #[test]
    fn an_example_of_its_own_techniques_keeps_them_unless_an_admin_overrides() {
        let entry = "---\nfunctions:\n  file-read:\n  - code: cat f\n    mitre:\n    - T1552.001\n    - bogus\n    contexts:\n      unprivileged:\n...\n";
        let mut report = TemplateImportReport::default();
        let entries = read_entries(vec![file("_gtfobins/cat", entry)], &mut report);
        let t = templates_from(&entries, &HashMap::new(), &mut report);
        assert_eq!(t[0].technique_id, "T1552.001");
        let Some(SourceDetails::Gtfobins(d)) = &t[0].details else {
            panic!("GTFOBins details")
        };
        assert_eq!(d.mapping, "upstream_example");
        assert_eq!(d.techniques, vec!["T1552.001"]);
        let overrides = HashMap::from([("file-read".to_string(), vec!["T1005".to_string()])]);
        let t = templates_from(&entries, &overrides, &mut report);
        assert_eq!(t[0].technique_id, "T1005");
    }

    #[test]
    fn an_inherit_to_an_entry_not_imported_is_skipped_with_its_reason() {
        let mut report = TemplateImportReport::default();
        let t = templates_of(vec![file("_gtfobins/gdb", GDB)], &mut report);
        assert_eq!(t.len(), 2);
        assert_eq!(report.skipped.len(), 2);
        assert!(
            report.skipped[0].reason.contains("leads to python"),
            "{:?}",
            report.skipped
        );
    }

    #[test]
    fn broken_entries_say_what_is_wrong() {
        for (text, reason) in [
            ("---\ncomment: x\n...\n", "has no functions"),
            (
                "---\nfunctions:\n  shell: x\n...\n",
                "is not a list of examples",
            ),
            (
                "---\nfunctions:\n  shell:\n  - contexts: {sudo: }\n...\n",
                "has no code",
            ),
            (
                "---\nfunctions:\n  shell:\n  - code: x\n...\n",
                "names no context",
            ),
            ("---\nfunctions: {}\n...\n", "has no examples"),
            ("- a\n", "not a GTFOBins entry"),
        ] {
            let err = parse_entry(text).unwrap_err();
            assert!(err.contains(reason), "{err} should say {reason}");
        }
        let functions = parse_functions(
            "shell:\n  label: Shell\n  description: Spawns a shell.\n  mitre:\n  - T1059\n",
        )
        .unwrap();
        assert_eq!(functions["shell"].mitre, vec!["T1059"]);
    }
}
