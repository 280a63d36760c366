//! Parts of the workspace in their own WASM chunks: the Code Lab (the Code
//! tab's files, editor, explorer, search, palette, Ask AI and terminal) and
//! the Model tab. Neither is on screen when the page opens (the Preview tab
//! is), so their code stays out of the route's initial transfer, as the
//! editor's and the terminal's bundles do.
//!
//! The server renders a placeholder in a part's place: the Preview tab is
//! what shows first, and a part needs the browser anyway. The workspace
//! island hydrates around it; the part's chunk (a `#[wasm_split]` function,
//! split off by `wasm-split`: see `finish_site` in scripts/lib.sh) is
//! fetched when the browser is next idle, or at once when the part's tab is
//! picked, and renders the part in the placeholder's place, under the
//! workspace's owner, so that it shares the workspace's context. A chunk
//! that fails to load says so, with "Try again".

use leptos::prelude::*;

/// What the server renders for the part `what` ("Code tab"), shown until
/// its chunk has loaded.
#[cfg(not(feature = "hydrate"))]
pub fn placeholder(what: &'static str) -> impl IntoView {
    view! {
        <div class="lazy-part">
            <div class="lazy-loading" aria-busy="true">
                <div class="skeleton skeleton-line"></div>
                <div class="skeleton skeleton-line short"></div>
                <p class="muted small">{format!("Loading the {what}…")}</p>
            </div>
        </div>
    }
}

/// What a part's chunk gives: the part as a type-erased view (so the code
/// that renders and updates it is the chunk's), or why it did not load.
#[cfg(feature = "hydrate")]
pub type Loaded = Result<AnyView, leptos::wasm_split::SplitLoaderError>;

/// The part's place in the browser, filled once `load` (the part's
/// `#[wasm_split]` function) has fetched and run its chunk. `what` names
/// the part in a failure's message ("Code tab").
#[cfg(feature = "hydrate")]
pub fn loaded_later<Fut>(tab: super::Tab, what: &'static str, load: fn() -> Fut) -> impl IntoView
where
    Fut: std::future::Future<Output = Loaded> + 'static,
{
    use wasm_bindgen::{closure::Closure, JsCast};

    let ws = super::use_ws();
    let slot = NodeRef::<leptos::html::Div>::new();
    let idle = RwSignal::new(false);
    let on_idle = Closure::once_into_js(move || idle.try_set(true));
    if window()
        .request_idle_callback(on_idle.unchecked_ref())
        .is_err()
    {
        idle.set(true);
    }
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if (idle.get() || ws.tab.get() == tab) && !started.get_value() {
            started.set_value(true);
            attempt(slot, what, load);
        }
    });
    view! { <div class="lazy-part" node_ref=slot></div> }
}

#[cfg(feature = "hydrate")]
fn attempt<Fut>(slot: NodeRef<leptos::html::Div>, what: &'static str, load: fn() -> Fut)
where
    Fut: std::future::Future<Output = Loaded> + 'static,
{
    leptos::task::spawn_local_scoped(async move {
        let loaded = load().await;
        let Some(place) = slot.get_untracked() else {
            return;
        };
        let view = loaded.unwrap_or_else(|_| {
            view! {
                <div class="empty-state" role="alert">
                    <h2>{format!("The {what} could not load")}</h2>
                    <p class="muted">"Check the connection, then try again."</p>
                    <button type="button" class="button" on:click=move |_| attempt(slot, what, load)>
                        "Try again"
                    </button>
                </div>
            }
            .into_any()
        });
        // The placeholder, or the failure's message.
        place.set_inner_html("");
        let mut state = view.build();
        state.mount(&place, None);
        // Lives as long as the page, as the island around it does.
        std::mem::forget(state);
    });
}
