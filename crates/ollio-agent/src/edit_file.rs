//! `edit_file`: a file changed by replacing exact passages instead of being
//! written again whole, which keeps what the model did not mean to touch
//! and costs a fraction of the tokens. Each `old` must occur exactly once;
//! when one does not, nothing is written and the model is told whether it
//! matched nothing (with the lines nearest to what it meant) or several
//! places (with their line numbers).

use serde::Deserialize;
use similar::TextDiff;

/// Files larger than this are not edited in place (write them whole).
pub const MAX_FILE: usize = 1024 * 1024;
/// The diff an event carries for the chat, at most.
const MAX_DIFF: usize = 16 * 1024;

/// One replacement: the exact text `old`, and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Edit {
    pub old: String,
    pub new: String,
}

/// `edits` applied to `content`, one after another (each to the result of
/// the one before), or the reason the first that cannot apply does not.
pub fn apply(path: &str, content: &str, edits: &[Edit]) -> Result<String, String> {
    let mut text = content.to_owned();
    for (index, edit) in edits.iter().enumerate() {
        let which = if edits.len() == 1 {
            format!("the edit of {path}")
        } else {
            format!("edit {} of {} of {path}", index + 1, edits.len())
        };
        if edit.old.is_empty() {
            return Err(format!(
                "{which}: `old` is empty; give the exact text to replace (write_files creates files)"
            ));
        }
        let starts: Vec<usize> = text.match_indices(&edit.old).map(|(at, _)| at).collect();
        match starts.as_slice() {
            [at] => text.replace_range(*at..*at + edit.old.len(), &edit.new),
            [] => {
                return Err(format!(
                    "{which}: `old` matches nothing, so no edit was made. {}",
                    nearest(&text, &edit.old)
                ))
            }
            many => {
                let lines: Vec<String> = many
                    .iter()
                    .map(|at| line_of(&text, *at).to_string())
                    .collect();
                return Err(format!(
                    "{which}: `old` matches {} times (at lines {}), so no edit was made; \
                     include more of the lines around it so that it matches exactly once",
                    many.len(),
                    lines.join(", ")
                ));
            }
        }
    }
    Ok(text)
}

/// The 1-based line `at` (a byte offset) is on.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// The lines of `text` most like the first line of `wanted`, with one line
/// either side, numbered, for the model to copy exactly.
fn nearest(text: &str, wanted: &str) -> String {
    let Some(first) = wanted.lines().map(str::trim).find(|line| !line.is_empty()) else {
        return "It holds only white space.".to_owned();
    };
    let lines: Vec<&str> = text.lines().collect();
    let best = lines
        .iter()
        .enumerate()
        .map(|(index, line)| (likeness(first, line.trim()), index))
        .filter(|(score, _)| *score > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let Some((_, index)) = best else {
        return "No line of the file is like its first line; read the file again.".to_owned();
    };
    let from = index.saturating_sub(1);
    let to = (index + 2).min(lines.len());
    let shown: Vec<String> = (from..to)
        .map(|at| format!("{:>5}: {}", at + 1, lines[at]))
        .collect();
    format!("The nearest lines are:\n{}", shown.join("\n"))
}

/// How alike two lines are, from 0 to 1: the words they share, and a bonus
/// when one holds the other.
fn likeness(wanted: &str, line: &str) -> f64 {
    if line.is_empty() {
        return 0.0;
    }
    let words = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(wanted), words(line));
    let shared = a.intersection(&b).count() as f64;
    let all = a.union(&b).count().max(1) as f64;
    let contains = if line.contains(wanted) || wanted.contains(line) {
        0.5
    } else {
        0.0
    };
    shared / all + contains
}

/// A unified diff of the edit, for the chat, and the lines it added and
/// removed.
pub fn diff(path: &str, before: &str, after: &str) -> (String, u64, u64) {
    let lines = TextDiff::from_lines(before, after);
    let (mut added, mut removed) = (0u64, 0u64);
    for change in lines.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let mut text = lines
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    if text.len() > MAX_DIFF {
        let mut end = MAX_DIFF;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n… (the rest of the diff is in the Changes view)\n");
    }
    (text, added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<html>\n<body>\n  <h1>Hello</h1>\n  <p>Welcome to the bakery.</p>\n  <p>Open daily.</p>\n</body>\n</html>\n";

    fn edit(old: &str, new: &str) -> Edit {
        Edit {
            old: old.into(),
            new: new.into(),
        }
    }

    #[test]
    fn an_edit_that_matches_once_replaces_just_that() {
        let edited = apply(
            "index.html",
            PAGE,
            &[
                edit("<h1>Hello</h1>", "<h1>Fresh Bakes</h1>"),
                // Applies to the result of the first.
                edit("Fresh Bakes", "Fresh Bakes Daily"),
            ],
        )
        .unwrap();
        assert_eq!(edited, PAGE.replace("Hello", "Fresh Bakes Daily"));
        let (diff, added, removed) = diff("index.html", PAGE, &edited);
        assert_eq!((added, removed), (1, 1));
        assert!(
            diff.starts_with("--- a/index.html\n+++ b/index.html\n"),
            "{diff}"
        );
        assert!(
            diff.contains("-  <h1>Hello</h1>\n+  <h1>Fresh Bakes Daily</h1>\n"),
            "{diff}"
        );
    }

    #[test]
    fn an_edit_that_matches_nothing_shows_the_nearest_lines() {
        let error = apply(
            "index.html",
            PAGE,
            &[edit("<p>Welcome to our bakery.</p>", "<p>Hi</p>")],
        )
        .unwrap_err();
        assert!(
            error
                .starts_with("the edit of index.html: `old` matches nothing, so no edit was made."),
            "{error}"
        );
        assert!(error.contains("    3:   <h1>Hello</h1>\n    4:   <p>Welcome to the bakery.</p>\n    5:   <p>Open daily.</p>"), "{error}");
        let error = apply("a.txt", "abc\n", &[edit("zzz", "y")]).unwrap_err();
        assert!(error.contains("No line of the file is like"), "{error}");
        let error = apply("a.txt", "abc\n", &[edit("", "y")]).unwrap_err();
        assert!(error.contains("`old` is empty"), "{error}");
    }

    #[test]
    fn an_edit_that_matches_twice_names_the_lines_and_changes_nothing() {
        let error = apply(
            "index.html",
            PAGE,
            &[
                edit("<h1>Hello</h1>", "<h1>Hi</h1>"),
                edit("<p>", "<p class=\"x\">"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            error,
            "edit 2 of 2 of index.html: `old` matches 2 times (at lines 4, 5), so no edit was made; \
             include more of the lines around it so that it matches exactly once"
        );
    }
}
