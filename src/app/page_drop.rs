//! A `.zip` or a folder dropped anywhere on `/projects` is imported, as if
//! chosen in the "Import a project" form (whose boxes take drops without
//! JavaScript; this island makes the whole page a drop target). A dropped
//! folder is walked in the browser, skipping dependency and cache folders
//! (`file_path::PRUNED`) before anything is sent, and its files go to
//! `/api/projects/import` as the form's folder input sends them, each named
//! with its path. The new project opens; a refusal shows in the form. The
//! walking and sending load as a WASM chunk of their own on the first drop,
//! so the pages that never take one do not carry them.

use leptos::prelude::*;

/// Said over the page while files are dragged over it.
const DROP_HERE: &str = "Drop a .zip or a folder to import it";

#[island]
pub fn PageDrop() -> impl IntoView {
    let refused = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    browser::listen(refused);
    view! {
        <div class="page-drop" aria-hidden="true"><p>{DROP_HERE}</p></div>
        {move || refused.get().map(|why| view! { <p class="notice notice-error" role="alert">{why}</p> })}
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::Cell, future::Future, pin::Pin, rc::Rc};

    use leptos::{ev, prelude::*, task::spawn_local, wasm_split::SplitLoaderError};
    use ollio_domain::file_path::PRUNED;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        DataTransfer, DragEvent, File, FileSystemDirectoryEntry, FileSystemEntry,
        FileSystemFileEntry, FormData, HtmlElement,
    };

    use crate::error::AppError;

    /// Set on `<html>` while files are over the page (the style sheet shows
    /// the overlay), and on the form while an import is sent.
    const DROPPING: &str = "data-dropping";
    const BUSY: &str = "aria-busy";
    const LOST: &str =
        "The import broke off before it was complete: check your connection and drop it again.";

    /// What a drop brought.
    enum Dropped {
        /// One `.zip`.
        Zip(File),
        /// Files and folders, to walk.
        Entries(Vec<FileSystemEntry>),
        /// Files without entries (a page's own drag): sent by their names.
        Files(Vec<File>),
    }

    pub fn listen(refused: RwSignal<Option<String>>) {
        // dragenter and dragleave come in pairs for every element crossed.
        let depth = Rc::new(Cell::new(0i32));
        let entered = depth.clone();
        window_event_listener(ev::dragenter, move |event| {
            if carries_files(&event) {
                entered.set(entered.get() + 1);
                overlay(true);
            }
        });
        let left = depth.clone();
        window_event_listener(ev::dragleave, move |event| {
            if carries_files(&event) {
                left.set((left.get() - 1).max(0));
                if left.get() == 0 {
                    overlay(false);
                }
            }
        });
        window_event_listener(ev::dragover, |event| {
            if carries_files(&event) {
                // Taking the drop here, rather than the browser opening it.
                event.prevent_default();
                if let Some(transfer) = event.data_transfer() {
                    transfer.set_drop_effect("copy");
                }
            }
        });
        window_event_listener(ev::drop, move |event| {
            depth.set(0);
            overlay(false);
            // The form's own boxes take their drops as a chosen file.
            let on_box = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                .and_then(|element| element.closest(".drop-zone").ok().flatten())
                .is_some();
            if on_box || !carries_files(&event) {
                return;
            }
            event.prevent_default();
            let Some(dropped) = event
                .data_transfer()
                .and_then(|transfer| dropped(&transfer))
            else {
                return;
            };
            let Some(form) = form() else { return };
            if form.has_attribute(BUSY) {
                return;
            }
            let _ = form.set_attribute(BUSY, "true");
            refused.set(None);
            spawn_local(async move {
                // The walking and sending are a WASM chunk of their own.
                let result = match import_dropped(dropped).await {
                    Ok(sending) => sending.await,
                    Err(_) => Err(LOST.to_owned()),
                };
                match result {
                    Ok(to) => {
                        let _ = window().location().assign(&to);
                    }
                    Err(why) => {
                        let _ = form.remove_attribute(BUSY);
                        refused.set(Some(why));
                    }
                }
            });
        });
    }

    fn carries_files(event: &DragEvent) -> bool {
        event
            .data_transfer()
            .is_some_and(|transfer| transfer.types().includes(&JsValue::from_str("Files"), 0))
    }

    fn overlay(on: bool) {
        if let Some(root) = document().document_element() {
            let _ = if on {
                root.set_attribute(DROPPING, "")
            } else {
                root.remove_attribute(DROPPING)
            };
        }
    }

    fn form() -> Option<HtmlElement> {
        document()
            .query_selector("#import form.import-form")
            .ok()
            .flatten()
            .and_then(|form| form.dyn_into().ok())
    }

    /// What was dropped, read while the drop event lasts (its items are
    /// gone once it ends; the entries and files taken stay readable).
    fn dropped(transfer: &DataTransfer) -> Option<Dropped> {
        let items = transfer.items();
        let entries: Vec<FileSystemEntry> = (0..items.length())
            .filter_map(|at| items.get(at))
            .filter(|item| item.kind() == "file")
            .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
            .collect();
        let files: Vec<File> = transfer
            .files()
            .map(|list| (0..list.length()).filter_map(|at| list.get(at)).collect())
            .unwrap_or_default();
        let one_zip = match (entries.as_slice(), files.as_slice()) {
            ([entry], [file]) => entry.is_file() && is_zip(&file.name()),
            ([], [file]) => is_zip(&file.name()),
            _ => false,
        };
        match (one_zip, entries.is_empty(), files.is_empty()) {
            (true, ..) => files.into_iter().next().map(Dropped::Zip),
            (false, false, _) => Some(Dropped::Entries(entries)),
            (false, true, false) => Some(Dropped::Files(files)),
            (false, true, true) => None,
        }
    }

    fn is_zip(name: &str) -> bool {
        name.to_ascii_lowercase().ends_with(".zip")
    }

    /// The import on its way: where the new project is, or why not.
    type Sending = Pin<Box<dyn Future<Output = Result<String, String>>>>;

    /// The chunk's entry (`/pkg/split_page_drop.wasm`).
    #[leptos::wasm_split::wasm_split(page_drop, wasm_split_path = ::leptos::wasm_split, fallible)]
    fn import_dropped(dropped: Dropped) -> Result<Sending, SplitLoaderError> {
        Ok(Box::pin(send(dropped)))
    }

    /// The new project, as the import answers.
    #[derive(serde::Deserialize)]
    struct Imported {
        id: String,
    }

    /// Sends the import; where the new project is, or why it was refused.
    async fn send(dropped: Dropped) -> Result<String, String> {
        let body = FormData::new().map_err(|_| LOST.to_owned())?;
        let add = |name: &str, file: &File, as_name: &str| {
            body.append_with_blob_and_filename(name, file, as_name)
                .map_err(|_| LOST.to_owned())
        };
        match dropped {
            Dropped::Zip(file) => add("archive", &file, &file.name())?,
            Dropped::Files(files) => {
                for file in files {
                    add("files", &file, &file.name())?;
                }
            }
            Dropped::Entries(entries) => {
                for (path, file) in walk(entries).await? {
                    add("files", &file, &path)?;
                }
            }
        }
        let template = document()
            .get_element_by_id("import-template")
            .and_then(|select| select.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .map(|select| select.value())
            .unwrap_or_default();
        body.append_with_str("template", &template)
            .map_err(|_| LOST.to_owned())?;
        let response = gloo_net::http::Request::post("/api/projects/import")
            .header("accept", "application/json")
            .body(JsValue::from(body))
            .map_err(|_| LOST.to_owned())?
            .send()
            .await
            .map_err(|_| LOST.to_owned())?;
        if response.status() == 401 {
            return Ok("/login?next=%2Fprojects".to_owned());
        }
        if response.ok() {
            let project: Imported = response.json().await.map_err(|_| LOST.to_owned())?;
            return Ok(format!("/projects/{}", project.id));
        }
        match response.json::<AppError>().await {
            Ok(error) => Err(error.to_string()),
            Err(_) => Err(LOST.to_owned()),
        }
    }

    /// The files under `entries`, each with its path from where it was
    /// dropped (`bakery-site/css/site.css`), dependency folders skipped.
    async fn walk(entries: Vec<FileSystemEntry>) -> Result<Vec<(String, File)>, String> {
        let unreadable = |entry: &FileSystemEntry| {
            format!(
                "{} could not be read; drop the folder again, or choose it in the form.",
                entry.full_path().trim_start_matches('/')
            )
        };
        let mut files = Vec::new();
        let mut pending = entries;
        while let Some(entry) = pending.pop() {
            if entry.is_directory() {
                let name = entry.name();
                if PRUNED.contains(&name.as_str()) || name == "__MACOSX" {
                    continue;
                }
                let reader = entry
                    .unchecked_ref::<FileSystemDirectoryEntry>()
                    .create_reader();
                // A directory reader hands its entries over in batches.
                loop {
                    let batch = JsFuture::from(js_sys::Promise::new(&mut |done, failed| {
                        if let Err(error) =
                            reader.read_entries_with_callback_and_callback(&done, &failed)
                        {
                            let _ = failed.call1(&JsValue::NULL, &error);
                        }
                    }))
                    .await
                    .map_err(|_| unreadable(&entry))?;
                    let batch: js_sys::Array = batch.unchecked_into();
                    if batch.length() == 0 {
                        break;
                    }
                    pending.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
                }
            } else if entry.is_file() {
                let file = JsFuture::from(js_sys::Promise::new(&mut |done, failed| {
                    entry
                        .unchecked_ref::<FileSystemFileEntry>()
                        .file_with_callback_and_callback(&done, &failed);
                }))
                .await
                .map_err(|_| unreadable(&entry))?;
                let path = entry.full_path().trim_start_matches('/').to_owned();
                files.push((path, file.unchecked_into()));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }
}
