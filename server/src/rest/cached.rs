//! Cached answers over HTTP (`app::server::platform::read_cache`): the answer's stamp gives
//! its `ETag`; a client that sends it back in `If-None-Match` gets `304 Not Modified` without
//! the answer being computed or sent; otherwise the kept JSON (or a fresh one) is sent with
//! the tag. `private, no-cache`: only the caller's own browser may keep it, and it must ask
//! again each time (the answer is behind a sign-in and changes with every test).
use app::error::{AppError, AppResult};
use app::server::platform::read_cache::Answer;
use app::server::platform::state::AppState;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use std::future::Future;
use std::marker::PhantomData;

use super::openapi::{OpDoc, RespDoc, Schemas, Success};

const REVALIDATE: HeaderValue = HeaderValue::from_static("private, no-cache");

/// `answer` to `query` as JSON, from the cache while it is current.
pub async fn json<T, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    answer: Answer,
    query: &impl Serialize,
    load: impl FnOnce() -> Fut,
) -> Result<Cached<T>, AppError>
where
    T: Serialize,
    Fut: Future<Output = AppResult<T>>,
{
    let stamp = state.cache.stamp(&state.db, answer, query).await?;
    let etag = HeaderValue::from_str(stamp.etag())
        .map_err(|e| AppError::Internal(format!("entity tag: {e}")))?;
    let known = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| stamp.matches(v));
    if known {
        return Ok(Cached::new(
            (
                StatusCode::NOT_MODIFIED,
                [(ETAG, etag), (CACHE_CONTROL, REVALIDATE)],
            )
                .into_response(),
        ));
    }
    let body: std::sync::Arc<Bytes> = state
        .cache
        .get_or_load(&stamp, || async {
            let value = load().await?;
            serde_json::to_vec(&value)
                .map(Bytes::from)
                .map_err(|e| AppError::Internal(format!("serializing an answer: {e}")))
        })
        .await?;
    Ok(Cached::new(
        (
            [
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (ETAG, etag),
                (CACHE_CONTROL, REVALIDATE),
            ],
            Body::from(Bytes::clone(&body)),
        )
            .into_response(),
    ))
}

/// A cached answer: `T` as JSON, or `304 Not Modified`. The type is for the API description.
pub struct Cached<T> {
    response: Response,
    answer: PhantomData<T>,
}

impl<T> Cached<T> {
    fn new(response: Response) -> Self {
        Cached {
            response,
            answer: PhantomData,
        }
    }
}

impl<T> IntoResponse for Cached<T> {
    fn into_response(self) -> Response {
        self.response
    }
}

impl<T: utoipa::ToSchema> RespDoc for Cached<T> {
    fn doc(doc: &mut OpDoc, schemas: &mut Schemas) {
        doc.answer(Success::json::<T>(schemas, 200));
        doc.answer(Success::empty(
            304,
            "Not modified since the ETag sent in If-None-Match",
        ));
    }
}
