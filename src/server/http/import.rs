//! `POST /api/projects/import`: "Import project" on `/projects`, a
//! multipart form with `archive` (a `.zip`) or `files` (a folder's files,
//! each named with its path in the folder, as browsers send a chosen
//! folder), and `template` (empty: detect it). The signed-in user's only.
//!
//! The form works without JavaScript: a page's post (it accepts HTML) is
//! sent on to the new project, or back to `/projects` with the reason in
//! the short-lived typed-values cookie; other clients get JSON (201 and
//! the project, or the error under its status).
//!
//! The body is read as it arrives: files in skipped folders (`node_modules`)
//! are never held, and reading stops at the first limit passed.

use axum::{
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use tower_sessions::Session;

use super::guard::{error_response, signed_in};
use crate::{
    error::AppError,
    server::{
        import::{
            self,
            unpack::{self, Refused, MAX_COMPRESSED, MAX_ENTRIES, MAX_FILES, MAX_UNPACKED},
            Upload,
        },
        request::{typed_cookie, typed_cookie_cleared},
        state::AppState,
    },
};

/// The route, as the tenancy suite lists it.
pub const ROUTE: &str = "/api/projects/import";
/// The most a request may send: a folder's skipped dependencies pass
/// through without being kept, so this is more than what is kept.
pub const BODY_LIMIT: usize = 1024 * 1024 * 1024;
/// Where the form is, and where a refused page post goes back to.
const FORM_PAGE: &str = "/projects";

pub async fn import(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let page = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let mut template = String::new();
    let answer = async {
        let owner = signed_in(&state, &session).await?;
        let mut form = form.map_err(|_| {
            AppError::invalid("Send the project as a form upload (multipart/form-data).")
        })?;
        let upload = read(&mut form, &mut template).await?;
        import::import(&state, &owner, upload, &template).await
    };
    // An import that went in drops the reason an earlier one was refused.
    let cleared = [(
        header::SET_COOKIE,
        typed_cookie_cleared(FORM_PAGE, state.config.https()),
    )];
    match (answer.await, page) {
        (Ok((project, version)), false) => (
            StatusCode::CREATED,
            cleared,
            Json(serde_json::json!({
                "id": project.id.as_str(),
                "name": project.name,
                "template": project.template,
                "version": version.version,
                "left_out": version.left_out.len(),
            })),
        )
            .into_response(),
        (Ok((project, _)), true) => (
            cleared,
            see_other(&format!("/projects/{}", project.id.as_str())),
        )
            .into_response(),
        (Err(AppError::Unauthorized), true) => see_other("/login?next=%2Fprojects"),
        (Err(error), true) => {
            let cookie = typed_cookie(
                FORM_PAGE,
                &[
                    ("import_error", &error.to_string()),
                    ("template", &template),
                ],
                state.config.https(),
            );
            let mut response = see_other(&format!("{FORM_PAGE}#import"));
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        (Err(error), false) => error_response(&error),
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

fn unreadable(_: impl std::fmt::Display) -> AppError {
    AppError::invalid("The upload broke off before it was complete. Try again.")
}

fn refused(refused: Refused) -> AppError {
    AppError::invalid(refused.to_string())
}

/// The form's fields, within the limits, as an [`Upload`]; `template` gets
/// the template field.
async fn read(form: &mut Multipart, template: &mut String) -> Result<Upload, AppError> {
    let mut archive: Option<(String, Vec<u8>)> = None;
    let mut files = Vec::new();
    let (mut entries, mut kept) = (0usize, 0u64);
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        let file_name = field.file_name().unwrap_or_default().to_owned();
        match field.name() {
            Some("template") => *template = field.text().await.map_err(unreadable)?,
            // An input left empty sends a part with no name: nothing chosen.
            Some("archive") if !file_name.is_empty() => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > MAX_COMPRESSED {
                        return Err(refused(Refused::TooBig(bytes.len() as u64)));
                    }
                }
                archive = Some((file_name, bytes));
            }
            Some("files") if !file_name.is_empty() => {
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Err(refused(Refused::TooManyFiles(entries)));
                }
                // Left unread: the next field skips past it.
                if unpack::skipped(&file_name) {
                    continue;
                }
                if files.len() == MAX_FILES {
                    return Err(refused(Refused::TooManyFiles(files.len() + 1)));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    kept += chunk.len() as u64;
                    if kept > MAX_UNPACKED {
                        return Err(refused(Refused::TooBigUnpacked(kept)));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                files.push((file_name, bytes));
            }
            _ => {}
        }
    }
    match (archive, files.is_empty()) {
        (Some(_), false) => Err(AppError::invalid(
            "Choose a .zip file or a folder, not both.",
        )),
        (Some((name, bytes)), true) => Ok(Upload::Zip { name, bytes }),
        (None, false) => Ok(Upload::Folder(files)),
        (None, true) => Err(refused(Refused::Nothing)),
    }
}
