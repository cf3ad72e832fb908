//! Reading loosely typed YAML (CALDERA, LOLBAS, GTFOBins): scalars as text whatever their YAML
//! type, lists of text, and keys matched without regard to case where the data varies.
use serde_yaml_ng::{Mapping, Value};

/// A scalar as text (strings, numbers, booleans, dates YAML read as strings); `None` for
/// null, lists and maps.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(tagged) => text(&tagged.value),
        _ => None,
    }
}

/// A trimmed, non-empty scalar.
pub fn trimmed(value: Option<&Value>) -> Option<String> {
    value
        .and_then(text)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A list of scalars (a single scalar is a list of one); other items are left out.
pub fn texts(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(text)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        Some(other) => text(other)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

/// A key of a map, compared without regard to case (`MitreID` and `MitreId`).
pub fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

/// A YAML parse error's message with its line, for a skipped file's reason.
pub fn error(err: &serde_yaml_ng::Error) -> String {
    match err.location() {
        Some(at) => format!("line {}: {err}", at.line()),
        None => err.to_string(),
    }
}

/// An ATT&CK technique id as typed upstream (`' t1564.001'`), trimmed and upper-cased, if it
/// has the shape of one (`T1234` or `T1234.123`).
pub fn technique_id(raw: &str) -> Option<String> {
    let id = raw.trim().to_uppercase();
    let (main, sub) = match id.split_once('.') {
        Some((main, sub)) => (main, Some(sub)),
        None => (id.as_str(), None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let ok =
        main.strip_prefix('T').is_some_and(|d| digits(d, 4)) && sub.is_none_or(|s| digits(s, 3));
    ok.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_are_trimmed_and_checked() {
        assert_eq!(technique_id(" T1564.001").as_deref(), Some("T1564.001"));
        assert_eq!(technique_id("t1059").as_deref(), Some("T1059"));
        for bad in ["T159", "T1059.1", "1059", "TA0001", "", "T1059.001.002"] {
            assert_eq!(technique_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn scalars_read_as_text_whatever_their_type() {
        let v: Value =
            serde_yaml_ng::from_str("a: 2018-05-25\nb: 60\nc: [x, ' y ', null]\nMitreID: T1\n")
                .unwrap();
        let Value::Mapping(map) = v else { panic!() };
        assert_eq!(trimmed(get(&map, "a")).as_deref(), Some("2018-05-25"));
        assert_eq!(trimmed(get(&map, "B")).as_deref(), Some("60"));
        assert_eq!(texts(get(&map, "c")), vec!["x", "y"]);
        assert_eq!(trimmed(get(&map, "mitreid")).as_deref(), Some("T1"));
    }
}
