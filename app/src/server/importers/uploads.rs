//! Uploaded files waiting for their import job: saved as they stream in, bounded, and removed
//! once the job is over (or when the upload fails).
//!
//! With several server processes, the job may run on another process than the one that took
//! the upload: when evidence lives on S3, an upload is published there (`uploads/<name>`) as
//! its job is queued, and the process that runs the job fetches it into its own folder.
use crate::error::{AppError, AppResult};
use crate::server::workflow::evidence_store::EvidenceStore;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where uploaded archives wait for their import job: `<data dir>/uploads`, readable by this
/// user only (mode 0700), never a shared temporary folder another local user could prepare;
/// and, when the evidence store is shared (S3), that store.
#[derive(Clone)]
pub struct UploadDir {
    dir: PathBuf,
    shared: Option<Arc<EvidenceStore>>,
}

impl std::fmt::Debug for UploadDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadDir")
            .field("dir", &self.dir)
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl UploadDir {
    /// Creates the folder (or tightens an existing one) under `data_dir`.
    pub fn create(data_dir: &Path) -> AppResult<Self> {
        let dir = data_dir.join("uploads");
        std::fs::create_dir_all(&dir).map_err(upload_error)?;
        let meta = std::fs::symlink_metadata(&dir).map_err(upload_error)?;
        if !meta.is_dir() {
            return Err(AppError::internal(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(upload_error)?;
        }
        Ok(Self { dir, shared: None })
    }

    /// Shares the uploads with the other server processes through `store`, when it is one
    /// they all reach (S3); a local store is this machine's alone, and changes nothing.
    pub fn shared_through(mut self, store: Arc<EvidenceStore>) -> Self {
        if store.is_s3() {
            self.shared = Some(store);
        }
        self
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A file in the folder, by its generated name.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn shared_key(name: &str) -> String {
        format!("uploads/{name}")
    }

    /// Hands a saved upload to whichever process will run its job: with a shared store, the
    /// file moves there (and leaves this folder); otherwise it stays here.
    pub async fn publish(&self, name: &str) -> AppResult<()> {
        let Some(store) = &self.shared else {
            return Ok(());
        };
        let path = self.file(name);
        store.put_file(&Self::shared_key(name), &path).await?;
        let _ = tokio::fs::remove_file(&path).await;
        Ok(())
    }

    /// The upload `name` as a local file, fetched from the shared store when it is not here;
    /// `None` when it is nowhere.
    pub async fn fetch(&self, name: &str) -> AppResult<Option<PathBuf>> {
        let path = self.file(name);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(Some(path));
        }
        let Some(store) = &self.shared else {
            return Ok(None);
        };
        Ok(store
            .get_file(&Self::shared_key(name), &path)
            .await?
            .then_some(path))
    }

    /// Removes the upload `name`, here and from the shared store.
    pub async fn discard(&self, name: &str) {
        let _ = tokio::fs::remove_file(self.file(name)).await;
        if let Some(store) = &self.shared
            && let Err(err) = store.delete(&Self::shared_key(name)).await
        {
            tracing::warn!(upload = name, error = %err.detail(), "could not remove a shared upload");
        }
    }
}

/// Saves an uploaded archive for the import job, streaming, at most `max_bytes`; returns the
/// generated file name (inside `dir`).
pub async fn save_upload<S, E>(mut body: S, max_bytes: u64, dir: &UploadDir) -> AppResult<String>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: Into<AppError>,
{
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let name = format!("{}.zip", uuid::Uuid::new_v4());
    let path = dir.file(&name);
    let mut file = tokio::fs::File::create(&path).await.map_err(upload_error)?;
    let mut written: u64 = 0;
    let outcome: AppResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Into::into)?;
            written += chunk.len() as u64;
            if written > max_bytes {
                return Err(AppError::PayloadTooLarge(format!(
                    "The upload is larger than {} MB",
                    max_bytes / (1024 * 1024)
                )));
            }
            file.write_all(&chunk).await.map_err(upload_error)?;
        }
        file.flush().await.map_err(upload_error)?;
        if written == 0 {
            return Err(AppError::field("file", "The file is empty"));
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    Ok(name)
}

pub(crate) fn upload_error(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("upload file: {e}"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_folder_is_private_to_this_user() {
        let data = std::env::temp_dir().join(format!("aegis-uploads-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(data.join("uploads")).unwrap();
        std::fs::set_permissions(data.join("uploads"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        let dir = UploadDir::create(&data).unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "an existing folder is tightened");
        std::fs::remove_dir_all(&data).unwrap();
    }
}

/// Saves the one `file` part of a form (a single-document source, such as the D3FEND
/// ontology) for its import job; returns the saved file's name and the name shown for it. A
/// form without the file, or with two, is refused, and nothing is left behind.
pub async fn save_single_file(
    form: &mut crate::server::platform::upload::MultipartReader,
    max_bytes: u64,
    dir: &UploadDir,
    default_name: &str,
    what: &str,
) -> AppResult<(String, String)> {
    let mut saved: Option<(String, String)> = None;
    let outcome: AppResult<()> = async {
        while let Some(part) = form.next().await? {
            if saved.is_some() {
                return Err(AppError::field(
                    "file",
                    format!("Upload one {what} at a time"),
                ));
            }
            let name = part.file_name().unwrap_or(default_name).to_owned();
            let file = save_upload(part.stream(), max_bytes, dir).await?;
            saved = Some((file, name));
        }
        Ok(())
    }
    .await;
    match (outcome, saved) {
        (Ok(()), Some(saved)) => Ok(saved),
        (Ok(()), None) => Err(AppError::field(
            "file",
            format!("Attach the {what} as the `file` field"),
        )),
        (Err(e), saved) => {
            if let Some((file, _)) = saved {
                let _ = std::fs::remove_file(dir.file(&file));
            }
            Err(e)
        }
    }
}
