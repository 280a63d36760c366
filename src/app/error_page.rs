use leptos::prelude::*;
use leptos_meta::Title;

/// What the error boundary shows when a page fails to render. The messages are
/// the errors' user-facing text; internal causes stay in the server's logs.
#[component]
pub fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| view! { <li>{error.to_string()}</li> })
            .collect_view()
    };
    view! {
        <Title text="Something went wrong" />
        <section class="container status-page" role="alert" aria-labelledby="error-title">
            <p class="status-code" aria-hidden="true">
                "!"
            </p>
            <h1 id="error-title">"Something went wrong"</h1>
            <p class="lead">"This page could not be shown. Nothing you entered was lost."</p>
            <ul class="error-list">{messages}</ul>
            <a class="button button-primary" href="/">
                "Back to the start"
            </a>
        </section>
    }
}
