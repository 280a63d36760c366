//! Ollio: describe an app, and an AI agent builds and runs it in a sandbox.
//!
//! The crate compiles twice: with `ssr` it is the server (`server` module and
//! the `ollio` binary); with `hydrate` it is the WASM that hydrates the pages.
//! Layers run one way: the UI (`app`) calls the server functions (`api`),
//! which call the services (`server`), which call the crates below. The
//! types they exchange are in `dto`.
// Leptos's view types nest deeply; the home page's outgrew the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod dto;
pub mod error;
pub mod theme;

#[cfg(feature = "ssr")]
pub mod server;

/// The pages the server renders, for the router: the one place where the
/// server side is handed the UI (`ollio serve`, the tests and the benchmarks
/// start the app with it).
#[cfg(feature = "ssr")]
pub fn pages() -> server::site::Pages {
    use leptos::prelude::IntoAny;
    server::site::Pages {
        shell: |options| app::shell(options).into_any(),
        routes: || leptos_axum::generate_route_list(app::App),
    }
}

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
