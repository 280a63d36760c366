//! "Import project": a project whose version 1 is the files a user brought,
//! a `.zip` or a folder, unpacked within limits (`unpack`), with the
//! template the files look like (`detect`) unless the user picked one. An
//! import costs no credit: nothing runs until its preview starts.

mod detect;
pub mod unpack;

use ollio_domain::{ProjectName, UserId};
use ollio_store::{Project, Version};

use super::{projects, request::internal, state::AppState};
use crate::error::AppError;
pub use unpack::Refused;

/// Said when the files fit no template and none was picked.
pub const PICK_TEMPLATE: &str = "Ollio could not tell what kind of app this is. Pick its template under “Template” and import it again.";
/// The name of a project whose upload names nothing better.
const UNNAMED: &str = "Imported project";

/// What was uploaded.
pub enum Upload {
    /// A `.zip`, with the name it was sent under.
    Zip { name: String, bytes: Vec<u8> },
    /// A folder's files, each with its path in the folder.
    Folder(Vec<(String, Vec<u8>)>),
}

/// Imports `upload` as a new project of `owner`'s, from `template` (an id)
/// or, when that is empty, the template its files look like.
pub async fn import(
    state: &AppState,
    owner: &UserId,
    upload: Upload,
    template: &str,
) -> Result<(Project, Version), AppError> {
    // Checked first: a template that is not there refuses before any work.
    let picked = match template.trim() {
        "" => None,
        id => Some(projects::template(id)?.id),
    };
    let zip_name = match &upload {
        Upload::Zip { name, .. } => Some(name.clone()),
        Upload::Folder(_) => None,
    };
    // Inflating up to 200 MB is work for a blocking thread.
    let unpacked = tokio::task::spawn_blocking(move || match upload {
        Upload::Zip { bytes, .. } => unpack::from_zip(&bytes),
        Upload::Folder(files) => unpack::from_folder(files),
    })
    .await
    .map_err(internal)?
    .map_err(|refused| AppError::invalid(refused.to_string()))?;
    let template = picked
        .or_else(|| detect::template_of(&unpacked.files))
        .ok_or_else(|| AppError::invalid(PICK_TEMPLATE))?;
    let named = unpacked.folder.clone().or_else(|| {
        zip_name.map(|name| {
            let name = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_owned();
            name.strip_suffix(".zip")
                .map_or(name.clone(), str::to_owned)
        })
    });
    let name = named
        .as_deref()
        .and_then(|name| ProjectName::parse(name).ok())
        .unwrap_or_else(|| ProjectName::parse(UNNAMED).expect("a valid name"));
    let title = format!("Imported {}", name.as_str());
    Ok(state
        .store
        .import_project(
            owner,
            &name,
            template,
            &title,
            unpacked.files,
            unpacked.left_out,
        )
        .await?)
}
