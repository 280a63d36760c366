//! The Preview tab: the app running in its sandbox, in a frame on the
//! sandbox's own origin. Clear states instead of a blank frame: starting,
//! asleep (with Restart preview), failed (with the reason).

use leptos::prelude::*;

use super::{app_logs::AppLogs, browser_errors::BrowserErrors, use_ws};
use ollio_domain::TurnEvent;

use crate::api::preview::{preview_status, start_preview, PreviewView};

/// The preview frame's `sandbox` attribute. Scripts run, but the document
/// gets an opaque origin: with `allow-same-origin` beside `allow-scripts`, a
/// document served from the app's own origin (a misconfigured preview
/// domain, say) could reach into the app and lift its own sandbox. The
/// cost: the app's `localStorage` is unavailable inside the frame; "Open
/// in new tab" runs it on its own origin with everything.
pub const FRAME_SANDBOX: &str =
    "allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    Mobile,
    Tablet,
    Desktop,
}

impl Device {
    fn class(self) -> &'static str {
        match self {
            Self::Mobile => "device-mobile",
            Self::Tablet => "device-tablet",
            Self::Desktop => "device-desktop",
        }
    }
}

/// What the frame area shows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shown {
    Starting,
    Running(String),
    Asleep,
    Failed(String),
    Nothing,
}

fn shown(view: &PreviewView) -> Shown {
    match (view.state.as_str(), &view.url) {
        ("running", Some(url)) => Shown::Running(url.clone()),
        ("asleep", _) => Shown::Asleep,
        ("failed", _) => Shown::Failed(
            view.reason
                .clone()
                .unwrap_or_else(|| "The preview could not start.".to_owned()),
        ),
        _ => Shown::Nothing,
    }
}

#[component]
pub fn PreviewTab() -> impl IntoView {
    let ws = use_ws();
    let device = RwSignal::new(Device::Desktop);
    let has_app = ws.page.with_untracked(|page| page.has_app);
    let logs_open = RwSignal::new(false);
    let reloads = RwSignal::new(0u32);
    let state = RwSignal::new(Shown::Starting);
    // Only the browser needs a frame.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));

    // Which version's preview, and whether a turn is serving it live.
    let target = Memo::new(move |_| {
        let newest = ws.newest().map(|v| v.id);
        let version = ws.version();
        // A restored version never had a sandbox: start one right away.
        let fresh = version.as_ref().is_some_and(|v| v.preview_url.is_none());
        let shown = version.map(|v| v.id);
        let live = ws.running().and(ws.live_preview.get());
        (
            shown.clone(),
            shown == newest,
            live,
            ws.running().is_some(),
            fresh,
        )
    });
    let checks = RwSignal::new(0u32);
    Effect::new(move |_| {
        let (version, newest, live, running, fresh) = target.get();
        checks.get();
        if !mounted.get() {
            return;
        }
        match (version, live) {
            (_, Some(url)) if newest => state.set(Shown::Running(url)),
            (None, _) if running => state.set(Shown::Starting),
            (None, _) => state.set(Shown::Nothing),
            (Some(version), _) => {
                // The newest version is checked (and offered a restart when
                // asleep); an older one is started right away.
                let current = state.get_untracked();
                if !matches!(current, Shown::Running(_)) {
                    state.set(Shown::Starting);
                }
                leptos::task::spawn_local(async move {
                    let answer = if newest && !fresh {
                        preview_status(version.clone()).await
                    } else {
                        start_preview(version.clone()).await
                    };
                    // Ignore an answer for a version no longer shown.
                    if target.get_untracked().0.as_deref() != Some(version.as_str()) {
                        return;
                    }
                    match answer {
                        Ok(view) => {
                            #[cfg(feature = "hydrate")]
                            if let Some(left) =
                                view.expires_in_ms.filter(|_| view.state == "running")
                            {
                                // Look again when the sandbox is due to end.
                                set_timeout(
                                    move || checks.update(|n| *n += 1),
                                    std::time::Duration::from_millis(
                                        u64::try_from(left).unwrap_or(0) + 1000,
                                    ),
                                );
                            }
                            let next = shown(&view);
                            if next == Shown::Nothing
                                && ws.page.with_untracked(|page| page.running.is_some())
                            {
                                state.set(Shown::Starting);
                            } else {
                                state.set(next);
                            }
                        }
                        Err(error) => state.set(Shown::Failed(error.to_string())),
                    }
                });
            }
        }
    });

    let restart = move || {
        let Some(version) = untrack(|| ws.version()).map(|v| v.id) else {
            return;
        };
        state.set(Shown::Starting);
        leptos::task::spawn_local(async move {
            match start_preview(version).await {
                Ok(view) => state.set(shown(&view)),
                Err(error) => state.set(Shown::Failed(error.to_string())),
            }
        });
    };
    // The status bar says where the sandbox is.
    Effect::new(move |_| {
        ws.sandbox_state.set(match state.get() {
            Shown::Running(_) => "Sandbox running",
            Shown::Starting => "Sandbox starting…",
            Shown::Asleep => "Sandbox asleep",
            Shown::Failed(_) => "Sandbox failed",
            Shown::Nothing => "No sandbox yet",
        });
    });
    // The "Restart preview" command.
    Effect::new(move |seen: Option<u64>| {
        let now = ws.restart_preview.get();
        if seen.is_some_and(|seen| seen != now) {
            restart();
        }
        now
    });
    let frame_url = Memo::new(move |_| match state.get() {
        Shown::Running(url) => Some(url),
        _ => None,
    });
    let url = move || frame_url.get();
    let frame = NodeRef::<leptos::html::Iframe>::new();
    // The preview's errors, from its frame only; a new page, a new version
    // or a new turn starts the count again.
    let preview_origin = Memo::new(move |_| {
        frame_url.get().map(|url| {
            let rest = url.split_once("://").map_or("", |(_, rest)| rest);
            let host = rest.split('/').next().unwrap_or_default();
            let scheme = url.split("://").next().unwrap_or_default();
            format!("{scheme}://{host}")
        })
    });
    #[cfg(feature = "hydrate")]
    super::browser_errors::listen(frame, preview_origin);
    #[cfg(not(feature = "hydrate"))]
    let _ = preview_origin;
    // (A memo: signals set to the value they had still notify.)
    let page_shown =
        Memo::new(move |_| (frame_url.get(), reloads.get(), ws.version().map(|v| v.id)));
    Effect::new(move |_| {
        page_shown.track();
        ws.preview_errors.set(Vec::new());
    });
    // A turn starting: what the page reported was about the code before it.
    Effect::new(move |was_running: Option<bool>| {
        let running = ws.running().is_some();
        if running && was_running == Some(false) {
            ws.preview_errors.set(Vec::new());
        }
        running
    });
    let has_errors = move || ws.preview_errors.with(|list| !list.is_empty());
    // While a turn writes files, the frame is navigated again (a new frame
    // per file would flicker); Refresh and another version get a new frame
    // (the keyed list below). An app that shows changes by itself (HMR) is
    // left alone: a reload would lose what the user did in it.
    let hot_reload = ws.page.with_untracked(|page| page.hot_reload);
    Effect::new(move |previous: Option<usize>| {
        let key = ws.events.with(|events| {
            events
                .iter()
                .filter(|e| matches!(e.event, TurnEvent::FileWritten { .. }))
                .count()
        });
        if !hot_reload && previous.is_some_and(|previous| previous != key) {
            #[cfg(feature = "hydrate")]
            if let (Some(frame), Some(url)) = (frame.get_untracked(), frame_url.get_untracked()) {
                if let Some(window) = frame.content_window() {
                    let _ = window.location().replace(&url);
                }
            }
        }
        key
    });
    let device_button = move |which: Device, label: &'static str| {
        view! {
            <button
                type="button"
                aria-pressed=move || (device.get() == which).to_string()
                on:click=move |_| device.set(which)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="preview">
            <div class="preview-toolbar">
                <button
                    type="button"
                    class="button button-ghost button-small"
                    disabled=move || url().is_none()
                    on:click=move |_| reloads.update(|n| *n += 1)
                >
                    "Refresh"
                </button>
                {move || match url() {
                    Some(url) => view! {
                        <a class="button button-ghost button-small" href=url target="_blank" rel="noopener noreferrer">
                            "Open in new tab"
                        </a>
                    }
                    .into_any(),
                    None => view! {
                        <button type="button" class="button button-ghost button-small" disabled>
                            "Open in new tab"
                        </button>
                    }
                    .into_any(),
                }}
                <Show when=move || has_app || has_errors()>
                    <button
                        type="button"
                        class="button button-ghost button-small"
                        aria-pressed=move || logs_open.get().to_string()
                        aria-controls="preview-logs"
                        on:click=move |_| logs_open.update(|open| *open = !*open)
                    >
                        "Logs"
                        {move || has_errors().then(|| view! {
                            <span class="tab-badge" aria-hidden="true">
                                {ws.preview_errors.with(Vec::len)}
                            </span>
                        })}
                    </button>
                </Show>
                <div class="device-switch" role="group" aria-label="Device width">
                    {device_button(Device::Mobile, "Mobile")}
                    {device_button(Device::Tablet, "Tablet")}
                    {device_button(Device::Desktop, "Desktop")}
                </div>
            </div>
            <div class=move || format!("preview-stage {}", device.get().class())>
                // The frame stays one element while its address stays: a
                // reload navigates it rather than replacing it.
                // Keyed by address, version and Refresh: each gets a new frame
                // rather than a navigation of the old one.
                <For
                    each=move || {
                        frame_url
                            .get()
                            .filter(|_| mounted.get())
                            .map(|url| {
                                // The newest version of a hot-reloading app
                                // keeps its frame as versions come.
                                let version = ws
                                    .version()
                                    .filter(|shown| {
                                        !hot_reload
                                            || ws.newest().map(|v| v.id) != Some(shown.id.clone())
                                    })
                                    .map(|v| v.id);
                                (url, version, reloads.get())
                            })
                    }
                    key=|frame| frame.clone()
                    let:((url, _, _))
                >
                    <iframe
                        node_ref=frame
                        title="Preview"
                        class="preview-frame"
                        src=url
                        sandbox=FRAME_SANDBOX
                        referrerpolicy="no-referrer"
                    ></iframe>
                </For>
                {move || {
                    ws.app_failed
                        .get()
                        .filter(|_| matches!(state.get(), Shown::Running(_)))
                        .map(|log| {
                            view! {
                                <div class="preview-state preview-app-failed" role="alert">
                                    <h2>"The app did not start"</h2>
                                    <p class="muted">
                                        "Its process exited or never answered. The end of its log:"
                                    </p>
                                    <pre class="app-log" aria-label="The app's log">{log}</pre>
                                </div>
                            }
                        })
                }}
                {move || match state.get() {
                    Shown::Running(_) if mounted.get() => ().into_any(),
                    Shown::Running(_) | Shown::Starting => view! {
                        <div class="preview-state" role="status">
                            <span class="spinner spinner-large" aria-hidden="true"></span>
                            <p>"Starting your app…"</p>
                        </div>
                    }
                    .into_any(),
                    Shown::Asleep => view! {
                        <div class="preview-state">
                            <h2>"This preview went to sleep"</h2>
                            <p class="muted">"Sandboxes stop after a while. Restarting brings this version back from its files."</p>
                            <button type="button" class="button button-primary" on:click=move |_| restart()>
                                "Restart preview"
                            </button>
                        </div>
                    }
                    .into_any(),
                    Shown::Failed(reason) => view! {
                        <div class="preview-state" role="alert">
                            <h2>"The preview could not start"</h2>
                            <p>{reason}</p>
                            <button type="button" class="button" on:click=move |_| restart()>
                                "Try again"
                            </button>
                        </div>
                    }
                    .into_any(),
                    Shown::Nothing => view! {
                        <div class="preview-state">
                            <h2>"Nothing to preview yet"</h2>
                            <p class="muted">"Describe your app in the chat and Ollio builds it here."</p>
                        </div>
                    }
                    .into_any(),
                }}
            </div>
            <Show when=move || logs_open.get()>
                <BrowserErrors />
                {has_app.then(|| view! {
                    <AppLogs
                        version=Signal::derive(move || ws.version().map(|v| v.id))
                        on_close=Callback::new(move |()| logs_open.set(false))
                    />
                })}
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::FRAME_SANDBOX;

    #[test]
    fn the_frame_never_gets_scripts_and_its_origin_together() {
        assert!(FRAME_SANDBOX.contains("allow-scripts"));
        assert!(!FRAME_SANDBOX.contains("allow-same-origin"));
    }
}
