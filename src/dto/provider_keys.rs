//! A saved provider key as the settings page lists it: never the key.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeyView {
    pub provider: String,
    /// "…abcd": the key's last four characters.
    pub hint: String,
    /// When it was saved ("22 Nov 2026, 09:05 UTC").
    pub saved: String,
}
