//! What the Code tab's terminal changed in the sandbox, against the newest
//! version.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalChange {
    pub path: String,
    /// "added", "modified" or "deleted".
    pub kind: String,
}
