//! The browser's side of single sign-on: `GET /auth/oidc/login` sends it to the identity
//! provider, `GET /auth/oidc/callback` brings it back signed in (the same session cookie a
//! password sign-in sets) or to the login page with the reason (`?sso_error=`). The flow itself
//! is `app::server::admin::sso`.
use crate::rest::extract::Caller;
use app::domain::sso::SsoFailure;
use app::error::AppError;
use app::server::admin::sso::{self, CallbackQuery};
use app::server::platform::cookies;
use app::server::platform::state::AppState;
use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, header};

#[derive(serde::Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
}

/// Starts a sign-in at the provider; `next` is where to land afterwards.
pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query: LoginQuery =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let secure = state.auth.cookie_secure;
    match sso::start(&state, &caller.meta, query.next.as_deref()).await? {
        Ok(started) => {
            let mut response = Redirect::to(&started.authorize_url).into_response();
            set_cookie(
                &mut response,
                &cookies::sso_flow_cookie(&started.state, sso::FLOW_TTL.as_secs(), secure),
            );
            Ok(no_store(response))
        }
        Err(failure) => Ok(to_login_page(failure, secure)),
    }
}

/// The provider's redirect back.
pub async fn callback(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let secure = state.auth.cookie_secure;
    let Ok(query) = serde_urlencoded::from_str::<CallbackQuery>(query.as_deref().unwrap_or(""))
    else {
        return Ok(to_login_page(SsoFailure::BadState, secure));
    };
    let cookie_state = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| cookies::sso_flow_state(v, secure).map(str::to_owned));
    match sso::finish(&state, &caller.meta, &query, cookie_state.as_deref()).await? {
        Ok(finished) => {
            // A page of ours, not a redirect: the session cookie is SameSite=Strict, and a
            // browser does not send it on a redirect chain that began at the provider's site.
            // The page's own navigation to `next` is same-site, so the dashboard sees it.
            let target = html_escape(&finished.next);
            let page = format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta http-equiv=\"refresh\" content=\"0;url={target}\">\
                 <title>Signed in</title></head><body>\
                 <p>Signed in. <a id=\"continue\" href=\"{target}\">Continue to Aegis</a></p>\
                 </body></html>"
            );
            let mut response = Html(page).into_response();
            set_cookie(
                &mut response,
                &cookies::session_cookie(
                    &finished.access_token,
                    state.auth.token_ttl.as_secs(),
                    secure,
                ),
            );
            set_cookie(&mut response, &cookies::clear_sso_flow_cookie(secure));
            Ok(no_store(response))
        }
        Err(failure) => Ok(to_login_page(failure, secure)),
    }
}

fn to_login_page(failure: SsoFailure, secure: bool) -> Response {
    let mut response =
        Redirect::to(&format!("/login?sso_error={}", failure.as_str())).into_response();
    set_cookie(&mut response, &cookies::clear_sso_flow_cookie(secure));
    no_store(response)
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
