//! "Import project" on `/projects`: a plain multipart form (it works before
//! and without the page's WASM) posting a `.zip`, or a folder's files, to
//! `/api/projects/import`. Each file input is drawn as a large box, its
//! own drop target: a zip or a folder dropped onto it is taken as chosen;
//! with the page's WASM, one dropped anywhere on the page is imported too
//! (`page_drop`). A refused import comes back here with the reason (and the
//! template picked) in the typed-values cookie.

use leptos::prelude::*;

use super::{forms::typed, page_drop::PageDrop};
use crate::api::projects::TemplateChoice;

/// Said under the inputs: what an import may hold.
const LIMITS: &str = "Up to 50 MB zipped (200 MB unpacked) and 5,000 files. node_modules, .venv, .git and build folders are skipped.";

#[component]
pub fn ImportForm(templates: Vec<TemplateChoice>) -> impl IntoView {
    let error = typed("import_error");
    let picked = typed("template").unwrap_or_default();
    view! {
        <section id="import" class="card import-card" aria-labelledby="import-title">
            <h2 id="import-title">"Import a project"</h2>
            <p class="muted small">"Bring an app you already have: its files become version 1, and Ollio picks the template from them."</p>
            {error.map(|error| view! { <p class="notice notice-error" role="alert">{error}</p> })}
            <PageDrop />
            <form
                class="import-form"
                method="post"
                action="/api/projects/import"
                enctype="multipart/form-data"
            >
                <div class="drop-zones">
                    <div class="drop-zone">
                        <label for="import-archive">"Zip file"</label>
                        <input id="import-archive" class="drop-input" type="file" name="archive" accept=".zip,application/zip" aria-describedby="import-archive-hint" />
                        <span id="import-archive-hint" class="hint">"Drop a .zip here or anywhere on the page, or choose one."</span>
                    </div>
                    <div class="drop-zone">
                        <label for="import-folder">"Folder"</label>
                        <input id="import-folder" class="drop-input" type="file" name="files" multiple webkitdirectory="" aria-describedby="import-folder-hint" />
                        <span id="import-folder-hint" class="hint">"Drop a folder here or anywhere on the page, or choose one."</span>
                    </div>
                </div>
                <div class="field">
                    <label for="import-template">"Template"</label>
                    <select id="import-template" name="template">
                        <option value="" selected=picked.is_empty()>"Detect from the files"</option>
                        {templates.into_iter().map(|template| {
                            let selected = template.id == picked;
                            view! { <option value=template.id selected=selected>{template.label}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <p class="hint">{LIMITS}</p>
                <div class="form-actions">
                    <button type="submit" class="button button-primary">"Import project"</button>
                    <span class="import-progress muted small" aria-hidden="true">"Uploading and unpacking…"</span>
                </div>
            </form>
        </section>
    }
}
