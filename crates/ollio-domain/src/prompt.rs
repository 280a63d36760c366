use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user asked Ollio to build or change: trimmed, never empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Prompt(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("Describe what you want to build first.")]
    Empty,
    #[error(
        "That prompt is {len} characters long; the limit is {max}. Try saying it more briefly."
    )]
    TooLong { len: usize, max: usize },
}

impl Prompt {
    /// The longest prompt accepted, in characters (not bytes).
    pub const MAX_CHARS: usize = 4_000;

    pub fn parse(raw: &str) -> Result<Self, PromptError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PromptError::Empty);
        }
        let len = trimmed.chars().count();
        if len > Self::MAX_CHARS {
            return Err(PromptError::TooLong {
                len,
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_inner_text() {
        let prompt = Prompt::parse("  a dark login form \n").unwrap();
        assert_eq!(prompt.as_str(), "a dark login form");
    }

    #[test]
    fn refuses_blank_input() {
        assert_eq!(Prompt::parse(""), Err(PromptError::Empty));
        assert_eq!(Prompt::parse(" \n\t "), Err(PromptError::Empty));
    }

    #[test]
    fn counts_characters_not_bytes() {
        let at_limit = "é".repeat(Prompt::MAX_CHARS);
        assert!(Prompt::parse(&at_limit).is_ok());
        let over = "é".repeat(Prompt::MAX_CHARS + 1);
        assert_eq!(
            Prompt::parse(&over),
            Err(PromptError::TooLong {
                len: Prompt::MAX_CHARS + 1,
                max: Prompt::MAX_CHARS
            })
        );
    }

    #[test]
    fn deserializing_parses() {
        let ok: Prompt = serde_json::from_str("\" hi \"").unwrap();
        assert_eq!(ok.as_str(), "hi");
        assert!(serde_json::from_str::<Prompt>("\"  \"").is_err());
    }
}
