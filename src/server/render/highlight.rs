//! Syntax highlighting for the Code tab: syntect's Sublime grammars (with
//! bat's extra syntaxes from two-face) on the pure-Rust fancy-regex engine,
//! written as class-based HTML (`hl-comment hl-block hl-css`), one
//! self-contained fragment per source line so the page can number, wrap or
//! window lines freely.

use super::escape;
use std::sync::LazyLock;

use syntect::{
    html::{line_tokens_to_classed_spans, ClassStyle},
    parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet},
    util::LinesWithEndings,
};

/// Files larger than this are shown as plain, escaped lines.
pub const MAX_BYTES: usize = 200_000;
/// Files with more lines than this are shown as plain, escaped lines.
pub const MAX_LINES: usize = 5_000;

/// The prefix of every class name, so the styles cannot clash with the app's.
const PREFIX: &str = "hl-";
const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: PREFIX };

/// The syntax definitions, loaded on first use. A read-only cache of data
/// compiled into the binary, not app state: nothing ever changes it.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);

/// `content` as one HTML fragment per line: text escaped, every `<span>`
/// opened in a line closed in it, and the spans of scopes still open from
/// earlier lines (a block comment, a string) opened again at its start.
/// Lines carry no newline characters. An empty file has no lines; a final
/// newline does not start another line (as `str::lines`).
///
/// `language` is a name from `language_of` (`html`, `tsx`, `shell`, …);
/// `text`, unknown names, very large files and grammar failures give plain
/// escaped lines.
pub fn lines(language: &str, content: &str) -> Vec<String> {
    if content.len() > MAX_BYTES || content.lines().nth(MAX_LINES).is_some() {
        return plain(content);
    }
    let Some(syntax) = syntax_for(&SYNTAXES, language) else {
        return plain(content);
    };
    highlighted(&SYNTAXES, syntax, content).unwrap_or_else(|error| {
        tracing::warn!(language, %error, "highlighting failed; showing plain text");
        plain(content)
    })
}

/// The lines escaped, without highlighting.
pub fn plain(content: &str) -> Vec<String> {
    content.lines().map(escape).collect()
}

/// The grammar for a `language_of` name.
fn syntax_for<'a>(set: &'a SyntaxSet, language: &str) -> Option<&'a SyntaxReference> {
    let extension = match language {
        "html" => "html",
        "css" => "css",
        "javascript" => "js",
        "typescript" => "ts",
        // bat's JSX grammar (JavaScript (Babel)) needs oniguruma; the TSX
        // grammar reads plain JSX just as well.
        "jsx" => "tsx",
        "tsx" => "tsx",
        "json" => "json",
        "python" => "py",
        "rust" => "rs",
        "markdown" => "md",
        "toml" => "toml",
        "yaml" => "yaml",
        "shell" => "sh",
        "xml" => "xml",
        "dockerfile" => return set.find_syntax_by_name("Dockerfile"),
        _ => return None,
    };
    set.find_syntax_by_extension(extension)
}

#[derive(Debug, thiserror::Error)]
enum HighlightError {
    #[error("parsing failed: {0}")]
    Parse(#[from] syntect::parsing::ParsingError),
    #[error("scope stack: {0}")]
    Scope(#[from] syntect::parsing::ScopeError),
    #[error("writing HTML failed: {0}")]
    Html(#[from] syntect::Error),
}

fn highlighted(
    set: &SyntaxSet,
    syntax: &SyntaxReference,
    content: &str,
) -> Result<Vec<String>, HighlightError> {
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut out = Vec::new();
    // The grammars expect each line with its newline.
    for line in LinesWithEndings::from(content) {
        let ops = state.parse_line(line, set)?;
        if line.trim_end_matches(['\n', '\r']).is_empty() {
            // Nothing to show; the scopes still change (`ops`), so apply them.
            stack_after(&mut stack, &ops)?;
            out.push(String::new());
            continue;
        }
        let mut html = String::with_capacity(line.len() * 2);
        for scope in stack.as_slice() {
            open_span(&mut html, *scope);
        }
        let (body, _) = line_tokens_to_classed_spans(line, &ops, STYLE, &mut stack)?;
        html.push_str(&body);
        drop_line_end(&mut html, line);
        for _ in stack.as_slice() {
            html.push_str("</span>");
        }
        out.push(html);
    }
    Ok(out)
}

fn stack_after(
    stack: &mut ScopeStack,
    ops: &[(usize, syntect::parsing::ScopeStackOp)],
) -> Result<(), HighlightError> {
    for (_, op) in ops {
        stack.apply(op)?;
    }
    Ok(())
}

/// `<span class="hl-comment hl-block hl-css">`, as syntect writes it.
fn open_span(html: &mut String, scope: Scope) {
    html.push_str("<span class=\"");
    for (i, atom) in scope.build_string().split('.').enumerate() {
        if i > 0 {
            html.push(' ');
        }
        html.push_str(PREFIX);
        html.push_str(atom);
    }
    html.push_str("\">");
}

/// Removes the line's own `\n` (and a `\r` before it) from its HTML. The
/// escaped text keeps its order and newlines are never escaped, so they are
/// the last such characters in it, followed at most by closing tags.
fn drop_line_end(html: &mut String, line: &str) {
    if line.ends_with('\n') {
        if let Some(at) = html.rfind('\n') {
            html.remove(at);
        }
        if line.ends_with("\r\n") {
            if let Some(at) = html.rfind('\r') {
                html.remove(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typical sample per language, and a class it must produce.
    const SAMPLES: [(&str, &str, &str); 14] = [
        ("html", "<!doctype html>\n<p class=\"x\">Hi</p>\n", "hl-tag"),
        ("css", "body { color: red; }\n", "hl-property-name"),
        ("javascript", "const x = \"hi\";\n", "hl-string"),
        ("typescript", "let n: number = 1;\n", "hl-storage"),
        (
            "jsx",
            "const a = <div className=\"x\">hi</div>;\n",
            "hl-tag",
        ),
        (
            "tsx",
            "export const A = (): JSX.Element => <div>hi</div>;\n",
            "hl-tag",
        ),
        ("json", "{\"a\": [1, true, \"s\"]}\n", "hl-string"),
        ("python", "def f(x):\n    return 'hi'\n", "hl-keyword"),
        ("rust", "fn main() { let s = \"hi\"; }\n", "hl-storage"),
        ("markdown", "# Title\n\nSome *text*.\n", "hl-heading"),
        ("toml", "[package]\nname = \"ollio\"\n", "hl-string"),
        ("yaml", "name: ollio\nlist:\n  - 1\n", "hl-entity"),
        ("shell", "#!/bin/sh\necho \"hi\" && exit 0\n", "hl-string"),
        ("xml", "<?xml version=\"1.0\"?>\n<svg/>\n", "hl-tag"),
    ];

    fn balanced(line: &str) -> bool {
        line.matches("<span").count() == line.matches("</span>").count()
    }

    #[test]
    fn every_language_is_highlighted() {
        for (language, sample, class) in SAMPLES {
            let lines = lines(language, sample);
            assert_eq!(lines.len(), sample.lines().count(), "{language}");
            let all = lines.join("\n");
            assert!(all.contains(class), "{language} lacks {class}: {all}");
            assert!(lines.iter().all(|line| balanced(line)), "{language}: {all}");
            assert!(!all.contains('\n') || lines.len() > 1, "{language}");
            assert!(lines.iter().all(|line| !line.contains(['\n', '\r'])));
        }
        assert!(lines("dockerfile", "FROM node:20\nRUN npm ci\n")
            .join("")
            .contains("hl-keyword"));
    }

    #[test]
    fn text_and_unknown_languages_are_plain_escaped_lines() {
        for language in ["text", "cobol", ""] {
            assert_eq!(
                lines(language, "a < b\n\"c\" & d\n"),
                vec!["a &lt; b", "&quot;c&quot; &amp; d"]
            );
        }
    }

    #[test]
    fn markup_in_content_is_always_escaped() {
        let script = "<script>alert(1)</script>";
        for language in ["html", "javascript", "markdown", "text", "xml", "python"] {
            let all = lines(language, &format!("{script}\nx = '{script}'\n")).join("\n");
            assert!(!all.contains("<script"), "{language}: {all}");
            assert!(!all.contains("</script"), "{language}: {all}");
        }
    }

    #[test]
    fn block_comments_reopen_their_spans_on_every_line() {
        for language in ["css", "javascript"] {
            let lines = lines(language, "/* one\n   two <b>\n   three */\na {}\n");
            assert_eq!(lines.len(), 4);
            for line in &lines[..3] {
                assert!(balanced(line), "{language}: {line}");
                assert!(
                    line.starts_with("<span") && line.contains("hl-comment hl-block"),
                    "{language}: {line}"
                );
            }
            assert!(lines[1].contains("two &lt;b&gt;"), "{language}");
            assert!(!lines[3].contains("hl-comment"), "{language}: {}", lines[3]);
            assert!(balanced(&lines[3]));
        }
    }

    #[test]
    fn an_empty_file_has_no_lines() {
        assert!(lines("html", "").is_empty());
        assert!(lines("text", "").is_empty());
        assert_eq!(lines("css", "\n"), vec![String::new()]);
    }

    #[test]
    fn crlf_line_ends_are_dropped() {
        let lines = lines("javascript", "let a = 1;\r\nlet b = 2;\r\n");
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|line| !line.contains(['\r', '\n'])));
        assert!(lines[1].contains("hl-storage"));
    }

    #[test]
    fn huge_files_are_plain() {
        let many = "let a = 1;\n".repeat(MAX_LINES + 1);
        let lines = lines("javascript", &many);
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(lines[0], "let a = 1;");
        let big = format!("/* {} */\n", "<".repeat(MAX_BYTES));
        let lines = super::lines("css", &big);
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains("<span") && lines[0].starts_with("/* &lt;"));
    }
}
