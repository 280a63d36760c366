//! The Leptos application: the HTML shell, the router and the pages. Compiled
//! for both the server (SSR) and the browser (hydrate).

mod error_page;
mod escape;
mod landing;
mod layout;
mod not_found;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use self::{
    error_page::ErrorPage,
    landing::Landing,
    layout::{SiteFooter, SiteHeader},
    not_found::NotFound,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let theme = crate::theme::from_request().map(crate::theme::Theme::as_str);
    #[cfg(not(feature = "ssr"))]
    let theme: Option<&str> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/ollio.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta name="description" content="Describe an app and watch an AI agent build it, run it and show you every file." />
        <Meta name="color-scheme" content="light dark" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Ollio".to_owned() } else { format!("{page} · Ollio") }
        } />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <SiteHeader />
            <main id="main" tabindex="-1">
                <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=Landing />
                    </Routes>
                </ErrorBoundary>
            </main>
            <SiteFooter />
        </Router>
    }
}
