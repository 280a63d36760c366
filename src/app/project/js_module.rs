//! The project page's browser libraries (`/pkg/editor.js`, `/pkg/terminal.js`,
//! bundled by scripts/lib.sh), imported on first use; the browser keeps a
//! module once loaded.

use wasm_bindgen::{JsCast, JsValue};

/// The module at `url`, or why it did not load.
pub async fn import(url: &str) -> Result<JsValue, String> {
    let import = js_sys::Function::new_with_args("url", "return import(url)");
    let promise: js_sys::Promise = import
        .call1(&JsValue::NULL, &url.into())
        .map_err(|error| format!("{error:?}"))?
        .unchecked_into();
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|error| {
            error
                .as_string()
                .or_else(|| {
                    js_sys::Reflect::get(&error, &"message".into())
                        .ok()?
                        .as_string()
                })
                .unwrap_or_else(|| "the script did not load".into())
        })
}

/// Calls `handle.name()` (a mounted library's method), if it has one.
pub fn call(handle: &JsValue, name: &str) -> Option<JsValue> {
    let method = js_sys::Reflect::get(handle, &name.into()).ok()?;
    method.dyn_ref::<js_sys::Function>()?.call0(handle).ok()
}
