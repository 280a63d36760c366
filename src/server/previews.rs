//! Previews per version, for the Preview tab. The newest version is served
//! by the project's working sandbox, the one turns reuse; an older one by
//! the project's single preview-only sandbox, which turns never touch.
//! Asking never starts anything; starting makes sure a sandbox serves the
//! version, making one from its files when none does.

use ollio_agent::{
    app_ready,
    project_sandbox::{MakeError, SandboxMaker, DEFAULT_LIFETIME},
    templates::{self, Template},
};
use ollio_domain::{ProjectId, UserId, VersionId};
use ollio_sandbox::SandboxError;
use ollio_store::{now_ms, ProjectSandbox, Store, StoreError, Version};

use super::{budgets::Budgets, config::SandboxBackend, preview_locks::StartLocks, state::AppState};
use crate::error::AppError;

const NO_BACKEND: &str = "Previews are not available: this server has no sandbox service set up.";

/// Where a version's preview is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// Served at `url` until `expires_at` (unix ms).
    Running { url: String, expires_at: i64 },
    /// Its sandbox ended or expired (or there never was one).
    Asleep,
    /// The project has no version yet.
    Nothing,
    /// Why it cannot be shown, in words for users.
    Failed(String),
}

/// The end of a version's app log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppLog {
    Running(String),
    Asleep,
    Nothing,
    Failed(String),
}

/// How much of the log's end the Preview tab shows.
const LOG_SHOWN: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("no such version")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PreviewError> for AppError {
    fn from(error: PreviewError) -> Self {
        match error {
            PreviewError::NotFound => AppError::NotFound,
            PreviewError::Store(error) => error.into(),
        }
    }
}

/// The version asked about, and what serving it takes.
struct Target {
    version: Version,
    /// Whether it is the project's newest version.
    newest: bool,
    template: &'static Template,
}

/// Previews as the app serves them.
pub struct Previews {
    store: Store,
    budgets: Budgets,
    /// `None` when no sandbox backend is set up.
    maker: Option<SandboxMaker>,
    starts: StartLocks,
}

impl Previews {
    /// Sandboxes made for previews live as long as turns keep theirs.
    pub fn new(state: &AppState) -> Self {
        let lifetime = state.workers.as_ref().map_or(DEFAULT_LIFETIME, |workers| {
            workers.engine().sandbox_lifetime
        });
        let maker = state.sandbox.as_ref().map(|access| SandboxMaker {
            store: state.store.clone(),
            client: access.client.clone(),
            backend: match state.config.sandbox.backend {
                SandboxBackend::Local => "local",
                SandboxBackend::E2b => "e2b",
            },
            templates: state.config.sandbox.templates.clone(),
            lifetime,
            per_user: state.config.sandbox.per_user,
            blobs: state.blobs.clone(),
        });
        Self {
            store: state.store.clone(),
            budgets: state.budgets.clone(),
            maker,
            starts: state.preview_starts.clone(),
        }
    }

    /// The sandbox `id` is in use (a terminal is typed in): its end moves
    /// to a lifetime from now, on the backend (its connect, which never
    /// shortens a life) and in the store, as a turn's start moves it.
    pub async fn keep(&self, id: &str) -> Result<(), AppError> {
        let Some(maker) = &self.maker else {
            return Ok(());
        };
        maker
            .client
            .connect(id, maker.seconds())
            .await
            .map_err(|error| {
                AppError::invalid(format!("The sandbox could not be kept: {error}"))
            })?;
        Ok(self
            .store
            .extend_sandbox(id, maker.expiry(ollio_store::now_ms()))
            .await?)
    }

    /// Where the owner's `version` is previewed now; starts nothing. An
    /// empty id (the project has no version yet) is [`Preview::Nothing`].
    pub async fn status(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<Preview, PreviewError> {
        if version.as_str().is_empty() {
            return Ok(Preview::Nothing);
        }
        match self.target(owner, version).await? {
            Ok(target) => self.check(owner, &target).await,
            Err(failed) => Ok(failed),
        }
    }

    /// Makes sure a sandbox serves the owner's `version`: the one that
    /// already does, else a new one with the version's files.
    pub async fn start(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<Preview, PreviewError> {
        if version.as_str().is_empty() {
            return Ok(Preview::Nothing);
        }
        let target = match self.target(owner, version).await? {
            Ok(target) => target,
            Err(failed) => return Ok(failed),
        };
        // A start already under way for this sandbox is waited for; what it
        // made is then found running.
        let _starting = self
            .starts
            .hold(&target.version.project, !target.newest)
            .await;
        let now = self.check(owner, &target).await?;
        if now != Preview::Asleep {
            return Ok(now);
        }
        let Some(maker) = &self.maker else {
            return Ok(Preview::Failed(NO_BACKEND.into()));
        };
        let project = &target.version.project;
        // The working sandbox belongs to a turn while one is queued or running.
        if target.newest && self.store.turn_in_progress(owner, project).await? {
            return Ok(now);
        }
        // Only a start that makes a sandbox counts against the hour's budget.
        if let Err(refused) = self.budgets.preview_start(owner) {
            return Ok(Preview::Failed(format!(
                "You have started many previews this hour. {}",
                refused.to_string().replace("Too many attempts. ", "")
            )));
        }
        let files = self.store.version_files(owner, &target.version.id).await?;
        let preview_of = (!target.newest).then_some(&target.version.id);
        let fresh = match maker
            .create(
                owner,
                project,
                target.template,
                (Some(&target.version.id), &files),
                preview_of,
            )
            .await
        {
            Ok(fresh) => fresh,
            Err(MakeError::Sandbox(error)) => {
                tracing::warn!(%error, version = %version, "a preview could not be started");
                return Ok(Preview::Failed(reason(&error).into()));
            }
            Err(full @ MakeError::Full(_)) => return Ok(Preview::Failed(full.to_string())),
        };
        // A turn queued meanwhile makes (or reuses) its own working sandbox.
        if target.newest && self.store.turn_in_progress(owner, project).await? {
            maker.kill(&fresh.sandbox.id).await;
            return self.check(owner, &target).await;
        }
        if let Err(error) = maker.record(&fresh).await {
            maker.kill(&fresh.sandbox.id).await;
            return Err(error.into());
        }
        Ok(Preview::Running {
            url: fresh.preview_url,
            expires_at: fresh.record.expires_at,
        })
    }

    /// The end of the app log of the sandbox serving the owner's
    /// `version`, as [`Preview::Running`]'s url; reads only, starts and
    /// extends nothing.
    pub async fn app_log(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<AppLog, PreviewError> {
        if version.as_str().is_empty() {
            return Ok(AppLog::Nothing);
        }
        let target = match self.target(owner, version).await? {
            Ok(target) => target,
            Err(Preview::Failed(reason)) => return Ok(AppLog::Failed(reason)),
            Err(_) => return Ok(AppLog::Asleep),
        };
        let Some(maker) = &self.maker else {
            return Ok(AppLog::Failed(NO_BACKEND.into()));
        };
        let sandbox = match self.recorded(owner, &target).await? {
            Some(sandbox) if sandbox.expires_at > now_ms() => sandbox,
            _ => return Ok(AppLog::Asleep),
        };
        let failed = |error: SandboxError| {
            tracing::warn!(%error, sandbox = %sandbox.id, "an app log could not be read");
            Ok(AppLog::Failed(reason(&error).into()))
        };
        let detail = match maker.client.get(&sandbox.id).await {
            Ok(detail) => detail,
            Err(SandboxError::NotFound) => return Ok(AppLog::Asleep),
            Err(error) => return failed(error),
        };
        match app_ready::read_tail(&maker.client.envd(&detail.into()), LOG_SHOWN).await {
            Ok(log) => Ok(AppLog::Running(log)),
            // No log yet: the app has not printed anything.
            Err(SandboxError::NotFound) => Ok(AppLog::Running(String::new())),
            Err(error) => failed(error),
        }
    }

    /// The owner's version and its project's template; a template this
    /// server no longer has is a failed preview.
    async fn target(
        &self,
        owner: &UserId,
        version: &VersionId,
    ) -> Result<Result<Target, Preview>, PreviewError> {
        let store = &self.store;
        let version = store
            .version(owner, version)
            .await?
            .ok_or(PreviewError::NotFound)?;
        let project = store
            .project(owner, &version.project)
            .await?
            .ok_or(PreviewError::NotFound)?;
        let Some(template) = templates::find(&project.template) else {
            return Ok(Err(Preview::Failed(format!(
                "This project's template `{}` is not available.",
                project.template
            ))));
        };
        let newest = self
            .newest(owner, &version.project)
            .await?
            .is_none_or(|newest| newest == version.id);
        Ok(Ok(Target {
            version,
            newest,
            template,
        }))
    }

    async fn newest(
        &self,
        owner: &UserId,
        project: &ProjectId,
    ) -> Result<Option<VersionId>, StoreError> {
        let versions = self.store.versions(owner, project).await?;
        Ok(versions.into_iter().next().map(|version| version.id))
    }

    /// Whether the sandbox recorded for the target still runs: it has not
    /// reached its end time and the backend still has it. One the backend
    /// no longer has is marked ended.
    async fn check(&self, owner: &UserId, target: &Target) -> Result<Preview, PreviewError> {
        let Some(sandbox) = self.recorded(owner, target).await? else {
            return Ok(Preview::Asleep);
        };
        if sandbox.expires_at <= now_ms() {
            return Ok(Preview::Asleep);
        }
        let Some(maker) = &self.maker else {
            return Ok(Preview::Failed(NO_BACKEND.into()));
        };
        match maker.client.get(&sandbox.id).await {
            Ok(_) => Ok(Preview::Running {
                url: sandbox.preview_url.clone().unwrap_or_else(|| {
                    ollio_agent::templates::preview_url(&maker.client, &sandbox.id, target.template)
                }),
                expires_at: sandbox.expires_at,
            }),
            Err(SandboxError::NotFound) => {
                self.store.end_sandbox(&sandbox.id).await?;
                Ok(Preview::Asleep)
            }
            Err(error) => {
                tracing::warn!(%error, sandbox = %sandbox.id, "a preview's sandbox could not be checked");
                Ok(Preview::Failed(reason(&error).into()))
            }
        }
    }

    /// The newest version's working sandbox, or an older one's preview-only one.
    async fn recorded(
        &self,
        owner: &UserId,
        target: &Target,
    ) -> Result<Option<ProjectSandbox>, StoreError> {
        if target.newest {
            self.store.current_sandbox(&target.version.project).await
        } else {
            self.store.preview_sandbox(owner, &target.version.id).await
        }
    }
}

/// A sandbox failure in words for users; the details go to the log.
fn reason(error: &SandboxError) -> &'static str {
    match error {
        SandboxError::RateLimited { .. } => "All sandboxes are busy; try again in a minute.",
        SandboxError::Unavailable(_) | SandboxError::Timeout => {
            "The sandbox service is not reachable."
        }
        SandboxError::Unauthorized => {
            "The sandbox service refused this server's key; the operator has to fix it."
        }
        SandboxError::NotFound => "The sandbox ended while it was starting; try again.",
        SandboxError::Missing(_)
        | SandboxError::Rejected(_)
        | SandboxError::Rpc { .. }
        | SandboxError::Protocol(_) => "The preview could not be started; try again later.",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sandbox_failures_read_as_advice() {
        let busy = SandboxError::RateLimited {
            retry_after: Duration::from_secs(1),
        };
        assert_eq!(
            reason(&busy),
            "All sandboxes are busy; try again in a minute."
        );
        assert_eq!(
            reason(&SandboxError::Unavailable("connection refused".into())),
            "The sandbox service is not reachable."
        );
        assert_eq!(
            reason(&SandboxError::Timeout),
            "The sandbox service is not reachable."
        );
        assert!(!reason(&SandboxError::Rejected("secret detail".into())).contains("secret"));
    }
}
