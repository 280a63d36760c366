//! What the browser may know about the signed-in user.

use serde::{Deserialize, Serialize};

use super::usage::UsageView;

/// Said when `OLLIO_SIGNUPS=closed`: by the sign-up page, and by `signup`.
pub const SIGNUPS_CLOSED: &str =
    "Sign-ups are closed on this server. Ask the person who runs it for an account.";

/// What the browser may know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub usage: UsageView,
}
