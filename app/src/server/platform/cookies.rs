//! The session cookie: HttpOnly so scripts never see the token, SameSite=Strict so other sites
//! cannot send it, and, when `Secure`, named with the `__Host-` prefix, which browsers accept
//! only from this host over HTTPS with `Path=/` and no `Domain` (so a sibling subdomain cannot
//! plant one). Beside it, while a single sign-on is under way, the flow cookie: the `state`
//! sent to the identity provider, SameSite=Lax because the provider's redirect back is a
//! navigation from another site.
use super::state::{SESSION_COOKIE, SSO_FLOW_COOKIE};

/// The cookie's name: `__Host-aegis_session` when Secure, `aegis_session` otherwise (plain
/// HTTP, where browsers refuse the prefix).
pub fn cookie_name(secure: bool) -> String {
    prefixed(SESSION_COOKIE, secure)
}

fn prefixed(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

pub fn session_cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    cookie(SESSION_COOKIE, token, "Strict", max_age_secs, secure)
}

pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The single sign-on flow's cookie, holding the `state` the callback must bring back.
pub fn sso_flow_cookie(state: &str, max_age_secs: u64, secure: bool) -> String {
    cookie(SSO_FLOW_COOKIE, state, "Lax", max_age_secs, secure)
}

pub fn clear_sso_flow_cookie(secure: bool) -> String {
    sso_flow_cookie("", 0, secure)
}

fn cookie(name: &str, value: &str, same_site: &str, max_age_secs: u64, secure: bool) -> String {
    let name = prefixed(name, secure);
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}"
    )
}

/// The session token from a `Cookie` header value: only the cookie of the configured name.
pub fn session_token(cookie_header: &str, secure: bool) -> Option<&str> {
    read(cookie_header, &cookie_name(secure))
}

/// The flow's `state` from a `Cookie` header value.
pub fn sso_flow_state(cookie_header: &str, secure: bool) -> Option<&str> {
    read(cookie_header, &prefixed(SSO_FLOW_COOKIE, secure))
}

fn read<'a>(cookie_header: &'a str, wanted: &str) -> Option<&'a str> {
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

    #[test]
    fn the_flow_cookie_survives_the_providers_redirect() {
        let c = sso_flow_cookie("st4te", 600, true);
        assert_eq!(
            c,
            "__Host-aegis_sso=st4te; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure"
        );
        assert_eq!(
            sso_flow_state("aegis_session=x; aegis_sso=st4te", false),
            Some("st4te")
        );
        assert_eq!(sso_flow_state("aegis_sso=st4te", true), None);
        assert!(clear_sso_flow_cookie(false).contains("Max-Age=0"));
    }
}
