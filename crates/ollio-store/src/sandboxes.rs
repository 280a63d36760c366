//! A project's sandboxes. Its **working** sandbox (no version) is the one
//! turns reuse until it expires, then a new one is made from the latest
//! version. Besides it, at most one **preview-only** sandbox runs an older
//! version for the Preview tab; turns never use it.

use sqlx::{any::AnyRow, Row};

use super::{now_ms, Store, StoreError};
use ollio_domain::{ProjectId, UserId, VersionId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSandbox {
    pub id: String,
    pub project: ProjectId,
    /// `local` or `e2b`.
    pub backend: String,
    pub template: String,
    pub preview_url: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The older version this sandbox only previews; `None` for the
    /// project's working sandbox.
    pub preview_of: Option<VersionId>,
}

fn sandbox(row: &AnyRow) -> Result<ProjectSandbox, sqlx::Error> {
    Ok(ProjectSandbox {
        id: row.try_get("id")?,
        project: ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
        backend: row.try_get("backend")?,
        template: row.try_get("template")?,
        preview_url: row.try_get("preview_url")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        preview_of: row
            .try_get::<Option<String>, _>("version_id")?
            .map(VersionId::from_raw),
    })
}

impl Store {
    /// The project's newest working sandbox that has not been marked ended.
    pub async fn current_sandbox(
        &self,
        project: &ProjectId,
    ) -> Result<Option<ProjectSandbox>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM sandboxes
             WHERE project_id = $1 AND state = 'running' AND version_id IS NULL
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(project.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(sandbox).transpose()?)
    }

    /// The preview-only sandbox of the owner's `version`, unless it was
    /// marked ended.
    pub async fn preview_sandbox(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<Option<ProjectSandbox>, StoreError> {
        let row = sqlx::query(
            "SELECT s.* FROM sandboxes s JOIN projects p ON p.id = s.project_id
             WHERE s.version_id = $1 AND p.owner_id = $2 AND s.state = 'running'
             ORDER BY s.created_at DESC LIMIT 1",
        )
        .bind(version.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(sandbox).transpose()?)
    }

    /// Records the project's new sandbox. The ones of the same kind it
    /// replaces (the older working sandbox, or the other preview-only one)
    /// are marked ended; their ids are returned so the caller can kill them.
    pub async fn save_sandbox(&self, new: &ProjectSandbox) -> Result<Vec<String>, StoreError> {
        let replaced = match new.preview_of {
            None => {
                "UPDATE sandboxes SET state = 'ended'
                 WHERE project_id = $1 AND state = 'running' AND version_id IS NULL
                 RETURNING id"
            }
            Some(_) => {
                "UPDATE sandboxes SET state = 'ended'
                 WHERE project_id = $1 AND state = 'running' AND version_id IS NOT NULL
                 RETURNING id"
            }
        };
        let mut tx = self.pool.begin().await?;
        let ended: Vec<String> = sqlx::query_scalar(replaced)
            .bind(new.project.as_str())
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sandboxes (id, project_id, backend, template, state, preview_url, created_at, expires_at, version_id)
             VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8)",
        )
        .bind(&new.id)
        .bind(new.project.as_str())
        .bind(&new.backend)
        .bind(&new.template)
        .bind(new.preview_url.as_deref())
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.preview_of.as_ref().map(VersionId::as_str))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Notes that the sandbox lives until `expires_at` (it was extended).
    pub async fn extend_sandbox(&self, id: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sandboxes SET expires_at = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The sandboxes still marked running of the owner's project (or, with
    /// `None`, of all the owner's projects): working and preview-only ones.
    pub async fn live_sandboxes(
        &self,
        owner: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ProjectSandbox>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.* FROM sandboxes s JOIN projects p ON p.id = s.project_id
             WHERE s.state = 'running' AND p.owner_id = $1 AND ($2 = '' OR p.id = $2)",
        )
        .bind(owner.as_str())
        .bind(project.map_or("", ProjectId::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(sandbox).collect::<Result<_, _>>()?)
    }

    /// Marks a sandbox ended (it expired, or was found gone).
    pub async fn end_sandbox(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sandboxes SET state = 'ended', expires_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
