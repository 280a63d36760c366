//! What the user changes in the Code tab: files saved in the editor, and
//! the explorer's new files, renames and deletes. Each change is a version:
//! "Edited index.html", "Renamed a.js to b.js", "Deleted old.css"; changes
//! that follow one another with no agent turn (or restore) between fold into
//! that one version, "Edited 3 files". Refused while a turn runs on the
//! project, so the agent and the user never write over each other.

use super::{
    jobs::{hold_project, Held},
    now_ms,
    versions::{insert_file, insert_version, version_row},
    NewFile, NewVersion, Store, StoreError, Version,
};
use ollio_domain::{file_path::language_of, ProjectId, UserId};

/// One change the user makes to the newest version's files.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Writes the file, new or not (Save).
    Put(NewFile),
    /// A new file: refused if the path is taken.
    Create(NewFile),
    /// A file, or a folder with everything in it.
    Delete(String),
    /// A file or a folder, to a path not taken.
    Rename { from: String, to: String },
}

impl Edit {
    /// The path the change leaves behind (or took away).
    fn path(&self) -> &str {
        match self {
            Self::Put(file) | Self::Create(file) => &file.path,
            Self::Delete(path) => path,
            Self::Rename { to, .. } => to,
        }
    }

    /// The title of a version holding this change alone.
    fn title(&self) -> String {
        match self {
            Self::Put(file) | Self::Create(file) => format!("Edited {}", file.path),
            Self::Delete(path) => format!("Deleted {path}"),
            Self::Rename { from, to } => format!("Renamed {from} to {to}"),
        }
    }
}

/// Why a change was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefusal {
    /// No such project of the owner's.
    NotFound,
    /// A turn (or training run) is working on the project.
    Busy,
    /// The file or folder to delete or rename is not in the version.
    Missing,
    /// The new file's or the rename's path is taken.
    Exists,
}

/// The title of an edit version holding `paths`, the last change `last`.
fn edit_title(paths: &[String], last: &Edit) -> String {
    match paths {
        [_] => last.title(),
        many => format!("Edited {} files", many.len()),
    }
}

impl Store {
    /// Saves `file` into `owner`'s `project` (Save in the editor).
    pub async fn save_edit(
        &self,
        owner: &UserId,
        project: &ProjectId,
        file: NewFile,
    ) -> Result<Result<Version, EditRefusal>, StoreError> {
        self.apply_edit(owner, project, Edit::Put(file)).await
    }

    /// Makes `edit` to `owner`'s `project` as the user's change: in the
    /// newest version if the user made it by such changes too, else in a
    /// new version with the newest one's files.
    pub async fn apply_edit(
        &self,
        owner: &UserId,
        project: &ProjectId,
        edit: Edit,
    ) -> Result<Result<Version, EditRefusal>, StoreError> {
        self.apply_edit_titled(owner, project, edit, None).await
    }

    /// [`Store::apply_edit`]; with a `title`, always a version of its own
    /// under that title ("AI edit: …"), which later edits do not fold into.
    pub async fn apply_edit_titled(
        &self,
        owner: &UserId,
        project: &ProjectId,
        edit: Edit,
        title: Option<&str>,
    ) -> Result<Result<Version, EditRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(refused) = hold(&mut tx, owner, project).await? {
            return Ok(Err(refused));
        }
        let template: String = sqlx::query_scalar("SELECT template FROM projects WHERE id = $1")
            .bind(project.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let newest = newest_version(&mut tx, project).await?;
        // Changes one after another: the same version.
        let (target, mut paths) = match newest {
            Some(newest) if !newest.edited.is_empty() && title.is_none() => {
                (newest.id.to_string(), newest.edited)
            }
            newest => {
                let version = insert_version(
                    &mut tx,
                    &NewVersion {
                        project: project.clone(),
                        message: None,
                        title: edit.title(),
                        template: newest.as_ref().map_or(template, |v| v.template.clone()),
                        // The newest version's sandbox is the one the change
                        // goes into: its preview goes on.
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
                         WHERE version_id = $2",
                    )
                    .bind(version.id.as_str())
                    .bind(newest.id.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                (version.id.to_string(), Vec::new())
            }
        };
        if let Err(refusal) = change_files(&mut tx, &target, &edit).await? {
            return Ok(Err(refusal));
        }
        if !paths.iter().any(|path| path == edit.path()) {
            paths.push(edit.path().to_owned());
        }
        let row = sqlx::query(
            "UPDATE versions SET title = $2, edited = $3, created_at = $4, check_problems = NULL
             WHERE id = $1 RETURNING *",
        )
        .bind(&target)
        .bind(title.map_or_else(|| edit_title(&paths, &edit), str::to_owned))
        .bind(title.is_none().then(|| paths.join("\n")))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let saved = version_row(&row)?;
        tx.commit().await?;
        self.file_lists.forget(&saved.id);
        Ok(Ok(saved))
    }
}

impl Store {
    /// Keeps `files` (what the project's sandbox holds now, changed from a
    /// terminal) as a new version of `owner`'s `project` titled `title`,
    /// on the newest version's sandbox. Refused while a turn runs, as an
    /// edit is; it does not fold with edits.
    pub async fn save_snapshot(
        &self,
        owner: &UserId,
        project: &ProjectId,
        title: &str,
        files: Vec<NewFile>,
        left_out: Vec<super::LeftOut>,
    ) -> Result<Result<Version, EditRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(refused) = hold(&mut tx, owner, project).await? {
            return Ok(Err(refused));
        }
        let newest = newest_version(&mut tx, project).await?;
        let Some(newest) = newest else {
            return Ok(Err(EditRefusal::Missing));
        };
        let version = insert_version(
            &mut tx,
            &NewVersion {
                project: project.clone(),
                message: None,
                title: title.to_owned(),
                template: newest.template,
                sandbox_id: newest.sandbox_id,
                preview_url: newest.preview_url,
                files,
                left_out,
                check: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(version))
    }
}

/// Takes the project as a turn's queueing does (the write lock on SQLite,
/// the row on PostgreSQL), so a turn queued meanwhile is seen; why a change
/// cannot be made now, if it cannot.
async fn hold(
    tx: &mut sqlx::AnyConnection,
    owner: &UserId,
    project: &ProjectId,
) -> Result<Option<EditRefusal>, StoreError> {
    Ok(match hold_project(tx, owner, project, now_ms()).await? {
        Held::Idle => None,
        Held::Missing => Some(EditRefusal::NotFound),
        Held::Busy => Some(EditRefusal::Busy),
    })
}

async fn newest_version(
    tx: &mut sqlx::AnyConnection,
    project: &ProjectId,
) -> Result<Option<Version>, StoreError> {
    Ok(
        sqlx::query("SELECT * FROM versions WHERE project_id = $1 ORDER BY version DESC LIMIT 1")
            .bind(project.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| version_row(&row))
            .transpose()?,
    )
}

/// The version's files at `path`: the file, or everything in the folder.
async fn paths_at(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    path: &str,
) -> Result<Vec<String>, StoreError> {
    // Everything under `path/`, with LIKE's own characters taken literally.
    let under = format!(
        "{}/%",
        path.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(sqlx::query_scalar(
        "SELECT path FROM version_files WHERE version_id = $1 AND (path = $2 OR path LIKE $3 ESCAPE '\\')",
    )
    .bind(id)
    .bind(path)
    .bind(under)
    .fetch_all(&mut *tx)
    .await?)
}

/// Makes `edit` to version `id`'s files.
async fn change_files(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    edit: &Edit,
) -> Result<Result<(), EditRefusal>, StoreError> {
    match edit {
        Edit::Put(file) => put_file(tx, id, file).await?,
        Edit::Create(file) => {
            if !paths_at(tx, id, &file.path).await?.is_empty() {
                return Ok(Err(EditRefusal::Exists));
            }
            put_file(tx, id, file).await?;
        }
        Edit::Delete(path) => {
            let gone = paths_at(tx, id, path).await?;
            if gone.is_empty() {
                return Ok(Err(EditRefusal::Missing));
            }
            for path in gone {
                sqlx::query("DELETE FROM version_files WHERE version_id = $1 AND path = $2")
                    .bind(id)
                    .bind(&path)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Edit::Rename { from, to } => {
            let moving = paths_at(tx, id, from).await?;
            if moving.is_empty() {
                return Ok(Err(EditRefusal::Missing));
            }
            if from == to || !paths_at(tx, id, to).await?.is_empty() {
                return Ok(Err(EditRefusal::Exists));
            }
            for path in moving {
                let moved = format!("{to}{}", &path[from.len()..]);
                sqlx::query(
                    "UPDATE version_files SET path = $3,
                     language = CASE WHEN encoding = 'base64' THEN language ELSE $4 END
                     WHERE version_id = $1 AND path = $2",
                )
                .bind(id)
                .bind(&path)
                .bind(&moved)
                .bind(language_of(&moved))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(Ok(()))
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
    insert_file(tx, id, file).await?;
    Ok(())
}
