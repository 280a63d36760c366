//! Projects as the pages list them, and the templates the home page offers.

use serde::{Deserialize, Serialize};

/// A template a project can start from, as the home page offers it. Each id
/// is one of the agent's templates (`ollio_agent::templates`).
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
