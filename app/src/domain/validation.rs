//! Input rules (accounts, names, lists), shared so the UI can say the same thing the server
//! enforces.
use crate::error::FieldErrors;

pub const PASSWORD_MIN_LEN: usize = 10;
pub const PASSWORD_MAX_LEN: usize = 128;
pub const USERNAME_MAX_LEN: usize = 64;
pub const DISPLAY_NAME_MAX_LEN: usize = 128;
pub const EMAIL_MAX_LEN: usize = 254;

/// Trimmed, blanks dropped, duplicates dropped (first one kept); optionally lower-cased.
pub fn clean_list(values: &[String], lowercase: bool) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .iter()
        .map(|v| {
            let v = v.trim();
            if lowercase {
                v.to_lowercase()
            } else {
                v.to_owned()
            }
        })
        .filter(|v| !v.is_empty() && seen.insert(v.clone()))
        .collect()
}

/// May `url` become a link's `href`? Web and mail links and same-site paths only: never
/// `javascript:`, `data:` or a protocol-relative `//host`. The Markdown renderer and every
/// stored URL (ATT&CK references, actors) use this one rule.
pub fn is_safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["https://", "http://", "mailto:", "/", "#"]
        .iter()
        .any(|p| lower.starts_with(p))
        && !lower.starts_with("//")
        && !url.chars().any(char::is_control)
}

/// Upper bound on free-text fields (descriptions, notes, commands).
pub const TEXT_MAX: usize = 100_000;

pub fn check_text(field: &str, text: &str, errors: &mut FieldErrors) {
    if text.len() > TEXT_MAX {
        errors.insert(field.into(), format!("At most {TEXT_MAX} characters"));
    }
}

/// A required `name` of at most `max` characters.
pub fn check_name(name: &str, max: usize, errors: &mut FieldErrors) {
    let name = name.trim();
    if name.is_empty() {
        errors.insert("name".into(), "Name is required".into());
    } else if name.chars().count() > max {
        errors.insert(
            "name".into(),
            format!("Name must be at most {max} characters"),
        );
    }
}

/// Usernames are case-insensitive: we store and compare them lower-cased.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub fn check_username(username: &str, errors: &mut FieldErrors) {
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let message = if username.len() < 3 {
        Some("Username must be at least 3 characters")
    } else if username.len() > USERNAME_MAX_LEN {
        Some("Username must be at most 64 characters")
    } else if !valid_chars {
        Some("Username may contain only letters, digits, '.', '_' and '-'")
    } else {
        None
    };
    if let Some(message) = message {
        errors.insert("username".into(), message.into());
    }
}

pub fn check_password(field: &str, password: &str, errors: &mut FieldErrors) {
    let length = password.chars().count();
    if length < PASSWORD_MIN_LEN {
        errors.insert(
            field.into(),
            format!("Password must be at least {PASSWORD_MIN_LEN} characters"),
        );
    } else if length > PASSWORD_MAX_LEN {
        errors.insert(
            field.into(),
            format!("Password must be at most {PASSWORD_MAX_LEN} characters"),
        );
    }
}

pub fn check_display_name(name: &str, errors: &mut FieldErrors) {
    let name = name.trim();
    if name.is_empty() {
        errors.insert("display_name".into(), "Display name is required".into());
    } else if name.chars().count() > DISPLAY_NAME_MAX_LEN {
        errors.insert(
            "display_name".into(),
            "Display name must be at most 128 characters".into(),
        );
    }
}

/// A deliberately small check: one '@', a non-empty local part, a dotted domain, no spaces.
pub fn check_email(email: &str, errors: &mut FieldErrors) {
    let valid = email.len() <= EMAIL_MAX_LEN
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        errors.insert("email".into(), "Enter a valid email address".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_mail_and_site_links_are_safe() {
        for ok in [
            "https://attack.mitre.org/techniques/T1059",
            "http://x",
            "mailto:a@b",
            "/tests",
            "#top",
        ] {
            assert!(is_safe_link(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "vbscript:x",
            "https://x\n",
            "",
        ] {
            assert!(!is_safe_link(bad), "{bad:?}");
        }
    }

    fn errors_of(f: impl Fn(&mut FieldErrors)) -> FieldErrors {
        let mut errors = FieldErrors::new();
        f(&mut errors);
        errors
    }

    #[test]
    fn usernames() {
        assert!(errors_of(|e| check_username("alice.red-1_x", e)).is_empty());
        assert!(errors_of(|e| check_username("ab", e)).contains_key("username"));
        assert!(errors_of(|e| check_username("has space", e)).contains_key("username"));
        assert!(errors_of(|e| check_username(&"a".repeat(65), e)).contains_key("username"));
        assert_eq!(normalize_username("  Alice "), "alice");
    }

    #[test]
    fn passwords() {
        assert!(errors_of(|e| check_password("password", "long enough pw", e)).is_empty());
        assert!(errors_of(|e| check_password("password", "short", e)).contains_key("password"));
        assert!(
            errors_of(|e| check_password("password", &"x".repeat(129), e)).contains_key("password")
        );
    }

    #[test]
    fn emails() {
        assert!(errors_of(|e| check_email("a@b.io", e)).is_empty());
        for bad in [
            "", "a", "a@b", "@b.io", "a@@b.io", "a b@c.io", "a@.io", "a@io.",
        ] {
            assert!(
                errors_of(|e| check_email(bad, e)).contains_key("email"),
                "{bad}"
            );
        }
    }

    #[test]
    fn display_names() {
        assert!(errors_of(|e| check_display_name("Alice", e)).is_empty());
        assert!(errors_of(|e| check_display_name("   ", e)).contains_key("display_name"));
    }
}
