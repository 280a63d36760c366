//! The user's projects: creating, listing, renaming, deleting, and the
//! model each one uses.

use leptos::prelude::*;

pub use crate::dto::projects::{ProjectSummary, TemplateChoice};
use crate::error::AppError;

/// The templates a project can start from, in the picker's order. The same
/// for everyone: they are the server's, not a user's.
#[server(prefix = "/api", endpoint = "list_templates")]
pub async fn list_templates() -> Result<Vec<TemplateChoice>, AppError> {
    use crate::server::{projects, request};
    request::respond(async move { Ok(projects::template_choices()) }).await
}

/// Creates an empty project named `name` from the template `template`.
#[server(prefix = "/api", endpoint = "create_project")]
pub async fn create_project(name: String, template: String) -> Result<ProjectSummary, AppError> {
    use ollio_domain::ProjectName;

    use crate::server::{auth, projects, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let name = ProjectName::parse(&name).map_err(AppError::invalid)?;
        let project = projects::create(&request::state()?, &user.id, &name, &template).await?;
        Ok(project.into())
    })
    .await
}

/// Whether the signed-in user has no model to build with yet (the home
/// page's "Connect a model").
#[server(prefix = "/api", endpoint = "model_setup")]
pub async fn model_setup() -> Result<bool, AppError> {
    use crate::server::{auth, model_setup, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        model_setup::needs_model(&request::state()?, &user.id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "list_projects")]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, AppError> {
    use crate::server::{auth, projects, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let projects = projects::list(&request::state()?, &user.id).await?;
        Ok(projects.into_iter().map(ProjectSummary::from).collect())
    })
    .await
}

#[server(prefix = "/api", endpoint = "rename_project")]
pub async fn rename_project(id: String, name: String) -> Result<ProjectSummary, AppError> {
    use ollio_domain::{ProjectId, ProjectName};

    use crate::server::{auth, request};
    request::respond(async {
        let user = auth::require_user().await?;
        let name = ProjectName::parse(&name).map_err(AppError::invalid)?;
        let store = request::state()?.store;
        let project = store
            .rename_project(&user.id, &ProjectId::from_raw(id.clone()), &name)
            .await?;
        project.map(ProjectSummary::from).ok_or(AppError::NotFound)
    })
    .await
    .inspect_err(|error| request::back_with_typed(error, &[("renaming", &id), ("name", &name)]))
}

#[server(prefix = "/api", endpoint = "delete_project")]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, projects, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        projects::delete(&request::state()?, &user.id, &ProjectId::from_raw(id)).await
    })
    .await
}

/// The models the user's projects may use: the configured ones, those the
/// local Ollama serves, then those of the user's own providers. The first
/// is the default.
#[server(prefix = "/api", endpoint = "list_models")]
pub async fn list_models() -> Result<Vec<String>, AppError> {
    use crate::server::{auth, projects, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        projects::available_models(&request::state()?, &user.id).await
    })
    .await
}

/// Sets the model a project's turns use (`provider:model`, one of
/// [`list_models`]'s), or back to the default with an empty `model`.
#[server(prefix = "/api", endpoint = "set_project_model")]
pub async fn set_project_model(id: String, model: String) -> Result<ProjectSummary, AppError> {
    use ollio_domain::ProjectId;

    use crate::server::{auth, projects, request};
    request::respond(async move {
        let user = auth::require_user().await?;
        let id = ProjectId::from_raw(id);
        let project = projects::set_model(&request::state()?, &user.id, &id, &model).await?;
        Ok(project.into())
    })
    .await
}
