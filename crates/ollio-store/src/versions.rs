use sqlx::{any::AnyRow, Row};

use super::{new_id, now_ms, Store, StoreError};
use ollio_domain::{MessageId, ProjectId, UserId, VersionId};

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile {
    pub path: String,
    pub content: String,
    pub language: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: String,
    pub content: String,
    pub language: String,
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
}

fn version_row(row: &AnyRow) -> Result<Version, sqlx::Error> {
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
    })
}

fn file(row: &AnyRow) -> Result<VersionFile, sqlx::Error> {
    Ok(VersionFile {
        path: row.try_get("path")?,
        content: row.try_get("content")?,
        language: row.try_get("language")?,
        size: row.try_get("size")?,
    })
}

impl Store {
    /// Saves a version with all its files, numbered after the project's last.
    pub async fn create_version(&self, new: NewVersion) -> Result<Version, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let version: i64 =
            sqlx::query_scalar("UPDATE projects SET version_seq = version_seq + 1, updated_at = $1 WHERE id = $2 RETURNING version_seq")
                .bind(now)
                .bind(new.project.as_str())
                .fetch_one(&mut *tx)
                .await?;
        let row = sqlx::query(
            "INSERT INTO versions (id, project_id, message_id, version, title, template, sandbox_id, preview_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
        .fetch_one(&mut *tx)
        .await?;
        let saved = version_row(&row)?;
        for file in &new.files {
            sqlx::query(
                "INSERT INTO version_files (version_id, path, content, language, size) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(saved.id.as_str())
            .bind(&file.path)
            .bind(&file.content)
            .bind(&file.language)
            .bind(i64::try_from(file.content.len()).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(super::conflict_as("a file with this path in the version"))?;
        }
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
            "SELECT ff.path, {content} AS content, ff.language, ff.size
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
            "SELECT ff.path, ff.content, ff.language, ff.size
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
