//! Turns end to end: the real OpenAI-compatible and Anthropic wire
//! protocols against the scripted model server over HTTP, and the tools
//! against a real sandbox of the bundled daemon.

use std::{path::PathBuf, time::Duration};

use ollio_agent::{
    anthropic::Anthropic,
    chat_provider::{ChatProvider, SecretKey},
    openai::OpenAiCompatible,
    tools::{ToolCallArgs, ToolRunner},
    turn::{run_turn, TurnError, TurnInput, TurnLimits, TurnOutcome},
};
use ollio_domain::TurnEvent;
use ollio_sandbox::Envd;
use ollio_testkit::{ScriptedServer, TestDaemon};

use crate::{support::memory::peak_kb, GUEST};
use tokio_util::sync::CancellationToken;

fn openai(server: &ScriptedServer) -> OpenAiCompatible {
    OpenAiCompatible::new(
        reqwest::Client::new(),
        server.openai_base_url(),
        Some(SecretKey::new("sk-test")),
    )
}

fn anthropic(server: &ScriptedServer) -> Anthropic {
    Anthropic::new(
        reqwest::Client::new(),
        server.anthropic_base_url(),
        SecretKey::new("sk-ant-test"),
    )
}

fn input(script: &str, message: &str) -> TurnInput {
    TurnInput {
        model: script.into(),
        system_prompt: "You build static web apps.".into(),
        history: Vec::new(),
        files: Vec::new(),
        message: message.into(),
        images: Vec::new(),
        tool_calling: true,
        context_tokens: ollio_agent::context::DEFAULT_CONTEXT_TOKENS,
    }
}

fn limits() -> TurnLimits {
    TurnLimits {
        retry_base: Duration::from_millis(10),
        ..TurnLimits::default()
    }
}

/// A scripted model server and a sandbox of a fresh daemon.
struct Stage {
    server: ScriptedServer,
    daemon: TestDaemon,
    sandbox: ollio_sandbox::Sandbox,
    envd: Envd,
}

impl Stage {
    async fn new(template: &str) -> Self {
        let server = ScriptedServer::for_tests().await;
        let daemon = TestDaemon::start(GUEST).await;
        let (sandbox, envd) = daemon.sandbox(template).await;
        Self {
            server,
            daemon,
            sandbox,
            envd,
        }
    }

    /// Runs a turn over the OpenAI-compatible protocol.
    async fn run(
        &self,
        input: &TurnInput,
        limits: TurnLimits,
    ) -> (Result<TurnOutcome, TurnError>, Vec<TurnEvent>) {
        let provider = openai(&self.server);
        turn(
            &provider,
            &self.envd,
            input,
            limits,
            &CancellationToken::new(),
        )
        .await
    }

    /// The sandbox's home folder on the host.
    fn home(&self) -> PathBuf {
        self.daemon.home_of(&self.sandbox.id)
    }
}

/// Runs a turn, collecting its events.
async fn turn(
    provider: &dyn ChatProvider,
    envd: &Envd,
    input: &TurnInput,
    limits: TurnLimits,
    cancel: &CancellationToken,
) -> (Result<TurnOutcome, TurnError>, Vec<TurnEvent>) {
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let outcome = run_turn(provider, envd, input, limits, &events, cancel).await;
    drop(events);
    let mut all = Vec::new();
    while let Some(event) = received.recv().await {
        all.push(event);
    }
    (outcome, all)
}

/// The tool results the model was sent in the last request (OpenAI shape).
fn tool_results(server: &ScriptedServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .rev()
        .find(|request| request["tools"].is_array())
        .and_then(|request| request["messages"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| message["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn three_file_app(provider: &dyn ChatProvider) {
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("static").await;
    let (outcome, events) = turn(
        provider,
        &envd,
        &input("three-files", "A friendly greeting page"),
        limits(),
        &CancellationToken::new(),
    )
    .await;
    let outcome = outcome.expect("the turn ends");
    assert_eq!(
        outcome.summary,
        "Built a static greeting page with its own style and script."
    );
    assert_eq!(outcome.title, "Friendly Greeting Page");
    assert_eq!(outcome.usage.input_tokens, 900 + 1100 + 1300);
    assert_eq!(outcome.usage.output_tokens, 120 + 20 + 30);
    assert_eq!(outcome.requests, 4);

    let written: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            TurnEvent::FileWritten { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(written, ["index.html", "style.css", "app.js"]);
    assert!(events.contains(&TurnEvent::CommandStarted {
        command: "ls -1 && wc -c index.html".into()
    }));
    assert!(events.contains(&TurnEvent::CommandExited { exit_code: 0 }));
    let output: String = events
        .iter()
        .filter_map(|event| match event {
            TurnEvent::Output { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        output.contains("app.js") && output.contains("index.html"),
        "{output}"
    );

    let (client, origin) = daemon.preview_client(&sandbox.id, 3000);
    let page = client.get(format!("{origin}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Hello from Ollio"));
    let style = client
        .get(format!("{origin}/style.css"))
        .send()
        .await
        .unwrap();
    assert!(style.text().await.unwrap().contains("#10131a"));
}

#[tokio::test]
async fn a_three_file_static_app_is_built_through_openai_compatible_streaming() {
    let server = ScriptedServer::for_tests().await;
    three_file_app(&openai(&server)).await;
    // Fragmented arguments were reassembled: the model got the files' report.
    assert!(tool_results(&server)
        .iter()
        .any(|result| result.contains("Wrote 3 file(s)")));
}

#[tokio::test]
async fn a_three_file_static_app_is_built_through_anthropic_streaming() {
    let server = ScriptedServer::for_tests().await;
    three_file_app(&anthropic(&server)).await;
    let last = server
        .requests()
        .into_iter()
        .rev()
        .find(|request| request["tools"].is_array())
        .unwrap();
    // Tool results went back as tool_result blocks.
    assert!(last["messages"].to_string().contains("tool_result"));
}

#[tokio::test]
async fn parallel_tool_calls_all_run_and_are_answered_in_order() {
    let stage = Stage::new("base").await;
    let (outcome, _) = stage.run(&input("parallel", "two notes"), limits()).await;
    assert_eq!(outcome.unwrap().summary, "Wrote two notes at once.");
    let home = stage.home();
    assert_eq!(
        std::fs::read_to_string(home.join("notes/a.txt")).unwrap(),
        "alpha"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("notes/b.txt")).unwrap(),
        "beta"
    );
    let results = tool_results(&stage.server);
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results[0].contains("notes/a.txt"));
    assert!(results[1].contains("notes/b.txt"));
    assert!(
        results[2].contains("notes/a.txt (5 bytes)"),
        "{}",
        results[2]
    );
}

#[tokio::test]
async fn rate_limits_cut_streams_and_outages_are_retried() {
    let server = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    // The script's failures are served once per server: the first provider
    // meets all three (a 429, a cut stream, a 503), the second none.
    for (provider, expected) in [
        (&openai(&server) as &dyn ChatProvider, 3),
        (&anthropic(&server), 0),
    ] {
        let (outcome, events) = turn(
            provider,
            &envd,
            &input("flaky", "steady"),
            limits(),
            &CancellationToken::new(),
        )
        .await;
        let outcome = outcome.expect("retries carry the turn through");
        assert!(outcome.summary.starts_with("Done despite"));
        let retries = events
            .iter()
            .filter(|event| matches!(event, TurnEvent::Retrying { .. }))
            .count();
        assert_eq!(retries, expected);
    }
    assert_eq!(
        std::fs::read_to_string(daemon.home_of(&sandbox.id).join("index.html")).unwrap(),
        "<p>steady</p>"
    );
    // 3 failed tries, 2 steps and the title, then 2 steps and the title.
    assert_eq!(server.requests().len(), 3 + 3 + 3);
}

#[tokio::test]
async fn a_provider_that_keeps_failing_ends_the_turn_with_a_retryable_error() {
    let stage = Stage::new("base").await;
    let (outcome, _) = stage
        .run(
            &input("flaky", "steady"),
            TurnLimits {
                model_attempts: 1,
                ..limits()
            },
        )
        .await;
    let error = outcome.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn malformed_arguments_and_paths_outside_the_project_are_told_to_the_model() {
    let stage = Stage::new("base").await;
    let (outcome, _) = stage.run(&input("mistakes", "a page"), limits()).await;
    assert_eq!(outcome.unwrap().summary, "Fixed my own mistakes.");
    let results = tool_results(&stage.server);
    assert!(
        results[0].starts_with("Error:") && results[0].contains("not valid JSON"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("leaves the project root"),
        "{}",
        results[1]
    );
    assert!(
        results[2].contains("relative to the project root"),
        "{}",
        results[2]
    );
    assert!(results[3].contains("Wrote 1 file(s)"));
    let home = stage.home();
    assert_eq!(
        std::fs::read_to_string(home.join("index.html")).unwrap(),
        "<p>fixed</p>"
    );
    assert!(!home.parent().unwrap().join("escape.txt").exists());
}

#[tokio::test]
async fn stop_ends_the_turn_within_a_second_and_keeps_what_was_written() {
    let server = ScriptedServer::for_tests().await;
    let daemon = TestDaemon::start(GUEST).await;
    let (sandbox, envd) = daemon.sandbox("base").await;
    let cancel = CancellationToken::new();
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let provider = openai(&server);
    let input = input("stoppable", "stop me");
    let running = run_turn(&provider, &envd, &input, limits(), &events, &cancel);
    let stopper = async {
        while let Some(event) = received.recv().await {
            if matches!(event, TurnEvent::CommandStarted { .. }) {
                let asked = std::time::Instant::now();
                cancel.cancel();
                return asked;
            }
        }
        panic!("the command never started");
    };
    let (outcome, asked) = tokio::join!(running, stopper);
    assert_eq!(outcome.unwrap_err(), TurnError::Cancelled);
    assert!(asked.elapsed() < Duration::from_secs(1));
    assert_eq!(
        std::fs::read_to_string(daemon.home_of(&sandbox.id).join("kept.txt")).unwrap(),
        "written before the stop"
    );
    // And the command it was running was stopped too.
    let left = envd
        .run(
            &ollio_sandbox::Command::new("ps -eo args | grep -c '^sleep 3[0]' || true"),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "0");
}

#[tokio::test]
async fn a_model_that_never_finishes_stops_at_the_step_limit() {
    let stage = Stage::new("base").await;
    let (outcome, events) = stage
        .run(
            &input("endless", "loop"),
            TurnLimits {
                max_steps: 3,
                ..limits()
            },
        )
        .await;
    assert_eq!(outcome.unwrap_err(), TurnError::TooManySteps(3));
    let requests = events
        .iter()
        .filter(|event| matches!(event, TurnEvent::ModelRequest { .. }))
        .count();
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_model_without_tool_calling_builds_files_through_tagged_blocks() {
    let stage = Stage::new("base").await;
    let input = TurnInput {
        tool_calling: false,
        ..input("text-protocol", "a tiny page")
    };
    let (outcome, events) = stage.run(&input, limits()).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.summary, "All done: a tiny page.");
    assert_eq!(outcome.title, "Tiny Model Page");
    let home = stage.home();
    assert!(std::fs::read_to_string(home.join("index.html"))
        .unwrap()
        .contains("made by a tiny model"));
    assert!(!home.join("broken.html").exists(), "a cut block is not run");
    assert!(events.contains(&TurnEvent::CommandStarted {
        command: "cat index.html".into()
    }));
    let requests = stage.server.requests();
    assert!(requests
        .iter()
        .all(|request| request.get("tools").is_none()));
    let last = requests
        .iter()
        .rev()
        .find(|request| {
            request["model"] == "text-protocol"
                && request["messages"].to_string().contains("cut off")
        })
        .expect("the model was told its block was cut off");
    assert!(last["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("<file path="));
}

#[tokio::test]
async fn edit_file_changes_a_passage_that_matches_once_and_explains_the_rest() {
    let stage = Stage::new("base").await;
    let (outcome, events) = stage.run(&input("edits", "Fix the page"), limits()).await;
    outcome.unwrap();
    let page = std::fs::read_to_string(stage.home().join("index.html")).unwrap();
    assert_eq!(
        page,
        "<!doctype html>\n<html>\n<body>\n  <h1>Fresh Bakes</h1>\n  <p>Open daily, from 7.</p>\n</body>\n</html>\n"
    );
    // What the model read back for its second step's four calls: one
    // applied, none of the others touched the file.
    let requests = stage.server.requests();
    let third = requests
        .iter()
        .filter(|request| request["tools"].is_array())
        .nth(2)
        .expect("a third step");
    let results: Vec<String> = third["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| message["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(results.len(), 5, "{results:?}");
    assert!(
        results[1].starts_with("Edited index.html: 1 edit(s), +1 −1 lines"),
        "{}",
        results[1]
    );
    assert!(
        results[2].starts_with("Error: the edit of index.html: `old` matches nothing, so no edit was made. The nearest lines are:"),
        "{}",
        results[2]
    );
    assert!(
        results[2].contains("    4:   <h1>Fresh Bakes</h1>"),
        "{}",
        results[2]
    );
    assert_eq!(
        results[3],
        "Error: the edit of index.html: `old` matches 2 times (at lines 5, 6), so no edit was made; \
         include more of the lines around it so that it matches exactly once"
    );
    assert_eq!(
        results[4],
        "Error: missing.html does not exist; create it with write_files"
    );
    // Each applied edit is a step with its diff.
    let edited: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            TurnEvent::FileEdited {
                path,
                added,
                removed,
                diff,
            } => Some((path.as_str(), *added, *removed, diff.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(edited.len(), 2, "{edited:?}");
    assert_eq!(
        (edited[0].0, edited[0].1, edited[0].2),
        ("index.html", 1, 1)
    );
    assert!(
        edited[0]
            .3
            .contains("-  <h1>Hello</h1>\n+  <h1>Fresh Bakes</h1>"),
        "{}",
        edited[0].3
    );
    assert_eq!((edited[1].1, edited[1].2), (1, 2));
}

#[tokio::test]
async fn a_model_without_tool_calling_edits_through_edit_blocks() {
    let stage = Stage::new("base").await;
    let input = TurnInput {
        tool_calling: false,
        ..input("text-edits", "a tiny page")
    };
    let (outcome, _) = stage.run(&input, limits()).await;
    assert_eq!(outcome.unwrap().summary, "All done: edited by text.");
    let page = std::fs::read_to_string(stage.home().join("index.html")).unwrap();
    assert!(page.contains("<h1>Made by text</h1>"), "{page}");
    let told = stage
        .server
        .requests()
        .iter()
        .rev()
        .find(|request| {
            request["model"] == "text-edits"
                && request["messages"].to_string().contains("matches nothing")
        })
        .cloned();
    assert!(
        told.is_some(),
        "the model was told its second edit matched nothing"
    );
}

#[tokio::test]
async fn a_1_gb_file_read_by_the_tool_costs_the_server_only_what_it_keeps() {
    // The production disk limit (2 GB) allows a 1 GB file.
    let daemon = TestDaemon::start_with(GUEST, |config| config.limits.disk_bytes = 2 << 30).await;
    let (_sandbox, envd) = daemon.sandbox("base").await;
    // A sparse 1 GB file (no disk used) and five files of 60 KB.
    let made = envd
        .run(
            &ollio_sandbox::Command::new(
                "truncate -s 1G huge.bin && for i in 1 2 3 4 5; do head -c 61440 /dev/zero | tr '\\0' a > part$i.txt; done",
            ),
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(
        made.exit_code,
        0,
        "{:?}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (sink, _events) = tokio::sync::mpsc::unbounded_channel();
    let runner = ToolRunner {
        envd: &envd,
        events: &sink,
        stop: CancellationToken::new(),
    };
    let paths = [
        "huge.bin",
        "part1.txt",
        "part2.txt",
        "part3.txt",
        "part4.txt",
        "part5.txt",
    ];
    let before = peak_kb(true);
    let report = runner
        .run(ToolCallArgs::ReadFiles(
            paths.iter().map(|p| (*p).to_owned()).collect(),
        ))
        .await
        .unwrap();
    let grown = peak_kb(false).saturating_sub(before);
    println!("reading a 1 GB file through read_files: peak memory +{grown} KB");
    assert!(
        report.contains("(cut: the file is 1073741824 bytes; these are its first 65536)"),
        "{}",
        &report[report.len().saturating_sub(600)..]
    );
    // 64 KB + 3 × 60 KB leave 12 KB of the call's 256 KB for the fourth.
    assert!(report.contains("(cut: the file is 61440 bytes; these are its first 12288)"));
    assert!(report.contains(
        "=== part5.txt ===\n(not read: this call already returned 256 KB; read it in another call)"
    ));
    // The file streamed through and was cut, never held whole: a read of
    // all of it would have held a gigabyte at least.
    assert!(grown < 96 * 1024, "peak memory grew by {grown} KB");
}

/// An image attached to a message reaches the model in each protocol's own
/// form: OpenAI's `image_url` part holding a data URL, Anthropic's base64
/// `image` block, each after the message's text.
#[tokio::test]
async fn images_reach_the_model_in_each_protocol_s_own_form() {
    use ollio_agent::chat::{ChatMessage, ChatRequest, Image};
    let server = ScriptedServer::for_tests().await;
    let request = ChatRequest {
        model: "quick".into(),
        messages: vec![
            ChatMessage::system("You build static web apps."),
            ChatMessage::user_with_images(
                "Make a page like this sketch",
                vec![Image {
                    media_type: "image/png".into(),
                    base64: "iVBORw0KGgo=".into(),
                }],
            ),
        ],
        tools: Vec::new(),
        max_tokens: 256,
    };
    let last_user = |server: &ScriptedServer| {
        let requests = server.requests();
        let messages = requests.last().unwrap()["messages"]
            .as_array()
            .unwrap()
            .clone();
        messages
            .into_iter()
            .rev()
            .find(|message| message["role"] == "user")
            .unwrap()
    };

    openai(&server)
        .complete(&request, &mut |_| {})
        .await
        .unwrap();
    let sent = last_user(&server);
    assert_eq!(sent["content"][0]["type"], "text", "{sent}");
    assert_eq!(sent["content"][0]["text"], "Make a page like this sketch");
    assert_eq!(sent["content"][1]["type"], "image_url", "{sent}");
    assert_eq!(
        sent["content"][1]["image_url"]["url"],
        "data:image/png;base64,iVBORw0KGgo="
    );

    anthropic(&server)
        .complete(&request, &mut |_| {})
        .await
        .unwrap();
    let sent = last_user(&server);
    assert_eq!(sent["content"][0]["type"], "text", "{sent}");
    assert_eq!(sent["content"][1]["type"], "image", "{sent}");
    assert_eq!(
        sent["content"][1]["source"],
        serde_json::json!({ "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=" })
    );
    // Without images, a user message stays plain text on OpenAI's wire.
    let plain = ChatRequest {
        messages: vec![ChatMessage::user("Just text")],
        ..request
    };
    openai(&server).complete(&plain, &mut |_| {}).await.unwrap();
    assert_eq!(last_user(&server)["content"], "Just text");
}

/// A small model's usual slip: code in its answer and no file changed. It
/// is asked once to use its tools, does, and the code never reaches the
/// chat's summary.
#[tokio::test]
async fn chat_code_from_a_tool_less_reply_is_never_shown() {
    let stage = Stage::new("base").await;
    let (outcome, events) = stage
        .run(&input("chat-code", "a hello page"), limits())
        .await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.summary, "Wrote index.html with the greeting.");
    assert!(!outcome.summary.contains("<h1>"));
    assert_eq!(
        events
            .iter()
            .filter(|event| **event == TurnEvent::ToolsReminded)
            .count(),
        1
    );
    assert!(std::fs::read_to_string(stage.home().join("index.html"))
        .unwrap()
        .contains("Hello from a small model"));
    let reminded = stage.server.requests().iter().any(|request| {
        request["messages"]
            .to_string()
            .contains("Your answer put code in the chat")
    });
    assert!(reminded, "the model was asked to use its tools");

    // Asked once only: a model that keeps answering with code ends the
    // turn, and the chat says so without the code.
    let stubborn = ScriptedServer::for_tests().await;
    let provider = openai(&stubborn);
    let (outcome, events) = turn(
        &provider,
        &stage.envd,
        &input("chat-code-only", "a hello page"),
        limits(),
        &CancellationToken::new(),
    )
    .await;
    let summary = outcome.unwrap().summary;
    assert!(
        summary.starts_with("The model answered with code only"),
        "{summary}"
    );
    assert!(!summary.contains("<h1>"));
    assert_eq!(
        events
            .iter()
            .filter(|event| **event == TurnEvent::ToolsReminded)
            .count(),
        1
    );
}
