//! Sigma rules (SigmaHQ): one YAML document per rule. The ATT&CK mapping is in `tags`
//! (`attack.t1059.001`); the query is the `detection` block, kept as YAML.
use super::UpstreamRule;
use crate::server::importers::yaml::{self, get, texts, trimmed};
use serde_yaml_ng::Value;

pub const LICENSE: &str = "DRL-1.1";
pub const REPOSITORY: &str = "https://github.com/SigmaHQ/sigma";

/// The platform a Sigma `logsource.product` names, as Aegis spells platforms.
fn platform(product: &str) -> String {
    match product.to_ascii_lowercase().as_str() {
        "windows" => "windows".into(),
        "linux" => "linux".into(),
        "macos" => "macos".into(),
        other => other.to_owned(),
    }
}

/// Reads one rule file; the error is why it is skipped.
pub fn parse(path: &str, text: &str) -> Result<UpstreamRule, String> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let message = yaml::error(&e);
        if message.contains("more than one document") {
            "a multi-document rule collection (not supported)".to_owned()
        } else {
            format!("not valid YAML ({message})")
        }
    })?;
    let Value::Mapping(rule) = value else {
        return Err("not a Sigma rule: the document is not a map".into());
    };
    let id = trimmed(get(&rule, "id")).ok_or("no `id`")?;
    let title = trimmed(get(&rule, "title")).ok_or("no `title`")?;
    let detection = match get(&rule, "detection") {
        Some(detection @ Value::Mapping(_)) => serde_yaml_ng::to_string(detection)
            .map_err(|e| format!("unreadable `detection`: {e}"))?,
        _ => return Err("no `detection` block".into()),
    };
    let mut techniques: Vec<String> = texts(get(&rule, "tags"))
        .iter()
        .filter_map(|tag| {
            let tag = tag.to_ascii_lowercase();
            tag.strip_prefix("attack.")
                .filter(|rest| rest.starts_with('t'))
                .and_then(yaml::technique_id)
        })
        .collect();
    techniques.sort();
    techniques.dedup();
    let logsource = match get(&rule, "logsource") {
        Some(Value::Mapping(map)) => map.clone(),
        _ => Default::default(),
    };
    let product = trimmed(get(&logsource, "product"));
    let log_source = ["product", "category", "service"]
        .iter()
        .filter_map(|key| trimmed(get(&logsource, key)).map(|v| format!("{key}: {v}")))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(UpstreamRule {
        upstream_id: id,
        path: path.to_owned(),
        title,
        description: trimmed(get(&rule, "description")).unwrap_or_default(),
        status: trimmed(get(&rule, "status")).unwrap_or_default(),
        level: trimmed(get(&rule, "level")).unwrap_or_default(),
        author: trimmed(get(&rule, "author")).unwrap_or_default(),
        log_source,
        platforms: product.iter().map(|p| platform(p)).collect(),
        language: "sigma".into(),
        query: detection,
        false_positives: texts(get(&rule, "falsepositives")),
        references: texts(get(&rule, "references")),
        techniques,
        license: LICENSE.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r#"title: 7Zip Compressing Dump Files
id: ec570e53-4c76-45a9-804d-dc3f355ff7a7
status: test
description: Detects execution of 7z to compress a dump file.
references:
    - https://thedfirreport.com/2022/09/26/bumblebee-round-two/
author: Nasreddine Bencherchali (Nextron Systems)
tags:
    - attack.collection
    - attack.t1560.001
    - attack.T1560.001
    - attack.g0016
    - cve.2021-1234
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: '.dmp'
    condition: selection
falsepositives:
    - Legitimate use of 7z
level: medium
"#;

    #[test]
    fn a_rule_reads_with_its_techniques_and_query() {
        let rule = parse("rules/windows/x.yml", RULE).unwrap();
        assert_eq!(rule.upstream_id, "ec570e53-4c76-45a9-804d-dc3f355ff7a7");
        assert_eq!(rule.techniques, ["T1560.001"]);
        assert_eq!(rule.platforms, ["windows"]);
        assert_eq!(
            rule.log_source,
            "product: windows, category: process_creation"
        );
        assert!(rule.query.contains("CommandLine|contains: .dmp"));
        assert!(rule.query.contains("condition: selection"));
        assert_eq!(rule.level, "medium");
        assert_eq!(rule.status, "test");
        assert_eq!(rule.false_positives, ["Legitimate use of 7z"]);
        assert_eq!(rule.license, "DRL-1.1");
    }

    #[test]
    fn broken_rules_say_why() {
        assert!(
            parse("a.yml", "title: x\nid: 1\n")
                .unwrap_err()
                .contains("detection")
        );
        assert!(
            parse("a.yml", "id: 1\ndetection: {a: b}\n")
                .unwrap_err()
                .contains("title")
        );
        assert!(
            parse("a.yml", "- a\n- b\n")
                .unwrap_err()
                .contains("not a map")
        );
        assert!(
            parse("a.yml", "title: [unclosed\n")
                .unwrap_err()
                .contains("YAML")
        );
        assert!(
            parse("a.yml", "title: a\n---\ntitle: b\n")
                .unwrap_err()
                .contains("multi-document")
        );
    }
}
