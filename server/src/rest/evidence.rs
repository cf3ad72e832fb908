//! Evidence: streamed multipart uploads, metadata with a time-limited download URL, and the
//! signed download of the local store.
use super::extract::{ApiPath, ApiQuery, Caller};
use app::domain::rbac::{Permission, Team};
use app::dto::workflow::{EvidenceDownload, EvidenceDto};
use app::error::AppError;
use app::server::platform::state::AppState;
use app::server::platform::upload::MultipartReader;
use app::server::workflow::evidence::{
    self, DESCRIPTION_MAX, UploadInfo, clean_content_type, sanitize_filename,
};
use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use std::str::FromStr;
use uuid::Uuid;

/// The parts an evidence upload consists of.
const PARTS: &[&str] = &["team", "description", "file"];

/// Room for the text parts and the multipart framing beside the file: generous, so the store's
/// own limit (which names the evidence limit) is what an oversized file meets first.
const TEXT_PARTS_BYTES: u64 = 1024 * 1024;

fn parse_team(text: &str) -> Result<Team, AppError> {
    Team::from_str(text.trim()).map_err(|e| AppError::field("team", e))
}

/// `POST /tests/{test_id}/evidence` (multipart: `file`, `team`, `description`). The file
/// is streamed to the store as it arrives; anything that goes wrong after it is stored
/// removes it again.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(test_id): ApiPath<Uuid>,
    request: Request,
) -> Result<(StatusCode, Json<EvidenceDto>), AppError> {
    let user = caller.require(Permission::ViewData)?.clone();
    let (parts, body) = request.into_parts();
    // The file is bounded by the store's limit (413 from the store, which also knows the
    // size of S3 parts); the rest of the form is small.
    let limit = state.evidence.max_bytes.saturating_add(TEXT_PARTS_BYTES);
    let mut form = MultipartReader::from_request(&parts.headers, body, PARTS, limit)?;
    let mut team = None;
    let mut description = String::new();
    let mut stored = None;
    let mut filename = String::new();
    let mut content_type = String::new();
    let outcome: Result<(), AppError> = async {
        while let Some(part) = form.next().await? {
            match part.name() {
                "team" => team = Some(parse_team(&part.text(16).await?)?),
                "description" => description = part.text(DESCRIPTION_MAX).await?,
                _ => {
                    if stored.is_some() {
                        return Err(AppError::field("file", "Upload one file at a time"));
                    }
                    filename = sanitize_filename(part.file_name());
                    content_type = clean_content_type(part.content_type());
                    stored = Some(
                        evidence::store_file(
                            &state.db,
                            &state.evidence,
                            &user,
                            test_id,
                            team,
                            part.stream(),
                        )
                        .await?,
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        if let Some(stored) = &stored {
            evidence::discard(&state.evidence, &stored.key).await;
        }
        return Err(e);
    }
    let Some(stored) = stored else {
        return Err(AppError::field("file", "Attach a file"));
    };
    let Some(team) = team else {
        evidence::discard(&state.evidence, &stored.key).await;
        return Err(AppError::field(
            "team",
            "Say whose evidence this is: red or blue",
        ));
    };
    let dto = evidence::record(
        &state.db,
        &state.evidence,
        &user,
        &caller.actor(),
        test_id,
        stored,
        UploadInfo {
            team,
            description,
            filename,
            content_type,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

/// `GET /evidence/{id}`: metadata and a download URL valid for a few minutes.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<EvidenceDownload>, AppError> {
    caller.require(Permission::ViewData)?;
    Ok(Json(
        evidence::download_info(&state.db, &state.evidence, &caller.actor(), id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignedQuery {
    expires: i64,
    signature: String,
}

/// The type a download is served as: active content (HTML, SVG, XML, JavaScript), which a
/// browser would run, goes out as bytes; everything else as recorded.
fn served_type(recorded: &str) -> &str {
    let essence = recorded
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let active = essence.contains("html")
        || essence.contains("xml")
        || essence.contains("svg")
        || essence.contains("javascript")
        || essence.contains("ecmascript")
        || essence == "text/xsl";
    if active {
        "application/octet-stream"
    } else {
        recorded
    }
}

/// `GET /evidence/{id}/download?expires=…&signature=…`: the link itself is the credential,
/// so it works in a plain browser download. Always an attachment, never rendered inline.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SignedQuery>,
) -> Result<Response, AppError> {
    let (model, stream) = evidence::open_signed(
        &state.db,
        &state.evidence,
        &caller.actor(),
        id,
        query.expires,
        &query.signature,
    )
    .await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    let ascii: String = model
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = model
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    for (name, value) in [
        (
            header::CONTENT_TYPE,
            served_type(&model.content_type).to_owned(),
        ),
        (header::CONTENT_LENGTH, model.size_bytes.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "private, no-store".into()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn active_content_is_served_as_bytes() {
        for active in [
            "text/html",
            "text/html; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/xml",
            "text/javascript",
            "application/javascript",
            "TEXT/HTML",
        ] {
            assert_eq!(
                super::served_type(active),
                "application/octet-stream",
                "{active}"
            );
        }
        for passive in [
            "image/png",
            "text/plain",
            "application/pdf",
            "application/zip",
        ] {
            assert_eq!(super::served_type(passive), passive);
        }
    }
}
