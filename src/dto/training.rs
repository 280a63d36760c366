//! ML models' training runs, as the JSON API and the workspace show them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One training run. `GET /api/training-jobs/{id}` answers exactly these
/// keys; times are RFC 3339 in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingJobView {
    pub id: String,
    pub project_id: String,
    pub version_id: String,
    /// `queued`, `installing`, `training`, `deploying`, `deployed`,
    /// `failed` or `cancelled`.
    pub status: String,
    /// From 0 to 1, once training reported any.
    pub progress: Option<f64>,
    pub metrics: BTreeMap<String, f64>,
    /// Where the prediction API answers, once deployed.
    pub deployment_url: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A training run as the Model tab shows it: with its version's number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRunView {
    pub run: TrainingJobView,
    /// The version it trained, as the Versions list numbers it.
    pub version: i64,
}

/// What the Model tab shows: the project's runs, newest first, and its
/// metrics across versions as SVG drawn on the server (empty before any
/// version has metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPanelView {
    pub runs: Vec<ModelRunView>,
    pub charts_svg: String,
}
