//! What the check after a turn found wrong with the app: a problem's
//! source, its message exactly as the tool or log said it, and where, when
//! that is known. The model reads them as [`CheckProblem::for_model`]; the
//! chat and the Versions list show them.

use serde::{Deserialize, Serialize};

/// Where a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemSource {
    /// The app's process did not answer its ready path below 500.
    App,
    /// The app's log since the turn's writes (a Python traceback, a Vite
    /// or esbuild error).
    Log,
    /// The template's type check (`tsc --noEmit`).
    Types,
    /// A static page links a local file that does not exist.
    Links,
    /// The browser ran the preview and reported an error.
    Browser,
}

impl ProblemSource {
    pub fn label(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Log => "app log",
            Self::Types => "type check",
            Self::Links => "links",
            Self::Browser => "browser",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckProblem {
    pub source: ProblemSource,
    /// The first line of what was found ("SyntaxError: invalid syntax").
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Everything found, as it was: a whole traceback, the log's tail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl CheckProblem {
    pub fn new(source: ProblemSource, message: impl Into<String>) -> Self {
        Self {
            source,
            message: message.into(),
            file: None,
            line: None,
            detail: String::new(),
        }
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// `main.py:5`, `index.html`, or nothing.
    pub fn place(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match self.line {
            Some(line) => format!("{file}:{line}"),
            None => file.clone(),
        })
    }

    /// One line for a list: "main.py:5 — SyntaxError: invalid syntax".
    pub fn headline(&self) -> String {
        match self.place() {
            Some(place) => format!("{place} — {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The problem as the model reads it: source, place, message, and what
    /// was found in full.
    pub fn for_model(&self) -> String {
        let mut text = format!("[{}] {}", self.source.label(), self.headline());
        if !self.detail.trim().is_empty() {
            text.push_str("\n```\n");
            text.push_str(self.detail.trim_end());
            text.push_str("\n```");
        }
        text
    }
}

/// "1 error", "3 errors".
pub fn errors_text(count: usize) -> String {
    if count == 1 {
        "1 error".into()
    } else {
        format!("{count} errors")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_with_its_place_and_detail() {
        let problem = CheckProblem::new(ProblemSource::Log, "SyntaxError: invalid syntax")
            .at("main.py", Some(5))
            .with_detail(
                "Traceback (most recent call last):\n  ...\nSyntaxError: invalid syntax\n",
            );
        assert_eq!(
            problem.headline(),
            "main.py:5 — SyntaxError: invalid syntax"
        );
        let text = problem.for_model();
        assert!(text.starts_with("[app log] main.py:5 — SyntaxError"));
        assert!(text.contains("```\nTraceback (most recent call last):"));
        let json = serde_json::to_string(&CheckProblem::new(ProblemSource::App, "down")).unwrap();
        assert_eq!(json, r#"{"source":"app","message":"down"}"#);
        assert_eq!(errors_text(1), "1 error");
        assert_eq!(errors_text(2), "2 errors");
    }
}
