//! Projects as the pages list them, and the templates the home page offers.

use serde::{Deserialize, Serialize};

/// A template a project can start from, as the home page's picker offers
/// it: one of the `templates/{id}/` folders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateChoice {
    pub id: String,
    pub label: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub template: String,
    /// The project's own model (`provider:model`); `None` uses the default.
    pub model: Option<String>,
    /// When the project last changed ("22 Nov 2026, 09:05 UTC").
    pub updated: String,
    /// Tokens its turns have used, read and written (0 where not counted:
    /// a project just made or renamed).
    #[serde(default)]
    pub tokens: u64,
}
