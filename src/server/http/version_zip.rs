//! `GET /api/versions/{id}/zip`: all of a version's files as one zip
//! (deflate), for its owner only, named `<project-slug>-v<N>.zip`.

use std::io::{Cursor, Write};

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;
use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};

use super::guard::error_response;
use ollio_domain::VersionId;
use ollio_store::VersionFile;

use crate::{
    error::AppError,
    server::{auth, request, state::AppState},
};

/// The route as the tenancy suite lists routes (`:id` for the version).
pub const ROUTE: &str = "/api/versions/:id/zip";
/// Versions whose files together are larger are refused (413): the zip is
/// built in memory.
pub const MAX_BYTES: i64 = 50 * 1024 * 1024;

pub async fn version_zip(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    match zip_response(&state, &session, VersionId::from_raw(id)).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

async fn zip_response(
    state: &AppState,
    session: &Session,
    id: VersionId,
) -> Result<Response, AppError> {
    let owner = auth::session_user(&state.store, session)
        .await?
        .ok_or(AppError::Unauthorized)?
        .id;
    let store = &state.store;
    let version = store
        .version(&owner, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let project = store
        .project(&owner, &version.project)
        .await?
        .ok_or(AppError::NotFound)?;
    if store.version_files_size(&owner, &id).await? > MAX_BYTES {
        return Err(AppError::TooLarge {
            message:
                "This version's files add up to more than 50 MB, too large to download as one zip."
                    .into(),
        });
    }
    let files = store.version_files(&owner, &id).await?;
    let bytes = tokio::task::spawn_blocking(move || zip_files(&files))
        .await
        .map_err(request::internal)?
        .map_err(request::internal)?;
    let disposition = format!(
        "attachment; filename=\"{}-v{}.zip\"",
        slug(&project.name),
        version.version
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// The files, at their paths, deflated into one zip.
fn zip_files(files: &[VersionFile]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for file in files {
        zip.start_file(entry_name(&file.path), options)?;
        zip.write_all(&file.bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// A version's path as a zip entry that unpacks where it should on every
/// system: `/`-separated segments with no `..`, `.` or empty ones, and no
/// `\` or `:` (Windows reads `..\x` as a way out and `C:` as a drive),
/// those characters becoming `_`.
fn entry_name(path: &str) -> String {
    let name: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .map(|segment| {
            let segment = segment.replace(['\\', ':'], "_");
            if segment == ".." {
                "_".to_owned()
            } else {
                segment
            }
        })
        .collect();
    if name.is_empty() {
        "_".to_owned()
    } else {
        name.join("/")
    }
}

/// A project name as a file name: lowercase ASCII letters and digits, runs
/// of anything else as one `-`; `project` when nothing is left.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(60).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "project".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{entry_name, slug};

    #[test]
    fn entry_names_never_leave_the_folder_on_any_system() {
        assert_eq!(entry_name("src/App.tsx"), "src/App.tsx");
        assert_eq!(entry_name("..\\..\\evil.txt"), ".._.._evil.txt");
        assert_eq!(entry_name("a/../../b"), "a/_/_/b");
        assert_eq!(entry_name("/etc//./passwd"), "etc/passwd");
        assert_eq!(entry_name("C:\\Windows\\x"), "C__Windows_x");
        assert_eq!(entry_name(""), "_");
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("Ada's Secret Project"), "ada-s-secret-project");
        assert_eq!(slug("  --Todo   app 2!  "), "todo-app-2");
        assert_eq!(slug("Café \"quoted\"; x=1"), "caf-quoted-x-1");
        assert_eq!(slug("日本語"), "project");
        assert_eq!(slug(""), "project");
        assert_eq!(slug(&"a".repeat(100)).len(), 60);
    }
}
