//! Credits as the pages show them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub limit: i64,
    pub used: i64,
    pub remaining: i64,
    /// When the credits reset, as a date ("1 December 2026").
    pub resets_on: String,
}
