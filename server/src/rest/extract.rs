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
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| ApiJson(value))
            .map_err(json_rejection)
    }
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
