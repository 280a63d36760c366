//! Server-side rendering of what users read but must never be able to
//! inject: assistants' chat summaries (Markdown to safe HTML) and a
//! version's files (syntax-highlighted, HTML-escaped lines).

pub mod highlight;
pub mod markdown;

/// [`highlight::lines`] on the blocking pool: a large file takes a while to
/// parse, and that must not hold up an async worker thread.
pub async fn highlighted_lines(
    language: String,
    content: String,
) -> Result<Vec<String>, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || highlight::lines(&language, &content)).await
}
