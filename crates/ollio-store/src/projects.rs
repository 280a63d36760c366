use sqlx::{any::AnyRow, Row};

use super::{
    new_id, now_ms,
    versions::{insert_version, LeftOut, NewFile, NewVersion, Version},
    Store, StoreError,
};
use ollio_domain::{ProjectId, ProjectName, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub owner: UserId,
    pub name: String,
    pub template: String,
    pub model: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn project(row: &AnyRow) -> Result<Project, sqlx::Error> {
    Ok(Project {
        id: ProjectId::from_raw(row.try_get::<String, _>("id")?),
        owner: UserId::from_raw(row.try_get::<String, _>("owner_id")?),
        name: row.try_get("name")?,
        template: row.try_get("template")?,
        model: row.try_get("model")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn insert_project(
    conn: &mut sqlx::AnyConnection,
    owner: &UserId,
    name: &ProjectName,
    template: &str,
) -> Result<Project, StoreError> {
    let row = sqlx::query(
        "INSERT INTO projects (id, owner_id, name, template, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         RETURNING *",
    )
    .bind(new_id())
    .bind(owner.as_str())
    .bind(name.as_str())
    .bind(template)
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?;
    Ok(project(&row)?)
}

impl Store {
    pub async fn create_project(
        &self,
        owner: &UserId,
        name: &ProjectName,
        template: &str,
    ) -> Result<Project, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_project(&mut conn, owner, name, template).await
    }

    /// A project made from files the owner brought (an imported zip or
    /// folder): the project and its version 1, `title`, holding `files`,
    /// in one transaction, so a failure leaves no empty project behind.
    pub async fn import_project(
        &self,
        owner: &UserId,
        name: &ProjectName,
        template: &str,
        title: &str,
        files: Vec<NewFile>,
        left_out: Vec<LeftOut>,
    ) -> Result<(Project, Version), StoreError> {
        let mut tx = self.pool.begin().await?;
        let created = insert_project(&mut tx, owner, name, template).await?;
        let new = NewVersion {
            project: created.id.clone(),
            message: None,
            title: title.to_owned(),
            template: template.to_owned(),
            sandbox_id: None,
            preview_url: None,
            files,
            left_out,
            check: None,
        };
        let version = insert_version(&mut tx, &new).await?;
        tx.commit().await?;
        Ok((created, version))
    }

    /// The owner's projects, most recently updated first.
    pub async fn projects(&self, owner: &UserId) -> Result<Vec<Project>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM projects WHERE owner_id = $1 ORDER BY updated_at DESC, id DESC",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(project).collect::<Result<_, _>>()?)
    }

    /// The tokens each of `owner`'s projects has used so far (read and
    /// written, every turn's), by project; projects without any are left out.
    pub async fn project_tokens(
        &self,
        owner: &UserId,
    ) -> Result<Vec<(ProjectId, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.project_id,
                    CAST(COALESCE(SUM(m.tokens_in + m.tokens_out), 0) AS BIGINT) AS tokens
             FROM messages m JOIN projects p ON p.id = m.project_id
             WHERE p.owner_id = $1
             GROUP BY m.project_id",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    ProjectId::from_raw(row.try_get::<String, _>("project_id")?),
                    row.try_get::<i64, _>("tokens")?,
                ))
            })
            .collect()
    }

    /// The project, if it exists and belongs to `owner`; another owner's
    /// project is indistinguishable from a missing one.
    pub async fn project(
        &self,
        owner: &UserId,
        id: &ProjectId,
    ) -> Result<Option<Project>, StoreError> {
        let row = sqlx::query("SELECT * FROM projects WHERE id = $1 AND owner_id = $2")
            .bind(id.as_str())
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(project).transpose()?)
    }

    /// Renames the owner's project; `None` when there is no such project.
    pub async fn rename_project(
        &self,
        owner: &UserId,
        id: &ProjectId,
        name: &ProjectName,
    ) -> Result<Option<Project>, StoreError> {
        let row = sqlx::query(
            "UPDATE projects SET name = $1, updated_at = $2 WHERE id = $3 AND owner_id = $4 RETURNING *",
        )
        .bind(name.as_str())
        .bind(now_ms())
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(project).transpose()?)
    }

    /// Sets the model the owner's project uses (`provider:model`), or back
    /// to the default with `None`.
    pub async fn set_project_model(
        &self,
        owner: &UserId,
        id: &ProjectId,
        model: Option<&str>,
    ) -> Result<Option<Project>, StoreError> {
        let row = sqlx::query(
            "UPDATE projects SET model = $1, updated_at = $2 WHERE id = $3 AND owner_id = $4 RETURNING *",
        )
        .bind(model)
        .bind(now_ms())
        .bind(id.as_str())
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(project).transpose()?)
    }

    /// Deletes the owner's project with its messages, events and versions.
    pub async fn delete_project(&self, owner: &UserId, id: &ProjectId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM projects WHERE id = $1 AND owner_id = $2")
            .bind(id.as_str())
            .bind(owner.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
