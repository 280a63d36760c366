//! What the browser may know about the signed-in user.

use serde::{Deserialize, Serialize};

use super::usage::UsageView;

/// What the browser may know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub usage: UsageView,
}
