//! The header's credits count. The workspace spends credits, so it hands the
//! newest figures here after each turn and the header follows.

use leptos::prelude::*;

use crate::api::usage::UsageView;

/// The newest usage the page has seen. The header and the workspace are
/// separate islands with no context in common, so in the browser they meet
/// here; the server renders each page from fresh figures and never sets it.
#[cfg(feature = "hydrate")]
fn latest() -> ArcRwSignal<Option<UsageView>> {
    thread_local! {
        static LATEST: ArcRwSignal<Option<UsageView>> = ArcRwSignal::new(None);
    }
    LATEST.with(Clone::clone)
}

/// Shows `usage` in the header from now on.
pub fn publish(usage: UsageView) {
    #[cfg(feature = "hydrate")]
    latest().set(Some(usage));
    #[cfg(not(feature = "hydrate"))]
    let _ = usage;
}

/// "3 credits", linking to the usage on the settings page.
#[island]
pub fn Credits(usage: UsageView) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let current = {
        let latest = latest();
        move || latest.get().unwrap_or_else(|| usage.clone())
    };
    #[cfg(not(feature = "hydrate"))]
    let current = move || usage.clone();
    let current = Memo::new(move |_| current());
    let label = move || {
        current.with(|usage| {
            format!(
                "{} of {} credits left this month",
                usage.remaining, usage.limit
            )
        })
    };
    let text = move || {
        current.with(|usage| match usage.remaining {
            1 => "1 credit".to_owned(),
            remaining => format!("{remaining} credits"),
        })
    };
    view! {
        <a
            class="credits"
            class:credits-empty=move || current.with(|usage| usage.remaining == 0)
            href="/settings#usage"
            aria-label=label
            title=label
        >
            {text}
        </a>
    }
}
