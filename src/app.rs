//! The Leptos application: the HTML shell, the router and the pages.
//!
//! Pages are rendered on the server only; their forms and links work as
//! plain HTML. The parts that need the browser are islands (`#[island]`):
//! the theme toggle, the header's credits, the prompt boxes, the whole
//! project workspace, and the plain forms' progress. Only they are compiled into the
//! WASM, which keeps the download small.

mod attachments;
mod auth_pages;
pub mod credits;
mod error_page;
mod escape;
mod forms;
mod home;
mod import_form;
mod landing;
mod layout;
mod not_found;
mod page_drop;
mod pending_forms;
mod project;
mod projects_page;
pub mod resource;
pub mod session;
mod settings;
pub mod toasts;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use self::{
    auth_pages::{LoginPage, SignupPage},
    error_page::ErrorPage,
    home::HomeRoute,
    layout::{SiteFooter, SiteHeader},
    not_found::NotFound,
    pending_forms::PendingForms,
    project::ProjectRoute,
    projects_page::ProjectsPage,
    settings::SettingsPage,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let theme = crate::theme::from_request().map(crate::theme::Theme::as_str);
    #[cfg(not(feature = "ssr"))]
    let theme: Option<&str> = None;
    // Marks pages served while sandboxes run without isolation; the style
    // sheet turns that into a banner on every page.
    #[cfg(feature = "ssr")]
    let sandbox = use_context::<crate::server::state::AppState>()
        .filter(crate::server::state::AppState::sandbox_unisolated)
        .map(|_| "unisolated");
    #[cfg(not(feature = "ssr"))]
    let sandbox: Option<&str> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme data-sandbox=sandbox>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
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
            <Site />
        </Router>
    }
}

/// Everything inside the router. Pages create their actions beneath it: the
/// router is what reads a plain form post's error from the URL (`?__err=`).
#[component]
fn Site() -> impl IntoView {
    session::provide_session();
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <SiteHeader />
        <main id="main" tabindex="-1">
            <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>
                <Routes fallback=|| view! { <NotFound /> }>
                    // Pages stream in order, so the parts that wait for data
                    // (the header's account area) arrive in place, not as
                    // out-of-order chunks that need JavaScript to swap in.
                    // Whole before answering: a visitor's prompt is answered
                    // with a real redirect to sign-up.
                    <Route path=path!("/") view=HomeRoute ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::InOrder />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::InOrder />
                    // Pages for signed-in users render whole before answering,
                    // so a signed-out visitor gets a real 302 to /login.
                    <Route path=path!("/projects") view=ProjectsPage ssr=SsrMode::Async />
                    <Route path=path!("/projects/:id") view=ProjectRoute ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                </Routes>
            </ErrorBoundary>
        </main>
        <SiteFooter />
        <PendingForms />
    }
}
