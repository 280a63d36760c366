//! One turn of the agent: the model and the tools take turns until the
//! model answers without tool calls (that answer is the summary), within a
//! step limit and a wall-clock limit, and stoppable at any moment. Then a
//! separate short request, without tools, names the version.
//!
//! The turn knows nothing of jobs or the database: it reads a prepared
//! prompt, works on a sandbox's envd and reports its steps as
//! [`TurnEvent`]s. A model request that fails in a way that may pass (429,
//! 5xx, timeouts, cut streams) is tried again here, honouring
//! `Retry-After`, before the turn gives up.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{
    chat::{ChatMessage, ChatRequest, Completion, Image, ToolCall, Usage},
    chat_provider::{ChatProvider, ProviderError},
    check::AppCheck,
    context,
    text_protocol::{self, Action},
    tools::{self, EventSink, ToolCallArgs, ToolRunner},
};
use ollio_domain::{errors_text, CheckProblem, TurnEvent};
use ollio_sandbox::Envd;

/// How long a stopped turn's tools get to end what they started.
const STOP_GRACE: Duration = Duration::from_millis(800);

/// The system prompt of the title request (the scripted model server knows
/// a title request by it).
pub const TITLE_PROMPT: &str = "You name versions of an app. Answer with a title of at most \
five words, nothing else: no quotes, no punctuation at the end.";

#[derive(Debug, Clone, Copy)]
pub struct TurnLimits {
    /// Model requests that may ask for tools (`OLLIO_MAX_STEPS`).
    pub max_steps: u32,
    pub wall_clock: Duration,
    pub max_tokens: u32,
    /// Tries of one model request, the first included.
    pub model_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Rounds in which the model is given what the check found
    /// (`OLLIO_FIX_ATTEMPTS`).
    pub fix_attempts: u32,
    /// Tokens (read and written) one turn may use (`OLLIO_TURN_TOKENS`):
    /// at 80% the model is told to wrap up; at 100% the turn ends with
    /// what it made.
    pub turn_tokens: u64,
}

impl Default for TurnLimits {
    fn default() -> Self {
        Self {
            max_steps: 20,
            wall_clock: Duration::from_secs(15 * 60),
            max_tokens: 8192,
            model_attempts: 4,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            fix_attempts: 2,
            turn_tokens: 400_000,
        }
    }
}

/// What a turn starts from.
#[derive(Debug, Clone)]
pub struct TurnInput {
    pub model: String,
    /// The template's system prompt.
    pub system_prompt: String,
    /// Earlier user messages and assistant summaries, oldest first.
    pub history: Vec<ChatMessage>,
    /// The project's files now, one per line, for the model's bearings.
    pub files: Vec<String>,
    pub message: String,
    /// Images attached to the message, for a model that takes images.
    pub images: Vec<Image>,
    /// `false` for models without tool calling: the text protocol instead.
    pub tool_calling: bool,
    /// The model's context window in tokens: each request is fitted into it
    /// (`context::fit`).
    pub context_tokens: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    pub summary: String,
    pub title: String,
    pub usage: Usage,
    /// Model requests made, the title's included.
    pub requests: u32,
    /// Whether the app was checked before the turn ended.
    pub checked: bool,
    /// What the last check still found: nothing when it passed.
    pub problems: Vec<CheckProblem>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the model was still working after {0} steps; ask for a smaller change")]
    TooManySteps(u32),
    #[error("the turn took longer than {} minutes", .0.as_secs() / 60)]
    TooLong(Duration),
    #[error("stopped")]
    Cancelled,
}

impl TurnError {
    /// Whether running the turn again later may succeed (the job retries it).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Provider(error) if error.is_transient())
    }
}

/// Runs a turn to its end, its limit or its cancellation. Work done before
/// a stop stays in the sandbox.
pub async fn run_turn(
    provider: &dyn ChatProvider,
    envd: &Envd,
    input: &TurnInput,
    limits: TurnLimits,
    events: &EventSink,
    cancel: &CancellationToken,
) -> Result<TurnOutcome, TurnError> {
    run_checked_turn(provider, envd, input, limits, events, cancel, None).await
}

/// [`run_turn`], then `check` before it ends: what it finds goes back to
/// the model, as found, for at most `limits.fix_attempts` rounds.
pub async fn run_checked_turn(
    provider: &dyn ChatProvider,
    envd: &Envd,
    input: &TurnInput,
    limits: TurnLimits,
    events: &EventSink,
    cancel: &CancellationToken,
    check: Option<&AppCheck>,
) -> Result<TurnOutcome, TurnError> {
    // Tools stop on this; the turn itself is dropped a moment later.
    let stop = cancel.child_token();
    let work = async {
        let mut turn = Turn::new(provider, envd, input, limits, events, &stop, false);
        let mut messages = turn.first_messages();
        let mut summary = turn.work(&mut messages).await?;
        let mut problems = Vec::new();
        if let Some(check) = check {
            problems = check.run(events, turn.last_write).await;
            for attempt in 1..=limits.fix_attempts {
                // No budget is left for a fixing round.
                if problems.is_empty() || turn.spent {
                    break;
                }
                let _ = events.send(TurnEvent::FixStarted {
                    attempt,
                    errors: problems.len(),
                });
                messages.push(ChatMessage::assistant(summary.clone(), Vec::new()));
                messages.push(ChatMessage::user(fix_request(&problems)));
                summary = turn.work(&mut messages).await?;
                problems = check.run(events, turn.last_write).await;
            }
        }
        let title = if turn.spent {
            clean_title(&input.message)
        } else {
            turn.title(&summary).await
        };
        Ok(turn.outcome(summary, title, check.is_some(), problems))
    };
    bounded(work, &stop, cancel, limits.wall_clock).await
}

/// A turn that only reads (Plan and Ask): the model is offered
/// `read_files` and `list_files`, anything else it calls is refused, and
/// nothing is checked or titled. Its answer is the outcome's summary.
pub async fn run_read_only_turn(
    provider: &dyn ChatProvider,
    envd: &Envd,
    input: &TurnInput,
    limits: TurnLimits,
    events: &EventSink,
    cancel: &CancellationToken,
) -> Result<TurnOutcome, TurnError> {
    let stop = cancel.child_token();
    let work = async {
        let mut turn = Turn::new(provider, envd, input, limits, events, &stop, true);
        let mut messages = turn.first_messages();
        let summary = turn.work(&mut messages).await?;
        Ok(turn.outcome(summary, String::new(), false, Vec::new()))
    };
    bounded(work, &stop, cancel, limits.wall_clock).await
}

/// Runs `work` until it ends, `cancel` fires or `wall_clock` passes; on a
/// stop, `stop` lets its tools end what they started first.
async fn bounded(
    work: impl std::future::Future<Output = Result<TurnOutcome, TurnError>>,
    stop: &CancellationToken,
    cancel: &CancellationToken,
    wall_clock: Duration,
) -> Result<TurnOutcome, TurnError> {
    tokio::pin!(work);
    let ended = tokio::select! {
        outcome = &mut work => return outcome,
        () = cancel.cancelled() => TurnError::Cancelled,
        () = tokio::time::sleep(wall_clock) => TurnError::TooLong(wall_clock),
    };
    // Let a running command be killed (it is, as soon as its process is
    // known), then leave whatever else was under way.
    stop.cancel();
    let _ = tokio::time::timeout(STOP_GRACE, &mut work).await;
    Err(ended)
}

struct Turn<'a> {
    provider: &'a dyn ChatProvider,
    runner: ToolRunner<'a>,
    input: &'a TurnInput,
    limits: TurnLimits,
    events: &'a EventSink,
    usage: Usage,
    requests: u32,
    /// When a file was last written or edited: the check gives the app a
    /// moment after it.
    last_write: Option<std::time::Instant>,
    /// Files written or edited so far.
    writes: u32,
    /// The model was asked once to use its tools instead of showing code.
    reminded: bool,
    /// A plan or an answer: the turn may only read.
    read_only: bool,
    /// The model was told that 80% of the token budget is used.
    warned: bool,
    /// The token budget is used up: no more model requests.
    spent: bool,
}

impl<'a> Turn<'a> {
    fn new(
        provider: &'a dyn ChatProvider,
        envd: &'a Envd,
        input: &'a TurnInput,
        limits: TurnLimits,
        events: &'a EventSink,
        stop: &CancellationToken,
        read_only: bool,
    ) -> Self {
        Self {
            provider,
            runner: ToolRunner {
                envd,
                events,
                stop: stop.clone(),
            },
            input,
            limits,
            events,
            usage: Usage::default(),
            requests: 0,
            last_write: None,
            writes: 0,
            reminded: false,
            read_only,
            warned: false,
            spent: false,
        }
    }

    /// How the turn ended, with what it used.
    fn outcome(
        &self,
        summary: String,
        title: String,
        checked: bool,
        problems: Vec<CheckProblem>,
    ) -> TurnOutcome {
        TurnOutcome {
            summary,
            title,
            usage: self.usage,
            requests: self.requests,
            checked,
            problems,
        }
    }

    fn first_messages(&self) -> Vec<ChatMessage> {
        let mut system = self.input.system_prompt.clone();
        // The text protocol's blocks all change something: a turn that only
        // reads answers in prose.
        if !self.input.tool_calling && !self.read_only {
            system.push_str("\n\n");
            system.push_str(text_protocol::INSTRUCTIONS);
        }
        let mut messages = vec![ChatMessage::system(system)];
        messages.extend(self.input.history.iter().cloned());
        let files = if self.input.files.is_empty() {
            "The project has no files yet.".to_owned()
        } else {
            format!("The project's files now:\n{}", self.input.files.join("\n"))
        };
        messages.push(ChatMessage::user_with_images(
            format!("{files}\n\n{}", self.input.message),
            self.input.images.clone(),
        ));
        messages
    }

    /// The model ↔ tools loop, going on from `messages`; the summary when
    /// the model is done.
    async fn work(&mut self, messages: &mut Vec<ChatMessage>) -> Result<String, TurnError> {
        let writes_before = self.writes;
        for _ in 0..self.limits.max_steps {
            if self.runner.stop.is_cancelled() {
                return Err(TurnError::Cancelled);
            }
            let tools = match (self.input.tool_calling, self.read_only) {
                (false, _) => Vec::new(),
                (true, false) => tools::specs(),
                (true, true) => tools::read_only_specs(),
            };
            let completion = self.complete(messages.clone(), tools).await?;
            if self.input.tool_calling {
                if completion.tool_calls.is_empty() {
                    if self.code_instead_of_tools(&completion.text, writes_before, messages) {
                        continue;
                    }
                    return Ok(summary_of(&completion.text));
                }
                messages.push(ChatMessage::assistant(
                    completion.text.clone(),
                    completion.tool_calls.clone(),
                ));
                for call in &completion.tool_calls {
                    let result = self.call_tool(call).await;
                    messages.push(ChatMessage::tool(call.id.clone(), result));
                }
                if let Some(stopped) = self.mind_the_budget(messages) {
                    return Ok(stopped);
                }
            } else if self.read_only {
                return Ok(summary_of(&completion.text));
            } else {
                let parsed = text_protocol::parse(&completion.text);
                if parsed.actions.is_empty() {
                    if self.code_instead_of_tools(&completion.text, writes_before, messages) {
                        continue;
                    }
                    return Ok(summary_of(&parsed.prose));
                }
                messages.push(ChatMessage::assistant(completion.text.clone(), Vec::new()));
                let mut results = String::from(text_protocol::RESULTS_HEADER);
                for action in parsed.actions {
                    results.push_str(&self.text_action(action).await);
                    results.push('\n');
                }
                messages.push(ChatMessage::user(results));
                if let Some(stopped) = self.mind_the_budget(messages) {
                    return Ok(stopped);
                }
            }
        }
        Err(TurnError::TooManySteps(self.limits.max_steps))
    }

    /// After a step's tools ran: at 80% of the token budget the model is
    /// told (in the step's last result) to wrap up; at 100% the turn ends
    /// here, its work kept, with a summary that says so.
    fn mind_the_budget(&mut self, messages: &mut [ChatMessage]) -> Option<String> {
        let budget = self.limits.turn_tokens;
        let used = self.usage.input_tokens + self.usage.output_tokens;
        if used >= budget {
            self.spent = true;
            let _ = self.events.send(TurnEvent::BudgetSpent { used, budget });
            return Some(budget_summary(budget));
        }
        if !self.warned && used.saturating_mul(5) >= budget.saturating_mul(4) {
            self.warned = true;
            let _ = self.events.send(TurnEvent::BudgetNear { used, budget });
            if let Some(last) = messages.last_mut() {
                last.content.push_str("\n\n");
                last.content.push_str(WRAP_UP);
            }
        }
        None
    }

    async fn call_tool(&mut self, call: &ToolCall) -> String {
        let outcome = match tools::parse_call(&call.name, &call.arguments) {
            Ok(args) => self.run(args).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(result) => result,
            Err(error) => format!("Error: {error}"),
        }
    }

    /// A small or local model's usual slip: it answers with code in the
    /// chat and changes no file. It is asked, once a turn, to use its tools
    /// (or the tagged blocks); `true` when it was.
    fn code_instead_of_tools(
        &mut self,
        text: &str,
        writes_before: u32,
        messages: &mut Vec<ChatMessage>,
    ) -> bool {
        if self.read_only || self.reminded || self.writes > writes_before || !has_code_block(text) {
            return false;
        }
        self.reminded = true;
        let _ = self.events.send(TurnEvent::ToolsReminded);
        messages.push(ChatMessage::assistant(text.to_owned(), Vec::new()));
        let how = if self.input.tool_calling {
            "Call write_files (new files, whole rewrites) or edit_file (changes) now"
        } else {
            "Write each file in a <file path=\"…\">…</file> block (or change it with an <edit> block) now"
        };
        messages.push(ChatMessage::user(format!("{USE_TOOLS} {how}.")));
        true
    }

    /// Runs a checked call, noting when it changed files.
    async fn run(&mut self, call: ToolCallArgs) -> Result<String, tools::ToolError> {
        if self.read_only && !call.reads_only() {
            return Err(tools::ToolError(READ_ONLY.into()));
        }
        let writes = matches!(
            call,
            ToolCallArgs::WriteFiles(_) | ToolCallArgs::EditFile { .. }
        );
        let outcome = self.runner.run(call).await;
        if writes {
            self.last_write = Some(std::time::Instant::now());
            self.writes += 1;
        }
        outcome
    }

    async fn text_action(&mut self, action: Action) -> String {
        let (label, call) = match action {
            Action::WriteFile { path, content, cut } => {
                if cut {
                    return format!("{path}: the block was cut off; write the whole file again");
                }
                (
                    path.clone(),
                    tools::project_path(&path).map(|path| {
                        ToolCallArgs::WriteFiles(vec![tools::FileArg { path, content }])
                    }),
                )
            }
            Action::EditFile { path, edits, cut } => {
                if cut {
                    return format!(
                        "{path}: the edit block was cut off; nothing was changed, send it again"
                    );
                }
                if edits.is_empty() {
                    return format!(
                        "{path}: the edit block holds no <old>…</old><new>…</new> pair; nothing was changed"
                    );
                }
                let edits = edits
                    .into_iter()
                    .map(|(old, new)| super::edit_file::Edit { old, new })
                    .collect();
                (
                    path.clone(),
                    tools::project_path(&path).map(|path| ToolCallArgs::EditFile { path, edits }),
                )
            }
            Action::Command { command, cut } => {
                if cut {
                    return format!("{command}: the block was cut off; it did not run");
                }
                (
                    command.clone(),
                    Ok(ToolCallArgs::Terminal {
                        command,
                        timeout_ms: 60_000,
                    }),
                )
            }
        };
        let outcome = match call {
            Ok(call) => self.run(call).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(result) => format!("{label}: {result}"),
            Err(error) => format!("{label}: Error: {error}"),
        }
    }

    /// One model request, tried again on failures that may pass.
    async fn complete(
        &mut self,
        messages: Vec<ChatMessage>,
        tools: Vec<super::chat::ToolSpec>,
    ) -> Result<Completion, TurnError> {
        let budget = context::budget(self.input.context_tokens, self.limits.max_tokens);
        let request = ChatRequest {
            model: self.input.model.clone(),
            messages: context::fit(&messages, self.input.history.len(), budget),
            tools,
            max_tokens: self.limits.max_tokens,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.provider.complete(&request, &mut |_| {}).await {
                Ok(completion) => {
                    self.requests += 1;
                    self.usage.input_tokens += completion.usage.input_tokens;
                    self.usage.output_tokens += completion.usage.output_tokens;
                    let _ = self.events.send(TurnEvent::ModelRequest {
                        model: self.input.model.clone(),
                        input_tokens: completion.usage.input_tokens,
                        output_tokens: completion.usage.output_tokens,
                    });
                    return Ok(completion);
                }
                Err(error) if error.is_transient() && attempt < self.limits.model_attempts => {
                    let wait = match &error {
                        ProviderError::RateLimited {
                            retry_after: Some(wait),
                        } => *wait,
                        _ => self.limits.retry_base * 2u32.saturating_pow(attempt - 1),
                    }
                    .min(self.limits.retry_max);
                    let _ = self.events.send(TurnEvent::Retrying {
                        reason: error.to_string(),
                        wait_ms: wait.as_millis() as u64,
                    });
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// A version title of at most five words, from a request without
    /// tools; the user's own words if the model cannot give one.
    async fn title(&mut self, summary: &str) -> String {
        let messages = vec![
            ChatMessage::system(TITLE_PROMPT),
            ChatMessage::user(format!(
                "The request: {}\n\nWhat was done: {summary}",
                self.input.message
            )),
        ];
        let request = ChatRequest {
            model: self.input.model.clone(),
            messages,
            tools: Vec::new(),
            max_tokens: 32,
        };
        let answer = match self.provider.complete(&request, &mut |_| {}).await {
            Ok(completion) => {
                self.requests += 1;
                self.usage.input_tokens += completion.usage.input_tokens;
                self.usage.output_tokens += completion.usage.output_tokens;
                completion.text
            }
            Err(_) => String::new(),
        };
        let title = clean_title(&answer);
        if title.is_empty() {
            clean_title(&self.input.message)
        } else {
            title
        }
    }
}

/// What the model is told when the check found problems: each exactly as
/// found (message, file and line, the traceback or log's tail).
pub fn fix_request(problems: &[CheckProblem]) -> String {
    let mut text = format!(
        "The check after your work found {} in the app. Fix them in the project's files, then \
answer again without tools, with a new <task_summary>.\n",
        errors_text(problems.len())
    );
    for problem in problems {
        text.push('\n');
        text.push_str(&problem.for_model());
        text.push('\n');
    }
    text
}

/// What the model is told at 80% of the turn's token budget (the scripted
/// model server knows it by its first words).
pub const WRAP_UP: &str = "This turn has used 80% of its token budget. Finish the change you \
are making in as few steps as you can, then answer without tools, with a <task_summary>.";

/// The answer of a turn that used its whole token budget.
pub fn budget_summary(budget: u64) -> String {
    format!(
        "This turn used its whole budget of {} and stopped before the model had finished. \
What it made so far is saved as this version: send a message to go on from there.",
        ollio_domain::tokens_text(budget)
    )
}

/// What a plan or ask turn's model is told when it calls a tool that would
/// change something.
pub const READ_ONLY: &str = "This turn only reads the project: files cannot be written or \
edited and commands cannot run. Read what you need with read_files and list_files, then answer \
in words.";

/// What a model is told when its answer put code in the chat instead of
/// into the project's files (the scripted model server knows it by this).
pub const USE_TOOLS: &str = "Your answer put code in the chat, where the user never sees it, and \
changed no file. Put it into the project's files with your tools instead.";

/// Whether `text` holds a fenced code block.
fn has_code_block(text: &str) -> bool {
    text.lines()
        .any(|line| line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~"))
}

/// `text` without its fenced code blocks (an unclosed one runs to the end):
/// code never shows in the chat.
pub fn without_code(text: &str) -> String {
    let mut kept = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match fence {
            Some(open) if trimmed.starts_with(open) => fence = None,
            Some(_) => {}
            None if trimmed.starts_with("```") => fence = Some("```"),
            None if trimmed.starts_with("~~~") => fence = Some("~~~"),
            None => kept.push(line),
        }
    }
    let mut out = kept.join("\n");
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// The chat's summary of a final answer: its `<task_summary>` (the chat
/// renders it without code blocks); said plainly when it is nothing but code.
fn summary_of(text: &str) -> String {
    if strip_summary(&without_code(text)).trim().is_empty() && has_code_block(text) {
        return "The model answered with code only, which the chat does not show; no file was changed by it.".to_owned();
    }
    strip_summary(text)
}

/// The summary without a `<task_summary>` wrapper, if it has one.
pub fn strip_summary(text: &str) -> String {
    let trimmed = text.trim();
    if let Some(start) = trimmed.find("<task_summary>") {
        let inner = &trimmed[start + "<task_summary>".len()..];
        let inner = inner.split("</task_summary>").next().unwrap_or(inner);
        return inner.trim().to_owned();
    }
    trimmed.to_owned()
}

/// At most five words of the first line, without quotes or a final stop.
pub fn clean_title(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    let line = line
        .trim_start_matches(|c: char| "#*\"'`“”‘’".contains(c))
        .trim_start_matches("Title:")
        .trim();
    let words: Vec<&str> = line.split_whitespace().take(5).collect();
    words
        .join(" ")
        .trim_end_matches(|c: char| ".!?,;:\"'`“”‘’*".contains(c))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_wrapper_is_stripped() {
        assert_eq!(
            strip_summary("Done.\n<task_summary>\nBuilt a login form.\n</task_summary>"),
            "Built a login form."
        );
        assert_eq!(strip_summary("  Plain answer. "), "Plain answer.");
        assert_eq!(strip_summary("<task_summary>cut off"), "cut off");
    }

    #[test]
    fn code_blocks_never_reach_the_summary() {
        let text = "Here it is:\n\n```html\n<h1>Hi</h1>\n```\n\nSave it as index.html.";
        assert!(has_code_block(text));
        assert_eq!(without_code(text), "Here it is:\n\nSave it as index.html.");
        assert_eq!(without_code("a\n~~~\nx\n~~~\nb"), "a\nb");
        // An unclosed fence runs to the end.
        assert_eq!(without_code("a\n```js\nlet x"), "a");
        assert!(summary_of("```\nonly code\n```").starts_with("The model answered with code only"));
        // Prose with code stays: the chat's renderer leaves the code out.
        assert_eq!(
            summary_of("<task_summary>Done.\n```css\nh1{}\n```\n</task_summary>"),
            "Done.\n```css\nh1{}\n```"
        );
        assert!(!has_code_block("No code, just `inline` words."));
    }

    #[test]
    fn titles_are_at_most_five_words() {
        assert_eq!(clean_title("\"Dark Login Form.\""), "Dark Login Form");
        assert_eq!(
            clean_title("Title: A very long title that goes on\nmore"),
            "A very long title that"
        );
        assert_eq!(clean_title("\n\n"), "");
    }
}
