//! Building URLs with query strings.

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `path?k=v&…` with the pairs that have a non-empty value, or `path` alone.
pub fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", urlencode(v)))
        })
        .collect();
    if encoded.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", encoded.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_skip_empty_values_and_encode_the_rest() {
        assert_eq!(
            with_query("/r", &[("a", None), ("b", Some(String::new()))]),
            "/r"
        );
        assert_eq!(
            with_query(
                "/r",
                &[("a", Some("x y&z".into())), ("b", Some("T1059.001".into()))]
            ),
            "/r?a=x%20y%26z&b=T1059.001"
        );
    }
}
