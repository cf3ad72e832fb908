//! Uploaded files waiting for their import job: saved as they stream in, bounded, and removed
//! once the job is over (or when the upload fails).
use crate::error::{AppError, AppResult};

/// Where uploaded archives wait for their import job.
pub fn upload_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("aegis-atomics-uploads")
}

/// Saves an uploaded archive for the import job, streaming, at most `max_bytes`; returns the
/// generated file name (inside [`upload_dir`]).
pub async fn save_upload<S, E>(mut body: S, max_bytes: u64) -> AppResult<String>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: Into<AppError>,
{
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    tokio::fs::create_dir_all(upload_dir())
        .await
        .map_err(upload_error)?;
    let name = format!("{}.zip", uuid::Uuid::new_v4());
    let path = upload_dir().join(&name);
    let mut file = tokio::fs::File::create(&path).await.map_err(upload_error)?;
    let mut written: u64 = 0;
    let outcome: AppResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Into::into)?;
            written += chunk.len() as u64;
            if written > max_bytes {
                return Err(AppError::PayloadTooLarge(format!(
                    "The archive is larger than {} MB",
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
