//! The Code tab's editor: CodeMirror 6 (`src/editor/index.js`, bundled into
//! `/pkg/editor.js`), imported once the page is interactive, only on the
//! project page. The server renders a placeholder; the browser mounts the
//! editor on it with the file's text, or the user's unsaved draft.

use leptos::prelude::*;

/// An editor for `path` holding `text`. `on_change` gets the text after each
/// edit, `on_save` runs on Ctrl/Cmd+S, `on_cursor` gets the line and column
/// and the selection (UTF-16 offsets), `on_ask` runs on Ctrl/Cmd+K.
#[component]
pub fn Editor(
    path: String,
    text: String,
    read_only: bool,
    /// A line to put the cursor on and show (a search result).
    line: Option<u32>,
    on_change: Callback<String>,
    on_save: Callback<()>,
    on_cursor: Callback<super::Cursor>,
    on_ask: Callback<()>,
) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let mounted = StoredValue::new_local(None::<browser::Mounted>);
        Effect::new(move |_| {
            let Some(parent) = host.get() else {
                return;
            };
            let (path, text) = (path.clone(), text.clone());
            leptos::task::spawn_local(async move {
                let hooks = browser::Hooks {
                    on_change,
                    on_save,
                    on_cursor,
                    on_ask,
                };
                match browser::mount(parent.into(), &path, &text, read_only, line, hooks).await {
                    Ok(editor) => {
                        mounted.set_value(Some(editor));
                        ready.set(true);
                    }
                    Err(error) => failed.set(Some(error)),
                }
            });
        });
        on_cleanup(move || {
            if let Some(editor) = mounted.try_update_value(Option::take).flatten() {
                editor.destroy();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (
        path, text, read_only, line, on_change, on_save, on_cursor, on_ask,
    );
    view! {
        {move || (!ready.get() && failed.get().is_none()).then(|| view! {
            <p class="muted small editor-loading" aria-busy="true">"Loading the editor…"</p>
        })}
        <div class="editor-host" node_ref=host></div>
        {move || failed.get().map(|error| view! {
            <p class="notice notice-error" role="alert">{format!("The editor could not be loaded: {error}")}</p>
        })}
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::{Callable, Callback};
    use wasm_bindgen::{prelude::Closure, JsCast, JsValue};

    /// What the page hears from the editor.
    #[derive(Clone, Copy)]
    pub struct Hooks {
        pub on_change: Callback<String>,
        pub on_save: Callback<()>,
        pub on_cursor: Callback<super::super::Cursor>,
        pub on_ask: Callback<()>,
    }

    /// The callbacks a mounted editor calls: change, save, cursor, ask.
    type Callbacks = (
        Closure<dyn FnMut(String)>,
        Closure<dyn FnMut()>,
        Closure<dyn FnMut(u32, u32, u32, u32)>,
        Closure<dyn FnMut()>,
    );

    /// A mounted editor and the callbacks it holds on to.
    pub struct Mounted {
        handle: JsValue,
        _closures: Callbacks,
    }

    impl Mounted {
        pub fn destroy(&self) {
            super::super::js_module::call(&self.handle, "destroy");
        }
    }

    pub async fn mount(
        parent: web_sys::HtmlElement,
        path: &str,
        text: &str,
        read_only: bool,
        line: Option<u32>,
        hooks: Hooks,
    ) -> Result<Mounted, String> {
        let Hooks {
            on_change,
            on_save,
            on_cursor,
            on_ask,
        } = hooks;
        let module = super::super::js_module::import("/pkg/editor.js").await?;
        let mount: js_sys::Function = js_sys::Reflect::get(&module, &"mount".into())
            .map_err(|_| "the editor has no mount".to_owned())?
            .unchecked_into();
        let changed = Closure::<dyn FnMut(String)>::new(move |text: String| on_change.run(text));
        let saved = Closure::<dyn FnMut()>::new(move || on_save.run(()));
        let moved = Closure::<dyn FnMut(u32, u32, u32, u32)>::new(
            move |line: u32, column: u32, from: u32, to: u32| {
                on_cursor.run(super::super::Cursor {
                    line,
                    column,
                    from,
                    to,
                })
            },
        );
        let asked = Closure::<dyn FnMut()>::new(move || on_ask.run(()));
        let args = js_sys::Array::of5(
            &parent,
            &path.into(),
            &text.into(),
            &read_only.into(),
            changed.as_ref(),
        );
        args.push(saved.as_ref());
        args.push(moved.as_ref());
        args.push(&line.unwrap_or(0).into());
        args.push(asked.as_ref());
        let handle = mount
            .apply(&JsValue::NULL, &args)
            .map_err(|error| format!("{error:?}"))?;
        Ok(Mounted {
            handle,
            _closures: (changed, saved, moved, asked),
        })
    }
}
