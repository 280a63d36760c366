use std::process::ExitCode;

/// The server's allocator: rendering a page makes many small strings,
/// which mimalloc serves faster than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    ollio::server::cli::run(ollio::pages()).await
}
