//! Request pipeline: request ids and logging, security headers, authentication, cross-site
//! request refusal and the sign-in redirect for pages.
use app::error::{AppError, InternalErrorMarker};
use app::server::admin::{api_tokens, sessions};
use app::server::platform::context::{Auth, CspNonce, RequestMeta};
use app::server::platform::cookies::session_token;
use app::server::platform::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, Method, header};
use std::net::SocketAddr;
use std::time::Instant;
use tracing::Instrument;

/// Whether `X-Forwarded-For`/`X-Forwarded-Host` come from trusted reverse proxies, and how
/// many of them append to `X-Forwarded-For` (`None`: the headers are not trusted).
#[derive(Clone, Copy, Debug)]
pub struct TrustProxy(pub Option<usize>);

impl TrustProxy {
    pub fn trusted(self) -> bool {
        self.0.is_some()
    }
}

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Gives every request an id (kept from the caller when sane), logs it, echoes it back, and
/// puts it into 500 bodies so a user can quote it while the details stay in the log.
pub async fn request_context(trust: TrustProxy, mut req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let client_ip = client_ip(&req, trust);
    // No text Aegis keeps may hold NUL (PostgreSQL refuses it): refused here for every path
    // and query, REST and server functions alike, before any handler sees it.
    let has_nul = req.uri().path_and_query().is_some_and(|pq| {
        pq.as_str()
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    });
    if has_nul {
        let mut response =
            AppError::BadRequest("NUL characters (%00) are not allowed in URLs".into())
                .into_response();
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        return response;
    }
    req.extensions_mut().insert(RequestMeta {
        client_ip: client_ip.clone(),
        request_id: request_id.clone(),
    });

    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", id = %request_id, %method, %path);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            ip = client_ip.as_deref().unwrap_or("-"),
            "handled"
        );
    });

    if response.extensions().get::<InternalErrorMarker>().is_some() {
        let body =
            serde_json::json!({ "detail": "Internal server error", "request_id": request_id });
        let headers = response.headers().clone();
        response = (response.status(), axum::Json(body)).into_response();
        for (name, value) in headers.iter() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                response.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The client's address. Behind `hops` trusted proxies, each appends the address it saw to
/// `X-Forwarded-For`, so the client is the entry `hops` places from the right; whatever stands
/// further left was written by the client and is ignored. A list too short to hold it, or an
/// entry that is not an address, falls back to the connection's peer.
fn client_ip(req: &Request, trust: TrustProxy) -> Option<String> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let Some(hops) = trust.0 else {
        return peer;
    };
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    entries
        .len()
        .checked_sub(hops)
        .and_then(|i| entries.get(i))
        .and_then(|entry| forwarded_ip(entry))
        .map(|ip| ip.to_string())
        .or(peer)
}

/// An `X-Forwarded-For` entry's address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, or
/// `[2001:db8::1]:443`, as proxies write them.
fn forwarded_ip(entry: &str) -> Option<std::net::IpAddr> {
    let entry = entry.trim().trim_matches('"');
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

/// A fresh CSP nonce per response: Leptos stamps it on the hydration scripts, so no inline
/// script without it can run.
/// With `hsts` (cookies are `Secure`, so the site is served over HTTPS) browsers are told to
/// use HTTPS only. A handler's own `Content-Security-Policy` (evidence downloads are
/// `sandbox`ed) is kept.
pub async fn security_headers(hsts: bool, mut req: Request, next: Next) -> Response {
    let nonce = new_nonce();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    );
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&csp)
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn new_nonce() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Resolves the caller. A bearer token that fails is an immediate 401 (an API client wants to
/// know); a stale session cookie just means an anonymous visitor, who gets sent to sign in.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth = if let Some(token) = bearer_token(req.headers()) {
        let outcome = if token.starts_with(api_tokens::PREFIX) {
            api_tokens::authenticate(&state.db, token).await
        } else {
            sessions::authenticate_token(&state, token, false).await
        };
        match outcome {
            Ok(user) => Some(user),
            Err(err) => return err.into_response(),
        }
    } else if let Some(token) = cookie_token(req.headers(), state.auth.cookie_secure) {
        match sessions::authenticate_token(&state, token, true).await {
            Ok(user) => Some(user),
            Err(AppError::Unauthorized(_)) => None,
            Err(err) => return err.into_response(),
        }
    } else {
        None
    };
    req.extensions_mut().insert(Auth(auth));
    next.run(req).await
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn cookie_token(headers: &HeaderMap, secure: bool) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| session_token(v, secure))
}

/// Refuses state-changing requests that a browser sent from another site. Bearer-token
/// clients are exempt: a browser never attaches that header on its own.
pub async fn refuse_cross_site(trust: TrustProxy, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method
        && bearer_token(req.headers()).is_none()
        && !same_origin(req.headers(), trust.trusted())
    {
        return AppError::Forbidden("Cross-site request refused".into()).into_response();
    }
    next.run(req).await
}

/// True when the Origin (or, failing that, the Referer) names this host, or when neither is
/// sent, which browsers always do for cross-site form posts and fetches.
fn same_origin(headers: &HeaderMap, trust_proxy: bool) -> bool {
    let host = trust_proxy
        .then(|| headers.get("x-forwarded-host"))
        .flatten()
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match (source, host) {
        (None, _) => true,
        (Some("null"), _) | (Some(_), None) => false,
        (Some(source), Some(host)) => {
            origin_host(source).is_some_and(|h| h.eq_ignore_ascii_case(host))
        }
    }
}

/// `scheme://host[:port]/...` → `host[:port]`.
fn origin_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest)).filter(|h| !h.is_empty())
}

/// Pages need a session: anonymous visitors go to the sign-in page and come back afterwards;
/// a signed-in user asking for the sign-in page goes to the start page.
pub async fn page_guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_page = req.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/health"
        && !path.starts_with("/auth/oidc/")
        && !path.rsplit('/').next().unwrap_or("").contains('.');
    if is_page {
        let signed_in = req
            .extensions()
            .get::<Auth>()
            .is_some_and(|a| a.0.is_some());
        if path == "/login" && signed_in {
            return Redirect::to("/").into_response();
        }
        if path != "/login" && !signed_in {
            let target = req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/");
            let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
            return Redirect::to(&format!("/login?{query}")).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn request(forwarded: &[&str]) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        for value in forwarded {
            req.headers_mut()
                .append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 4000))));
        req
    }

    #[test]
    fn the_client_is_counted_from_the_trusted_proxies() {
        let one = TrustProxy(Some(1));
        // The client forges the leftmost entry; our proxy appends what it saw.
        assert_eq!(
            client_ip(&request(&["6.6.6.6, 203.0.113.7"]), one).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_ip(&request(&["6.6.6.6", "203.0.113.7"]), one).as_deref(),
            Some("203.0.113.7"),
            "repeated headers are one list"
        );
        assert_eq!(
            client_ip(
                &request(&["6.6.6.6, 203.0.113.7, 10.1.1.1"]),
                TrustProxy(Some(2))
            )
            .as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_ip(&request(&["203.0.113.7"]), TrustProxy(Some(2))).as_deref(),
            Some("10.0.0.9"),
            "too short: the peer"
        );
        assert_eq!(
            client_ip(&request(&["not-an-ip"]), one).as_deref(),
            Some("10.0.0.9")
        );
        assert_eq!(
            client_ip(&request(&["6.6.6.6, 203.0.113.7:5678"]), one).as_deref(),
            Some("203.0.113.7"),
            "a port is dropped"
        );
        assert_eq!(
            client_ip(&request(&["[2001:db8::7]:443"]), one).as_deref(),
            Some("2001:db8::7")
        );
        assert_eq!(
            client_ip(&request(&["203.0.113.7"]), TrustProxy(None)).as_deref(),
            Some("10.0.0.9"),
            "untrusted headers are ignored"
        );
    }

    #[test]
    fn origin_checks() {
        assert!(same_origin(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://evil.example")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]),
            false
        ));
        assert!(same_origin(
            &headers(&[
                ("host", "a.example"),
                ("referer", "https://a.example/admin?x=1")
            ]),
            false
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "a.example"),
                ("referer", "https://a.example.evil/x")
            ]),
            false
        ));
        assert!(same_origin(&headers(&[("host", "a.example")]), false));
        assert!(same_origin(
            &headers(&[
                ("host", "internal:3000"),
                ("x-forwarded-host", "aegis.example"),
                ("origin", "https://aegis.example")
            ]),
            true
        ));
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer ")])),
            None
        );
    }
}

#[cfg(test)]
mod pipeline_tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    /// A 500 tells the client only a request id to quote; the cause stays in the log.
    #[tokio::test]
    async fn internal_errors_carry_the_request_id_and_nothing_else() {
        let router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    AppError::internal("connection to db-7 refused: password=hunter2")
                }),
            )
            .layer(axum::middleware::from_fn(|req, next| {
                request_context(TrustProxy(None), req, next)
            }));
        let request = http::Request::builder()
            .uri("/boom")
            .header(REQUEST_ID_HEADER, "req-123")
            .body(Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "req-123");
        let body = axum::body::to_bytes(response.into_body(), 10_000)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "detail": "Internal server error", "request_id": "req-123" })
        );
    }
}
