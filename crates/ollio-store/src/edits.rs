//! Files the user saves in the Code tab's editor. Each save is a version:
//! "Edited index.html"; saves that follow one another with no agent turn
//! (or restore) between fold into that one version, "Edited 3 files".
//! Refused while a turn runs on the project, so the agent and the user
//! never write over each other.

use super::{
    now_ms,
    versions::{insert_version, version_row},
    NewFile, NewVersion, Store, StoreError, Version,
};
use ollio_domain::{ProjectId, UserId};

/// Why a save was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefusal {
    /// No such project of the owner's.
    NotFound,
    /// A turn (or training run) is working on the project.
    Busy,
}

/// The title of an edit version holding `paths`.
pub fn edit_title(paths: &[String]) -> String {
    match paths {
        [one] => format!("Edited {one}"),
        many => format!("Edited {} files", many.len()),
    }
}

impl Store {
    /// Saves `file` into `owner`'s `project` as the user's edit: into the
    /// newest version if the user made it by saving too, else into a new
    /// version with the newest one's files and this one changed.
    pub async fn save_edit(
        &self,
        owner: &UserId,
        project: &ProjectId,
        file: NewFile,
    ) -> Result<Result<Version, EditRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let template: Option<String> =
            sqlx::query_scalar("SELECT template FROM projects WHERE id = $1 AND owner_id = $2")
                .bind(project.as_str())
                .bind(owner.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(template) = template else {
            return Ok(Err(EditRefusal::NotFound));
        };
        let busy: Option<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE project_id = $1 AND role = 'assistant'
             AND status IN ('pending', 'running') LIMIT 1",
        )
        .bind(project.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if busy.is_some() {
            return Ok(Err(EditRefusal::Busy));
        }
        let newest = sqlx::query(
            "SELECT * FROM versions WHERE project_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(project.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| version_row(&row))
        .transpose()?;
        let saved = match newest {
            // Saves one after another: the same version, one more file.
            Some(newest) if !newest.edited.is_empty() => {
                let mut paths = newest.edited.clone();
                if !paths.contains(&file.path) {
                    paths.push(file.path.clone());
                }
                put_file(&mut tx, newest.id.as_str(), &file).await?;
                let row = sqlx::query(
                    "UPDATE versions SET title = $2, edited = $3, created_at = $4, check_problems = NULL
                     WHERE id = $1 RETURNING *",
                )
                .bind(newest.id.as_str())
                .bind(edit_title(&paths))
                .bind(paths.join("\n"))
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
                version_row(&row)?
            }
            newest => {
                let paths = vec![file.path.clone()];
                let version = insert_version(
                    &mut tx,
                    &NewVersion {
                        project: project.clone(),
                        message: None,
                        title: edit_title(&paths),
                        template: newest.as_ref().map_or(template, |v| v.template.clone()),
                        // The newest version's sandbox is the one the file
                        // was written into: its preview goes on.
                        sandbox_id: newest.as_ref().and_then(|v| v.sandbox_id.clone()),
                        preview_url: newest.as_ref().and_then(|v| v.preview_url.clone()),
                        files: Vec::new(),
                        left_out: newest
                            .as_ref()
                            .map(|v| v.left_out.clone())
                            .unwrap_or_default(),
                        check: None,
                    },
                )
                .await?;
                if let Some(newest) = &newest {
                    sqlx::query(
                        "INSERT INTO version_files (version_id, path, content, language, size, encoding)
                         SELECT $1, path, content, language, size, encoding FROM version_files
                         WHERE version_id = $2 AND path <> $3",
                    )
                    .bind(version.id.as_str())
                    .bind(newest.id.as_str())
                    .bind(&file.path)
                    .execute(&mut *tx)
                    .await?;
                }
                put_file(&mut tx, version.id.as_str(), &file).await?;
                let row = sqlx::query("UPDATE versions SET edited = $2 WHERE id = $1 RETURNING *")
                    .bind(version.id.as_str())
                    .bind(paths.join("\n"))
                    .fetch_one(&mut *tx)
                    .await?;
                version_row(&row)?
            }
        };
        sqlx::query("UPDATE projects SET updated_at = $2 WHERE id = $1")
            .bind(project.as_str())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.file_lists.forget(&saved.id);
        Ok(Ok(saved))
    }
}

/// Writes `file` into version `id`, replacing the one at its path.
async fn put_file(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    file: &NewFile,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM version_files WHERE version_id = $1 AND path = $2")
        .bind(id)
        .bind(&file.path)
        .execute(&mut *tx)
        .await?;
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
    .await?;
    Ok(())
}
