//! "Ask AI" in the editor: what the model proposes for a selection.

use serde::{Deserialize, Serialize};

use super::changes::FileChange;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefineProposal {
    /// The whole file after the change.
    pub proposed: String,
    pub diff: FileChange,
}
