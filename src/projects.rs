//! The user's projects: listing, renaming, deleting.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub template: String,
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
            updated: crate::domain::calendar::format_date_time(project.updated_at),
        }
    }
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
    api::respond(async move {
        let user = auth::require_user().await?;
        let name = ProjectName::parse(&name).map_err(AppError::invalid)?;
        let store = api::state()?.store;
        let project = store
            .rename_project(&user.id, &ProjectId::from_raw(id), &name)
            .await?;
        project.map(ProjectSummary::from).ok_or(AppError::NotFound)
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_project")]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use crate::{
        domain::ProjectId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let deleted = api::state()?
            .store
            .delete_project(&user.id, &ProjectId::from_raw(id))
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    })
    .await
}
