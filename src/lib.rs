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

/// Entry point of the browser build. Pages are islands: the server renders
/// all of each page, and the script Leptos puts in the page then hydrates
/// only its `#[island]` components, each from the props it was rendered
/// with. This sets up the reactive root they share.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
