//! Where a catalog import reads from: the source's zip archive (URL from config), downloaded
//! with a size bound and streamed to a temporary file, or a zip uploaded through the System
//! panel. Only the source's own files (`CatalogImport::entry`) are read from either. One-file
//! sources (the D3FEND ontology) are downloaded into memory within the same bound.
use super::Failure;
use crate::config::CatalogArchives;
use app::domain::sources::CatalogImport;
use app::error::{AppError, AppResult};
use app::server::importers::files;
use app::server::importers::uploads::UploadDir;
use app::server::importers::{ArchiveLimits, SourceFile};
use std::io::Write;
use std::path::{Path, PathBuf};

use std::time::Duration;

pub struct ArchiveSource {
    client: reqwest::Client,
    pub archives: CatalogArchives,
    max_bytes: usize,
    pub limits: ArchiveLimits,
}

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl ArchiveSource {
    pub fn new(
        archives: CatalogArchives,
        timeout: Duration,
        max_bytes: usize,
        limits: ArchiveLimits,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            // Whole archives are large: the timeout bounds each read, not the download.
            .read_timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("aegis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            archives,
            max_bytes,
            limits,
        })
    }

    /// Downloads the source's archive to a temporary file and reads the source's files from it.
    pub async fn download(
        &self,
        source: CatalogImport,
        uploads: &UploadDir,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Vec<SourceFile>, Failure> {
        let temp = TempFile(uploads.file(&format!("download-{}.zip", uuid::Uuid::new_v4())));
        let mut file = std::fs::File::create(&temp.0)
            .map_err(|e| Failure::transient(format!("temporary file: {e}")))?;
        self.stream(self.archives.url(source), progress, &mut |chunk| {
            file.write_all(chunk)
                .map_err(|e| Failure::transient(format!("temporary file: {e}")))
        })
        .await?;
        file.flush()
            .map_err(|e| Failure::transient(format!("temporary file: {e}")))?;
        drop(file);
        Ok(read_zip(&temp.0, self.limits, source).await?)
    }

    /// Downloads one document (the D3FEND ontology) into memory, within the same bound.
    pub async fn download_file(
        &self,
        url: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Vec<u8>, Failure> {
        let mut bytes = Vec::new();
        self.stream(url, progress, &mut |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        Ok(bytes)
    }

    /// GETs `url` and hands its body on chunk by chunk, refusing more than `max_bytes`.
    async fn stream(
        &self,
        url: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
        sink: &mut (dyn FnMut(&[u8]) -> Result<(), Failure> + Send),
    ) -> Result<(), Failure> {
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| Failure::transient(format!("downloading {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(Failure::transient(format!(
                "downloading {url}: HTTP {}",
                response.status()
            )));
        }
        let mut written: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::transient(format!("downloading {url}: {e}")))?
        {
            written += chunk.len() as u64;
            if written > self.max_bytes as u64 {
                return Err(Failure::from(AppError::PayloadTooLarge(format!(
                    "the download at {url} is larger than {} bytes (AEGIS_MAX_IMPORT_BYTES)",
                    self.max_bytes
                ))));
            }
            sink(&chunk)?;
            progress(written);
        }
        Ok(())
    }
}

/// Reads the source's files of a zip on disk, off the async threads.
pub async fn read_zip(
    path: &Path,
    limits: ArchiveLimits,
    source: CatalogImport,
) -> AppResult<Vec<SourceFile>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || files::read_zip(&path, &limits, source))
        .await
        .map_err(|e| AppError::internal(format!("reading the archive: {e}")))?
}
