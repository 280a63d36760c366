//! `scripted-model --scripts DIR [--addr HOST:PORT]`: the scripted model
//! server on its own, until Ctrl-C or SIGTERM. It prints its address first,
//! for the script that started it (the browser suite's `scripts/test.sh`).

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use ollio_testkit::ScriptedServer;

#[derive(Parser)]
#[command(
    name = "scripted-model",
    about = "Replays the JSON scripts in a folder over the OpenAI-compatible and Anthropic protocols."
)]
struct Args {
    #[arg(long)]
    scripts: PathBuf,
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let server = match ScriptedServer::start(&args.scripts, args.addr).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("scripted-model: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("http://{}", server.addr);
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return ExitCode::FAILURE;
    };
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = terminate.recv() => {} }
    ExitCode::SUCCESS
}
