//! The store's rows as the types the pages get (`crate::dto`): dates in
//! words, summaries as safe HTML, keys as their last four characters.

use ollio_domain::calendar::{format_date, format_date_time};
use ollio_domain::size_text;
use ollio_store::{
    now_ms, LeftOut, LeftOutReason, Message, Project, ProviderKeyInfo, Role, StoredAttachment,
    Usage, Version, VersionFile,
};

use super::{
    previews::{AppLog, Preview},
    render::markdown::summary_html,
};
use crate::dto::{
    chat::AttachmentView,
    preview::{AppLogView, PreviewView},
    projects::ProjectSummary,
    provider_keys::ProviderKeyView,
    usage::UsageView,
    workspace::{FileEntry, LeftOutView, MessageView, VersionView},
};

impl From<Project> for ProjectSummary {
    fn from(project: Project) -> Self {
        Self::from((project, 0))
    }
}

/// A project with the tokens its turns have used.
impl From<(Project, i64)> for ProjectSummary {
    fn from((project, tokens): (Project, i64)) -> Self {
        Self {
            id: project.id.to_string(),
            name: project.name,
            template: project.template,
            model: project.model,
            updated: format_date_time(project.updated_at),
            tokens: u64::try_from(tokens).unwrap_or(0),
        }
    }
}

impl From<Usage> for UsageView {
    fn from(usage: Usage) -> Self {
        Self {
            limit: usage.limit,
            used: usage.used,
            remaining: usage.remaining(),
            resets_on: format_date(usage.resets_at()),
        }
    }
}

impl From<ProviderKeyInfo> for ProviderKeyView {
    fn from(info: ProviderKeyInfo) -> Self {
        Self {
            provider: info.provider,
            hint: if info.hint.is_empty() {
                String::new()
            } else {
                format!("…{}", info.hint)
            },
            saved: format_date_time(info.created_at),
            base_url: info.base_url,
            models: info.models,
            tested: info.tested_at.map(format_date_time),
        }
    }
}

impl From<StoredAttachment> for AttachmentView {
    fn from(stored: StoredAttachment) -> Self {
        Self {
            url: format!("/api/attachments/{}", stored.id),
            id: stored.id.to_string(),
            name: stored.file.name.to_string(),
            size: size_text(stored.file.size as u64),
            image: stored.file.kind.is_image(),
        }
    }
}

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
            model_role: message.model_role,
            mode: message.mode.as_str().into(),
            tokens: u64::try_from(message.tokens_in.saturating_add(message.tokens_out))
                .unwrap_or(0),
            plan: message.plan.map(|plan| plan.to_string()),
            created: format_date_time(message.created_at),
            attachments: Vec::new(),
        }
    }
}

impl From<VersionFile> for FileEntry {
    fn from(file: VersionFile) -> Self {
        Self {
            path: file.path,
            language: file.language,
            size: file.size,
            binary: file.binary,
        }
    }
}

impl From<Version> for VersionView {
    fn from(version: Version) -> Self {
        let check = version.check_passed();
        Self {
            id: version.id.to_string(),
            message: version.message.map(|id| id.to_string()),
            version: version.version,
            title: version.title,
            preview_url: version.preview_url,
            created: format_date_time(version.created_at),
            left_out: version.left_out.iter().map(left_out_view).collect(),
            check,
            problems: version
                .check
                .iter()
                .flatten()
                .map(ollio_domain::CheckProblem::headline)
                .collect(),
        }
    }
}

/// Why a version left something out, in words for the Code tab.
fn left_out_view(left: &LeftOut) -> LeftOutView {
    use ollio_agent::snapshot::{MAX_FILES, MAX_VERSION_BYTES};
    let reason = match left.reason {
        LeftOutReason::Dependencies => {
            "dependencies, installed again from the package manifest".to_owned()
        }
        LeftOutReason::BuildOutput => "build output, made again by a build".to_owned(),
        LeftOutReason::Cache => "a cache or tools' own state".to_owned(),
        LeftOutReason::TooLarge => format!(
            "too large to keep ({})",
            ollio_domain::size_text(left.size.unwrap_or_default())
        ),
        LeftOutReason::VersionFull => format!(
            "the version's {} were full",
            ollio_domain::size_text(MAX_VERSION_BYTES)
        ),
        LeftOutReason::TooManyFiles => format!("the version's {MAX_FILES} files were full"),
        LeftOutReason::ModelArtifacts => {
            "the trained model, kept with the version apart from its files".to_owned()
        }
    };
    LeftOutView {
        path: left.path.clone(),
        reason,
    }
}

impl From<AppLog> for AppLogView {
    fn from(log: AppLog) -> Self {
        let (state, text, reason) = match log {
            AppLog::Running(text) => ("running", text, None),
            AppLog::Asleep => ("asleep", String::new(), None),
            AppLog::Nothing => ("none", String::new(), None),
            AppLog::Failed(reason) => ("failed", String::new(), Some(reason)),
        };
        Self {
            state: state.into(),
            text,
            reason,
        }
    }
}

impl From<Preview> for PreviewView {
    fn from(preview: Preview) -> Self {
        let (state, url, reason, expires_in_ms) = match preview {
            Preview::Running { url, expires_at } => (
                "running",
                Some(url),
                None,
                Some((expires_at - now_ms()).max(0)),
            ),
            Preview::Asleep => ("asleep", None, None, None),
            Preview::Nothing => ("none", None, None, None),
            Preview::Failed(reason) => ("failed", None, Some(reason), None),
        };
        Self {
            state: state.into(),
            url,
            reason,
            expires_in_ms,
        }
    }
}
