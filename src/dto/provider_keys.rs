//! A provider the user added, as the settings page lists it: never the key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeyView {
    pub provider: String,
    /// "…abcd": the key's last four characters; empty without a key.
    pub hint: String,
    /// When it was saved ("22 Nov 2026, 09:05 UTC").
    pub saved: String,
    /// The user's own base URL (the OpenAI-compatible provider).
    pub base_url: Option<String>,
    /// The models it listed at its last successful "Test connection".
    pub models: Vec<String>,
    /// When that was.
    pub tested: Option<String>,
}
