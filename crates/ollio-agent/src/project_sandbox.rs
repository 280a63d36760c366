//! Making a project's sandbox: a new one from the template's sandbox
//! template with a version's files written in, then recorded as the
//! project's working sandbox (turns reuse it) or as the preview-only
//! sandbox of an older version. Turns and the Preview tab both come
//! through here, so a revived sandbox is the same whoever asked for it.

use std::{collections::BTreeMap, time::Duration};

use super::{
    snapshot,
    templates::{SandboxTemplates, Template},
};
use ollio_domain::{ProjectId, UserId, VersionId};
use ollio_sandbox::{wire::NewSandbox, Envd, Sandbox, SandboxClient, SandboxError};
use ollio_store::{blobs::Blobs, now_ms, ProjectSandbox, Store, StoreError, VersionFile};

/// How long a sandbox lives past its last use, unless configured otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// What making project sandboxes needs: the store, the backend and how
/// long a sandbox lives.
#[derive(Clone)]
pub struct SandboxMaker {
    pub store: Store,
    pub client: SandboxClient,
    /// `local` or `e2b`, as recorded with each sandbox.
    pub backend: &'static str,
    /// Which sandbox template each project template runs in.
    pub templates: SandboxTemplates,
    /// Past its last use; a minute at least.
    pub lifetime: Duration,
    /// Live sandboxes one account may have; making one more ends the
    /// account's least recently used (its preview goes to sleep).
    pub per_user: usize,
    /// Where versions' trained models are kept; put back into the
    /// sandboxes made for them.
    pub blobs: Option<Blobs>,
}

/// Live sandboxes per account unless configured otherwise.
pub const DEFAULT_PER_USER: usize = 3;

/// Why a project sandbox could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Every one of the account's live sandboxes serves a turn in progress.
    #[error("Your account already has {0} apps running, the most it may have at once, and each is in the middle of a turn. Wait for one to finish, then try again.")]
    Full(usize),
}

/// A sandbox just made, with a version's files in it, not yet recorded.
pub struct FreshSandbox {
    pub sandbox: Sandbox,
    pub envd: Envd,
    pub preview_url: String,
    /// How many files were written in.
    pub revived_files: usize,
    pub record: ProjectSandbox,
}

impl SandboxMaker {
    /// The lifetime in whole seconds, as the backend takes it.
    pub fn seconds(&self) -> u64 {
        self.lifetime.as_secs().max(60)
    }

    /// When a sandbox made or extended at `from` (unix ms) ends.
    pub fn expiry(&self, from: i64) -> i64 {
        from.saturating_add(i64::try_from(self.seconds() * 1000).unwrap_or(i64::MAX))
    }

    /// Makes sure `template`'s image is built before a sandbox of it is
    /// made, calling `on_first_use` before a build starts; `true` when it
    /// built one. Only the bundled `sandboxd` builds images: E2B cloud's are
    /// built with its CLI, and a `sandboxd` without the route (404) builds
    /// on create.
    pub async fn prepare(
        &self,
        template: &Template,
        on_first_use: impl FnOnce(),
    ) -> Result<bool, SandboxError> {
        if self.backend != "local" || !template.needs_image() {
            return Ok(false);
        }
        let id = self.templates.sandbox_template(template);
        match self.client.template_state(&id).await {
            Ok(state) if state.built => return Ok(false),
            Ok(_) => {}
            Err(SandboxError::NotFound) => return Ok(false),
            Err(error) => return Err(error),
        }
        on_first_use();
        self.client.build_template(&id).await?;
        Ok(true)
    }

    /// A new sandbox for `project` with `files` (those of `version`)
    /// written in, and the version's trained model when it has one;
    /// `preview_of` names the older version when it is only a preview.
    /// A sandbox whose files could not be written is killed again.
    pub async fn create(
        &self,
        owner: &UserId,
        project: &ProjectId,
        template: &Template,
        (version, files): (Option<&VersionId>, &[VersionFile]),
        preview_of: Option<&VersionId>,
    ) -> Result<FreshSandbox, MakeError> {
        self.make_room(owner, project, preview_of.is_some()).await?;
        let mut metadata = BTreeMap::new();
        metadata.insert("project".to_owned(), project.to_string());
        if let Some(version) = preview_of {
            metadata.insert("version".to_owned(), version.to_string());
        }
        self.prepare(template, || {}).await?;
        let sandbox = self
            .client
            .create(&NewSandbox {
                template_id: self.templates.sandbox_template(template),
                timeout: Some(self.seconds()),
                metadata,
                ..NewSandbox::default()
            })
            .await?;
        let envd = self.client.envd(&sandbox);
        let revived_files = match snapshot::write_project(&envd, files).await {
            Ok(count) => count,
            Err(error) => {
                self.kill(&sandbox.id).await;
                return Err(error.into());
            }
        };
        if let (Some(version), Some(_)) = (version, &template.training) {
            self.put_model_back(&envd, version).await;
        }
        let preview_url = super::templates::preview_url(&self.client, &sandbox.id, template);
        let now = now_ms();
        let record = ProjectSandbox {
            id: sandbox.id.clone(),
            project: project.clone(),
            backend: self.backend.into(),
            template: self.templates.sandbox_template(template),
            preview_url: Some(preview_url.clone()),
            created_at: now,
            expires_at: self.expiry(now),
            preview_of: preview_of.cloned(),
        };
        Ok(FreshSandbox {
            sandbox,
            envd,
            preview_url,
            revived_files,
            record,
        })
    }

    /// Ends the owner's least recently used live sandboxes until one more
    /// fits within [`SandboxMaker::per_user`]. The one the new sandbox
    /// replaces (the project's working sandbox, or its preview-only one)
    /// does not count; those of projects with a turn in progress are kept.
    /// A database failure here is logged and the budget not enforced: the
    /// turn or preview it would stop has more to lose.
    async fn make_room(
        &self,
        owner: &UserId,
        project: &ProjectId,
        preview_only: bool,
    ) -> Result<(), MakeError> {
        let now = now_ms();
        let mut live: Vec<ProjectSandbox> = match self.store.live_sandboxes(owner, None).await {
            Ok(live) => live,
            Err(error) => {
                tracing::error!(%error, "the account's sandboxes could not be counted");
                return Ok(());
            }
        };
        live.retain(|sandbox| {
            sandbox.expires_at > now
                && !(sandbox.project == *project && sandbox.preview_of.is_some() == preview_only)
        });
        // Extended at each use: the soonest to end was used longest ago.
        live.sort_by_key(|sandbox| sandbox.expires_at);
        let mut over = (live.len() + 1).saturating_sub(self.per_user);
        for sandbox in live {
            if over == 0 {
                break;
            }
            if self
                .store
                .turn_in_progress(owner, &sandbox.project)
                .await
                .unwrap_or(true)
            {
                continue;
            }
            tracing::info!(sandbox = %sandbox.id, "ending an account's least recently used sandbox");
            self.kill(&sandbox.id).await;
            if let Err(error) = self.store.end_sandbox(&sandbox.id).await {
                tracing::warn!(%error, sandbox = %sandbox.id, "an ended sandbox could not be marked");
            }
            over -= 1;
        }
        if over > 0 {
            return Err(MakeError::Full(self.per_user));
        }
        Ok(())
    }

    /// Records a fresh sandbox as its project's working sandbox, or as the
    /// project's one preview-only sandbox; the one it replaces is killed.
    pub async fn record(&self, fresh: &FreshSandbox) -> Result<(), StoreError> {
        for replaced in self.store.save_sandbox(&fresh.record).await? {
            self.kill(&replaced).await;
        }
        Ok(())
    }

    /// Writes `version`'s trained artifacts (if it has any) into a new
    /// sandbox, so its API answers without training again. Best effort: a
    /// model that cannot be put back is trained by the next turn or Retrain.
    async fn put_model_back(&self, envd: &Envd, version: &VersionId) {
        let Some(blobs) = &self.blobs else {
            return;
        };
        let files = match blobs.artifacts(version).await {
            Ok(files) if files.is_empty() => return,
            Ok(files) => files,
            Err(error) => {
                tracing::warn!(%error, %version, "a version's trained model could not be read");
                return;
            }
        };
        let upload: Vec<(String, Vec<u8>)> = files
            .into_iter()
            .map(|(path, bytes)| (format!("{}/{path}", super::tools::PROJECT_ROOT), bytes))
            .collect();
        if let Err(error) = envd.write_files(&upload).await {
            tracing::warn!(%error, %version, "a version's trained model could not be put back");
        }
    }

    /// Kills a sandbox, best effort: it also dies at its end time.
    pub async fn kill(&self, id: &str) {
        match self.client.kill(id).await {
            Ok(()) | Err(SandboxError::NotFound) => {}
            Err(error) => tracing::warn!(%error, sandbox = %id, "a sandbox could not be killed"),
        }
    }
}
