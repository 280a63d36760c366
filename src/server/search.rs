//! The Code tab's Search: a version's text files searched line by line as
//! plain text (optionally case-sensitive, whole words) or as a regular
//! expression (Rust's `regex`: linear time, so no pattern can stall the
//! server), results grouped by file.

use ollio_domain::{UserId, VersionId};
use ollio_store::VersionFile;
use regex::{Regex, RegexBuilder};

use super::state::AppState;
use crate::{
    dto::search::{SearchFile, SearchLine, SearchView},
    error::AppError,
};

/// The longest query, in characters.
pub const MAX_QUERY: usize = 200;
/// The most matching lines listed.
pub const MAX_LINES: usize = 1000;
/// Characters kept before and after a hit.
const CONTEXT: usize = 80;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchOptions {
    pub case_sensitive: bool,
    pub whole_word: bool,
    pub regex: bool,
}

/// The pattern `query` stands for with `options`, or why it is none.
pub fn pattern(query: &str, options: SearchOptions) -> Result<Regex, String> {
    if query.is_empty() {
        return Err("Type what to search for.".into());
    }
    if query.chars().count() > MAX_QUERY {
        return Err(format!("Search for at most {MAX_QUERY} characters."));
    }
    let mut source = if options.regex {
        query.to_owned()
    } else {
        regex::escape(query)
    };
    if options.whole_word {
        source = format!(r"\b(?:{source})\b");
    }
    RegexBuilder::new(&source)
        .case_insensitive(!options.case_sensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|error| match error {
            regex::Error::Syntax(text) => format!(
                "That is not a regular expression: {}",
                text.lines().last().unwrap_or_default().trim()
            ),
            _ => "That regular expression is too large.".into(),
        })
}

/// Every line of the text `files` that `pattern` matches, by file in path
/// order, at most [`MAX_LINES`]. A match of nothing (`^`, `x*`) counts only
/// where the line is not empty.
pub fn search(files: &[VersionFile], pattern: &Regex) -> SearchView {
    let mut found = Vec::new();
    let mut total = 0;
    let mut truncated = false;
    'files: for file in files.iter().filter(|file| !file.binary) {
        let mut lines = Vec::new();
        for (index, line) in file.content.lines().enumerate() {
            let Some(hit) = pattern
                .find_iter(line)
                .find(|hit| !hit.is_empty() || !line.is_empty())
            else {
                continue;
            };
            if total == MAX_LINES {
                truncated = true;
                if !lines.is_empty() {
                    found.push(SearchFile {
                        path: file.path.clone(),
                        lines,
                    });
                }
                break 'files;
            }
            total += 1;
            lines.push(cut(line, hit.start(), hit.end(), index));
        }
        if !lines.is_empty() {
            found.push(SearchFile {
                path: file.path.clone(),
                lines,
            });
        }
    }
    SearchView {
        files: found,
        total,
        truncated,
    }
}

/// The line around its hit `start..end` (byte offsets).
fn cut(line: &str, start: usize, end: usize, index: usize) -> SearchLine {
    let before = &line[..start];
    let skipped = before.chars().count().saturating_sub(CONTEXT);
    let before: String = before.chars().skip(skipped).collect();
    let after: String = line[end..].chars().take(CONTEXT).collect();
    SearchLine {
        line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        before: if skipped > 0 {
            format!("…{}", before.trim_start())
        } else {
            before.trim_start().to_owned()
        },
        hit: line[start..end].chars().take(CONTEXT * 2).collect(),
        after: if line[end..].chars().count() > CONTEXT {
            format!("{after}…")
        } else {
            after
        },
    }
}

/// Searches `owner`'s `version` for `query`.
pub async fn search_version(
    state: &AppState,
    owner: &UserId,
    version: &VersionId,
    query: &str,
    options: SearchOptions,
) -> Result<SearchView, AppError> {
    let pattern = pattern(query, options).map_err(AppError::invalid)?;
    if state.store.version(owner, version).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let files = state.store.version_files(owner, version).await?;
    Ok(search(&files, &pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> VersionFile {
        VersionFile {
            path: path.into(),
            content: content.into(),
            language: "text".into(),
            size: content.len() as i64,
            binary: false,
        }
    }

    fn lines(view: &SearchView) -> Vec<(String, u32, String)> {
        view.files
            .iter()
            .flat_map(|found| {
                found
                    .lines
                    .iter()
                    .map(|line| (found.path.clone(), line.line, line.hit.clone()))
            })
            .collect()
    }

    #[test]
    fn plain_text_whole_words_case_and_regex() {
        let files = [
            file("app.js", "const total = 1;\nlet subtotal = 2;\n// Total\n"),
            file("index.html", "<p>total</p>"),
        ];
        let plain = search(&files, &pattern("total", SearchOptions::default()).unwrap());
        assert_eq!(
            lines(&plain),
            [
                ("app.js".into(), 1, "total".into()),
                ("app.js".into(), 2, "total".into()),
                ("app.js".into(), 3, "Total".into()),
                ("index.html".into(), 1, "total".into()),
            ]
        );
        let whole = SearchOptions {
            whole_word: true,
            case_sensitive: true,
            ..SearchOptions::default()
        };
        let exact = search(&files, &pattern("total", whole).unwrap());
        assert_eq!(exact.total, 2);
        assert_eq!(exact.files[0].lines[0].before, "const ");
        assert_eq!(exact.files[0].lines[0].after, " = 1;");
        let regex = SearchOptions {
            regex: true,
            ..SearchOptions::default()
        };
        let found = search(&files, &pattern(r"(sub)?total = \d", regex).unwrap());
        assert_eq!(found.total, 2);
        // Plain text is never a pattern.
        assert_eq!(
            search(&files, &pattern("(", SearchOptions::default()).unwrap()).total,
            0
        );
    }

    #[test]
    fn bad_queries_say_why_and_results_are_bounded() {
        let regex = SearchOptions {
            regex: true,
            ..SearchOptions::default()
        };
        assert!(pattern("(", regex)
            .unwrap_err()
            .contains("not a regular expression"));
        assert!(pattern("", regex).unwrap_err().contains("Type"));
        assert!(pattern(&"x".repeat(300), regex)
            .unwrap_err()
            .contains("at most"));
        let many = file("big.txt", &"hit\n".repeat(MAX_LINES + 5));
        let view = search(&[many], &pattern("hit", regex).unwrap());
        assert_eq!((view.total, view.truncated), (MAX_LINES, true));
        // A pattern matching nothing shows no empty lines.
        let empty = search(&[file("a.txt", "\n\nx\n")], &pattern("^", regex).unwrap());
        assert_eq!(empty.total, 1);
    }

    #[test]
    fn a_long_line_is_cut_around_its_hit() {
        let line = format!("{}needle{}", "a".repeat(200), "b".repeat(200));
        let view = search(
            &[file("long.txt", &line)],
            &pattern("needle", SearchOptions::default()).unwrap(),
        );
        let found = &view.files[0].lines[0];
        assert_eq!(found.hit, "needle");
        assert!(found.before.starts_with('…') && found.before.chars().count() == CONTEXT + 1);
        assert!(found.after.ends_with('…'));
    }
}
