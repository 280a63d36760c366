//! "Ask AI" in the editor: a quick edit of one selection in one file. One
//! completion, no tools: the model sees the file with the selection marked
//! and the user's instruction, and answers with the selection rewritten;
//! the proposal is the file with that in its place, for the user to accept
//! or reject.

use super::{
    chat::{ChatMessage, ChatRequest},
    chat_provider::ChatProvider,
};

/// The longest instruction taken.
pub const MAX_INSTRUCTION: usize = 2000;
/// The most the model may write.
const MAX_TOKENS: u32 = 4096;
const START: &str = "<<<SELECTION>>>";
const END: &str = "<<<END SELECTION>>>";

const SYSTEM: &str = "You are Ollio's inline code editor. The user selected part of a file and asks for a change to it. Rewrite only the selected part, keeping its indentation and the code around it working. Answer with the rewritten selection alone, in one fenced code block, with no explanation.";

/// Why no proposal came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefineError {
    #[error("Say what to change.")]
    NoInstruction,
    #[error("The instruction is too long (at most {MAX_INSTRUCTION} characters).")]
    LongInstruction,
    #[error("The selection is not in the file any more: select it again.")]
    BadSelection,
    #[error("The model could not be asked: {0}")]
    Model(String),
}

/// A selection, as the browser's editor counts: UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub from: usize,
    pub to: usize,
}

/// The byte range of `selection` in `text`.
pub fn byte_range(text: &str, selection: Selection) -> Result<std::ops::Range<usize>, RefineError> {
    let (mut units, mut from, mut to) = (0usize, None, None);
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '\0')))
    {
        if units == selection.from {
            from = Some(at);
        }
        if units == selection.to {
            to = Some(at);
            break;
        }
        units += c.len_utf16();
    }
    match (from, to) {
        (Some(from), Some(to)) if from <= to => Ok(from..to),
        _ => Err(RefineError::BadSelection),
    }
}

/// The request for rewriting `range` of `text` (the file `path`) as
/// `instruction` says.
pub fn request(
    model: &str,
    path: &str,
    text: &str,
    range: std::ops::Range<usize>,
    instruction: &str,
) -> ChatRequest {
    let marked = format!(
        "{}{START}{}{END}{}",
        &text[..range.start],
        &text[range.clone()],
        &text[range.end..]
    );
    let user = format!(
        "File: {path}\n\n{marked}\n\nThe selection is between {START} and {END}.\nInstruction: {instruction}"
    );
    ChatRequest {
        model: model.to_owned(),
        messages: vec![ChatMessage::system(SYSTEM), ChatMessage::user(user)],
        tools: Vec::new(),
        max_tokens: MAX_TOKENS,
    }
}

/// The rewritten selection in the model's `answer`: its first fenced code
/// block, else the answer itself.
pub fn replacement(answer: &str) -> String {
    let Some(start) = answer.find("```") else {
        return answer.trim_matches('\n').to_owned();
    };
    let after_fence = &answer[start + 3..];
    // The fence's language tag, up to its line's end.
    let body = after_fence
        .split_once('\n')
        .map_or(after_fence, |(_, body)| body);
    let body = body.split("```").next().unwrap_or(body);
    body.strip_suffix('\n').unwrap_or(body).to_owned()
}

/// Asks `provider` to rewrite `selection` of `text` as `instruction` says;
/// the whole file with the rewrite in place.
pub async fn propose(
    provider: &dyn ChatProvider,
    model: &str,
    path: &str,
    text: &str,
    selection: Selection,
    instruction: &str,
) -> Result<String, RefineError> {
    let instruction = instruction.trim();
    if instruction.is_empty() {
        return Err(RefineError::NoInstruction);
    }
    if instruction.chars().count() > MAX_INSTRUCTION {
        return Err(RefineError::LongInstruction);
    }
    let range = byte_range(text, selection)?;
    let request = request(model, path, text, range.clone(), instruction);
    let answer = provider
        .complete(&request, &mut |_| {})
        .await
        .map_err(|error| RefineError::Model(error.to_string()))?;
    let mut proposed = String::with_capacity(text.len());
    proposed.push_str(&text[..range.start]);
    proposed.push_str(&replacement(&answer.text));
    proposed.push_str(&text[range.end..]);
    Ok(proposed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_counts_as_the_browser_does() {
        let text = "é😀ab";
        // é is 1 unit, 😀 is 2: "ab" starts at unit 3.
        assert_eq!(byte_range(text, Selection { from: 3, to: 5 }), Ok(6..8));
        assert_eq!(byte_range(text, Selection { from: 0, to: 0 }), Ok(0..0));
        assert_eq!(
            &text[byte_range(text, Selection { from: 1, to: 3 }).unwrap()],
            "😀"
        );
        assert_eq!(
            byte_range(text, Selection { from: 2, to: 3 }),
            Err(RefineError::BadSelection),
            "inside a surrogate pair"
        );
        assert_eq!(
            byte_range(text, Selection { from: 1, to: 9 }),
            Err(RefineError::BadSelection)
        );
    }

    #[test]
    fn the_rewrite_is_the_answer_s_code_block() {
        assert_eq!(replacement("```html\n<h1>Hi</h1>\n```"), "<h1>Hi</h1>");
        assert_eq!(replacement("Sure:\n```\n  a\n  b\n```\nDone."), "  a\n  b");
        assert_eq!(replacement("plain text\n"), "plain text");
        let asked = request(
            "m",
            "a.js",
            "let a = 1;\nlet b = 2;\n",
            11..21,
            "rename b to c",
        );
        let user = &asked.messages[1].content;
        assert!(
            user.contains("let a = 1;\n<<<SELECTION>>>let b = 2;<<<END SELECTION>>>\n"),
            "{user}"
        );
        assert!(user.ends_with("Instruction: rename b to c"));
        assert!(asked.tools.is_empty());
    }
}
