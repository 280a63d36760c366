//! Server-side rendering of what users read but must never be able to
//! inject: assistants' chat summaries (Markdown to safe HTML), a version's
//! files (syntax-highlighted, HTML-escaped lines) and a model's metrics
//! across versions (SVG charts).

pub mod highlight;
pub mod markdown;
pub mod metric_chart;

/// Text escaped for HTML (and SVG) text and attributes.
pub fn escape(text: &str) -> String {
    let mut html = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut html, text);
    html
}

/// [`highlight::lines`] on the blocking pool: a large file takes a while to
/// parse, and that must not hold up an async worker thread.
pub async fn highlighted_lines(
    language: String,
    content: String,
) -> Result<Vec<String>, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || highlight::lines(&language, &content)).await
}
