//! Where atomics come from: a directory (the CLI), a zip of the repository (a download or an
//! upload) or the files of a folder picked in the browser, which are zipped as they arrive so
//! the import job reads every upload the same way.
use crate::domain::atomics::atomics_entry;
use crate::error::{AppError, AppResult};
use crate::server::importers::uploads::{UploadDir, save_upload, upload_error};
use crate::server::importers::{ArchiveLimits, SourceFile};
use std::collections::HashSet;
use std::path::Path;
use uuid::Uuid;

/// Reads `atomics/<T-id>/T*.yaml` under `root`, which may be a checkout of the repository or
/// its `atomics` folder. Other files are not read.
pub fn read_atomics_dir(root: &Path) -> AppResult<Vec<SourceFile>> {
    let atomics = if root.join("atomics").is_dir() {
        root.join("atomics")
    } else {
        root.to_path_buf()
    };
    let entries = std::fs::read_dir(&atomics)
        .map_err(|e| AppError::BadRequest(format!("cannot read {}: {e}", atomics.display())))?;
    let mut files = Vec::new();
    for dir in entries.flatten() {
        let Ok(inner) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        let folder = dir.file_name().to_string_lossy().into_owned();
        for file in inner.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if atomics_entry(&format!("{folder}/{name}")).is_none() {
                continue;
            }
            let path = file.path();
            let text = std::fs::read_to_string(&path).map_err(|e| {
                AppError::BadRequest(format!("cannot read {}: {e}", path.display()))
            })?;
            files.push(SourceFile {
                path: path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
                text,
            });
        }
    }
    if files.is_empty() {
        return Err(AppError::BadRequest(format!(
            "no atomics (atomics/<T-id>/T*.yaml) found under {}",
            root.display()
        )));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Largest single atomics file read from an archive (the biggest upstream is ~100 KB).
const MAX_ATOMICS_FILE: u64 = 8 * 1024 * 1024;

/// An upload of atomics for the import job, from the System panel or the API: one zip (the
/// multipart field `file`) or the files of a folder (`files`, each part named by its path
/// inside the folder), which are written into a zip as they arrive so the job reads both the
/// same way. What is saved is removed again unless [`AtomicsUpload::finish`] hands it over.
pub struct AtomicsUpload {
    max_bytes: u64,
    dir: UploadDir,
    /// The saved file (inside the upload folder) and the name shown for it.
    saved: Option<(String, String)>,
    folder: Option<zip::ZipWriter<std::fs::File>>,
    folder_entries: HashSet<String>,
    folder_bytes: u64,
    folder_skipped: usize,
    /// The saved file is the zip this upload wrote from a folder's files.
    folder_written: bool,
}

impl AtomicsUpload {
    /// The multipart parts an atomics upload consists of.
    pub const PARTS: &'static [&'static str] = &["file", "files"];

    /// Takes one part of a [`MultipartReader`](crate::server::platform::upload::MultipartReader).
    pub async fn part(&mut self, part: crate::server::platform::upload::Part) -> AppResult<()> {
        let name = part.name().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        self.field(Some(&name), file_name.as_deref(), part.stream())
            .await
    }

    pub fn new(max_bytes: u64, dir: UploadDir) -> Self {
        Self {
            max_bytes,
            dir,
            saved: None,
            folder: None,
            folder_entries: HashSet::new(),
            folder_bytes: 0,
            folder_skipped: 0,
            folder_written: false,
        }
    }

    /// Takes one multipart field: `file` (a zip), `files` (one file of a folder), or anything
    /// else (ignored).
    pub async fn field<S, E>(
        &mut self,
        name: Option<&str>,
        file_name: Option<&str>,
        body: S,
    ) -> AppResult<()>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: Into<AppError>,
    {
        match name {
            Some("file") => {
                if self.saved.is_some() {
                    return Err(AppError::field(
                        "file",
                        "Upload one zip, or one folder, at a time",
                    ));
                }
                let name = file_name.unwrap_or("atomics.zip").to_owned();
                let file = save_upload(body, self.max_bytes, &self.dir).await?;
                self.saved = Some((file, name));
                Ok(())
            }
            Some("files") => self.folder_file(file_name.unwrap_or_default(), body).await,
            _ => Ok(()),
        }
    }

    async fn folder_file<S, E>(&mut self, relative: &str, mut body: S) -> AppResult<()>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: Into<AppError>,
    {
        use futures::StreamExt;
        let Some(entry) = atomics_entry(relative) else {
            // Not kept, but not free either: other files count towards the size limit too.
            self.folder_skipped += 1;
            while let Some(chunk) = body.next().await {
                self.count_folder_bytes(chunk.map_err(Into::into)?.len())?;
            }
            return Ok(());
        };
        if self.folder.is_none() {
            if self.saved.is_some() {
                return Err(AppError::field(
                    "files",
                    "Upload one zip, or one folder, at a time",
                ));
            }
            let file = format!("{}.zip", Uuid::new_v4());
            let handle = std::fs::File::create(self.dir.file(&file)).map_err(upload_error)?;
            let root = relative
                .split(['/', '\\'])
                .find(|p| !p.is_empty())
                .unwrap_or("atomics");
            self.saved = Some((file, format!("{root}/ (folder)")));
            self.folder = Some(zip::ZipWriter::new(handle));
        }
        if !self.folder_entries.insert(entry.clone()) {
            return Err(AppError::field(
                "files",
                format!("Two files of the folder are both {entry}"),
            ));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Into::into)?;
            self.count_folder_bytes(chunk.len())?;
            if (bytes.len() + chunk.len()) as u64 > MAX_ATOMICS_FILE {
                return Err(AppError::PayloadTooLarge(format!(
                    "{relative} is larger than {} MB",
                    MAX_ATOMICS_FILE / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let Some(mut writer) = self.folder.take() else {
            return Err(AppError::internal("upload file: no archive open"));
        };
        let writer = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            writer.start_file(entry, options).map_err(upload_error)?;
            writer.write_all(&bytes).map_err(upload_error)?;
            Ok::<_, AppError>(writer)
        })
        .await
        .map_err(upload_error)??;
        self.folder = Some(writer);
        Ok(())
    }

    fn count_folder_bytes(&mut self, n: usize) -> AppResult<()> {
        self.folder_bytes += n as u64;
        if self.folder_bytes > self.max_bytes {
            return Err(AppError::PayloadTooLarge(format!(
                "The folder's files are larger than {} MB",
                self.max_bytes / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// The saved upload (file inside the upload folder, shown name), handed to the import job.
    pub async fn finish(mut self) -> AppResult<(String, String)> {
        if let Some(writer) = self.folder.take() {
            self.folder_written = true;
            tokio::task::spawn_blocking(move || writer.finish().map(drop))
                .await
                .map_err(upload_error)?
                .map_err(upload_error)?;
        }
        if let Some((file, _)) = &self.saved
            && !self.folder_written
        {
            // An upload that is not a zip at all is refused now, not by a job later.
            let path = self.dir.file(file);
            let readable = tokio::task::spawn_blocking(move || {
                std::fs::File::open(&path)
                    .ok()
                    .is_some_and(|f| zip::ZipArchive::new(f).is_ok())
            })
            .await
            .unwrap_or(false);
            if !readable {
                return Err(AppError::BadRequest(
                    "The upload is not a zip archive (upload a zip of Atomic Red Team, or its \
                     atomics folder)"
                        .into(),
                ));
            }
        }
        match self.saved.take() {
            Some(saved) => Ok(saved),
            None if self.folder_skipped > 0 => Err(AppError::field(
                "files",
                "The folder holds no atomics (atomics/<T-id>/T*.yaml)",
            )),
            None => Err(AppError::field(
                "file",
                "Attach a zip of Atomic Red Team, or the files of its atomics folder",
            )),
        }
    }
}

impl Drop for AtomicsUpload {
    fn drop(&mut self) {
        if let Some((file, _)) = &self.saved {
            let _ = std::fs::remove_file(self.dir.file(file));
        }
    }
}

/// Reads the atomics ([`atomics_entry`]) from a zip of the repository (GitHub's archive has
/// one top folder), of its `atomics` folder or of one technique's folder. Nothing else in the
/// archive is read. A broken archive
/// is an error that names the problem; then nothing is imported.
pub fn read_atomics_zip(path: &Path, limits: &ArchiveLimits) -> AppResult<Vec<SourceFile>> {
    let file = std::fs::File::open(path)
        .map_err(|e| AppError::BadRequest(format!("cannot open {}: {e}", path.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| AppError::BadRequest(format!("not a readable zip archive: {e}")))?;
    let mut files = Vec::new();
    let mut read = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| AppError::BadRequest(format!("broken zip archive: {e}")))?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().to_owned();
        let Some(path) = atomics_entry(&name) else {
            continue;
        };
        if entry.size() > limits.per_file {
            return Err(AppError::BadRequest(format!(
                "{name} is larger than {} bytes",
                limits.per_file
            )));
        }
        let text = limits.read_entry(&name, &mut entry, &mut read)?;
        files.push(SourceFile { path, text });
    }
    if files.is_empty() {
        return Err(AppError::BadRequest(
            "no atomics (atomics/<T-id>/T*.yaml) found in the archive".into(),
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// A directory, or a zip archive of one.
pub fn read_atomics(path: &Path, limits: &ArchiveLimits) -> AppResult<Vec<SourceFile>> {
    if path.is_file() {
        read_atomics_zip(path, limits)
    } else {
        read_atomics_dir(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> UploadDir {
        UploadDir::create(&std::env::temp_dir().join("aegis-source-tests")).unwrap()
    }

    fn body(text: &'static str) -> impl futures::Stream<Item = AppResult<bytes::Bytes>> + Unpin {
        futures::stream::iter(vec![Ok(bytes::Bytes::from_static(text.as_bytes()))])
    }

    #[tokio::test]
    async fn a_folder_upload_becomes_a_zip_of_its_atomics_or_leaves_nothing_behind() {
        let mut upload = AtomicsUpload::new(1 << 20, dir());
        for (path, text) in [
            ("repo/README.md", "# not an atomic"),
            ("repo/atomics/T1053/T1053.yaml", "attack_technique: T1053\n"),
        ] {
            upload
                .field(Some("files"), Some(path), body(text))
                .await
                .unwrap();
        }
        let (file, name) = upload.finish().await.unwrap();
        assert_eq!(name, "repo/ (folder)");
        let path = dir().file(&file);
        let files = read_atomics_zip(&path, &ArchiveLimits::default()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "atomics/T1053/T1053.yaml");
        assert_eq!(files[0].text, "attack_technique: T1053\n");

        // Dropped before `finish` (the request failed): the partial archive is removed.
        let mut upload = AtomicsUpload::new(1 << 20, dir());
        upload
            .field(Some("files"), Some("T1053/T1053.yaml"), body("x: 1\n"))
            .await
            .unwrap();
        let Some((file, _)) = upload.saved.clone() else {
            panic!("the archive is started with the first atomic");
        };
        assert!(dir().file(&file).exists());
        drop(upload);
        assert!(!dir().file(&file).exists());

        // Over the size limit: 413, and nothing kept.
        let mut upload = AtomicsUpload::new(4, dir());
        let err = upload
            .field(Some("files"), Some("T1053/T1053.yaml"), body("too long"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
        // Files that are not atomics are not kept, but they count towards the limit.
        let mut upload = AtomicsUpload::new(4, dir());
        let err = upload
            .field(Some("files"), Some("repo/payload.bin"), body("MZ binary"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
    }
}
