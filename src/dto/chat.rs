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

/// A file attached to a message, as the chat shows it: a chip, or a
/// thumbnail for an image. `url` serves its bytes to its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    /// Its size in words ("12.4 KB").
    pub size: String,
    pub image: bool,
    pub url: String,
}
