//! Projects beyond plain rows: the template a new one starts from, the
//! model its turns use, and deleting one with its running turn.

use ollio_agent::templates::{self, Template};
use ollio_domain::{ProjectId, ProjectName, UserId};
use ollio_store::Project;

use super::{request::internal, state::AppState};
use crate::{dto::projects::TemplateChoice, error::AppError};

/// Every template, as the home page's picker offers them.
pub fn template_choices() -> Vec<TemplateChoice> {
    ollio_templates::ALL
        .iter()
        .map(|template| TemplateChoice {
            id: template.id.to_owned(),
            label: template.label.to_owned(),
            description: template.description.to_owned(),
        })
        .collect()
}

/// The agent's template called `id`.
pub fn template(id: &str) -> Result<&'static Template, AppError> {
    templates::find(id.trim())
        .ok_or_else(|| AppError::invalid(format!("There is no template called `{}`.", id.trim())))
}

/// An empty project named `name`, from the template called `template`.
pub async fn create(
    state: &AppState,
    owner: &UserId,
    name: &ProjectName,
    template: &str,
) -> Result<Project, AppError> {
    let template = self::template(template)?;
    Ok(state.store.create_project(owner, name, template.id).await?)
}

/// `owner`'s projects, the latest changed first, each with the tokens its
/// turns have used.
pub async fn list(state: &AppState, owner: &UserId) -> Result<Vec<(Project, i64)>, AppError> {
    let projects = state.store.projects(owner).await?;
    let tokens: std::collections::HashMap<ProjectId, i64> = state
        .store
        .project_tokens(owner)
        .await?
        .into_iter()
        .collect();
    Ok(projects
        .into_iter()
        .map(|project| {
            let used = tokens.get(&project.id).copied().unwrap_or(0);
            (project, used)
        })
        .collect())
}

/// `owner`'s project `id`; anyone else's is missing.
pub async fn owned(state: &AppState, owner: &UserId, id: &ProjectId) -> Result<Project, AppError> {
    state
        .store
        .project(owner, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Deletes `owner`'s project `id` and everything in it; a turn running for
/// it is stopped first, and its versions' trained models and its messages'
/// attached files are forgotten.
pub async fn delete(state: &AppState, owner: &UserId, id: &ProjectId) -> Result<(), AppError> {
    if let Some(workers) = &state.workers {
        workers.forget_projects(owner, Some(id)).await?;
    }
    forget_models(state, owner, id).await?;
    let attached: Vec<_> = state
        .store
        .project_attachments(owner, id)
        .await?
        .into_iter()
        .map(|attachment| attachment.id)
        .collect();
    super::attachments::forget(state, &attached).await;
    if state.store.delete_project(owner, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Removes the trained models of the owner's project's versions from the
/// blob store, before the project goes. Best effort: a model left behind
/// is named by a version id that no longer exists.
pub async fn forget_models(
    state: &AppState,
    owner: &UserId,
    project: &ProjectId,
) -> Result<(), AppError> {
    let Some(blobs) = &state.blobs else {
        return Ok(());
    };
    for version in state.store.versions(owner, project).await? {
        if let Err(error) = blobs.delete_artifacts(&version.id).await {
            tracing::warn!(%error, version = %version.id, "a deleted version's model could not be removed");
        }
    }
    Ok(())
}

/// The models `owner`'s projects may use, `provider:model`: the
/// configured ones, those the local Ollama serves, then those the user's
/// own tested providers serve. The first is the default.
pub async fn available_models(state: &AppState, owner: &UserId) -> Result<Vec<String>, AppError> {
    let workers = state
        .workers
        .as_ref()
        .ok_or_else(|| internal("the models: no agent is configured"))?;
    let keys = state.store.provider_keys(owner).await?;
    let mut models = Vec::new();
    // Without a default of the server's, the user's own stands first.
    if state.config.agent.model.is_none() {
        models.extend(ollio_agent::providers::own_default(&keys));
    }
    models.extend(workers.engine().providers.available_models().await);
    models.extend(ollio_agent::providers::own_models(&keys));
    let mut names: Vec<String> = Vec::new();
    for name in models.iter().map(ToString::to_string) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Sets the model `owner`'s project `id` uses: one of
/// [`available_models`], or the default when `model` is empty.
pub async fn set_model(
    state: &AppState,
    owner: &UserId,
    id: &ProjectId,
    model: &str,
) -> Result<Project, AppError> {
    let model = model.trim();
    if !model.is_empty()
        && !available_models(state, owner)
            .await?
            .iter()
            .any(|known| known == model)
    {
        return Err(AppError::invalid(format!(
            "`{model}` is not one of the models this Ollio offers."
        )));
    }
    state
        .store
        .set_project_model(owner, id, (!model.is_empty()).then_some(model))
        .await?
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_offered_template_is_one_of_the_agents() {
        let offered = super::template_choices();
        assert_eq!(offered[0].id, "static", "the default comes first");
        assert_eq!(offered.len(), ollio_templates::ALL.len());
        for choice in offered {
            assert!(super::template(&choice.id).is_ok(), "{}", choice.id);
        }
    }
}
