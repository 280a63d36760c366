use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path no route matches, with HTTP status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found" />
        <section class="container status-page" aria-labelledby="status-title">
            <p class="status-code" aria-hidden="true">
                "404"
            </p>
            <h1 id="status-title">"Page not found"</h1>
            <p class="lead">
                "There is nothing at this address. It may have moved, or the link may be mistyped."
            </p>
            <a class="button button-primary" href="/">
                "Back to the start"
            </a>
        </section>
    }
}
