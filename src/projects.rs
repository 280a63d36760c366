//! The user's projects: creating, listing, renaming, deleting, and the
//! model each one uses.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A template a project can start from, as the home page offers it. Each id
/// is one of the agent's templates (`server::agent::templates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateChoice {
    pub id: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

pub const TEMPLATES: [TemplateChoice; 1] = [TemplateChoice {
    id: "static",
    label: "Static web app",
    description: "HTML, CSS and JavaScript, no build step",
}];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub template: String,
    /// The project's own model (`provider:model`); `None` uses the default.
    pub model: Option<String>,
    /// When the project last changed ("22 Nov 2026, 09:05 UTC").
    pub updated: String,
}

#[cfg(feature = "ssr")]
impl From<crate::server::store::Project> for ProjectSummary {
    fn from(project: crate::server::store::Project) -> Self {
        Self {
            id: project.id.to_string(),
            name: project.name,
            template: project.template,
            model: project.model,
            updated: crate::domain::calendar::format_date_time(project.updated_at),
        }
    }
}

/// Creates an empty project named `name` from `template` (only `static`
/// so far).
#[server(prefix = "/api", endpoint = "create_project")]
pub async fn create_project(name: String, template: String) -> Result<ProjectSummary, AppError> {
    use crate::{
        domain::ProjectName,
        server::{agent::templates, api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let name = ProjectName::parse(&name).map_err(AppError::invalid)?;
        let template = templates::find(template.trim()).ok_or_else(|| {
            AppError::invalid(format!(
                "There is no template called `{}`.",
                template.trim()
            ))
        })?;
        let project = api::state()?
            .store
            .create_project(&user.id, &name, template.id)
            .await?;
        Ok(project.into())
    })
    .await
}

#[server(prefix = "/api", endpoint = "list_projects")]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, AppError> {
    use crate::server::{api, auth};
    api::respond(async move {
        let user = auth::require_user().await?;
        let projects = api::state()?.store.projects(&user.id).await?;
        Ok(projects.into_iter().map(ProjectSummary::from).collect())
    })
    .await
}

#[server(prefix = "/api", endpoint = "rename_project")]
pub async fn rename_project(id: String, name: String) -> Result<ProjectSummary, AppError> {
    use crate::{
        domain::{ProjectId, ProjectName},
        server::{api, auth},
    };
    api::respond(async {
        let user = auth::require_user().await?;
        let name = ProjectName::parse(&name).map_err(AppError::invalid)?;
        let store = api::state()?.store;
        let project = store
            .rename_project(&user.id, &ProjectId::from_raw(id.clone()), &name)
            .await?;
        project.map(ProjectSummary::from).ok_or(AppError::NotFound)
    })
    .await
    .inspect_err(|error| api::back_with_typed(error, &[("renaming", &id), ("name", &name)]))
}

#[server(prefix = "/api", endpoint = "delete_project")]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use crate::{
        domain::ProjectId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let id = ProjectId::from_raw(id);
        if let Some(workers) = &state.workers {
            workers.forget_projects(&user.id, Some(&id)).await?;
        }
        let deleted = state.store.delete_project(&user.id, &id).await?;
        if deleted {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}

/// The models a project may use: the configured ones, then those the local
/// Ollama serves. The first is the default.
#[server(prefix = "/api", endpoint = "list_models")]
pub async fn list_models() -> Result<Vec<String>, AppError> {
    use crate::server::{api, auth};
    api::respond(async move {
        auth::require_user().await?;
        let workers = api::state()?
            .workers
            .ok_or_else(|| api::internal("list_models: no agent is configured"))?;
        let models = workers.engine().providers.available_models().await;
        Ok(models.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Sets the model a project's turns use (`provider:model`, one of
/// [`list_models`]'s), or back to the default with an empty `model`.
#[server(prefix = "/api", endpoint = "set_project_model")]
pub async fn set_project_model(id: String, model: String) -> Result<ProjectSummary, AppError> {
    use crate::{
        domain::ProjectId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let model = model.trim();
        if !model.is_empty() {
            let workers = state
                .workers
                .clone()
                .ok_or_else(|| api::internal("set_project_model: no agent is configured"))?;
            let available = workers.engine().providers.available_models().await;
            if !available.iter().any(|known| known.to_string() == model) {
                return Err(AppError::invalid(format!(
                    "`{model}` is not one of the models this Ollio offers."
                )));
            }
        }
        let project = state
            .store
            .set_project_model(
                &user.id,
                &ProjectId::from_raw(id),
                (!model.is_empty()).then_some(model),
            )
            .await?;
        project.map(ProjectSummary::from).ok_or(AppError::NotFound)
    })
    .await
}
