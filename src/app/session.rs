//! Who is signed in, as the server renders a page: a resource with the
//! current [`Viewer`], read once per page.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use ollio_domain::encode_query_value;

use crate::{
    api::account::Viewer,
    app::resource::{self, Loaded},
    error::AppError,
};

#[derive(Clone, Copy)]
pub struct Session {
    pub viewer: Loaded<Result<Option<Viewer>, AppError>>,
}

/// Loads the viewer for the page; call once, inside the router.
pub fn provide_session() {
    let viewer = resource::load(|| (), |_| crate::api::account::current_user());
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
