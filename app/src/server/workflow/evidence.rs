//! Evidence files: who may upload when (the workflow's rules per team and state), the
//! metadata row with its audit entry, and integrity-checked downloads. The bytes go through
//! `EvidenceStore`; an upload whose database write fails removes its object again, so there
//! are neither orphan files nor rows without a file.
use crate::domain::audit::AuditAction;
use crate::domain::audit::{TEST_ENTITY, TestEvent, UploadPayload};
use crate::domain::rbac::Team;
use crate::domain::workflow::{self, Action};
use crate::dto::workflow::{EvidenceDownload, EvidenceDto};
use crate::error::{AppError, AppResult};
use crate::server::entities::evidence;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::{Actor, CurrentUser};
use crate::server::platform::db::begin_write;
use crate::server::workflow::checks::refusal;
use crate::server::workflow::evidence_store::{EvidenceStore, StoredObject};
use crate::server::workflow::reads::{self, evidence_dto, user_names};
use crate::server::workflow::rows::lock;
use bytes::Bytes;
use chrono::Utc;
use futures::Stream;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

pub const DESCRIPTION_MAX: usize = 2000;
const FILENAME_MAX: usize = 255;

/// A name safe to show and to put in a `Content-Disposition` header: the last path segment
/// only, control and quoting characters replaced, no leading dots, at most 255 characters.
pub fn sanitize_filename(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ':' | '|' | '?' | '*' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let cleaned: String = cleaned.chars().take(FILENAME_MAX).collect();
    if cleaned.is_empty() {
        "evidence.bin".into()
    } else {
        cleaned
    }
}

/// The declared media type when it looks like one, else `application/octet-stream`.
pub fn clean_content_type(raw: Option<&str>) -> String {
    match raw.map(str::trim) {
        Some(ct)
            if ct.len() <= 255
                && ct.contains('/')
                && ct.chars().all(|c| c.is_ascii_graphic() || c == ' ') =>
        {
            ct.to_owned()
        }
        _ => "application/octet-stream".into(),
    }
}

/// Refuses early, before any byte is stored, when the caller may not upload to this test now
/// (for `team`, or for either team while the form has not said which yet). The transaction
/// that records the upload checks again.
pub async fn precheck(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
    test_id: Uuid,
    team: Option<Team>,
) -> AppResult<()> {
    let state = reads::find(conn, test_id).await?.state;
    match team {
        Some(team) => workflow::check(user.role, state, Action::UploadEvidence(team)),
        None => workflow::check(user.role, state, Action::UploadEvidence(Team::Red))
            .or_else(|_| workflow::check(user.role, state, Action::UploadEvidence(Team::Blue))),
    }
    .map_err(refusal)
}

pub struct UploadInfo {
    pub team: Team,
    pub description: String,
    pub filename: String,
    pub content_type: String,
}

/// Streams an upload's bytes into the store once the caller may upload at all; [`record`]
/// then writes its row (or removes the bytes).
pub async fn store_file<S, E>(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    user: &CurrentUser,
    test_id: Uuid,
    team: Option<Team>,
    body: S,
) -> AppResult<StoredObject>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<AppError>,
{
    precheck(db, user, test_id, team).await?;
    store.put_stream(test_id, body).await
}

/// Records a stored object as evidence of `test_id`, or removes it when that fails.
pub async fn record(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    user: &CurrentUser,
    actor: &Actor,
    test_id: Uuid,
    stored: StoredObject,
    info: UploadInfo,
) -> AppResult<EvidenceDto> {
    let key = stored.key.clone();
    let result = insert(db, user, actor, test_id, stored, info).await;
    if result.is_err() {
        discard(store, &key).await;
    }
    result
}

/// An upload is stored first and recorded after: an object younger than this may still be
/// about to get its row (on this or another server process).
pub const ORPHAN_AGE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Removes what a server killed mid-upload left behind: objects no evidence row points to
/// and staged parts, older than [`ORPHAN_AGE`]. Run at start-up; returns how many it removed.
pub async fn sweep_orphans(db: &DatabaseConnection, store: &EvidenceStore) -> AppResult<u64> {
    let age = chrono::Duration::from_std(ORPHAN_AGE).unwrap_or(chrono::Duration::hours(1));
    let mut removed = store
        .remove_staged_before(std::time::SystemTime::now() - ORPHAN_AGE)
        .await;
    let keys = store.objects_before(Utc::now() - age).await?;
    for batch in keys.chunks(500) {
        let known: std::collections::HashSet<String> = evidence::Entity::find()
            .select_only()
            .column(evidence::Column::StorageKey)
            .filter(evidence::Column::StorageKey.is_in(batch.iter().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for key in batch.iter().filter(|k| !known.contains(*k)) {
            if store.delete(key).await.is_ok() {
                removed += 1;
            }
        }
    }
    if removed > 0 {
        tracing::warn!(
            removed,
            "removed evidence objects left by uploads cut short"
        );
    }
    Ok(removed)
}

/// Removes an object no row will point to; a failure is logged, never hidden.
pub async fn discard(store: &EvidenceStore, key: &str) {
    if let Err(e) = store.delete(key).await {
        tracing::error!(key, error = %e.detail(), "could not remove an unrecorded evidence object");
    }
}

async fn insert(
    db: &DatabaseConnection,
    user: &CurrentUser,
    actor: &Actor,
    test_id: Uuid,
    stored: StoredObject,
    info: UploadInfo,
) -> AppResult<EvidenceDto> {
    if info.description.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::field(
            "description",
            format!("At most {DESCRIPTION_MAX} characters"),
        ));
    }
    let txn = begin_write(db).await?;
    let test = lock(&txn, test_id).await?;
    workflow::check(user.role, test.state, Action::UploadEvidence(info.team)).map_err(refusal)?;
    let size = i64::try_from(stored.size)
        .map_err(|_| AppError::PayloadTooLarge("The file is too large".into()))?;
    let row = evidence::ActiveModel {
        id: Set(Uuid::new_v4()),
        test_id: Set(test_id),
        team: Set(info.team),
        filename: Set(info.filename),
        content_type: Set(info.content_type),
        size_bytes: Set(size),
        sha256: Set(stored.sha256),
        storage_key: Set(stored.key),
        description: Set(info.description.trim().to_owned()),
        uploaded_by: Set(user.id),
        uploaded_at: Set(Utc::now()),
    };
    let model = evidence::Entity::insert(row)
        .exec_with_returning(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::test_event(
            test_id,
            &TestEvent::EvidenceUploaded(UploadPayload {
                evidence_id: model.id,
                team: model.team,
                filename: model.filename.clone(),
                size_bytes: model.size_bytes,
                sha256: model.sha256.clone(),
            }),
        ),
    )
    .await?;
    // Read before the commit: once the row is committed the file must stay, whatever fails.
    let names = user_names(&txn, [model.uploaded_by]).await?;
    txn.commit().await?;
    Ok(evidence_dto(model, &names))
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<evidence::Model> {
    evidence::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Evidence {id} not found")))
}

/// Compares the stored bytes with the recorded SHA-256, and says so loudly when they differ:
/// an error log, an audit entry, and a refusal that names the problem.
/// [`verify`], skipped when this version of the object was verified before.
pub async fn verify_cached(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    actor: &Actor,
    model: &evidence::Model,
) -> AppResult<()> {
    let version = store.version_of(&model.storage_key).await?;
    if store.is_verified(&model.storage_key, &version) {
        return Ok(());
    }
    verify(db, store, actor, model).await?;
    store.mark_verified(&model.storage_key, version);
    Ok(())
}

pub async fn verify(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    actor: &Actor,
    model: &evidence::Model,
) -> AppResult<()> {
    let actual = store.sha256_of(&model.storage_key).await?;
    if actual == model.sha256 {
        return Ok(());
    }
    tracing::error!(
        evidence = %model.id,
        test = %model.test_id,
        expected = %model.sha256,
        actual = %actual,
        "evidence integrity check failed: the stored file was altered"
    );
    let txn = begin_write(db).await?;
    audit::record(
        &txn,
        actor,
        AuditRecord::new(
            AuditAction::EvidenceIntegrityFailure,
            TEST_ENTITY,
            model.test_id,
        )
        .after(json!({
            "evidence_id": model.id,
            "filename": model.filename,
            "expected_sha256": model.sha256,
            "actual_sha256": actual,
        })),
    )
    .await?;
    txn.commit().await?;
    Err(AppError::Conflict(format!(
        "Integrity check failed for evidence '{}': the stored file no longer matches its \
         SHA-256 ({}); it will not be served. An administrator has been alerted in the audit log.",
        model.filename, model.sha256
    )))
}

/// `GET /evidence/{id}`: metadata and a time-limited URL. With S3 the URL goes straight to
/// the bucket, so the file is checked here, before the URL is handed out.
pub async fn download_info(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    actor: &Actor,
    id: Uuid,
) -> AppResult<EvidenceDownload> {
    let model = find(db, id).await?;
    if store.is_s3() {
        // The link goes straight to S3, so the check happens here; an unchanged object that
        // was verified before is not read again.
        verify_cached(db, store, actor, &model).await?;
    }
    let (download_url, expires_at) = store.download_url(model.id, &model.storage_key).await?;
    let names = user_names(db, [model.uploaded_by]).await?;
    Ok(EvidenceDownload {
        evidence: evidence_dto(model, &names),
        download_url,
        expires_at,
    })
}

/// A signed local download: the signature and expiry are checked, then the file is verified
/// in full before its first byte is sent.
pub async fn open_signed(
    db: &DatabaseConnection,
    store: &EvidenceStore,
    actor: &Actor,
    id: Uuid,
    expires: i64,
    signature: &str,
) -> AppResult<(
    evidence::Model,
    impl Stream<Item = Result<Bytes, AppError>> + use<>,
)> {
    if !store.check_signature(id, expires, signature) {
        return Err(AppError::Forbidden(
            "This download link is invalid or has expired; request a new one".into(),
        ));
    }
    let model = find(db, id).await?;
    verify(db, store, actor, &model).await?;
    let stream = store.read(&model.storage_key).await?;
    Ok((model, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_dangerous_characters() {
        assert_eq!(sanitize_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(
            sanitize_filename(Some("C:\\Users\\x\\shot.png")),
            "shot.png"
        );
        assert_eq!(sanitize_filename(Some("a\"b\r\n.txt")), "a_b__.txt");
        assert_eq!(sanitize_filename(Some("..hidden")), "hidden");
        assert_eq!(sanitize_filename(Some("")), "evidence.bin");
        assert_eq!(sanitize_filename(None), "evidence.bin");
        assert_eq!(sanitize_filename(Some(&"x".repeat(400))).len(), 255);
        assert_eq!(
            sanitize_filename(Some("rapport été.pdf")),
            "rapport été.pdf"
        );
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(clean_content_type(Some("image/png")), "image/png");
        assert_eq!(
            clean_content_type(Some("text/html\r\nX-Evil: 1")),
            "application/octet-stream"
        );
        assert_eq!(clean_content_type(None), "application/octet-stream");
    }
}
