use std::process::ExitCode;

/// The server's allocator: rendering a page makes many small strings,
/// which mimalloc serves faster than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // One thread for the sandbox guest, a thread per core for the rest.
    match ollio_sandboxd::guest::runtime() {
        Ok(runtime) => runtime.block_on(ollio::server::cli::run(ollio::pages())),
        Err(error) => {
            eprintln!("ollio: the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}
