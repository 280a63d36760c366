//! Who is signed in, as the server renders a page: a resource with the
//! current [`Viewer`], read once per page.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::{
    account::Viewer,
    app::resource::{self, Loaded},
    error::AppError,
};

#[derive(Clone, Copy)]
pub struct Session {
    pub viewer: Loaded<Result<Option<Viewer>, AppError>>,
}

/// Loads the viewer for the page; call once, inside the router.
pub fn provide_session() {
    let viewer = resource::load(|| (), |_| crate::account::current_user());
    provide_context(Session { viewer });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Shows `children` to a signed-in user; anyone else is sent to the sign-in
/// page, which brings them back here afterwards.
#[component]
pub fn RequireUser(children: ChildrenFn) -> impl IntoView {
    let location = use_location();
    let (pathname, search) = (location.pathname, location.search);
    let children = StoredValue::new(children);
    let viewer = use_session().viewer;
    view! {
        <Suspense fallback=|| view! { <PageSkeleton /> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(_)) => children.read_value()().into_any(),
                    Ok(None) => to_sign_in(&format!("{}{}", pathname.get_untracked(), search.get_untracked())),
                    Err(error) => page_error(&error),
                }
            })}
        </Suspense>
    }
}

/// Sends the visitor to sign in, and back to `here` afterwards.
pub fn to_sign_in(here: &str) -> AnyView {
    let path = format!("/login?next={}", encode_query_value(here));
    view! { <Redirect path /> }.into_any()
}

/// A page that could not load, with the reason.
pub fn page_error(error: &AppError) -> AnyView {
    view! {
        <section class="container page">
            <p class="notice notice-error" role="alert">{error.to_string()}</p>
        </section>
    }
    .into_any()
}

/// A placeholder with the page's shape while it loads.
#[component]
pub fn PageSkeleton() -> impl IntoView {
    view! {
        <section class="container page" aria-busy="true" aria-label="Loading">
            <div class="skeleton skeleton-title"></div>
            <div class="skeleton skeleton-line"></div>
            <div class="skeleton skeleton-line short"></div>
        </section>
    }
}

/// Percent-encodes `value` for a query string.
pub fn encode_query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b' ' => encoded.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) => encoded.push(b as char),
            b => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    encoded
}

/// Decodes a query-string value (`+` is a space; bad escapes stay as
/// they are).
pub fn decode_query_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        decoded.push((high * 16 + low) as u8);
                        i += 2;
                    }
                    _ => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_it_encodes() {
        for text in ["A dark login form", "a&b=c/d?e", "naïve — ✓", "100%"] {
            assert_eq!(decode_query_value(&encode_query_value(text)), text);
        }
        assert_eq!(decode_query_value("50%zz"), "50%zz");
    }

    #[test]
    fn encodes_a_path_with_its_query() {
        assert_eq!(
            encode_query_value("/projects/a?tab=code&x=1"),
            "/projects/a%3Ftab%3Dcode%26x%3D1"
        );
        assert_eq!(encode_query_value("A dark login form"), "A+dark+login+form");
    }
}
