//! What the project page works with: starting a project from a prompt,
//! the project's chat and versions, a version's files (plain or
//! highlighted), and restoring an old version as the newest.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A project just started: where to go, and the turn building it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedProject {
    pub project: String,
    pub assistant_message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// An assistant's summary as safe HTML (Markdown rendered, raw HTML
    /// escaped, code blocks left out); empty for users' messages, which
    /// are shown as plain text.
    pub html: String,
    /// `pending`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    pub error: Option<String>,
    pub model: Option<String>,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    pub id: String,
    /// The assistant message whose turn made it (none for a restore).
    pub message: Option<String>,
    pub version: i64,
    pub title: String,
    pub preview_url: Option<String>,
    pub created: String,
}

/// Everything the project page shows at first, newest version first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub project: crate::projects::ProjectSummary,
    pub messages: Vec<MessageView>,
    pub versions: Vec<VersionView>,
    /// The assistant message of the turn still queued or running, if any.
    pub running: Option<String>,
    /// What that turn did so far, so a reload shows its steps.
    pub running_events: Vec<StepEvent>,
    /// The project's newest event number: the page's event stream starts
    /// after it.
    pub last_seq: i64,
    /// The server's clock when this was read (step times are server times).
    pub now_ms: i64,
    pub usage: crate::usage::UsageView,
    /// The newest version's files (paths and sizes), for the Code tab.
    pub files: Vec<FileEntry>,
}

/// One recorded step of a turn and when it happened (unix ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEvent {
    pub at_ms: i64,
    pub event: crate::domain::TurnEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileView {
    pub path: String,
    pub language: String,
    pub content: String,
    pub size: i64,
}

/// One file of a version, highlighted for the Code tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightedFile {
    pub path: String,
    pub language: String,
    /// One self-contained HTML fragment per source line (escaped text in
    /// `<span class="hl-…">`s); none for an empty file.
    pub lines: Vec<String>,
    /// The file as it is, for Copy.
    pub content: String,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::{FileEntry, MessageView, VersionView};
    use crate::{
        domain::calendar::format_date_time,
        server::{
            render::markdown::summary_html,
            store::{Fragment, FragmentFile, Message, Role},
        },
    };

    impl From<Message> for MessageView {
        fn from(message: Message) -> Self {
            let html = match message.role {
                Role::User => String::new(),
                Role::Assistant => summary_html(&message.content),
            };
            Self {
                id: message.id.to_string(),
                role: match message.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                }
                .into(),
                content: message.content,
                html,
                status: message.status.as_str().into(),
                error: message.error,
                model: message.model,
                created: format_date_time(message.created_at),
            }
        }
    }

    impl From<FragmentFile> for FileEntry {
        fn from(file: FragmentFile) -> Self {
            Self {
                path: file.path,
                language: file.language,
                size: file.size,
            }
        }
    }

    impl From<Fragment> for VersionView {
        fn from(fragment: Fragment) -> Self {
            Self {
                id: fragment.id.to_string(),
                message: fragment.message.map(|id| id.to_string()),
                version: fragment.version,
                title: fragment.title,
                preview_url: fragment.preview_url,
                created: format_date_time(fragment.created_at),
            }
        }
    }
}

/// Creates a project named after `prompt` and starts its first turn. With
/// no credit left, nothing is created.
#[server(prefix = "/api", endpoint = "start_project")]
pub async fn start_project(prompt: String, template: String) -> Result<StartedProject, AppError> {
    use crate::{
        domain::{ProjectName, Prompt},
        server::{agent::templates, api, auth, store::EnqueueRefusal},
    };
    api::respond(async {
        let user = auth::require_user().await?;
        let prompt = Prompt::parse(&prompt).map_err(AppError::invalid)?;
        let template = templates::find(template.trim()).ok_or_else(|| {
            AppError::invalid(format!(
                "There is no template called `{}`.",
                template.trim()
            ))
        })?;
        let state = api::state()?;
        let workers = state
            .workers
            .clone()
            .ok_or_else(|| api::internal("start_project: no agent workers are configured"))?;
        let store = &state.store;
        let usage = store
            .usage(
                &user.id,
                state.config.free_credits,
                crate::server::store::now_ms(),
            )
            .await?;
        if usage.remaining() <= 0 {
            return Err(crate::usage::out_of_credits(usage));
        }
        let project = store
            .create_project(&user.id, &ProjectName::from_prompt(&prompt), template.id)
            .await?;
        let queued = store
            .enqueue_turn(
                &user.id,
                &project.id,
                prompt.as_str(),
                state.config.free_credits,
                state.config.agent.job_attempts,
            )
            .await?;
        match queued {
            Ok(queued) => {
                workers.wake();
                // The home page's form posted without JavaScript: open
                // the project.
                if api::is_native_form_post() {
                    leptos_axum::redirect(&format!("/projects/{}", project.id));
                }
                Ok(StartedProject {
                    project: project.id.to_string(),
                    assistant_message: queued.turn.assistant_message.to_string(),
                })
            }
            Err(refusal) => {
                // Spent meanwhile (another tab): leave no empty project behind.
                store.delete_project(&user.id, &project.id).await?;
                match refusal {
                    EnqueueRefusal::OutOfCredits(usage) => Err(crate::usage::out_of_credits(usage)),
                    _ => Err(api::internal(
                        "start_project: a new project refused its turn",
                    )),
                }
            }
        }
    })
    .await
    .inspect_err(|error| api::back_with_typed(error, &[("prompt", &prompt)]))
}

#[server(prefix = "/api", endpoint = "project_view")]
pub async fn project_view(id: String) -> Result<ProjectPage, AppError> {
    use crate::{
        domain::ProjectId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let page = crate::server::workspace::project_page(
            &state.store,
            &user.id,
            &ProjectId::from_raw(id),
            state.config.free_credits,
        )
        .await?
        .ok_or(AppError::NotFound)?;
        Ok(page)
    })
    .await
}

/// A file of a version as the Code tab's tree lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub language: String,
    pub size: i64,
}

/// A version's file list, sorted by path: what the tree shows, without the
/// contents (a version can have hundreds of files).
#[server(prefix = "/api", endpoint = "version_tree")]
pub async fn version_tree(version: String) -> Result<Vec<FileEntry>, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let store = api::state()?.store;
        let id = FragmentId::from_raw(version);
        if store.fragment(&user.id, &id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let files = store.fragment_file_list(&user.id, &id).await?;
        Ok(files.into_iter().map(FileEntry::from).collect())
    })
    .await
}

/// A version's files, sorted by path.
#[server(prefix = "/api", endpoint = "version_files")]
pub async fn version_files(version: String) -> Result<Vec<FileView>, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let store = api::state()?.store;
        let id = FragmentId::from_raw(version);
        if store.fragment(&user.id, &id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let files = store.fragment_files(&user.id, &id).await?;
        Ok(files
            .into_iter()
            .map(|file| FileView {
                path: file.path,
                language: file.language,
                content: file.content,
                size: file.size,
            })
            .collect())
    })
    .await
}

/// One file of a version with its lines highlighted (see
/// `server::render::highlight`). The call's own type is named
/// `HighlightedFileCall`, as [`HighlightedFile`] is the answer.
#[server(name = HighlightedFileCall, prefix = "/api", endpoint = "highlighted_file")]
pub async fn highlighted_file(version: String, path: String) -> Result<HighlightedFile, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth, render},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let store = api::state()?.store;
        let file = store
            .fragment_file(&user.id, &FragmentId::from_raw(version), &path)
            .await?
            .ok_or(AppError::NotFound)?;
        let lines = render::highlighted_lines(file.language.clone(), file.content.clone())
            .await
            .map_err(api::internal)?;
        Ok(HighlightedFile {
            path: file.path,
            language: file.language,
            lines,
            content: file.content,
        })
    })
    .await
}

/// Makes an older version the newest: a new version with its files.
/// Nothing is deleted. The project's sandbox is let go, so the next turn
/// or preview starts from the restored files.
#[server(prefix = "/api", endpoint = "restore_version")]
pub async fn restore_version(version: String) -> Result<VersionView, AppError> {
    use crate::{
        domain::FragmentId,
        server::{api, auth, workspace},
    };
    api::respond(async move {
        let user = auth::require_user().await?;
        let state = api::state()?;
        let restored =
            workspace::restore_version(&state, &user.id, &FragmentId::from_raw(version)).await?;
        Ok(restored.into())
    })
    .await
}
