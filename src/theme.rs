//! Light and dark themes. The choice lives in a cookie so the server renders
//! `<html data-theme=…>` already right (no flash); with no choice stored, CSS
//! follows the system's `prefers-color-scheme`.

use leptos::prelude::*;

pub const COOKIE: &str = "ollio_theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    pub fn toggled(self) -> Self {
        match self {
            Self::Light => Self::Dark,
            Self::Dark => Self::Light,
        }
    }

    /// Finds the theme in a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Option<Self> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .and_then(|(_, value)| Self::parse(value))
    }
}

/// The theme the visitor chose earlier, read from the request being rendered.
#[cfg(feature = "ssr")]
pub fn from_request() -> Option<Theme> {
    let parts = use_context::<axum::http::request::Parts>()?;
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(Theme::from_cookie_header)
}

/// A button that switches between light and dark. An island: it needs the
/// browser, so it stays disabled in the server-rendered page until hydrated.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    // The server knows only a stored choice; once hydrated the effect below
    // also accounts for the system preference.
    let dark = RwSignal::new(browser::stored() == Some(Theme::Dark));
    Effect::new(move |_| {
        dark.set(browser::current() == Theme::Dark);
        hydrated.set(true);
    });
    let toggle = move |_| {
        let next = browser::current().toggled();
        browser::apply(next);
        dark.set(next == Theme::Dark);
    };
    view! {
        <button
            type="button"
            class="icon-button theme-toggle"
            aria-label="Dark mode"
            title="Switch between light and dark"
            aria-pressed=move || if dark.get() { "true" } else { "false" }
            disabled=move || !hydrated.get()
            on:click=toggle
        >
            <svg class="icon icon-moon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"></path>
            </svg>
            <svg class="icon icon-sun" viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="12" r="4"></circle>
                <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"></path>
            </svg>
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    use super::{Theme, COOKIE};

    /// The visitor's stored choice, as the server rendered it onto `<html>`.
    pub fn stored() -> Option<Theme> {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|root| root.get_attribute("data-theme"))
            .and_then(|value| Theme::parse(&value))
    }

    /// The theme in effect: the stored choice, else the system preference.
    pub fn current() -> Theme {
        stored().unwrap_or_else(system)
    }

    fn system() -> Theme {
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|query| query.matches());
        if dark {
            Theme::Dark
        } else {
            Theme::Light
        }
    }

    /// Shows `theme` now and remembers it for a year.
    pub fn apply(theme: Theme) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-theme", theme.as_str());
        }
        if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
            let cookie = format!(
                "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                theme.as_str()
            );
            let _ = html.set_cookie(&cookie);
        }
    }
}

/// On the server the toggle never runs; these keep the component's code shared.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::Theme;

    #[cfg(feature = "ssr")]
    pub use super::from_request as stored;

    #[cfg(not(feature = "ssr"))]
    pub fn stored() -> Option<Theme> {
        None
    }

    pub fn current() -> Theme {
        stored().unwrap_or(Theme::Light)
    }

    pub fn apply(_theme: Theme) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cookie_among_others() {
        assert_eq!(
            Theme::from_cookie_header("a=1; ollio_theme=dark; b=2"),
            Some(Theme::Dark)
        );
        assert_eq!(
            Theme::from_cookie_header("ollio_theme=light"),
            Some(Theme::Light)
        );
        assert_eq!(Theme::from_cookie_header("ollio_theme=purple"), None);
        assert_eq!(Theme::from_cookie_header("x_ollio_theme=dark"), None);
    }

    #[test]
    fn toggles() {
        assert_eq!(Theme::Light.toggled(), Theme::Dark);
        assert_eq!(Theme::Dark.toggled(), Theme::Light);
    }
}
