use std::fmt;

use serde::{Deserialize, Serialize};

/// A project's display name: one line, trimmed, 1 to 80 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ProjectName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectNameError {
    #[error("Give the project a name.")]
    Empty,
    #[error("Project names are at most {max} characters.")]
    TooLong { max: usize },
    #[error("Project names fit on one line.")]
    Multiline,
}

impl ProjectName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, ProjectNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ProjectNameError::Empty);
        }
        if trimmed.contains(['\n', '\r']) {
            return Err(ProjectNameError::Multiline);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ProjectNameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Names a project after the prompt that started it: the first line, cut at a
    /// word boundary so it stays within the limit.
    pub fn from_prompt(prompt: &super::Prompt) -> Self {
        let first_line = prompt.as_str().lines().next().unwrap_or_default().trim();
        let mut name = String::new();
        for word in first_line.split_whitespace() {
            let extra = usize::from(!name.is_empty()) + word.chars().count();
            if name.chars().count() + extra > Self::MAX_CHARS {
                break;
            }
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(word);
        }
        if name.is_empty() {
            // A single word longer than the limit: cut it.
            name = first_line.chars().take(Self::MAX_CHARS).collect();
        }
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ProjectName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Prompt;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(ProjectName::parse(" Todo ").unwrap().as_str(), "Todo");
        assert_eq!(ProjectName::parse(""), Err(ProjectNameError::Empty));
        assert_eq!(ProjectName::parse("a\nb"), Err(ProjectNameError::Multiline));
        assert_eq!(
            ProjectName::parse(&"x".repeat(81)),
            Err(ProjectNameError::TooLong { max: 80 })
        );
    }

    #[test]
    fn names_from_the_first_line_of_a_prompt() {
        let prompt = Prompt::parse("A dark login form\nwith a remember-me box").unwrap();
        assert_eq!(
            ProjectName::from_prompt(&prompt).as_str(),
            "A dark login form"
        );
    }

    #[test]
    fn cuts_long_prompts_at_a_word_boundary() {
        let prompt = Prompt::parse(&"word ".repeat(40)).unwrap();
        let name = ProjectName::from_prompt(&prompt);
        assert!(name.as_str().chars().count() <= ProjectName::MAX_CHARS);
        assert!(name.as_str().ends_with("word"));
        let one_word = Prompt::parse(&"y".repeat(200)).unwrap();
        assert_eq!(ProjectName::from_prompt(&one_word).as_str().len(), 80);
    }
}
