//! What the Code tab's Search finds: lines of the version's files, grouped
//! by file, each cut around its first hit.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    pub files: Vec<SearchFile>,
    /// Matching lines in all (up to the limit).
    pub total: usize,
    /// Whether more lines matched than are listed.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFile {
    pub path: String,
    pub lines: Vec<SearchLine>,
}

/// One matching line: its number (from 1) and its text around the first
/// hit, in three parts so the page can mark the hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchLine {
    pub line: u32,
    pub before: String,
    pub hit: String,
    pub after: String,
}

/// What "Ask where…" found: the best passages, and how they were ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskView {
    /// "by meaning (openai:…)" or "by words (BM25)".
    pub by: String,
    pub hits: Vec<AskHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskHit {
    pub path: String,
    /// The passage's first and last line, from 1.
    pub start: u32,
    pub end: u32,
    /// Its first few lines.
    pub preview: String,
    pub score: f32,
}
