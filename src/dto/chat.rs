//! A message the agent accepted.

use serde::{Deserialize, Serialize};

/// A message accepted: the ids of the user's message and of the assistant
/// message the turn fills in, and the credits left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub user_message: String,
    pub assistant_message: String,
    pub credits_left: i64,
}
