//! Where a catalog source's files come from: a directory (the CLI), a zip of the repository
//! (a download or an upload) or the files of a folder picked in the browser, which are zipped
//! as they arrive so the import job reads every upload the same way. Which files belong to a
//! source is `CatalogImport::entry`.
use crate::domain::sources::CatalogImport;
use crate::error::{AppError, AppResult};
use crate::server::importers::uploads::{UploadDir, save_upload, upload_error};
use crate::server::importers::{ArchiveLimits, SourceFile};
use std::collections::HashSet;
use std::path::Path;
use uuid::Uuid;

/// Reads the files of `source` under `root` (a checkout of the repository or one of its
/// folders), walking at most [`MAX_DEPTH`] folders deep without following links. Other files
/// are not read.
pub fn read_dir(
    root: &Path,
    source: CatalogImport,
    limits: &ArchiveLimits,
) -> AppResult<Vec<SourceFile>> {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut read = 0;
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| AppError::BadRequest(format!("cannot read {}: {e}", dir.display())))?;
        for item in entries.flatten() {
            let Ok(kind) = item.file_type() else {
                continue;
            };
            let path = item.path();
            if kind.is_dir() {
                if depth < MAX_DEPTH {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let Some(entry) = source.entry(&relative) else {
                continue;
            };
            if !seen.insert(entry.clone()) {
                return Err(AppError::BadRequest(format!(
                    "two files under {} are both {entry}",
                    root.display()
                )));
            }
            let file = std::fs::File::open(&path).map_err(|e| {
                AppError::BadRequest(format!("cannot read {}: {e}", path.display()))
            })?;
            let text = limits.read_entry(&relative, file, &mut read)?;
            files.push(SourceFile { path: entry, text });
        }
    }
    if files.is_empty() {
        return Err(AppError::BadRequest(format!(
            "no {} files ({}) found under {}",
            source.label(),
            source.files(),
            root.display()
        )));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// How deep [`read_dir`] walks: a repository's files sit a few folders down.
pub const MAX_DEPTH: usize = 8;

/// Largest single file of a folder upload (the biggest upstream file is ~100 KB).
const MAX_SOURCE_FILE: u64 = 8 * 1024 * 1024;

/// An upload of a source for its import job, from the System panel or the API: one zip (the
/// multipart field `file`) or the files of a folder (`files`, each part named by its path
/// inside the folder), which are written into a zip as they arrive so the job reads both the
/// same way. What is saved is removed again unless [`SourceUpload::finish`] hands it over.
pub struct SourceUpload {
    source: CatalogImport,
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

impl SourceUpload {
    /// The multipart parts an upload consists of.
    pub const PARTS: &'static [&'static str] = &["file", "files"];

    /// Takes one part of a [`MultipartReader`](crate::server::platform::upload::MultipartReader).
    pub async fn part(&mut self, part: crate::server::platform::upload::Part) -> AppResult<()> {
        let name = part.name().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        self.field(Some(&name), file_name.as_deref(), part.stream())
            .await
    }

    pub fn new(source: CatalogImport, max_bytes: u64, dir: UploadDir) -> Self {
        Self {
            source,
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
                let name = file_name
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{}.zip", self.source.slug()));
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
        let Some(entry) = self.source.entry(relative) else {
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
                .unwrap_or(self.source.slug());
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
            if (bytes.len() + chunk.len()) as u64 > MAX_SOURCE_FILE {
                return Err(AppError::PayloadTooLarge(format!(
                    "{relative} is larger than {} MB",
                    MAX_SOURCE_FILE / (1024 * 1024)
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
                return Err(AppError::BadRequest(format!(
                    "The upload is not a zip archive (upload a zip of {}, or a folder of it)",
                    self.source.label()
                )));
            }
        }
        match self.saved.take() {
            Some(saved) => Ok(saved),
            None if self.folder_skipped > 0 => Err(AppError::field(
                "files",
                format!(
                    "The folder holds no {} files ({})",
                    self.source.label(),
                    self.source.files()
                ),
            )),
            None => Err(AppError::field(
                "file",
                format!(
                    "Attach a zip of {}, or the files of a folder of it",
                    self.source.label()
                ),
            )),
        }
    }
}

impl Drop for SourceUpload {
    fn drop(&mut self) {
        if let Some((file, _)) = &self.saved {
            let _ = std::fs::remove_file(self.dir.file(file));
        }
    }
}

/// Reads the files of `source` ([`CatalogImport::entry`]) from a zip of the repository
/// (GitHub's archive has one top folder) or of one of its folders. Nothing else in the archive
/// is read. A broken archive is an error that names the problem; then nothing is imported.
pub fn read_zip(
    path: &Path,
    limits: &ArchiveLimits,
    source: CatalogImport,
) -> AppResult<Vec<SourceFile>> {
    let file = std::fs::File::open(path)
        .map_err(|e| AppError::BadRequest(format!("cannot open {}: {e}", path.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| AppError::BadRequest(format!("not a readable zip archive: {e}")))?;
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut read = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| AppError::BadRequest(format!("broken zip archive: {e}")))?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().to_owned();
        let Some(path) = source.entry(&name) else {
            continue;
        };
        if !seen.insert(path.clone()) {
            return Err(AppError::BadRequest(format!(
                "two files of the archive are both {path}"
            )));
        }
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
        return Err(AppError::BadRequest(format!(
            "no {} files ({}) found in the archive",
            source.label(),
            source.files()
        )));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// A directory, or a zip archive of one.
pub fn read(
    path: &Path,
    limits: &ArchiveLimits,
    source: CatalogImport,
) -> AppResult<Vec<SourceFile>> {
    if path.is_file() {
        read_zip(path, limits, source)
    } else {
        read_dir(path, source, limits)
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
        let mut upload = SourceUpload::new(CatalogImport::AtomicRedTeam, 1 << 20, dir());
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
        let files = read_zip(
            &path,
            &ArchiveLimits::default(),
            CatalogImport::AtomicRedTeam,
        )
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "atomics/T1053/T1053.yaml");
        assert_eq!(files[0].text, "attack_technique: T1053\n");

        // Dropped before `finish` (the request failed): the partial archive is removed.
        let mut upload = SourceUpload::new(CatalogImport::AtomicRedTeam, 1 << 20, dir());
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
        let mut upload = SourceUpload::new(CatalogImport::AtomicRedTeam, 4, dir());
        let err = upload
            .field(Some("files"), Some("T1053/T1053.yaml"), body("too long"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
        // Files that are not atomics are not kept, but they count towards the limit.
        let mut upload = SourceUpload::new(CatalogImport::AtomicRedTeam, 4, dir());
        let err = upload
            .field(Some("files"), Some("repo/payload.bin"), body("MZ binary"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
    }
}
