//! Where evidence bytes live: a local directory by default, S3 or MinIO when configured, both
//! through `object_store`. Uploads stream in parts while the SHA-256 is computed, so a file
//! is never held whole in memory. Downloads are handed out as time-limited URLs: S3 presigned
//! URLs, or app URLs signed here with HMAC-SHA256 for the local store.
use crate::error::{AppError, AppResult};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use hmac::{Hmac, Mac};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::signer::Signer;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Parts of this size are written to the store; at most two are in flight.
const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

pub struct EvidenceStore {
    store: Arc<dyn ObjectStore>,
    /// Present for S3: it presigns download URLs (for the public endpoint, if set).
    s3: Option<Arc<AmazonS3>>,
    url_key: Vec<u8>,
    pub max_bytes: u64,
    pub url_ttl: Duration,
    /// Objects whose content was hashed and matched, by key, with the version they had then:
    /// a handed-out link does not re-hash an unchanged object for every request.
    verified: Mutex<HashMap<String, String>>,
    /// Full reads for hashing so far (for tests and diagnostics).
    hashes: AtomicU64,
    /// The folder of a local store: where an upload cut short leaves its staged file.
    local_dir: Option<std::path::PathBuf>,
}

/// Verified versions remembered at most; beyond, the memory is cleared and objects are
/// hashed again when next asked for.
const VERIFIED_KEPT: usize = 100_000;

/// What a finished upload wrote.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    /// Signs download URLs for this endpoint instead, when browsers reach the store by
    /// another name than the server does.
    pub public_endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
}

/// A store that did not answer (the network, S3 down: `Generic`, which is what the HTTP
/// client's failures become once its retries are spent) is a 503 worth retrying; anything
/// else (refused credentials, a bad path) is ours to fix.
fn store_error(e: object_store::Error) -> AppError {
    match e {
        object_store::Error::Generic { .. } | object_store::Error::JoinError { .. } => {
            tracing::warn!(error = %e, "evidence store unreachable");
            AppError::Unavailable(
                "The evidence store cannot be reached; try again in a few seconds".into(),
            )
        }
        other => AppError::internal(format!("evidence store: {other}")),
    }
}

fn file_error(e: std::io::Error) -> AppError {
    AppError::internal(format!("local file: {e}"))
}

impl EvidenceStore {
    pub fn local(dir: &Path, url_key: &[u8], max_bytes: u64) -> AppResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::internal(format!("creating {}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(store_error)?;
        Ok(Self {
            store: Arc::new(store),
            s3: None,
            url_key: url_key.to_vec(),
            max_bytes,
            url_ttl: Duration::from_secs(15 * 60),
            verified: Mutex::new(HashMap::new()),
            hashes: AtomicU64::new(0),
            local_dir: Some(dir.to_path_buf()),
        })
    }

    pub fn s3(settings: S3Settings, url_key: &[u8], max_bytes: u64) -> AppResult<Self> {
        let build = |endpoint: Option<&String>| {
            // A store that is down fails an upload in seconds (a 503), not after the client's
            // default of ten retries over three minutes.
            let mut builder = AmazonS3Builder::from_env()
                .with_client_options(
                    object_store::ClientOptions::new().with_connect_timeout(Duration::from_secs(5)),
                )
                .with_retry(object_store::RetryConfig {
                    backoff: object_store::BackoffConfig::default(),
                    max_retries: 2,
                    retry_timeout: Duration::from_secs(10),
                })
                .with_bucket_name(settings.bucket.clone())
                .with_region(settings.region.clone())
                .with_allow_http(settings.allow_http);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint.clone());
            }
            if let Some(key) = &settings.access_key_id {
                builder = builder.with_access_key_id(key.clone());
            }
            if let Some(secret) = &settings.secret_access_key {
                builder = builder.with_secret_access_key(secret.clone());
            }
            builder.build().map_err(store_error)
        };
        let store = Arc::new(build(settings.endpoint.as_ref())?);
        let signer = match &settings.public_endpoint {
            Some(public) => Arc::new(build(Some(public))?),
            None => store.clone(),
        };
        Ok(Self {
            store,
            s3: Some(signer),
            url_key: url_key.to_vec(),
            max_bytes,
            url_ttl: Duration::from_secs(15 * 60),
            verified: Mutex::new(HashMap::new()),
            hashes: AtomicU64::new(0),
            local_dir: None,
        })
    }

    /// The evidence objects last changed before `before`, by key (whole objects only: an
    /// unfinished S3 multipart upload is not an object; the bucket's lifecycle rule
    /// `AbortIncompleteMultipartUpload` removes those).
    pub async fn objects_before(&self, before: DateTime<Utc>) -> AppResult<Vec<String>> {
        let prefix = StorePath::from("evidence");
        let mut listing = self.store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(store_error)?;
            if meta.last_modified < before {
                keys.push(meta.location.to_string());
            }
        }
        Ok(keys)
    }

    /// Removes what uploads cut short (the process killed mid-stream) left in a local
    /// store: staged files (`<key>#<n>`) last written before `before`. Returns how many.
    pub async fn remove_staged_before(&self, before: std::time::SystemTime) -> u64 {
        let Some(dir) = self.local_dir.clone() else {
            return 0;
        };
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            let mut folders = vec![dir.join("evidence")];
            while let Some(folder) = folders.pop() {
                let Ok(entries) = std::fs::read_dir(&folder) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Ok(meta) = entry.metadata() else { continue };
                    if meta.is_dir() {
                        folders.push(path);
                    } else if entry.file_name().to_string_lossy().contains('#')
                        && meta.modified().is_ok_and(|m| m < before)
                        && std::fs::remove_file(&path).is_ok()
                    {
                        removed += 1;
                    }
                }
            }
            removed
        })
        .await
        .unwrap_or(0)
    }

    pub fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// Streams `body` to a new object under a generated key, hashing as it goes. Over
    /// `max_bytes` the partial upload is aborted and the caller gets a 413.
    pub async fn put_stream<S, E>(&self, test_id: Uuid, mut body: S) -> AppResult<StoredObject>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Into<AppError>,
    {
        let key = format!("evidence/{test_id}/{}", Uuid::new_v4());
        let path = StorePath::from(key.as_str());
        let upload = self.store.put_multipart(&path).await.map_err(store_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            size += chunk.len() as u64;
            if size > self.max_bytes {
                let _ = writer.abort().await;
                return Err(AppError::PayloadTooLarge(format!(
                    "The file is larger than the {} MB evidence limit",
                    self.max_bytes / (1024 * 1024)
                )));
            }
            hasher.update(&chunk);
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(store_error(e));
            }
            writer.put(chunk);
        }
        writer.finish().await.map_err(store_error)?;
        Ok(StoredObject {
            key,
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// Copies the local file at `path` to `key`, in parts (an import's upload, shared with the
    /// other server processes through the store).
    pub async fn put_file(&self, key: &str, path: &Path) -> AppResult<()> {
        use tokio::io::AsyncReadExt;
        let upload = self
            .store
            .put_multipart(&StorePath::from(key))
            .await
            .map_err(store_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let outcome: AppResult<()> = async {
            let mut file = tokio::fs::File::open(path).await.map_err(file_error)?;
            let mut buffer = vec![0u8; 1024 * 1024];
            loop {
                let read = file.read(&mut buffer).await.map_err(file_error)?;
                if read == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(store_error)?;
                writer.put(Bytes::copy_from_slice(&buffer[..read]));
            }
        }
        .await;
        match outcome {
            Ok(()) => writer.finish().await.map(|_| ()).map_err(store_error),
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    /// Writes the object at `key` to the local file `path`; `false` when there is no such
    /// object. The bytes go to `<path>.part` first and are renamed when complete, so a copy cut
    /// short (a failure, a kill) never leaves a truncated file at `path`.
    pub async fn get_file(&self, key: &str, path: &Path) -> AppResult<bool> {
        use tokio::io::AsyncWriteExt;
        let result = match self.store.get(&StorePath::from(key)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(store_error(e)),
        };
        let mut partial = path.as_os_str().to_owned();
        partial.push(".part");
        let partial = std::path::PathBuf::from(partial);
        let outcome: AppResult<()> = async {
            let mut file = tokio::fs::File::create(&partial)
                .await
                .map_err(file_error)?;
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk.map_err(store_error)?)
                    .await
                    .map_err(file_error)?;
            }
            file.flush().await.map_err(file_error)?;
            tokio::fs::rename(&partial, path).await.map_err(file_error)
        }
        .await;
        if let Err(e) = outcome {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        Ok(true)
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        self.forget_verified(key);
        match self.store.delete(&StorePath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// The object's bytes, as a stream.
    pub async fn read(
        &self,
        key: &str,
    ) -> AppResult<impl Stream<Item = Result<Bytes, AppError>> + use<>> {
        let result = self
            .store
            .get(&StorePath::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    AppError::Conflict("The evidence file is missing from storage".into())
                }
                other => store_error(other),
            })?;
        Ok(result.into_stream().map(|r| r.map_err(store_error)))
    }

    /// The object's version as the store tells it (ETag, version id, size and modification
    /// time): any change to the object changes it.
    pub async fn version_of(&self, key: &str) -> AppResult<String> {
        let meta = self
            .store
            .head(&StorePath::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    AppError::Conflict("The evidence file is missing from storage".into())
                }
                other => store_error(other),
            })?;
        Ok(format!(
            "{}|{}|{}|{}",
            meta.e_tag.unwrap_or_default(),
            meta.version.unwrap_or_default(),
            meta.size,
            meta.last_modified.timestamp_nanos_opt().unwrap_or_default()
        ))
    }

    /// Was this version of `key` hashed and found intact?
    pub fn is_verified(&self, key: &str, version: &str) -> bool {
        self.verified
            .lock()
            .is_ok_and(|v| v.get(key).is_some_and(|known| known == version))
    }

    pub fn mark_verified(&self, key: &str, version: String) {
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_KEPT {
                verified.clear();
            }
            verified.insert(key.to_owned(), version);
        }
    }

    pub fn forget_verified(&self, key: &str) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.remove(key);
        }
    }

    /// Full reads for hashing so far.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// The SHA-256 of what is stored now.
    pub async fn sha256_of(&self, key: &str) -> AppResult<String> {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        let mut stream = Box::pin(self.read(key).await?);
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// The MAC over one link's evidence id and expiry. HMAC takes keys of any length, so
    /// `None` cannot happen in practice.
    fn mac(&self, id: Uuid, expires: i64) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.url_key).ok()?;
        mac.update(format!("evidence:{id}:{expires}").as_bytes());
        Some(mac)
    }

    fn signature(&self, id: Uuid, expires: i64) -> String {
        self.mac(id, expires)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Is this a valid, unexpired signature for `id`?
    pub fn check_signature(&self, id: Uuid, expires: i64, signature: &str) -> bool {
        if expires < Utc::now().timestamp() {
            return false;
        }
        let (Ok(given), Some(mac)) = (hex::decode(signature), self.mac(id, expires)) else {
            return false;
        };
        mac.verify_slice(&given).is_ok()
    }

    /// A time-limited URL for downloading evidence `id` stored under `key`.
    pub async fn download_url(&self, id: Uuid, key: &str) -> AppResult<(String, DateTime<Utc>)> {
        let expires_at = Utc::now()
            + chrono::Duration::from_std(self.url_ttl).unwrap_or(chrono::Duration::minutes(15));
        match &self.s3 {
            Some(s3) => {
                let url = s3
                    .signed_url(http::Method::GET, &StorePath::from(key), self.url_ttl)
                    .await
                    .map_err(store_error)?;
                Ok((url.to_string(), expires_at))
            }
            None => {
                let expires = expires_at.timestamp();
                Ok((
                    format!(
                        "/api/v1/evidence/{id}/download?expires={expires}&signature={}",
                        self.signature(id, expires)
                    ),
                    expires_at,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_verified_version_is_remembered_until_the_object_changes() {
        let dir = std::env::temp_dir().join(format!("aegis-store-{}", Uuid::new_v4()));
        let store = EvidenceStore::local(&dir, b"key", 1 << 20).unwrap();
        let body = futures::stream::iter(vec![Ok::<_, AppError>(Bytes::from_static(b"hello"))]);
        let stored = store.put_stream(Uuid::new_v4(), body).await.unwrap();
        let first = store.version_of(&stored.key).await.unwrap();
        assert!(!store.is_verified(&stored.key, &first));
        assert_eq!(store.sha256_of(&stored.key).await.unwrap(), stored.sha256);
        store.mark_verified(&stored.key, first.clone());
        assert!(store.is_verified(&stored.key, &first));
        assert_eq!(
            store.version_of(&stored.key).await.unwrap(),
            first,
            "stable"
        );
        assert_eq!(store.hashes(), 1);
        // Someone rewrites the object behind our back: a new version, not verified.
        std::fs::write(dir.join(&stored.key), b"tampered!").unwrap();
        let second = store.version_of(&stored.key).await.unwrap();
        assert_ne!(first, second);
        assert!(!store.is_verified(&stored.key, &second));
        store.delete(&stored.key).await.unwrap();
        assert!(!store.is_verified(&stored.key, &first));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
