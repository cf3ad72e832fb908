//! Elastic detection rules (elastic/detection-rules): one TOML file per rule, `[metadata]` and
//! `[rule]`; the ATT&CK mapping is `[[rule.threat]]` with techniques and sub-techniques.
use super::UpstreamRule;
use toml::Value;

pub const LICENSE: &str = "Elastic-2.0";
pub const REPOSITORY: &str = "https://github.com/elastic/detection-rules";

fn text(table: &toml::Table, key: &str) -> Option<String> {
    match table.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn texts(table: &toml::Table, key: &str) -> Vec<String> {
    match table.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => vec![s.trim().to_owned()],
        _ => Vec::new(),
    }
}

fn ids(entries: Option<&Value>, out: &mut Vec<String>, nested: Option<&str>) {
    for entry in entries.and_then(Value::as_array).into_iter().flatten() {
        let Some(entry) = entry.as_table() else {
            continue;
        };
        if let Some(id) = entry
            .get("id")
            .and_then(Value::as_str)
            .and_then(crate::server::importers::yaml::technique_id)
        {
            out.push(id);
        }
        if let Some(key) = nested {
            ids(entry.get(key), out, None);
        }
    }
}

/// The platforms a rule's tags (`OS: Windows`) or its folder (`rules/integrations/aws/`) name.
fn platforms(path: &str, tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter_map(|t| t.strip_prefix("OS: "))
        .map(|os| os.trim().to_ascii_lowercase())
        .collect();
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(at) = parts.iter().position(|p| *p == "integrations")
        && let Some(integration) = parts.get(at + 1).filter(|p| !p.ends_with(".toml"))
    {
        out.push((*integration).to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// Reads one rule file; the error is why it is skipped.
pub fn parse(path: &str, text_: &str) -> Result<UpstreamRule, String> {
    let doc: toml::Table = toml::from_str(text_).map_err(|e| {
        format!(
            "not valid TOML ({})",
            e.message().lines().next().unwrap_or("parse error")
        )
    })?;
    let rule = doc
        .get("rule")
        .and_then(Value::as_table)
        .ok_or("no [rule] table")?;
    let metadata = doc
        .get("metadata")
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    let id = text(rule, "rule_id").ok_or("no `rule.rule_id`")?;
    let title = text(rule, "name").ok_or("no `rule.name`")?;
    let kind = text(rule, "type").unwrap_or_default();
    let mut techniques = Vec::new();
    for threat in rule
        .get("threat")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(threat) = threat.as_table() {
            ids(
                threat.get("technique"),
                &mut techniques,
                Some("subtechnique"),
            );
        }
    }
    techniques.sort();
    techniques.dedup();
    let tags = texts(rule, "tags");
    let mut sources = texts(rule, "index");
    if sources.is_empty() {
        sources = texts(&metadata, "integration");
    }
    Ok(UpstreamRule {
        upstream_id: id,
        path: path.to_owned(),
        title,
        description: text(rule, "description").unwrap_or_default(),
        status: text(&metadata, "maturity").unwrap_or_default(),
        level: text(rule, "severity").unwrap_or_default(),
        author: texts(rule, "author").join(", "),
        log_source: sources.join(", "),
        platforms: platforms(path, &tags),
        language: text(rule, "language").unwrap_or(kind),
        query: text(rule, "query").unwrap_or_default(),
        false_positives: texts(rule, "false_positives"),
        references: texts(rule, "references"),
        techniques,
        license: LICENSE.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r#"[metadata]
creation_date = "2020/08/17"
maturity = "production"

[rule]
author = ["Elastic"]
description = "Identifies a credential dumping tool."
false_positives = ["Administrators testing"]
index = ["logs-endpoint.events.process-*", "winlogbeat-*"]
language = "eql"
license = "Elastic License v2"
name = "Potential Credential Access via Windows Utilities"
references = ["https://lolbas-project.github.io/"]
risk_score = 73
rule_id = "00140285-b827-4aee-aa09-8113f58a08f3"
severity = "high"
tags = ["Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection"]
type = "eql"
query = '''
process where host.os.type == "windows" and process.name : "procdump.exe"
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1003"
name = "OS Credential Dumping"
[[rule.threat.technique.subtechnique]]
id = "T1003.001"
name = "LSASS Memory"

[rule.threat.tactic]
id = "TA0006"
name = "Credential Access"

[[rule.threat]]
framework = "MITRE ATT&CK"

[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
"#;

    #[test]
    fn a_rule_reads_with_techniques_and_sub_techniques() {
        let rule = parse("rules/windows/credential_access_x.toml", RULE).unwrap();
        assert_eq!(rule.upstream_id, "00140285-b827-4aee-aa09-8113f58a08f3");
        assert_eq!(rule.techniques, ["T1003", "T1003.001"]);
        assert_eq!(rule.platforms, ["windows"]);
        assert_eq!(rule.language, "eql");
        assert_eq!(rule.level, "high");
        assert_eq!(rule.status, "production");
        assert!(rule.query.contains("procdump.exe"));
        assert_eq!(
            rule.log_source,
            "logs-endpoint.events.process-*, winlogbeat-*"
        );
        assert_eq!(rule.author, "Elastic");
    }

    #[test]
    fn integrations_name_their_platform_and_broken_rules_say_why() {
        let aws = RULE.replace(r#""OS: Windows", "#, "");
        let rule = parse("rules/integrations/aws/x.toml", &aws).unwrap();
        assert_eq!(rule.platforms, ["aws"]);
        assert!(
            parse("a.toml", "[metadata]\n")
                .unwrap_err()
                .contains("[rule]")
        );
        assert!(
            parse("a.toml", "[rule]\nname = 'x'\n")
                .unwrap_err()
                .contains("rule_id")
        );
        assert!(parse("a.toml", "[rule\n").unwrap_err().contains("TOML"));
    }
}
