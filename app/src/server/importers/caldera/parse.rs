//! CALDERA's Stockpile files: abilities (`data/abilities/<tactic>/<id>.yml`, a YAML list of
//! abilities) in both schemas found upstream, and adversary profiles
//! (`data/adversaries/**/*.yml`).
//!
//! - Classic: `technique: {attack_id, name}`, executors nested as
//!   `platforms: {<os>[,<os>]: {<executor>[,<executor>]: {command, cleanup, payloads, parsers,
//!   timeout}}}`.
//! - Flat (what CALDERA itself writes): `technique_id`, `technique_name` and `executors: [{name,
//!   platform, command, cleanup, payloads, parsers, timeout}]`.
//!
//! Ids are trimmed (two upstream files have `' T1564.001'`).
use crate::dto::catalog::CalderaExecutor;
use crate::server::importers::yaml::{self, get, text, texts, trimmed};
use serde_yaml_ng::{Mapping, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Ability {
    pub path: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub tactic: String,
    pub technique_id: String,
    pub technique_name: String,
    pub privilege: Option<String>,
    pub executors: Vec<CalderaExecutor>,
    pub requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Adversary {
    pub path: String,
    pub id: String,
    pub name: String,
    pub description: String,
    /// Ability ids in order (`atomic_ordering`).
    pub abilities: Vec<String>,
}

/// The catalog's name of a CALDERA platform.
pub fn platform(os: &str) -> String {
    match os.trim().to_lowercase().as_str() {
        "darwin" => "macos".into(),
        other => other.to_owned(),
    }
}

/// The catalog's executor name for a CALDERA executor, where one means the same.
pub fn executor_name(executor: &str) -> String {
    match executor {
        "psh" | "pwsh" => "powershell".into(),
        "cmd" => "command_prompt".into(),
        other => other.to_owned(),
    }
}

/// `cleanup` is a string in the classic schema and a list in the flat one.
fn commands(value: Option<&Value>) -> Option<String> {
    let lines = texts(value);
    let joined = lines.join("\n");
    (!joined.trim().is_empty()).then_some(joined)
}

/// Parser modules: a map of module → configs (classic) or a list of `{module, …}` (flat).
fn parsers(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Mapping(map)) => map.keys().filter_map(text).collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Mapping(m) => trimmed(get(m, "module")),
                other => text(other),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One executor; it runs a command, a cleanup, or both (Stockpile's "Delete payload" only
/// cleans up).
fn executor(platform_name: &str, name: &str, body: &Mapping) -> Option<CalderaExecutor> {
    let command = get(body, "command")
        .and_then(text)
        .map(|c| c.trim_end().to_owned())
        .unwrap_or_default();
    let cleanup = commands(get(body, "cleanup"));
    if command.trim().is_empty() && cleanup.is_none() {
        return None;
    }
    Some(CalderaExecutor {
        platform: platform(platform_name),
        executor: name.trim().to_owned(),
        command,
        cleanup,
        payloads: texts(get(body, "payloads")),
        parsers: parsers(get(body, "parsers")),
        timeout: get(body, "timeout")
            .and_then(text)
            .and_then(|t| t.trim().parse().ok()),
    })
}

fn executors(ability: &Mapping) -> Vec<CalderaExecutor> {
    let mut found = Vec::new();
    if let Some(Value::Mapping(platforms)) = get(ability, "platforms") {
        for (os_keys, by_executor) in platforms {
            let (Some(os_keys), Value::Mapping(by_executor)) = (text(os_keys), by_executor) else {
                continue;
            };
            for (executor_keys, body) in by_executor {
                let (Some(executor_keys), Value::Mapping(body)) = (text(executor_keys), body)
                else {
                    continue;
                };
                for os in os_keys.split(',').filter(|s| !s.trim().is_empty()) {
                    for name in executor_keys.split(',').filter(|s| !s.trim().is_empty()) {
                        found.extend(executor(os, name, body));
                    }
                }
            }
        }
    }
    if let Some(Value::Sequence(list)) = get(ability, "executors") {
        for item in list {
            let Value::Mapping(body) = item else {
                continue;
            };
            let (Some(os), Some(name)) =
                (trimmed(get(body, "platform")), trimmed(get(body, "name")))
            else {
                continue;
            };
            found.extend(executor(&os, &name, body));
        }
    }
    found
}

/// Requirement modules: `- <module>: [...]` (classic) or `- module: <module>` (flat).
fn requirements(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Mapping(m) => {
                    trimmed(get(m, "module")).or_else(|| m.keys().next().and_then(text))
                }
                other => text(other),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn ability(path: &str, map: &Mapping) -> Result<Ability, String> {
    let id = trimmed(get(map, "id")).ok_or("the ability has no id")?;
    let name = trimmed(get(map, "name")).ok_or(format!("ability {id} has no name"))?;
    let technique = match get(map, "technique") {
        Some(Value::Mapping(t)) => Some(t),
        _ => None,
    };
    let raw_technique = technique
        .and_then(|t| trimmed(get(t, "attack_id")))
        .or_else(|| trimmed(get(map, "technique_id")))
        .ok_or(format!("ability {id} names no ATT&CK technique"))?;
    let technique_id = yaml::technique_id(&raw_technique).ok_or(format!(
        "ability {id}: '{raw_technique}' is not an ATT&CK technique id"
    ))?;
    let technique_name = technique
        .and_then(|t| trimmed(get(t, "name")))
        .or_else(|| trimmed(get(map, "technique_name")))
        .unwrap_or_default();
    let executors = executors(map);
    if executors.is_empty() {
        return Err(format!("ability {id} has no executor"));
    }
    Ok(Ability {
        path: path.to_owned(),
        name,
        description: trimmed(get(map, "description")).unwrap_or_default(),
        tactic: trimmed(get(map, "tactic"))
            .unwrap_or_default()
            .to_lowercase(),
        technique_id,
        technique_name,
        privilege: trimmed(get(map, "privilege")),
        executors,
        requirements: requirements(get(map, "requirements")),
        id,
    })
}

/// The abilities of one ability file.
pub fn abilities(path: &str, source: &str) -> Result<Vec<Ability>, String> {
    let value: Value = serde_yaml_ng::from_str(source).map_err(|e| yaml::error(&e))?;
    let items = match value {
        Value::Sequence(items) => items,
        Value::Mapping(map) => vec![Value::Mapping(map)],
        _ => return Err("not a list of abilities".into()),
    };
    if items.is_empty() {
        return Err("the file holds no ability".into());
    }
    items
        .iter()
        .map(|item| match item {
            Value::Mapping(map) => ability(path, map),
            _ => Err("an item of the list is not an ability".into()),
        })
        .collect()
}

/// One adversary profile.
pub fn adversary(path: &str, source: &str) -> Result<Adversary, String> {
    let value: Value = serde_yaml_ng::from_str(source).map_err(|e| yaml::error(&e))?;
    let Value::Mapping(map) = value else {
        return Err("not an adversary profile".into());
    };
    let id = trimmed(get(&map, "id"))
        .or_else(|| trimmed(get(&map, "adversary_id")))
        .ok_or("the adversary has no id")?;
    let name = trimmed(get(&map, "name")).ok_or(format!("adversary {id} has no name"))?;
    Ok(Adversary {
        path: path.to_owned(),
        description: trimmed(get(&map, "description")).unwrap_or_default(),
        abilities: texts(get(&map, "atomic_ordering")),
        name,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSIC: &str = r#"
- id: 0ef4cc7b-611c-4237-b20b-db36b6906554
  name: Dump LSASS memory using ProcDump
  description: Dump lsass for later use with mimikatz
  tactic: credential-access
  technique:
    attack_id: T1003.001
    name: "OS Credential Dumping: LSASS Memory"
  privilege: Elevated
  requirements:
    - plugins.stockpile.app.requirements.paw_provenance:
      - source: host.user.name
  platforms:
    windows:
      psh,pwsh:
        command: |
          procdump.exe -accepteula -ma lsass.exe #{host.dir.staged}
        cleanup: |
          remove-item #{host.dir.staged}
        payloads:
        - procdump.exe
        parsers:
          plugins.stockpile.app.parsers.basic:
          - source: host.file.path
        timeout: 120
    linux,darwin:
      sh:
        command: 'echo #{server}'
"#;

    const FLAT: &str = r#"
- tactic: defense-evasion
  technique_name: 'Hide Artifacts: Hidden Files and Directories'
  technique_id: ' T1564.001'
  name: 'Hide a file'
  requirements:
  - module: plugins.stockpile.app.requirements.paw_provenance
    relationship_match:
    - source: host.user.name
  executors:
  - name: sh
    platform: linux
    command: 'touch .hidden '
    cleanup: []
    payloads: []
    parsers: []
    timeout: 60
  - name: cmd
    platform: windows
    command: attrib +h x
    cleanup: [attrib -h x]
  privilege: ''
  id: f2130677-0000-0000-0000-000000000000
"#;

    #[test]
    fn the_classic_schema_expands_comma_joined_platforms_and_executors() {
        let abilities = abilities("data/abilities/credential-access/0ef4.yml", CLASSIC).unwrap();
        let [a] = abilities.as_slice() else {
            panic!("one ability")
        };
        assert_eq!(a.technique_id, "T1003.001");
        assert_eq!(a.technique_name, "OS Credential Dumping: LSASS Memory");
        assert_eq!(a.tactic, "credential-access");
        assert_eq!(a.privilege.as_deref(), Some("Elevated"));
        assert_eq!(
            a.requirements,
            vec!["plugins.stockpile.app.requirements.paw_provenance"]
        );
        let shape: Vec<(&str, &str)> = a
            .executors
            .iter()
            .map(|e| (e.platform.as_str(), e.executor.as_str()))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("windows", "psh"),
                ("windows", "pwsh"),
                ("linux", "sh"),
                ("macos", "sh")
            ]
        );
        let psh = &a.executors[0];
        assert_eq!(
            psh.command,
            "procdump.exe -accepteula -ma lsass.exe #{host.dir.staged}"
        );
        assert_eq!(
            psh.cleanup.as_deref(),
            Some("remove-item #{host.dir.staged}")
        );
        assert_eq!(psh.payloads, vec!["procdump.exe"]);
        assert_eq!(psh.parsers, vec!["plugins.stockpile.app.parsers.basic"]);
        assert_eq!(psh.timeout, Some(120));
    }

    #[test]
    fn the_flat_schema_is_read_and_ids_are_trimmed() {
        let abilities = abilities("data/abilities/defense-evasion/f213.yml", FLAT).unwrap();
        let a = &abilities[0];
        assert_eq!(a.technique_id, "T1564.001");
        assert_eq!(a.privilege, None);
        assert_eq!(
            a.requirements,
            vec!["plugins.stockpile.app.requirements.paw_provenance"]
        );
        assert_eq!(a.executors.len(), 2);
        assert_eq!(a.executors[0].cleanup, None);
        assert_eq!(a.executors[1].cleanup.as_deref(), Some("attrib -h x"));
        assert_eq!(a.executors[1].platform, "windows");
    }

    #[test]
    fn broken_abilities_say_what_is_wrong() {
        for (text, reason) in [
            (
                "- id: x\n  name: n\n  tactic: t\n  platforms: {}\n",
                "names no ATT&CK technique",
            ),
            (
                "- id: x\n  name: n\n  technique_id: TA0001\n  executors: []\n",
                "'TA0001' is not an ATT&CK technique id",
            ),
            (
                "- id: x\n  name: n\n  technique_id: T1082\n  executors: []\n",
                "has no executor",
            ),
            (
                "- id: x\n  name: n\n  technique_id: T1082\n  executors:\n  - {name: sh, platform: linux, command: ''}\n",
                "has no executor",
            ),
            ("- name: n\n", "has no id"),
            ("[]", "holds no ability"),
            ("- id: [unclosed\n", "line"),
        ] {
            let err = abilities("p.yml", text).unwrap_err();
            assert!(err.contains(reason), "{err} should say {reason}");
        }
    }

    #[test]
    fn adversaries_list_their_abilities_in_order() {
        let a = adversary(
            "data/adversaries/x.yml",
            "id: 01c9\nname: Thief\ndescription: Steals\natomic_ordering:\n  - a1 # first\n  - a2\n",
        )
        .unwrap();
        assert_eq!(a.abilities, vec!["a1", "a2"]);
        let b = adversary("p", "adversary_id: ' 02 '\nname: B\n").unwrap();
        assert_eq!(b.id, "02");
        assert!(b.abilities.is_empty());
        assert!(adversary("p", "name: B\n").is_err());
    }
}
