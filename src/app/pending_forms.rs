//! Progress for the plain forms (sign-in, settings, projects…): once one is
//! sent, it is marked `aria-busy` until the next page arrives, which the
//! style sheet shows as a spinner on its button, and a second click does
//! not send it again. An island with no view, listening on the window; the
//! forms of other islands (the prompt boxes, the workspace) show their own
//! progress and are left alone. Without JavaScript the browser's own loading
//! indicator is all there is.

use leptos::prelude::*;

#[island]
pub fn PendingForms() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    listen();
}

#[cfg(feature = "hydrate")]
fn listen() {
    use leptos::ev;
    use wasm_bindgen::JsCast;

    const BUSY: &str = "aria-busy";
    window_event_listener(ev::submit, |event| {
        let Some(form) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let in_island = form.closest("leptos-island").ok().flatten().is_some();
        if event.default_prevented() || in_island {
            return;
        }
        if form.has_attribute(BUSY) {
            // Sent already: the answer is on its way.
            event.prevent_default();
            return;
        }
        let _ = form.set_attribute(BUSY, "true");
    });
    // Back to this page from the browser's page cache: nothing is being sent.
    window_event_listener(ev::pageshow, |_| {
        let Ok(busy) = document().query_selector_all("form[aria-busy]") else {
            return;
        };
        for index in 0..busy.length() {
            if let Some(form) = busy
                .item(index)
                .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
            {
                let _ = form.remove_attribute(BUSY);
            }
        }
    });
}
