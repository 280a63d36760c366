use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Sends logs to stderr, filtered by `filter` (already checked by the config).
/// A second call (as in tests) leaves the first subscriber in place.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter)
        .unwrap_or_else(|_| EnvFilter::new(super::config::DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr).with_target(true))
        .try_init();
}
