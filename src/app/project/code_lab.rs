//! The Code tab's contents, the Code Lab, in its own WASM chunk (see
//! [`super::lazy_part`]): the files and editor, or a version's changes, and
//! the terminal below them.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use super::{changes, code_tab, terminal_panel};

#[component]
pub fn CodeLab() -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    {
        super::lazy_part::placeholder("Code tab")
    }
    #[cfg(feature = "hydrate")]
    {
        super::lazy_part::loaded_later(super::Tab::Code, "Code tab", code_lab_view)
    }
}

#[cfg(feature = "hydrate")]
fn contents() -> impl IntoView {
    let ws = super::use_ws();
    view! {
        {move || if ws.show_changes.get() {
            view! { <changes::ChangesView /> }.into_any()
        } else {
            view! { <code_tab::CodeTab /> }.into_any()
        }}
        <terminal_panel::TerminalPanel />
    }
}

/// The chunk's entry (`/pkg/split_code_lab.wasm`).
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(code_lab, wasm_split_path = ::leptos::wasm_split, fallible)]
fn code_lab_view() -> super::lazy_part::Loaded {
    Ok(contents().into_any())
}
