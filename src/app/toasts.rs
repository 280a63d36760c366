//! Toasts: short notes about things that finished in the background ("Version
//! 3 is ready", "Copied index.html"), announced politely to screen readers.
//! The workspace island provides them and shows the [`Toaster`].

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub error: bool,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

/// How long a toast stays.
const SHOWN_MS: u64 = 5000;

impl Toasts {
    pub fn show(&self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    fn push(&self, text: String, error: bool) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|list| {
            list.push(Toast { id, text, error });
            // A burst never covers the page.
            if list.len() > 3 {
                list.remove(0);
            }
        });
        let list = self.list;
        set_timeout(
            move || list.update(|list| list.retain(|toast| toast.id != id)),
            std::time::Duration::from_millis(SHOWN_MS),
        );
    }

    fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|toast| toast.id != id));
    }
}

pub fn provide_toasts() {
    provide_context(Toasts {
        list: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    });
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Where toasts appear (bottom right; bottom on phones).
#[component]
pub fn Toaster() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toaster" aria-live="polite">
            <For each=move || toasts.list.get() key=|toast| toast.id let:toast>
                <div class="toast" class:toast-error=toast.error>
                    <span>{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
