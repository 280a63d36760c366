//! Everything that runs only on the server: configuration, the database store,
//! the HTTP layer and the command line. Compiled with the `ssr` feature.

pub mod accounts;
pub mod agent;
pub mod api;
pub mod auth;
pub mod changes;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod http;
pub mod previews;
pub mod render;
pub mod sandbox;
pub mod sandboxd;
pub mod secrets;
pub mod sessions;
pub mod site;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod workspace;
