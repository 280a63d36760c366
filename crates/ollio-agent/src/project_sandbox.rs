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
use ollio_domain::{ProjectId, VersionId};
use ollio_sandbox::{wire::NewSandbox, Envd, Sandbox, SandboxClient, SandboxError};
use ollio_store::{now_ms, ProjectSandbox, Store, StoreError, VersionFile};

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

    /// A new sandbox for `project` with `files` (a version's) written in;
    /// `preview_of` names the older version when it is only a preview.
    /// A sandbox whose files could not be written is killed again.
    pub async fn create(
        &self,
        project: &ProjectId,
        template: &Template,
        files: &[VersionFile],
        preview_of: Option<&VersionId>,
    ) -> Result<FreshSandbox, SandboxError> {
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
                return Err(error);
            }
        };
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

    /// Records a fresh sandbox as its project's working sandbox, or as the
    /// project's one preview-only sandbox; the one it replaces is killed.
    pub async fn record(&self, fresh: &FreshSandbox) -> Result<(), StoreError> {
        for replaced in self.store.save_sandbox(&fresh.record).await? {
            self.kill(&replaced).await;
        }
        Ok(())
    }

    /// Kills a sandbox, best effort: it also dies at its end time.
    pub async fn kill(&self, id: &str) {
        match self.client.kill(id).await {
            Ok(()) | Err(SandboxError::NotFound) => {}
            Err(error) => tracing::warn!(%error, sandbox = %id, "a sandbox could not be killed"),
        }
    }
}
