//! Ollio: describe an app, and an AI agent builds and runs it in a sandbox.
//!
//! The crate compiles twice: with `ssr` it is the server (`server` module and
//! the `ollio` binary); with `hydrate` it is the WASM that hydrates the pages.

pub mod account;
pub mod app;
pub mod changes;
pub mod chat;
pub mod domain;
pub mod error;
pub mod preview;
pub mod projects;
pub mod provider_keys;
pub mod theme;
pub mod usage;
pub mod workspace;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the browser build: attaches the app to the server's HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
