//! The one error type of Aegis. It travels from services to REST handlers, to server functions
//! and into the browser, so it is plain serializable data with an HTTP status attached.
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use std::collections::BTreeMap;

/// Field name → message, shown next to the form field in the UI.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    Validation { detail: String, fields: FieldErrors },
    #[error("Too many attempts; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// A dependency (the database, the object store) cannot be reached now; worth a retry.
    #[error("{0}")]
    Unavailable(String),
    /// The message is for the log only; clients see a generic text.
    #[error("Internal server error")]
    Internal(#[serde(skip)] String),
    /// Transport failures seen by the browser (network down, unreadable response).
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::MethodNotAllowed(_) => 405,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge(_) => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Validation { .. } => 422,
            AppError::RateLimited { .. } => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) | AppError::Transport(_) => 500,
        }
    }

    pub fn unauthenticated() -> Self {
        AppError::Unauthorized("Not authenticated".into())
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("You do not have permission to do this".into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    /// One field error; most validation failures are about a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.into());
        AppError::Validation {
            detail: "Validation failed".into(),
            fields,
        }
    }

    pub fn from_fields(fields: FieldErrors) -> Result<(), Self> {
        Self::invalid("Validation failed", fields)
    }

    /// `Ok` when there are no field errors, else a validation error saying `detail`.
    pub fn invalid(detail: &str, fields: FieldErrors) -> Result<(), Self> {
        if fields.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation {
                detail: detail.to_owned(),
                fields,
            })
        }
    }

    /// The field errors, empty unless this is a validation error.
    pub fn fields(&self) -> FieldErrors {
        match self {
            AppError::Validation { fields, .. } => fields.clone(),
            _ => FieldErrors::new(),
        }
    }

    /// The text a person should read: never internals.
    pub fn detail(&self) -> String {
        self.to_string()
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(format!("Invalid input: {msg}"))
            }
            ServerFnErrorErr::Request(msg) => {
                AppError::Transport(format!("Could not reach the server: {msg}"))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use axum::response::{IntoResponse, Response};
    use http::{HeaderValue, StatusCode, header};

    /// Marks a response as an internal error so the request-id middleware can add the id.
    #[derive(Clone, Copy, Debug)]
    pub struct InternalErrorMarker;

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = match &self {
                AppError::Validation { detail, fields } => {
                    serde_json::json!({ "detail": detail, "fields": fields })
                }
                AppError::Internal(message) => {
                    tracing::error!(error = %message, "internal error");
                    serde_json::json!({ "detail": "Internal server error" })
                }
                other => serde_json::json!({ "detail": other.detail() }),
            };
            let mut response = (status, axum::Json(body)).into_response();
            match self {
                AppError::RateLimited { retry_after } => {
                    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                        response.headers_mut().insert(header::RETRY_AFTER, value);
                    }
                }
                AppError::Unauthorized(_) => {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                AppError::Internal(_) => {
                    response.extensions_mut().insert(InternalErrorMarker);
                }
                AppError::Unavailable(_) => {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                }
                _ => {}
            }
            response
        }
    }

    impl From<sea_orm::DbErr> for AppError {
        fn from(err: sea_orm::DbErr) -> Self {
            if database_unreachable(&err) {
                tracing::warn!(error = %err, "database unreachable");
                return AppError::Unavailable(
                    "The database cannot be reached; try again in a few seconds".into(),
                );
            }
            AppError::Internal(format!("database: {err}"))
        }
    }

    /// Whether `err` says the database cannot be reached now (down, restarting, the network,
    /// no connection to be had), rather than that a statement was wrong: the first is a 503
    /// worth retrying, the second a bug.
    pub fn database_unreachable(err: &sea_orm::DbErr) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let sqlx_error = match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
            _ => return false,
        };
        use sea_orm::sqlx::Error;
        match sqlx_error.as_ref() {
            Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception) and 57P (the server shutting down or
            // starting: admin_shutdown, crash_shutdown, cannot_connect_now).
            Error::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        }
    }

    impl From<sea_orm::TransactionError<AppError>> for AppError {
        fn from(err: sea_orm::TransactionError<AppError>) -> Self {
            match err {
                sea_orm::TransactionError::Connection(db) => db.into(),
                sea_orm::TransactionError::Transaction(app) => app,
            }
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::InternalErrorMarker;

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors cross the wire to the browser as JSON; every variant must survive the trip.
    #[test]
    fn errors_round_trip_through_json() {
        let all = [
            AppError::BadRequest("b".into()),
            AppError::Unauthorized("u".into()),
            AppError::Forbidden("f".into()),
            AppError::NotFound("n".into()),
            AppError::MethodNotAllowed("m".into()),
            AppError::Conflict("c".into()),
            AppError::PayloadTooLarge("p".into()),
            AppError::UnsupportedMediaType("t".into()),
            AppError::field("name", "bad"),
            AppError::RateLimited { retry_after: 7 },
            AppError::Unavailable("u".into()),
            AppError::Transport("x".into()),
        ];
        for err in all {
            let text = serde_json::to_string(&err).unwrap();
            assert_eq!(serde_json::from_str::<AppError>(&text).unwrap(), err);
        }
        let internal = serde_json::to_string(&AppError::internal("secret detail")).unwrap();
        assert!(
            !internal.contains("secret detail"),
            "internals never leave the server: {internal}"
        );
        assert!(matches!(
            serde_json::from_str::<AppError>(&internal).unwrap(),
            AppError::Internal(_)
        ));
    }
}
