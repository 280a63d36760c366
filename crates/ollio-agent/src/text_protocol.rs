//! The tool protocol for models without tool calling: files and commands in
//! tagged blocks inside the answer's text.
//!
//! ```text
//! <file path="index.html">
//! <h1>Hello</h1>
//! </file>
//! <edit path="app.js">
//! <old>const n = 1;</old>
//! <new>const n = 2;</new>
//! </edit>
//! <command>ls -la</command>
//! ```
//!
//! Parsing never fails: a block cut off at the end of the answer (the model
//! ran out of tokens) still yields what it holds, marked as cut; text outside
//! blocks is the model's prose.

/// What a text-protocol answer asks for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    WriteFile {
        path: String,
        content: String,
        /// The block had no closing tag.
        cut: bool,
    },
    /// `edit_file`: each `(old, new)` in order.
    EditFile {
        path: String,
        edits: Vec<(String, String)>,
        cut: bool,
    },
    Command {
        command: String,
        cut: bool,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub actions: Vec<Action>,
    /// The text outside blocks, trimmed.
    pub prose: String,
}

/// How to explain the protocol in a system prompt.
pub const INSTRUCTIONS: &str =
    "You cannot call tools directly. To write a file, answer with a block \
<file path=\"relative/path\">…whole file content…</file>. To change part of an existing file, \
answer with <edit path=\"relative/path\"><old>exact text, occurring once</old><new>its \
replacement</new></edit> (several old/new pairs may follow one another). To run a shell command, \
answer with <command>the command</command>. Use several blocks in one answer if needed. When the work is done, \
answer without any block, with a short summary for the user.";

/// How the results of an answer's blocks begin, in the user message that
/// carries them back to the model.
pub const RESULTS_HEADER: &str = "Results of your blocks:\n";

pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut prose = String::new();
    let mut rest = text;
    loop {
        let next = [
            (rest.find("<file"), Block::File),
            (rest.find("<edit"), Block::Edit),
            (rest.find("<command>"), Block::Command),
        ]
        .into_iter()
        .filter_map(|(at, block)| at.map(|at| (at, block)))
        .min_by_key(|(at, _)| *at);
        let Some((start, kind)) = next else {
            prose.push_str(rest);
            break;
        };
        prose.push_str(&rest[..start]);
        let block = &rest[start..];
        if kind != Block::Command {
            let close = if kind == Block::Edit {
                "</edit>"
            } else {
                "</file>"
            };
            let Some(head_end) = block.find('>') else {
                // Cut inside the opening tag: nothing usable.
                break;
            };
            let Some(path) = attribute(&block[..head_end], "path") else {
                prose.push_str(&block[..=head_end]);
                rest = &block[head_end + 1..];
                continue;
            };
            let body = &block[head_end + 1..];
            let (inner, cut, consumed) = match body.find(close) {
                Some(end) => (&body[..end], false, head_end + 1 + end + close.len()),
                None => (body, true, block.len()),
            };
            parsed.actions.push(if kind == Block::Edit {
                Action::EditFile {
                    path,
                    edits: edit_pairs(inner),
                    cut,
                }
            } else {
                Action::WriteFile {
                    path,
                    content: strip_one_newline(inner),
                    cut,
                }
            });
            rest = &block[consumed..];
        } else {
            let body = &block["<command>".len()..];
            let (command, cut, consumed) = match body.find("</command>") {
                Some(end) => (
                    &body[..end],
                    false,
                    "<command>".len() + end + "</command>".len(),
                ),
                None => (body, true, block.len()),
            };
            let command = command.trim();
            if !command.is_empty() {
                parsed.actions.push(Action::Command {
                    command: command.to_owned(),
                    cut,
                });
            }
            rest = &block[consumed..];
        }
        if rest.is_empty() {
            break;
        }
    }
    parsed.prose = prose.trim().to_owned();
    parsed
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    File,
    Edit,
    Command,
}

/// The `<old>…</old><new>…</new>` pairs of an edit block, in order; a pair
/// missing its `<new>` is left out (the block reads as cut).
fn edit_pairs(body: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<old>") {
        let after = &rest[start + "<old>".len()..];
        let Some(old_end) = after.find("</old>") else {
            break;
        };
        let old = strip_one_newline(&after[..old_end]);
        let after = &after[old_end + "</old>".len()..];
        let Some(new_start) = after.find("<new>") else {
            break;
        };
        let after = &after[new_start + "<new>".len()..];
        let Some(new_end) = after.find("</new>") else {
            break;
        };
        pairs.push((old, strip_one_newline(&after[..new_end])));
        rest = &after[new_end + "</new>".len()..];
    }
    pairs
}

/// `name="value"` (or single quotes) inside an opening tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}="))? + name.len() + 1;
    let quote = tag[at..]
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    let value = &tag[at + 1..];
    let end = value.find(quote)?;
    let value = value[..end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Drops the line break right after the opening tag, which is layout, not content.
fn strip_one_newline(content: &str) -> String {
    let content = content
        .strip_prefix("\r\n")
        .or_else(|| content.strip_prefix('\n'))
        .unwrap_or(content);
    content.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_commands_come_out_in_order_with_the_prose() {
        let parsed = parse(
            "Here is the app.\n<file path=\"index.html\">\n<h1>Hi</h1>\n</file>\n<command>ls</command>\nDone.",
        );
        assert_eq!(
            parsed.actions,
            [
                Action::WriteFile {
                    path: "index.html".into(),
                    content: "<h1>Hi</h1>\n".into(),
                    cut: false
                },
                Action::Command {
                    command: "ls".into(),
                    cut: false
                },
            ]
        );
        assert_eq!(parsed.prose, "Here is the app.\n\n\nDone.");
    }

    #[test]
    fn a_block_cut_off_still_gives_what_it_holds() {
        let parsed = parse("<file path='style.css'>\nbody { color: red;");
        assert_eq!(
            parsed.actions,
            [Action::WriteFile {
                path: "style.css".into(),
                content: "body { color: red;".into(),
                cut: true
            }]
        );
        let parsed = parse("<command>npm inst");
        assert_eq!(
            parsed.actions,
            [Action::Command {
                command: "npm inst".into(),
                cut: true
            }]
        );
        assert_eq!(parse("text <file pa").actions, []);
    }

    #[test]
    fn edits_come_as_old_and_new_pairs() {
        let parsed = parse(
            "Fixing the count.\n<edit path=\"app.js\">\n<old>let n = 1;</old>\n<new>let n = 2;</new>\n<old>\nold()\n</old><new>\nnew()\n</new>\n</edit>\n<command>ls</command>",
        );
        assert_eq!(
            parsed.actions,
            [
                Action::EditFile {
                    path: "app.js".into(),
                    edits: vec![
                        ("let n = 1;".into(), "let n = 2;".into()),
                        ("old()\n".into(), "new()\n".into()),
                    ],
                    cut: false,
                },
                Action::Command {
                    command: "ls".into(),
                    cut: false
                },
            ]
        );
        assert_eq!(parsed.prose, "Fixing the count.");
        let parsed = parse("<edit path='a.css'><old>a</old><new>b</ne");
        assert_eq!(
            parsed.actions,
            [Action::EditFile {
                path: "a.css".into(),
                edits: Vec::new(),
                cut: true
            }]
        );
    }

    #[test]
    fn a_file_tag_without_a_path_is_prose() {
        let parsed = parse("<file>x</file>");
        assert!(parsed.actions.is_empty());
        assert!(parsed.prose.contains("<file>"));
    }
}
