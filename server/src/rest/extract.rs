//! Extractors that turn malformed input into the one error shape: 400 for unreadable bodies,
//! 415 for the wrong content type, 413 for oversized bodies, 422 for well-formed but invalid
//! data, and the caller's identity for every handler.
use app::domain::rbac::Permission;
use app::error::AppError;
use app::server::platform::context::{Actor, Auth, CurrentUser, RequestMeta};
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "Expected Content-Type: application/json".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| bytes_rejection(&e))?;
        if has_escaped_nul(&bytes) {
            return Err(AppError::Validation {
                detail: "Text may not contain NUL characters (\\u0000)".into(),
                fields: Default::default(),
            });
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| ApiJson(value))
            .map_err(json_rejection)
    }
}

/// An optional JSON body: none when the request has no `Content-Type` (a bare `POST`),
/// else read as [`ApiJson`] is.
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(http::header::CONTENT_TYPE) {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// A JSON `\u0000` escape: no text Aegis stores may hold NUL (PostgreSQL refuses it). The
/// backslash must itself be unescaped: `"\\u0000"` is the harmless text `\u0000`.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    (0..bytes.len()).any(|i| {
        bytes[i..].len() >= 6
            && bytes[i] == b'\\'
            && matches!(bytes[i + 1], b'u' | b'U')
            && &bytes[i + 2..i + 6] == b"0000"
            && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

pub fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(e) => AppError::Validation {
            detail: format!(
                "Invalid request body: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            ),
            fields: Default::default(),
        },
        JsonRejection::JsonSyntaxError(_) => {
            AppError::BadRequest("Request body is not valid JSON".into())
        }
        JsonRejection::MissingJsonContentType(_) => {
            AppError::UnsupportedMediaType("Expected Content-Type: application/json".into())
        }
        JsonRejection::BytesRejection(e) => bytes_rejection(&e),
        other => AppError::BadRequest(other.body_text()),
    }
}

pub fn bytes_rejection(rejection: &BytesRejection) -> AppError {
    if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("Request body is too large".into())
    } else {
        AppError::BadRequest("Could not read the request body".into())
    }
}

pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|e: QueryRejection| {
                AppError::BadRequest(format!(
                    "Invalid query parameters: {}",
                    e.body_text()
                        .trim_start_matches("Failed to deserialize query string: ")
                ))
            })
    }
}

pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_: PathRejection| AppError::NotFound("Not found".into()))
    }
}

/// Who is calling, as the middleware established it.
pub struct Caller {
    pub auth: Auth,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> Result<&CurrentUser, AppError> {
        self.auth.require(permission)
    }

    pub fn actor(&self) -> Actor {
        Actor::new(self.auth.0.as_ref(), &self.meta)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller {
            auth: parts.extensions.get::<Auth>().cloned().unwrap_or_default(),
            meta: parts
                .extensions
                .get::<RequestMeta>()
                .cloned()
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaped_nul_is_found() {
        assert!(super::has_escaped_nul(br#"{"a": "x\u0000y"}"#));
        assert!(super::has_escaped_nul(br#"{"a": "\U0000"}"#));
        assert!(!super::has_escaped_nul(br#"{"a": "\u00e9"}"#));
        assert!(!super::has_escaped_nul(br#"{"a": "C:\\u0000"}"#));
        assert!(super::has_escaped_nul(br#"{"a": "C:\\\u0000"}"#));
    }
}
