use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    ollio::server::cli::run().await
}
