//! `/api/v1/auth`: sign in (form or JSON), who am I, sign out.
use crate::rest::extract::{ApiJson, ApiPath, Caller, bytes_rejection};
use app::domain::rbac::Permission;
use app::dto::admin::auth::{
    ApiTokenDto, CreateTokenRequest, CreatedToken, LoginRequest, SignInOptions, UserProfile,
};
use app::error::AppError;
use app::server::admin::api_tokens;
use app::server::admin::sessions;
use app::server::admin::users;
use app::server::platform::cookies::{clear_session_cookie, session_cookie};
use app::server::platform::state::AppState;
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use uuid::Uuid;

pub async fn login(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> Result<Response, AppError> {
    let credentials = read_credentials(req).await?;
    let outcome = sessions::login(&state, &caller.meta, &credentials).await?;
    let cookie = session_cookie(
        &outcome.token.access_token,
        state.auth.token_ttl.as_secs(),
        state.auth.cookie_secure,
    );
    let mut response = Json(outcome.token).into_response();
    append_cookie(&mut response, &cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The spec's curl example posts a form; scripts usually send JSON. Both are accepted.
async fn read_credentials(req: Request) -> Result<LoginRequest, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let body = axum::body::Bytes::from_request(req, &())
        .await
        .map_err(|e| bytes_rejection(&e))?;
    match content_type.as_str() {
        "application/json" => serde_json::from_slice(&body).map_err(|e| {
            if e.is_syntax() || e.is_eof() {
                AppError::BadRequest("Request body is not valid JSON".into())
            } else {
                AppError::Validation {
                    detail: format!("Invalid request body: {e}"),
                    fields: Default::default(),
                }
            }
        }),
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(&body).map_err(|e| AppError::Validation {
                detail: format!("Invalid form body: {e}"),
                fields: Default::default(),
            })
        }
        _ => Err(AppError::UnsupportedMediaType(
            "Send credentials as application/json or application/x-www-form-urlencoded".into(),
        )),
    }
}

pub async fn sign_in_options(
    State(state): State<AppState>,
) -> Result<Json<SignInOptions>, AppError> {
    Ok(Json(app::server::admin::sso::sign_in_options(&state)))
}

pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<UserProfile>, AppError> {
    let user = caller.require(Permission::ManageOwnAccount)?;
    Ok(Json(users::to_profile(
        &users::find(&state.db, user.id).await?,
    )?))
}

pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let user = caller.auth.user()?;
    sessions::logout(&state, user, &caller.meta).await?;
    let mut response = http::StatusCode::NO_CONTENT.into_response();
    append_cookie(
        &mut response,
        &clear_session_cookie(state.auth.cookie_secure),
    );
    Ok(response)
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// `GET /auth/tokens`: the caller's active API tokens (never their secrets).
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiTokenDto>>, AppError> {
    let user = caller.require(Permission::ManageOwnAccount)?;
    Ok(Json(api_tokens::list(&state.db, user.id).await?))
}

/// `POST /auth/tokens`: a new API token; the answer's `token` is shown this once.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let user = caller.require(Permission::ManageOwnAccount)?;
    let owner = api_tokens::own(&state.db, user).await?;
    let created = api_tokens::create(
        &state.db,
        owner,
        &caller.actor(),
        body,
        state.auth.api_token_max_days,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `DELETE /auth/tokens/{id}`: revokes one of the caller's tokens at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, AppError> {
    let user = caller.require(Permission::ManageOwnAccount)?;
    api_tokens::revoke(&state.db, user.id, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
