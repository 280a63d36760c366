use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, Row};

use super::{new_id, now_ms, Store, StoreError};
use ollio_domain::{CheckProblem, MessageId, ProjectId, UserId, VersionId};

/// One version of a project: what an assistant turn left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: VersionId,
    pub project: ProjectId,
    pub message: Option<MessageId>,
    /// 1 for the first version, then counting up without gaps.
    pub version: i64,
    pub title: String,
    pub template: String,
    pub sandbox_id: Option<String>,
    pub preview_url: Option<String>,
    pub created_at: i64,
    /// What the project had that this version does not hold, and why.
    pub left_out: Vec<LeftOut>,
    /// What the check before its turn ended found: `None` when it was not
    /// checked, empty when it passed.
    pub check: Option<Vec<CheckProblem>>,
    /// The paths the user saved into it in the editor; empty for a
    /// version an agent turn, a restore or a training run made.
    pub edited: Vec<String>,
}

impl Version {
    /// Whether its check passed (`None`: it was not checked).
    pub fn check_passed(&self) -> Option<bool> {
        self.check.as_ref().map(Vec::is_empty)
    }
}

/// Something in the project that a version does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Relative to the project root; a folder for a whole folder.
    pub path: String,
    pub reason: LeftOutReason,
    /// Bytes, for a file left out for its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    /// `node_modules`, `.venv`: installed again from the package manifests.
    Dependencies,
    /// `dist`, `.next`: made again by a build.
    BuildOutput,
    /// `__pycache__`, `.cache`, `.git`: tools' own state.
    Cache,
    /// Over the size limit for one file.
    TooLarge,
    /// The version's total size limit was reached.
    VersionFull,
    /// The version's file count limit was reached.
    TooManyFiles,
    /// An ML model's trained artifacts: kept with the version in the blob
    /// store, not among its files.
    ModelArtifacts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile {
    pub path: String,
    /// The text, or for a binary file its bytes as base64.
    pub content: String,
    pub language: String,
    /// Bytes (of the file, not of its base64).
    pub size: i64,
    pub binary: bool,
}

impl VersionFile {
    /// The file's bytes, as they were in the project.
    pub fn bytes(&self) -> Vec<u8> {
        if self.binary {
            BASE64.decode(&self.content).unwrap_or_default()
        } else {
            self.content.clone().into_bytes()
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: String,
    /// As [`VersionFile::content`].
    pub content: String,
    pub language: String,
    pub binary: bool,
}

impl NewFile {
    /// A file from its bytes: text when they are UTF-8 (without NUL
    /// bytes), else kept as base64.
    pub fn from_bytes(path: String, language: String, bytes: Vec<u8>) -> Self {
        let text = if bytes.contains(&0) {
            Err(bytes)
        } else {
            String::from_utf8(bytes).map_err(|error| error.into_bytes())
        };
        match text {
            Ok(content) => Self {
                path,
                content,
                language,
                binary: false,
            },
            Err(bytes) => Self {
                path,
                content: BASE64.encode(bytes),
                language: "binary".into(),
                binary: true,
            },
        }
    }

    /// The file's size in bytes.
    pub fn size(&self) -> usize {
        if self.binary {
            // Padding aside, four base64 characters are three bytes.
            let padding = self
                .content
                .bytes()
                .rev()
                .take_while(|b| *b == b'=')
                .count();
            self.content.len() / 4 * 3 - padding
        } else {
            self.content.len()
        }
    }
}

impl From<VersionFile> for NewFile {
    fn from(file: VersionFile) -> Self {
        Self {
            path: file.path,
            content: file.content,
            language: file.language,
            binary: file.binary,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewVersion {
    pub project: ProjectId,
    pub message: Option<MessageId>,
    pub title: String,
    pub template: String,
    pub sandbox_id: Option<String>,
    pub preview_url: Option<String>,
    pub files: Vec<NewFile>,
    pub left_out: Vec<LeftOut>,
    /// As [`Version::check`].
    pub check: Option<Vec<CheckProblem>>,
}

pub(super) fn version_row(row: &AnyRow) -> Result<Version, sqlx::Error> {
    Ok(Version {
        id: VersionId::from_raw(row.try_get::<String, _>("id")?),
        project: ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
        message: row
            .try_get::<Option<String>, _>("message_id")?
            .map(MessageId::from_raw),
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        template: row.try_get("template")?,
        sandbox_id: row.try_get("sandbox_id")?,
        preview_url: row.try_get("preview_url")?,
        created_at: row.try_get("created_at")?,
        // A list this code cannot read is shown as nothing left out.
        left_out: serde_json::from_str(&row.try_get::<String, _>("left_out")?).unwrap_or_default(),
        // A report this code cannot read counts as not checked.
        check: row
            .try_get::<Option<String>, _>("check_problems")?
            .and_then(|text| serde_json::from_str(&text).ok()),
        edited: row
            .try_get::<Option<String>, _>("edited")?
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
    })
}

fn file(row: &AnyRow) -> Result<VersionFile, sqlx::Error> {
    Ok(VersionFile {
        path: row.try_get("path")?,
        content: row.try_get("content")?,
        language: row.try_get("language")?,
        size: row.try_get("size")?,
        binary: row.try_get::<String, _>("encoding")? == "base64",
    })
}

impl Store {
    /// Saves a version with all its files, numbered after the project's last.
    pub async fn create_version(&self, new: NewVersion) -> Result<Version, StoreError> {
        let mut tx = self.pool.begin().await?;
        let saved = insert_version(&mut tx, &new).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// The owner's project versions, newest first.
    pub async fn versions(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<Vec<Version>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.* FROM versions f JOIN projects p ON p.id = f.project_id
             WHERE f.project_id = $1 AND p.owner_id = $2 ORDER BY f.version DESC",
        )
        .bind(project.as_str())
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(version_row).collect::<Result<_, _>>()?)
    }

    /// A version's files sorted by path, if the version is `owner`'s.
    pub async fn version_files(
        &self,
        owner: &UserId,
        id: &VersionId,
    ) -> Result<Vec<VersionFile>, StoreError> {
        self.files_of(owner, id, "ff.content").await
    }

    /// A version's files without their contents (`content` is empty), for
    /// listings.
    pub async fn version_file_list(
        &self,
        owner: &UserId,
        id: &VersionId,
    ) -> Result<Vec<VersionFile>, StoreError> {
        self.files_of(owner, id, "''").await
    }

    /// The file list of a version just read from the store as `owner`'s (so
    /// it exists and is theirs): read once, then kept, since a version never
    /// changes. Not for a version id from a request, which may name a version
    /// deleted since: [`Store::version_file_list`] checks that.
    pub async fn known_version_file_list(
        &self,
        owner: &UserId,
        id: &VersionId,
    ) -> Result<std::sync::Arc<Vec<VersionFile>>, StoreError> {
        if let Some(list) = self.file_lists.get(owner, id) {
            return Ok(list);
        }
        let list = std::sync::Arc::new(self.version_file_list(owner, id).await?);
        self.file_lists.put(owner, id, list.clone());
        Ok(list)
    }

    /// `content` is the SQL for the content column: the column, or `''`.
    async fn files_of(
        &self,
        owner: &UserId,
        id: &VersionId,
        content: &'static str,
    ) -> Result<Vec<VersionFile>, StoreError> {
        let sql = format!(
            "SELECT ff.path, {content} AS content, ff.language, ff.size, ff.encoding
             FROM version_files ff
             JOIN versions f ON f.id = ff.version_id
             JOIN projects p ON p.id = f.project_id
             WHERE ff.version_id = $1 AND p.owner_id = $2
             ORDER BY ff.path"
        );
        let rows = sqlx::query(&sql)
            .bind(id.as_str())
            .bind(owner.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(file).collect::<Result<_, _>>()?)
    }

    /// One file of a version, if the version is `owner`'s and has `path`.
    pub async fn version_file(
        &self,
        owner: &UserId,
        id: &VersionId,
        path: &str,
    ) -> Result<Option<VersionFile>, StoreError> {
        let row = sqlx::query(
            "SELECT ff.path, ff.content, ff.language, ff.size, ff.encoding
             FROM version_files ff
             JOIN versions f ON f.id = ff.version_id
             JOIN projects p ON p.id = f.project_id
             WHERE ff.version_id = $1 AND ff.path = $2 AND p.owner_id = $3",
        )
        .bind(id.as_str())
        .bind(path)
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(file).transpose()?)
    }

    /// The bytes of all a version's files together (0 when it has none or
    /// is not `owner`'s), read without loading them.
    pub async fn version_files_size(
        &self,
        owner: &UserId,
        id: &VersionId,
    ) -> Result<i64, StoreError> {
        // PostgreSQL sums BIGINTs as NUMERIC, which the Any driver cannot read.
        let size: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(ff.size), 0) AS BIGINT)
             FROM version_files ff
             JOIN versions f ON f.id = ff.version_id
             JOIN projects p ON p.id = f.project_id
             WHERE ff.version_id = $1 AND p.owner_id = $2",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(size)
    }

    /// One of the owner's versions.
    pub async fn version(
        &self,
        owner: &UserId,
        id: &VersionId,
    ) -> Result<Option<Version>, StoreError> {
        let row = sqlx::query(
            "SELECT f.* FROM versions f JOIN projects p ON p.id = f.project_id
             WHERE f.id = $1 AND p.owner_id = $2",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(version_row).transpose()?)
    }
}

/// Writes `new` with its files inside the caller's transaction. The first
/// statement writes (SQLite takes its write lock there).
pub(super) async fn insert_version(
    tx: &mut sqlx::AnyConnection,
    new: &NewVersion,
) -> Result<Version, StoreError> {
    let now = now_ms();
    let version: i64 = sqlx::query_scalar(
        "UPDATE projects SET version_seq = version_seq + 1, updated_at = $1 WHERE id = $2 RETURNING version_seq",
    )
    .bind(now)
    .bind(new.project.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let row = sqlx::query(
        "INSERT INTO versions (id, project_id, message_id, version, title, template, sandbox_id, preview_url, created_at, left_out, check_problems)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING *",
    )
    .bind(new_id())
    .bind(new.project.as_str())
    .bind(new.message.as_ref().map(MessageId::as_str))
    .bind(version)
    .bind(&new.title)
    .bind(&new.template)
    .bind(new.sandbox_id.as_deref())
    .bind(new.preview_url.as_deref())
    .bind(now)
    .bind(serde_json::to_string(&new.left_out).unwrap_or_else(|_| "[]".into()))
    .bind(
        new.check
            .as_ref()
            .map(|problems| serde_json::to_string(problems).unwrap_or_else(|_| "[]".into())),
    )
    .fetch_one(&mut *tx)
    .await?;
    let saved = version_row(&row)?;
    for file in &new.files {
        insert_file(tx, saved.id.as_str(), file).await?;
    }
    Ok(saved)
}

/// Adds `file` to version `id`.
pub(super) async fn insert_file(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    file: &NewFile,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO version_files (version_id, path, content, language, size, encoding) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&file.path)
    .bind(&file.content)
    .bind(&file.language)
    .bind(i64::try_from(file.size()).unwrap_or(i64::MAX))
    .bind(if file.binary { "base64" } else { "utf8" })
    .execute(&mut *tx)
    .await
    .map_err(super::conflict_as("a file with this path in the version"))?;
    Ok(())
}
