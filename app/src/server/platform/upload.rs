//! The one multipart reader, for REST handlers and server functions alike. Every upload is
//! bounded: all parts together may not exceed a total, each part is read within its own
//! limit, and a part whose name the endpoint does not expect is refused (422) rather than
//! read. Malformed bodies are a 400, oversized ones a 413, a missing or broken boundary a 400,
//! and a body that is not multipart at all a 415, all with the JSON error body.
use crate::error::{AppError, AppResult};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Is this request's body multipart at all (by its `Content-Type`)?
pub fn is_multipart(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

fn too_large(max_total: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "The upload is larger than {}",
        human_bytes(max_total)
    ))
}

/// `12 MB`, `512 KB`, `100 bytes`: for messages.
pub fn human_bytes(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= MB && n.is_multiple_of(MB) {
        format!("{} MB", n / MB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn unreadable(e: &multer::Error) -> AppError {
    AppError::BadRequest(format!("Unreadable multipart body: {e}"))
}

/// A multipart body being read, part by part.
pub struct MultipartReader {
    inner: multer::Multipart<'static>,
    allowed: &'static [&'static str],
    max_total: u64,
    read: Arc<AtomicU64>,
    parts: usize,
}

/// Room for part headers and boundaries beside the parts' bytes.
const FRAMING_BYTES: u64 = 4 * 1024 * 1024;

/// Parts one upload may hold (a folder of Atomic Red Team has about 1,800 files).
pub const MAX_PARTS: usize = 20_000;

impl MultipartReader {
    /// A REST request's body. 415 when it is not `multipart/form-data`, 400 without a valid
    /// boundary. `allowed` are the part names the endpoint takes; `max_total` bounds the
    /// whole body.
    pub fn from_request(
        headers: &http::HeaderMap,
        body: axum::body::Body,
        allowed: &'static [&'static str],
        max_total: u64,
    ) -> AppResult<Self> {
        if !is_multipart(headers) {
            return Err(AppError::UnsupportedMediaType(
                "Expected a multipart/form-data upload".into(),
            ));
        }
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type).map_err(|_| {
            AppError::BadRequest("The multipart upload has no valid boundary".into())
        })?;
        let stream = body.into_data_stream();
        // The whole body is bounded too (headers, boundaries and skipped bytes included), so
        // an endless stream of empty parts ends.
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new().whole_stream(max_total.saturating_add(FRAMING_BYTES)),
        );
        Ok(Self::new(
            multer::Multipart::with_constraints(stream, boundary, constraints),
            allowed,
            max_total,
        ))
    }

    /// A server function's multipart input.
    pub fn from_server_fn(
        data: server_fn::codec::MultipartData,
        allowed: &'static [&'static str],
        max_total: u64,
    ) -> AppResult<Self> {
        let inner = data
            .into_inner()
            .ok_or_else(|| AppError::BadRequest("Expected a file upload".into()))?;
        Ok(Self::new(inner, allowed, max_total))
    }

    fn new(
        inner: multer::Multipart<'static>,
        allowed: &'static [&'static str],
        max_total: u64,
    ) -> Self {
        Self {
            inner,
            allowed,
            max_total,
            read: Arc::new(AtomicU64::new(0)),
            parts: 0,
        }
    }

    /// The next part, or `None` at the end. A part the endpoint does not take is refused.
    pub async fn next(&mut self) -> AppResult<Option<Part>> {
        let field = match self.inner.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(None),
            Err(multer::Error::StreamSizeExceeded { .. }) => {
                return Err(too_large(self.max_total));
            }
            Err(e) => return Err(unreadable(&e)),
        };
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(AppError::PayloadTooLarge(format!(
                "The upload has more than {MAX_PARTS} parts"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if !self.allowed.contains(&name.as_str()) {
            // Named after the part the sender most likely meant to send.
            let shown: String = name.chars().take(64).collect();
            return Err(AppError::field(
                self.allowed.first().copied().unwrap_or("body"),
                format!(
                    "Unexpected part '{shown}'; this upload takes: {}",
                    self.allowed.join(", ")
                ),
            ));
        }
        Ok(Some(Part {
            name,
            file_name: field.file_name().map(str::to_owned),
            content_type: field.content_type().map(|m| m.to_string()),
            field,
            read: self.read.clone(),
            max_total: self.max_total,
        }))
    }
}

/// One part of a multipart body.
pub struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    field: multer::Field<'static>,
    read: Arc<AtomicU64>,
    max_total: u64,
}

impl Part {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The part's bytes as they arrive, counted towards the body's total (413 beyond it).
    pub fn stream(self) -> impl Stream<Item = AppResult<Bytes>> + Send + Unpin + 'static {
        let Part {
            field,
            read,
            max_total,
            ..
        } = self;
        Box::pin(field.map(move |chunk| {
            let chunk = chunk.map_err(|e| match e {
                multer::Error::StreamSizeExceeded { .. } => too_large(max_total),
                other => unreadable(&other),
            })?;
            let total = read.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total > max_total {
                return Err(too_large(max_total));
            }
            Ok(chunk)
        }))
    }

    /// The whole part, at most `max` bytes (413 beyond).
    pub async fn bytes(self, max: u64) -> AppResult<Vec<u8>> {
        let name = self.name.clone();
        let mut stream = self.stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(AppError::PayloadTooLarge(format!(
                    "The part '{name}' is larger than {}",
                    human_bytes(max)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A small text part of at most `max_chars` characters (a field error beyond, or when it
    /// is not UTF-8).
    pub async fn text(self, max_chars: usize) -> AppResult<String> {
        let name = self.name.clone();
        let mut stream = self.stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() > max_chars * 4 {
                return Err(AppError::field(
                    &name,
                    format!("At most {max_chars} characters"),
                ));
            }
        }
        let text =
            String::from_utf8(bytes).map_err(|_| AppError::field(&name, "Must be UTF-8 text"))?;
        if text.contains('\0') {
            return Err(AppError::field(&name, "May not contain NUL characters"));
        }
        if text.chars().count() > max_chars {
            return Err(AppError::field(
                &name,
                format!("At most {max_chars} characters"),
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_body(parts: &[(&str, Option<&str>, &[u8])]) -> (http::HeaderMap, axum::body::Body) {
        let mut out = Vec::new();
        for (name, file, data) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        (headers, axum::body::Body::from(out))
    }

    #[tokio::test]
    async fn reads_the_parts_it_takes() {
        let (headers, body) =
            form_body(&[("team", None, b"red"), ("file", Some("a.txt"), b"hello")]);
        let mut reader =
            MultipartReader::from_request(&headers, body, &["team", "file"], 1024).unwrap();
        let team = reader.next().await.unwrap().unwrap();
        assert_eq!(team.name(), "team");
        assert_eq!(team.text(16).await.unwrap(), "red");
        let file = reader.next().await.unwrap().unwrap();
        assert_eq!(file.file_name(), Some("a.txt"));
        assert_eq!(file.bytes(100).await.unwrap(), b"hello");
        assert!(reader.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn refuses_unknown_parts_oversized_bodies_and_non_multipart() {
        let (headers, body) = form_body(&[("other", None, b"x")]);
        let mut reader = MultipartReader::from_request(&headers, body, &["file"], 1024).unwrap();
        let err = reader.next().await.err().unwrap();
        assert_eq!(err.status(), 422);

        let (headers, body) = form_body(&[
            ("file", Some("a"), &[0u8; 600]),
            ("file", Some("b"), &[0u8; 600]),
        ]);
        let mut reader = MultipartReader::from_request(&headers, body, &["file"], 1000).unwrap();
        let first = reader.next().await.unwrap().unwrap();
        assert!(first.bytes(10_000).await.is_ok());
        let second = reader.next().await.unwrap().unwrap();
        assert_eq!(second.bytes(10_000).await.err().unwrap().status(), 413);

        let (headers, body) = form_body(&[("file", Some("a"), &[0u8; 600])]);
        let mut reader = MultipartReader::from_request(&headers, body, &["file"], 10_000).unwrap();
        let part = reader.next().await.unwrap().unwrap();
        assert_eq!(part.bytes(100).await.err().unwrap().status(), 413);

        let (headers, body) = form_body(&[("team", None, "é".repeat(20).as_bytes())]);
        let mut reader = MultipartReader::from_request(&headers, body, &["team"], 10_000).unwrap();
        let part = reader.next().await.unwrap().unwrap();
        assert_eq!(part.text(16).await.err().unwrap().status(), 422);

        let mut json = http::HeaderMap::new();
        json.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        let err = MultipartReader::from_request(&json, axum::body::Body::empty(), &["file"], 10)
            .err()
            .unwrap();
        assert_eq!(err.status(), 415);
        let mut no_boundary = http::HeaderMap::new();
        no_boundary.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("multipart/form-data"),
        );
        let err =
            MultipartReader::from_request(&no_boundary, axum::body::Body::empty(), &["file"], 10)
                .err()
                .unwrap();
        assert_eq!(err.status(), 400);

        let (headers, _) = form_body(&[]);
        let garbage = axum::body::Body::from("--XyZ\r\nno headers here");
        let mut reader = MultipartReader::from_request(&headers, garbage, &["file"], 100).unwrap();
        assert_eq!(reader.next().await.err().unwrap().status(), 400);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_bytes(2048), "2 KB");
        assert_eq!(human_bytes(100), "100 bytes");
    }
}
