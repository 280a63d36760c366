//! The one error type every server function returns, as the browser sees it.
//! Messages are written for the user; internal causes are logged on the
//! server and never sent.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No one is signed in (HTTP 401).
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// The thing does not exist, or belongs to someone else (HTTP 404).
    #[error("We couldn't find that. It may have been deleted.")]
    NotFound,
    /// The input was refused; the message says why (HTTP 422).
    #[error("{message}")]
    Invalid { message: String },
    /// Too many attempts; try again after a wait (HTTP 429).
    #[error("Too many attempts. Try again in {}.", wait_text(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    /// The monthly credits are spent (HTTP 402).
    #[error("You have used all {limit} credits for this month. They reset on {resets_on}.")]
    OutOfCredits { limit: i64, resets_on: String },
    /// More than the server hands out at once; the message says what
    /// (HTTP 413).
    #[error("{message}")]
    TooLarge { message: String },
    /// A request from another site (HTTP 403).
    #[error("This request came from another site and was refused.")]
    CrossSite,
    /// Something failed on the server; details are in its log (HTTP 500).
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    pub fn invalid(message: impl ToString) -> Self {
        Self::Invalid {
            message: message.to_string(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::NotFound => 404,
            Self::Invalid { .. } => 422,
            Self::RateLimited { .. } => 429,
            Self::OutOfCredits { .. } => 402,
            Self::TooLarge { .. } => 413,
            Self::CrossSite => 403,
            Self::Internal => 500,
        }
    }
}

/// "45 seconds", "1 minute", "14 minutes": a wait rounded up to what matters.
pub fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "1 second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "1 minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request itself was malformed: arguments missing or mistyped.
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::MissingArg(_) => {
                Self::invalid("The request was incomplete. Please reload the page and try again.")
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait_text(0), "1 second");
        assert_eq!(wait_text(45), "45 seconds");
        assert_eq!(wait_text(60), "1 minute");
        assert_eq!(wait_text(61), "1 minute");
        assert_eq!(wait_text(840), "14 minutes");
        assert_eq!(wait_text(841), "15 minutes");
    }

    #[test]
    fn messages_are_for_people() {
        let error = AppError::RateLimited {
            retry_after_secs: 600,
        };
        assert_eq!(
            error.to_string(),
            "Too many attempts. Try again in 10 minutes."
        );
        assert_eq!(error.status(), 429);
        let credits = AppError::OutOfCredits {
            limit: 50,
            resets_on: "1 December 2026".into(),
        };
        assert_eq!(
            credits.to_string(),
            "You have used all 50 credits for this month. They reset on 1 December 2026."
        );
    }
}
