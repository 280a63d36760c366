//! Fitting a conversation into the model's context window before each
//! request. Files are never sent whole unless the model read them, so what
//! grows is the turn's own steps (results, and the files it wrote, repeated
//! in every later request) and the chat's earlier turns. When the estimate
//! is over the window, in this order until it fits:
//!
//! 1. results and written contents of the turn's earlier steps (all but the
//!    last [`RECENT_STEPS`]) are replaced by a note of what was left out;
//! 2. earlier turns of the chat, oldest first, are folded into a summary of
//!    a line each, at the end of the system prompt;
//! 3. the recent steps are shortened the same way, all but the last message;
//! 4. the project's file list is cut to its first [`LISTED_FILES`] lines;
//! 5. what is still too long is cut in its middle.
//!
//! The estimate is four characters a token, the usual rule for English and
//! code; real tokenizers differ by some percent, which the reserve covers.

use super::chat::{ChatMessage, Role, ToolCall};

/// The context window of a model that the configuration does not size.
pub const DEFAULT_CONTEXT_TOKENS: u64 = 128_000;
/// Held back beside the answer's `max_tokens`: the tools' schemas and the
/// estimate's error.
const RESERVE: u64 = 2_000;
/// The smallest budget a request gets, however small the window.
const MIN_BUDGET: u64 = 1_000;
/// Steps of the turn (an assistant message and its results) kept whole
/// while older ones are shortened.
pub const RECENT_STEPS: usize = 4;
/// A result or written content up to this many characters stays as it is.
const KEEP_CHARS: usize = 600;
/// File-list lines kept when the list itself is too long.
pub const LISTED_FILES: usize = 200;
/// Earlier messages the summary names, the newest ones.
const SUMMARY_LINES: usize = 20;
/// Characters of each earlier message the summary keeps.
const SUMMARY_CHARS: usize = 160;

/// Tokens `messages` take, estimated.
pub fn estimate(messages: &[ChatMessage]) -> u64 {
    messages.iter().map(message_tokens).sum()
}

fn message_tokens(message: &ChatMessage) -> u64 {
    let calls: usize = message
        .tool_calls
        .iter()
        .map(|call| call.name.len() + call.arguments.len())
        .sum();
    let chars = message.content.chars().count() + calls;
    // Each message carries some framing; an image is about a thousand.
    4 + chars.div_ceil(4) as u64 + 1_000 * message.images.len() as u64
}

/// The tokens a request may take for `window` when the answer may take
/// `max_tokens`.
pub fn budget(window: u64, max_tokens: u32) -> u64 {
    window
        .saturating_sub(u64::from(max_tokens) + RESERVE)
        .max(MIN_BUDGET)
}

/// `messages` (the system prompt, `history` earlier messages, the request,
/// then the turn's steps) fitted into `budget` tokens.
pub fn fit(messages: &[ChatMessage], history: usize, budget: u64) -> Vec<ChatMessage> {
    let mut out = messages.to_vec();
    if estimate(&out) <= budget || out.is_empty() {
        return out;
    }
    let history = history.min(out.len().saturating_sub(1));
    // 1. The turn's earlier steps.
    let steps_from = (1 + history + 1).min(out.len());
    let recent = recent_start(&out, steps_from);
    shorten(&mut out[steps_from..recent], KEEP_CHARS);
    if estimate(&out) <= budget {
        return out;
    }
    // 2. Earlier turns into a summary, oldest first.
    let rest = out[1 + history..].to_vec();
    let mut folded = 0;
    while folded < history && estimate(&out) > budget {
        folded = (folded + 2).min(history);
        out = with_summary(messages, history, folded, &rest);
    }
    if estimate(&out) <= budget {
        return out;
    }
    // 3. Every step but the last message, down to a note each.
    let request = 1 + (history - folded);
    let last = out.len() - 1;
    if request + 1 < last {
        shorten(&mut out[request + 1..last], 0);
    }
    if estimate(&out) <= budget {
        return out;
    }
    // 4. The request's file list.
    if let Some(message) = out.get_mut(request) {
        message.content = cut_file_list(&message.content);
    }
    // 5. Whatever is longest (the system prompt aside), cut in its middle
    // until it fits.
    while estimate(&out) > budget {
        let over = (estimate(&out) - budget) as usize * 4;
        let Some((longest, _)) = out
            .iter()
            .enumerate()
            .skip(1)
            .max_by_key(|(_, message)| message.content.len())
        else {
            break;
        };
        let content = &out[longest].content;
        let chars = content.chars().count();
        if chars <= KEEP_CHARS {
            break;
        }
        let keep = chars.saturating_sub(over + 200).max(KEEP_CHARS / 2);
        out[longest].content = cut_middle(content, keep);
    }
    out
}

/// Where the last [`RECENT_STEPS`] steps (from `from`) begin.
fn recent_start(messages: &[ChatMessage], from: usize) -> usize {
    let starts: Vec<usize> = (from..messages.len())
        .filter(|&index| messages[index].role == Role::Assistant)
        .collect();
    if starts.len() <= RECENT_STEPS {
        return from;
    }
    starts[starts.len() - RECENT_STEPS]
}

/// Results longer than `keep` characters, and the contents of files
/// written, replaced by a note (keeping the result's first half of `keep`).
fn shorten(messages: &mut [ChatMessage], keep: usize) {
    for message in messages {
        match message.role {
            Role::Tool | Role::User if message.content.chars().count() > keep.max(80) => {
                message.content = left_out_note(&message.content, keep / 2);
            }
            Role::Assistant => {
                for call in &mut message.tool_calls {
                    shorten_arguments(call);
                }
            }
            _ => {}
        }
    }
}

fn left_out_note(content: &str, head: usize) -> String {
    let start: String = content.chars().take(head).collect();
    format!(
        "{start}\n[… {} characters of this earlier result were left out to fit the context; \
run the tool again if you need them.]",
        content.chars().count() - head
    )
}

/// The long strings in a call's arguments (a file's content, an edit's
/// text) replaced by a note; the arguments stay valid JSON.
fn shorten_arguments(call: &mut ToolCall) {
    if call.arguments.len() <= KEEP_CHARS {
        return;
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&call.arguments) else {
        call.arguments = "{}".into();
        return;
    };
    shorten_strings(&mut value);
    call.arguments = value.to_string();
}

fn shorten_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.chars().count() > KEEP_CHARS => {
            *text = format!(
                "[{} characters, written earlier in this turn; read the file to see them]",
                text.chars().count()
            );
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(shorten_strings),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(shorten_strings),
        _ => {}
    }
}

/// The system prompt with the first `folded` of the `history` messages of
/// `original` summarised at its end, the other earlier messages as they
/// were, then `rest` (the request and the steps, as fitted so far).
fn with_summary(
    original: &[ChatMessage],
    history: usize,
    folded: usize,
    rest: &[ChatMessage],
) -> Vec<ChatMessage> {
    let mut system = original[0].clone();
    system.content.push_str(&summary(&original[1..=folded]));
    let mut out = vec![system];
    out.extend(original[1 + folded..=history].iter().cloned());
    out.extend(rest.iter().cloned());
    out
}

/// Earlier messages of the chat summarised, a line each (at most
/// [`SUMMARY_LINES`], the newest), for the end of a system prompt; nothing
/// when there are none.
pub fn summary(earlier: &[ChatMessage]) -> String {
    if earlier.is_empty() {
        return String::new();
    }
    let mut lines: Vec<String> = earlier
        .iter()
        .map(|message| {
            let who = if message.role == Role::User {
                "The user"
            } else {
                "Ollio"
            };
            let line = message
                .content
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let mut short: String = line.chars().take(SUMMARY_CHARS).collect();
            if line.chars().count() > SUMMARY_CHARS {
                short.push('…');
            }
            format!("- {who}: {short}")
        })
        .collect();
    if lines.len() > SUMMARY_LINES {
        let dropped = lines.len() - SUMMARY_LINES;
        lines.drain(..dropped);
        lines.insert(0, format!("- ({dropped} earlier messages)"));
    }
    format!(
        "\n\nEarlier in this chat, shortened to fit the model's context, oldest first:\n{}",
        lines.join("\n")
    )
}

/// A request's "The project's files now:" list cut to its first lines.
fn cut_file_list(content: &str) -> String {
    let Some((list, rest)) = content.split_once("\n\n") else {
        return content.to_owned();
    };
    let mut lines = list.lines();
    let Some(head) = lines
        .next()
        .filter(|line| line.starts_with("The project's files"))
    else {
        return content.to_owned();
    };
    let files: Vec<&str> = lines.collect();
    if files.len() <= LISTED_FILES {
        return content.to_owned();
    }
    format!(
        "{head}\n{}\n… and {} more files (list_files shows them)\n\n{rest}",
        files[..LISTED_FILES].join("\n"),
        files.len() - LISTED_FILES
    )
}

/// `text` cut to about `keep` characters, its start and end kept.
fn cut_middle(text: &str, keep: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let half = keep / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - half..].iter().collect();
    format!(
        "{head}\n[… {} characters left out to fit the context …]\n{tail}",
        chars.len() - 2 * half
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_project() -> (Vec<ChatMessage>, usize) {
        let mut messages = vec![ChatMessage::system("You build apps. ".repeat(100))];
        // A hundred earlier turns.
        for turn in 0..100 {
            messages.push(ChatMessage::user(format!(
                "Turn {turn}: change the page {}",
                "so it does more. ".repeat(60)
            )));
            messages.push(ChatMessage::assistant(
                format!("Turn {turn} done. {}", "It now does more. ".repeat(60)),
                Vec::new(),
            ));
        }
        let history = messages.len() - 1;
        let files: Vec<String> = (0..300)
            .map(|n| format!("src/parts/part_{n:03}.tsx"))
            .collect();
        messages.push(ChatMessage::user(format!(
            "The project's files now:\n{}\n\nAdd a footer",
            files.join("\n")
        )));
        // Twelve steps, each writing a big file and reading one.
        for step in 0..12 {
            let content = format!("export const part{step} = `{}`;", "x".repeat(8_000));
            let arguments = serde_json::json!({
                "files": [{ "path": format!("src/parts/part_{step:03}.tsx"), "content": content }]
            })
            .to_string();
            messages.push(ChatMessage::assistant(
                "",
                vec![ToolCall {
                    id: format!("call_{step}"),
                    name: "write_files".into(),
                    arguments,
                }],
            ));
            messages.push(ChatMessage::tool(format!("call_{step}"), "y".repeat(6_000)));
        }
        (messages, history)
    }

    #[test]
    fn a_long_project_fits_the_window_and_keeps_what_matters() {
        let (messages, history) = long_project();
        assert!(estimate(&messages) > 90_000, "{}", estimate(&messages));
        for window in [64_000, 32_000, 16_000] {
            let budget = budget(window, 8_192);
            let fitted = fit(&messages, history, budget);
            assert!(
                estimate(&fitted) <= budget,
                "window {window}: {} > {budget}",
                estimate(&fitted)
            );
            // The system prompt leads, the user's request is there, and
            // the last result is whole.
            assert!(fitted[0].content.starts_with("You build apps."));
            assert!(fitted
                .iter()
                .any(|m| m.role == Role::User && m.content.ends_with("Add a footer")));
            assert_eq!(fitted.last(), messages.last());
            // Every result still answers a call that is there, and every
            // call's arguments are JSON.
            for (index, message) in fitted.iter().enumerate() {
                if let Some(id) = &message.tool_call_id {
                    assert!(fitted[..index]
                        .iter()
                        .any(|m| m.tool_calls.iter().any(|call| &call.id == id)));
                }
                for call in &message.tool_calls {
                    serde_json::from_str::<serde_json::Value>(&call.arguments).unwrap();
                }
            }
        }
        // In a small window the earlier turns are summarised, newest kept.
        let fitted = fit(&messages, history, budget(16_000, 8_192));
        assert!(fitted[0].content.contains("Earlier in this chat"));
        assert!(fitted[0].content.contains("earlier messages)"));
        assert!(fitted[0].content.contains("Turn 99 done."));
    }

    #[test]
    fn what_fits_is_sent_as_it_is() {
        let messages = vec![
            ChatMessage::system("Build."),
            ChatMessage::user("Earlier"),
            ChatMessage::assistant("Done earlier", Vec::new()),
            ChatMessage::user("The project's files now:\nindex.html\n\nMake it blue"),
        ];
        assert_eq!(fit(&messages, 2, 10_000), messages);
    }

    #[test]
    fn earlier_steps_are_shortened_before_earlier_turns() {
        let (messages, history) = long_project();
        // Enough room for the history, not for every step's file.
        let room = estimate(&messages[..=history + 1]) + 20_000;
        let fitted = fit(&messages, history, room);
        assert!(estimate(&fitted) <= room);
        assert!(!fitted[0].content.contains("Earlier in this chat"));
        assert_eq!(fitted.len(), messages.len());
        assert!(fitted[history + 2].tool_calls[0]
            .arguments
            .contains("written earlier in this turn"));
        // The last steps are whole.
        assert_eq!(fitted[fitted.len() - 2], messages[messages.len() - 2]);
    }

    #[test]
    fn a_long_file_list_is_cut() {
        let files: Vec<String> = (0..500).map(|n| format!("f{n}.txt")).collect();
        let text = format!("The project's files now:\n{}\n\nGo", files.join("\n"));
        let cut = cut_file_list(&text);
        assert!(cut.contains("f199.txt") && !cut.contains("f200.txt"));
        assert!(cut.contains("… and 300 more files (list_files shows them)"));
        assert!(cut.ends_with("\n\nGo"));
    }
}
