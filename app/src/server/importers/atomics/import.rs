//! Imports Atomic Red Team atomics into the catalog: idempotent, keyed by each atomic's GUID,
//! in one transaction with its audit entry. A re-import updates what changed upstream and
//! keeps the admins' local fields (active flag, severity, expected detection, tools,
//! remediation steps). A malformed file is skipped with its path and line; the rest goes on.
use super::parse::{AtomicTest, parse_atomic_file};
use crate::domain::atomics::atomics_entry;
use crate::domain::audit::AuditAction;
use crate::domain::values::{Severity, TemplateSource};
use crate::dto::catalog::{AtomicImportReport, SkippedFile};
use crate::error::{AppError, AppResult};
use crate::server::catalog::templates::known_techniques;
use crate::server::entities::test_template;
use crate::server::platform::audit::{self, AuditRecord};
use crate::server::platform::context::Actor;
use crate::server::platform::db::begin_write;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use uuid::Uuid;

pub const SOURCE: TemplateSource = TemplateSource::AtomicRedTeam;

/// Rows per multi-row INSERT: well under both backends' bound-parameter limits.
const INSERT_CHUNK: usize = 200;

/// One atomics file as read from disk or an archive.
#[derive(Debug, Clone)]
pub struct AtomicSourceFile {
    pub path: String,
    pub text: String,
}

/// Reads `atomics/<T-id>/T*.yaml` under `root`, which may be a checkout of the repository or
/// its `atomics` folder. Other files are not read.
pub fn read_atomics_dir(root: &Path) -> AppResult<Vec<AtomicSourceFile>> {
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
            files.push(AtomicSourceFile {
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

/// Largest single atomics file read from an archive (the biggest upstream is ~100 KB).
const MAX_ATOMICS_FILE: u64 = 8 * 1024 * 1024;

/// An upload of atomics for the import job, from the System panel or the API: one zip (the
/// multipart field `file`) or the files of a folder (`files`, each part named by its path
/// inside the folder), which are written into a zip as they arrive so the job reads both the
/// same way. What is saved is removed again unless [`AtomicsUpload::finish`] hands it over.
pub struct AtomicsUpload {
    max_bytes: u64,
    /// The saved file (inside [`upload_dir`]) and the name shown for it.
    saved: Option<(String, String)>,
    folder: Option<zip::ZipWriter<std::fs::File>>,
    folder_entries: HashSet<String>,
    folder_bytes: u64,
    folder_skipped: usize,
}

fn upload_error(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("upload file: {e}"))
}

impl AtomicsUpload {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            saved: None,
            folder: None,
            folder_entries: HashSet::new(),
            folder_bytes: 0,
            folder_skipped: 0,
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
                let file = save_upload(body, self.max_bytes).await?;
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
            tokio::fs::create_dir_all(upload_dir())
                .await
                .map_err(upload_error)?;
            let file = format!("{}.zip", Uuid::new_v4());
            let handle = std::fs::File::create(upload_dir().join(&file)).map_err(upload_error)?;
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

    /// The saved upload (file inside [`upload_dir`], shown name), handed to the import job.
    pub async fn finish(mut self) -> AppResult<(String, String)> {
        if let Some(writer) = self.folder.take() {
            tokio::task::spawn_blocking(move || writer.finish().map(drop))
                .await
                .map_err(upload_error)?
                .map_err(upload_error)?;
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
            let _ = std::fs::remove_file(upload_dir().join(file));
        }
    }
}

/// Reads the atomics ([`atomics_entry`]) from a zip of the repository (GitHub's archive has
/// one top folder), of its `atomics` folder or of one technique's folder. Nothing else in the
/// archive is read. A broken archive
/// is an error that names the problem; then nothing is imported.
pub fn read_atomics_zip(path: &Path) -> AppResult<Vec<AtomicSourceFile>> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| AppError::BadRequest(format!("cannot open {}: {e}", path.display())))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| AppError::BadRequest(format!("not a readable zip archive: {e}")))?;
    let mut files = Vec::new();
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
        if entry.size() > MAX_ATOMICS_FILE {
            return Err(AppError::BadRequest(format!(
                "{name} is larger than {MAX_ATOMICS_FILE} bytes"
            )));
        }
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| AppError::BadRequest(format!("broken zip archive at {name}: {e}")))?;
        files.push(AtomicSourceFile { path, text });
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
pub fn read_atomics(path: &Path) -> AppResult<Vec<AtomicSourceFile>> {
    if path.is_file() {
        read_atomics_zip(path)
    } else {
        read_atomics_dir(path)
    }
}

/// The fields the upstream project owns, as stored; hashed to tell what changed.
fn upstream_fields(technique_id: &str, test: &AtomicTest) -> Value {
    json!({
        "technique_id": technique_id,
        "name": test.name,
        "description": test.description,
        "platforms": test.supported_platforms,
        "executor_name": test.executor.name,
        "command": test.executor.command,
        "cleanup_command": test.executor.cleanup_command,
        "elevation_required": test.executor.elevation_required,
        "input_arguments": test.input_arguments.iter().map(|a| json!({
            "name": a.name, "description": a.description, "type": a.kind, "default": a.default,
        })).collect::<Vec<_>>(),
        "dependencies": test.dependencies.iter().map(|d| json!({
            "description": d.description,
            "prereq_command": d.prereq_command,
            "get_prereq_command": d.get_prereq_command,
        })).collect::<Vec<_>>(),
        "dependency_executor_name": test.dependency_executor_name,
    })
}

pub(crate) fn content_hash(fields: &Value) -> String {
    let digest = Sha256::digest(fields.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses and imports `files`; `progress(done, total)` follows the files.
pub async fn import_atomics(
    db: &DatabaseConnection,
    actor: &Actor,
    files: Vec<AtomicSourceFile>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> AppResult<AtomicImportReport> {
    let mut report = AtomicImportReport {
        files: files.len(),
        ..Default::default()
    };
    let total = files.len();
    let mut parsed = Vec::new();
    let mut seen_guids = HashSet::new();
    for (done, file) in files.into_iter().enumerate() {
        match parse_atomic_file(&file.path, &file.text) {
            Ok(atomic) => {
                let duplicate = atomic.tests.iter().find(|t| seen_guids.contains(&t.guid));
                if let Some(test) = duplicate {
                    report.skipped.push(SkippedFile {
                        path: file.path,
                        reason: format!(
                            "auto_generated_guid {} is also in another file",
                            test.guid
                        ),
                    });
                } else {
                    seen_guids.extend(atomic.tests.iter().map(|t| t.guid));
                    parsed.push(atomic);
                }
            }
            Err(err) => report.skipped.push(SkippedFile {
                reason: match err.line {
                    Some(line) => format!("line {line}: {}", err.message),
                    None => err.message,
                },
                path: err.path,
            }),
        }
        progress(done + 1, total);
    }

    let txn = begin_write(db).await?;
    let known = known_techniques(&txn).await?;
    let existing: HashMap<String, (Uuid, String)> = test_template::Entity::find()
        .filter(test_template::Column::Source.eq(SOURCE))
        .select_only()
        .column(test_template::Column::ExternalId)
        .column(test_template::Column::Id)
        .column(test_template::Column::ContentHash)
        .into_tuple::<(Option<String>, Uuid, String)>()
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|(external, id, hash)| external.map(|e| (e, (id, hash))))
        .collect();
    let now = Utc::now();
    let mut unknown = BTreeSet::new();
    let mut inserts = Vec::new();
    for atomic in &parsed {
        if !known.contains(&atomic.attack_technique) {
            unknown.insert(atomic.attack_technique.clone());
        }
        for test in &atomic.tests {
            let fields = upstream_fields(&atomic.attack_technique, test);
            let content_hash = content_hash(&fields);
            let guid = test.guid.to_string();
            let mut row = test_template::ActiveModel {
                technique_id: Set(atomic.attack_technique.clone()),
                name: Set(test.name.chars().take(300).collect()),
                description: Set(test.description.clone()),
                platforms: Set(fields["platforms"].clone()),
                executor_name: Set(Some(test.executor.name.clone())),
                command: Set(test.executor.command.clone()),
                cleanup_command: Set(test.executor.cleanup_command.clone()),
                elevation_required: Set(test.executor.elevation_required),
                input_arguments: Set(fields["input_arguments"].clone()),
                dependencies: Set(fields["dependencies"].clone()),
                dependency_executor_name: Set(test.dependency_executor_name.clone()),
                content_hash: Set(content_hash.clone()),
                updated_at: Set(now),
                ..Default::default()
            };
            match existing.get(&guid) {
                Some((_, stored)) if *stored == content_hash => report.unchanged += 1,
                Some((id, _)) => {
                    row.id = Set(*id);
                    test_template::Entity::update(row).exec(&txn).await?;
                    report.updated += 1;
                }
                None => {
                    row.id = Set(Uuid::new_v4());
                    row.source = Set(SOURCE);
                    row.external_id = Set(Some(guid));
                    row.expected_detection = Set(String::new());
                    row.suggested_tools = Set(json!([]));
                    row.severity = Set(Severity::Medium);
                    row.remediation_steps = Set(json!([]));
                    row.is_active = Set(true);
                    row.created_at = Set(now);
                    inserts.push(row);
                    report.added += 1;
                }
            }
        }
    }
    for chunk in inserts.chunks(INSERT_CHUNK) {
        test_template::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    report.unknown_techniques = unknown.into_iter().collect();
    audit::record(
        &txn,
        actor,
        AuditRecord::new(AuditAction::TemplatesImport, "test_template", SOURCE).after(json!({
            "files": report.files,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped.len(),
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &'static str) -> impl futures::Stream<Item = AppResult<bytes::Bytes>> + Unpin {
        futures::stream::iter(vec![Ok(bytes::Bytes::from_static(text.as_bytes()))])
    }

    #[tokio::test]
    async fn a_folder_upload_becomes_a_zip_of_its_atomics_or_leaves_nothing_behind() {
        let mut upload = AtomicsUpload::new(1 << 20);
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
        let path = upload_dir().join(&file);
        let files = read_atomics_zip(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "atomics/T1053/T1053.yaml");
        assert_eq!(files[0].text, "attack_technique: T1053\n");

        // Dropped before `finish` (the request failed): the partial archive is removed.
        let mut upload = AtomicsUpload::new(1 << 20);
        upload
            .field(Some("files"), Some("T1053/T1053.yaml"), body("x: 1\n"))
            .await
            .unwrap();
        let Some((file, _)) = upload.saved.clone() else {
            panic!("the archive is started with the first atomic");
        };
        assert!(upload_dir().join(&file).exists());
        drop(upload);
        assert!(!upload_dir().join(&file).exists());

        // Over the size limit: 413, and nothing kept.
        let mut upload = AtomicsUpload::new(4);
        let err = upload
            .field(Some("files"), Some("T1053/T1053.yaml"), body("too long"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
        // Files that are not atomics are not kept, but they count towards the limit.
        let mut upload = AtomicsUpload::new(4);
        let err = upload
            .field(Some("files"), Some("repo/payload.bin"), body("MZ binary"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 413);
    }
}
