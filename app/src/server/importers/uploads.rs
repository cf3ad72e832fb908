//! Uploaded files waiting for their import job: saved as they stream in, bounded, and removed
//! once the job is over (or when the upload fails).
use crate::error::{AppError, AppResult};

use std::path::{Path, PathBuf};

/// Where uploaded archives wait for their import job: `<data dir>/uploads`, readable by this
/// user only (mode 0700), never a shared temporary folder another local user could prepare.
#[derive(Clone, Debug)]
pub struct UploadDir(PathBuf);

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
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A file in the folder, by its generated name.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
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
