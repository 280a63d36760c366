//! The Code tab's "Terminal" panel: a real bash in the project's sandbox
//! (xterm.js from `/pkg/terminal.js`, imported when the panel first opens,
//! talking to `/api/projects/{id}/terminal`). Opened by the toolbar's
//! "Terminal" button, the "Toggle terminal" command or Ctrl+`. Closing the
//! panel hides it; the shell goes on. What commands change shows in the
//! explorer (`Ws::terminal_changes`), and "Save changes" keeps it.

use leptos::prelude::*;

use super::{use_ws, Ws};
use crate::{
    api::terminal::{save_terminal_changes, terminal_changes},
    app::toasts::{use_toasts, Toasts},
};

/// The connection's state, as the terminal reports it (in the browser).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Status {
    Connecting,
    Connected,
    Reconnecting,
    Ended(String),
    SignedOut(String),
    Failed(String),
}

impl Status {
    fn text(&self) -> String {
        match self {
            Self::Connecting => "Starting the sandbox's shell…".into(),
            Self::Connected => "Connected".into(),
            Self::Reconnecting => "Connection lost: reconnecting…".into(),
            Self::Ended(why) | Self::SignedOut(why) | Self::Failed(why) => why.clone(),
        }
    }
}

/// Reads what the terminal changed into `ws.terminal_changes`.
pub fn refresh_changes(ws: Ws) {
    leptos::task::spawn_local(async move {
        if let Ok(changes) = terminal_changes(ws.project.get_value()).await {
            ws.terminal_changes.set(changes);
        }
    });
}

/// "Save changes": what the terminal changed, as a version.
pub fn save_changes(ws: Ws, toasts: Toasts, saving: RwSignal<bool>) {
    if saving.get_untracked() {
        return;
    }
    saving.set(true);
    leptos::task::spawn_local(async move {
        match save_terminal_changes(ws.project.get_value()).await {
            Ok(version) => {
                ws.terminal_changes.set(Vec::new());
                toasts.show(format!(
                    "Saved as version {}: {}",
                    version.version, version.title
                ));
                ws.refresh();
            }
            Err(error) => toasts.show(error.to_string()),
        }
        saving.set(false);
    });
}

#[component]
pub fn TerminalPanel() -> impl IntoView {
    let ws = use_ws();
    let toasts = use_toasts();
    let status = RwSignal::new(Status::Connecting);
    let saving = RwSignal::new(false);
    // Made on first open, then kept (hidden when closed): the shell goes on.
    let made = RwSignal::new(false);
    Effect::new(move |_| {
        if ws.terminal_open.get() {
            made.set(true);
        }
    });
    #[cfg(feature = "hydrate")]
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        // Ctrl+` (as in other editors), from anywhere on the page.
        if ev.ctrl_key() && !ev.alt_key() && ev.key() == "`" {
            ev.prevent_default();
            ws.tab.set(super::Tab::Code);
            ws.terminal_open.update(|open| *open = !*open);
        }
    });
    // A new newest version (a save, a turn) holds what the terminal did.
    Effect::new(move |_| {
        let _newest = ws.newest().map(|version| version.id);
        if made.get_untracked() {
            refresh_changes(ws);
        }
    });
    let host = NodeRef::<leptos::html::Div>::new();
    // The browser's terminal is a JavaScript value, kept where it was made;
    // the server has none (and may drop this render on another thread).
    #[cfg(feature = "hydrate")]
    let handle = StoredValue::new_local(None::<browser::Mounted>);
    #[cfg(not(feature = "hydrate"))]
    let handle = StoredValue::new(None::<browser::Mounted>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let Some(parent) = host.get() else {
            return;
        };
        if handle.with_value(Option::is_some) {
            return;
        }
        leptos::task::spawn_local(async move {
            let on_status = move |state: String, message: String| {
                status.set(match state.as_str() {
                    "connected" => Status::Connected,
                    "reconnecting" => Status::Reconnecting,
                    "ended" => Status::Ended(message),
                    "signed-out" => Status::SignedOut(message),
                    _ => Status::Connecting,
                });
            };
            let on_activity = move || refresh_changes(ws);
            match browser::mount(
                parent.into(),
                &ws.project.get_value(),
                on_status,
                on_activity,
            )
            .await
            {
                Ok(mounted) => handle.set_value(Some(mounted)),
                Err(error) => status.set(Status::Failed(format!(
                    "The terminal could not be loaded: {error}"
                ))),
            }
        });
    });
    // Focus follows opening.
    Effect::new(move |_| {
        if ws.terminal_open.get() {
            handle.with_value(|mounted| {
                if let Some(mounted) = mounted {
                    mounted.call("focus");
                }
            });
        }
    });
    #[cfg(feature = "hydrate")]
    on_cleanup(move || {
        if let Some(mounted) = handle.try_update_value(Option::take).flatten() {
            mounted.call("destroy");
        }
    });
    let call = move |name: &'static str| {
        handle.with_value(|mounted| {
            if let Some(mounted) = mounted {
                mounted.call(name);
            }
        })
    };
    let changed = move || ws.terminal_changes.with(Vec::len);
    view! {
        <Show when=move || made.get()>
            <section class="terminal-panel" aria-label="Terminal" hidden=move || !ws.terminal_open.get()>
                <div class="terminal-head">
                    <h2 class="terminal-title">"Terminal"</h2>
                    <span class="small muted terminal-status" role="status">{move || status.get().text()}</span>
                    <div class="terminal-actions">
                        {move || (changed() > 0).then(|| view! {
                            <button
                                type="button"
                                class="button button-primary button-small"
                                disabled=move || saving.get()
                                title="Keep what the terminal changed as a version"
                                on:click=move |_| save_changes(ws, toasts, saving)
                            >
                                {move || if saving.get() { "Saving…".to_owned() } else { format!("Save changes ({})", changed()) }}
                            </button>
                        })}
                        {move || matches!(status.get(), Status::Ended(_)).then(|| view! {
                            <button type="button" class="button button-small" on:click=move |_| call("reconnect")>
                                "New shell"
                            </button>
                        })}
                        <button type="button" class="button button-ghost button-small" title="Copy the selection (Ctrl+Shift+C)" on:click=move |_| call("copy")>
                            "Copy"
                        </button>
                        <button type="button" class="button button-ghost button-small" title="Paste (Ctrl+Shift+V)" on:click=move |_| call("paste")>
                            "Paste"
                        </button>
                        <button
                            type="button"
                            class="icon-button"
                            aria-label="Close terminal"
                            title="Close (Ctrl+`): the shell goes on"
                            on:click=move |_| ws.terminal_open.set(false)
                        >
                            "×"
                        </button>
                    </div>
                </div>
                <div class="terminal-host" node_ref=host></div>
            </section>
        </Show>
    }
}

mod browser {
    #[cfg(feature = "hydrate")]
    use wasm_bindgen::{prelude::Closure, JsCast, JsValue};

    /// The callbacks a mounted terminal calls: its status, its activity.
    #[cfg(feature = "hydrate")]
    type Callbacks = (Closure<dyn FnMut(String, String)>, Closure<dyn FnMut()>);

    /// A mounted terminal and the callbacks it holds on to.
    pub struct Mounted {
        #[cfg(feature = "hydrate")]
        handle: JsValue,
        #[cfg(feature = "hydrate")]
        _closures: Callbacks,
    }

    impl Mounted {
        /// Calls the terminal's `name` (focus, copy, paste, reconnect, destroy).
        pub fn call(&self, name: &str) {
            #[cfg(feature = "hydrate")]
            super::super::js_module::call(&self.handle, name);
            #[cfg(not(feature = "hydrate"))]
            let _ = name;
        }
    }

    #[cfg(feature = "hydrate")]
    pub async fn mount(
        parent: web_sys::HtmlElement,
        project: &str,
        on_status: impl Fn(String, String) + 'static,
        on_activity: impl Fn() + 'static,
    ) -> Result<Mounted, String> {
        let module = super::super::js_module::import("/pkg/terminal.js").await?;
        let mount: js_sys::Function = js_sys::Reflect::get(&module, &"mount".into())
            .map_err(|_| "the terminal has no mount".to_owned())?
            .unchecked_into();
        let location = web_sys::window()
            .map(|window| window.location())
            .ok_or("no window")?;
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().map_err(|_| "no host".to_owned())?;
        let url = format!("{scheme}://{host}/api/projects/{project}/terminal");
        let status = Closure::<dyn FnMut(String, String)>::new(on_status);
        let activity = Closure::<dyn FnMut()>::new(on_activity);
        let args = js_sys::Array::of4(&parent, &url.into(), status.as_ref(), activity.as_ref());
        let handle = mount
            .apply(&JsValue::NULL, &args)
            .map_err(|error| format!("{error:?}"))?;
        Ok(Mounted {
            handle,
            _closures: (status, activity),
        })
    }
}
