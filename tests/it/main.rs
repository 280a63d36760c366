//! The app's integration tests, in one binary: the real router on a free
//! port with a fresh database (SQLite and PostgreSQL), the bundled sandbox
//! daemon, the scripted model server, and the `ollio` binary itself.

mod accounts;
mod agent_http;
mod agent_jobs;
mod agent_processes;
mod agent_turn;
mod attachments;
mod cli;
mod http;
mod import;
mod previews;
mod refine;
mod service_user;
mod support;
mod tenancy;
mod terminal;
mod training;
mod version_files;

/// The agent every test sandbox runs: the app's own binary, as in production.
const GUEST: &str = env!("CARGO_BIN_EXE_ollio");
