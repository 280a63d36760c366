//! "Changes": a version's line diffs against the one before it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub version: i64,
    /// The version compared against; `None` for the first version.
    pub previous: Option<i64>,
    pub files: Vec<FileChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub added: usize,
    pub removed: usize,
    /// Groups of changed lines with their context, in file order.
    pub hunks: Vec<Vec<DiffLine>>,
    /// Set when the file was too large to show line by line.
    pub too_large: bool,
    /// Set for a binary file (an image, a font), never shown line by line.
    #[serde(default)]
    pub binary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// `+`, `-` or ` `.
    pub sign: String,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}
