//! The frame every page shares: header with navigation and theme toggle, footer.
//! Server-rendered; the theme toggle and the credits are islands, and
//! signing out is a plain form post.

use leptos::prelude::*;

use super::{credits::Credits, session::use_session};
use crate::{
    api::account::{Logout, Viewer},
    theme::ThemeToggle,
};

#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <div class="container header-inner">
                <a class="brand" href="/" aria-label="Ollio home">
                    <Logo />
                    <span class="brand-name">"Ollio"</span>
                </a>
                <nav class="header-nav" aria-label="Main">
                    <Transition fallback=|| view! { <span class="header-placeholder"></span> }>
                        {move || Suspend::new(async move {
                            match use_session().viewer.await {
                                Ok(Some(viewer)) => view! { <SignedIn viewer /> }.into_any(),
                                _ => view! { <SignedOut /> }.into_any(),
                            }
                        })}
                    </Transition>
                    <ThemeToggle />
                </nav>
            </div>
        </header>
    }
}

#[component]
fn SignedOut() -> impl IntoView {
    view! {
        <a class="nav-link" href="/#how">"How it works"</a>
        <a class="nav-link" href="/login">"Sign in"</a>
        <a class="button button-primary button-small" href="/signup">"Sign up"</a>
    }
}

#[component]
fn SignedIn(viewer: Viewer) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <a class="nav-link" href="/projects">"Projects"</a>
        <Credits usage=viewer.usage />
        <a class="nav-link" href="/settings" title=viewer.email>"Settings"</a>
        <ActionForm action=logout attr:class="inline">
            <button type="submit" class="button button-ghost button-small">"Sign out"</button>
        </ActionForm>
    }
}

#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <div class="container footer-inner">
                <p>
                    <strong>"Ollio"</strong>
                    " "
                    <span class="muted">{concat!("v", env!("CARGO_PKG_VERSION"))}</span>
                    " · the AI app builder you can run yourself."
                </p>
                <nav aria-label="Footer" class="footer-nav">
                    <a href="/#how">"How it works"</a>
                    <a href="/#self-host">"Self-host"</a>
                    <a href="/healthz" rel="nofollow">"Status"</a>
                </nav>
            </div>
        </footer>
    }
}

#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="9" class="logo-bg"></rect>
            <circle cx="16" cy="16" r="7.5" class="logo-ring"></circle>
            <circle cx="21.5" cy="10.5" r="2.5" class="logo-dot"></circle>
        </svg>
    }
}
