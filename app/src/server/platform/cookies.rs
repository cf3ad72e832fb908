//! The session cookie: HttpOnly so scripts never see the token, SameSite=Strict so other sites
//! cannot send it, and, when `Secure`, named with the `__Host-` prefix, which browsers accept
//! only from this host over HTTPS with `Path=/` and no `Domain` (so a sibling subdomain cannot
//! plant one).
use super::state::SESSION_COOKIE;

/// The cookie's name: `__Host-aegis_session` when Secure, `aegis_session` otherwise (plain
/// HTTP, where browsers refuse the prefix).
pub fn cookie_name(secure: bool) -> String {
    if secure {
        format!("__Host-{SESSION_COOKIE}")
    } else {
        SESSION_COOKIE.to_owned()
    }
}

pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The session token from a `Cookie` header value: only the cookie of the configured name.
pub fn session_token(cookie_header: &str, secure: bool) -> Option<&str> {
    let wanted = cookie_name(secure);
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes() {
        let c = session_cookie("abc", 3600, true);
        assert_eq!(
            c,
            "__Host-aegis_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
        );
        assert!(session_cookie("abc", 1, false).starts_with("aegis_session=abc;"));
        assert!(!session_cookie("abc", 1, false).contains("Secure"));
        assert!(clear_session_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn token_from_header() {
        assert_eq!(
            session_token("a=1; aegis_session=tok; b=2", false),
            Some("tok")
        );
        assert_eq!(session_token("a=1", false), None);
        assert_eq!(session_token("aegis_session=", false), None);
        assert_eq!(
            session_token("aegis_session=planted; __Host-aegis_session=real", true),
            Some("real")
        );
        assert_eq!(session_token("aegis_session=planted", true), None);
    }
}
