//! Everything that runs only on the server (the `ssr` feature): the web
//! layer and the services between the server functions and the crates below
//! (`ollio_store`, `ollio_agent`, `ollio_sandbox`, `ollio_sandboxd`). Nothing
//! here imports the UI; the pages are handed in (`site::Pages`).

pub mod ask_where;
pub mod attachments;
pub mod auth;
pub mod budgets;
pub mod changes;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod credits;
pub mod daemon_process;
pub mod edits;
pub mod http;
pub mod import;
pub mod model_setup;
pub mod preview_locks;
pub mod previews;
pub mod projects;
pub mod provider_keys;
pub mod rate_limit;
pub mod refine;
pub mod render;
pub mod request;
pub mod search;
pub mod service_user;
pub mod sessions;
pub mod site;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod terminal;
pub mod terminal_sessions;
pub mod throttle;
pub mod training;
pub mod turns;
pub mod users;
pub mod views;
pub mod workspace;
