//! The frame every page shares: header with navigation and theme toggle, footer.

use leptos::prelude::*;

use crate::theme::ThemeToggle;

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
                    <a href="/#how">"How it works"</a>
                    <a href="/#self-host">"Self-host"</a>
                    <ThemeToggle />
                </nav>
            </div>
        </header>
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
