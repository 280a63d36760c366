//! Attaching files to a message, on the home page's prompt and in the
//! project's message box alike: the "Attach" button, files dropped on the
//! form or pasted into it, and a chip for each file staged for the next
//! message. A file uploads as soon as it is picked (`POST
//! /api/attachments`, which checks its bytes); the message then names the
//! uploaded ones by id. A refused file says why; nothing typed is lost.

use leptos::{html, prelude::*};

use ollio_domain::attachment::{AttachmentError, AttachmentName, MAX_BYTES, MAX_FILES};

use crate::dto::chat::AttachmentView;

/// What the file picker offers (the server checks the bytes regardless).
const ACCEPT: &str =
    ".csv,.tsv,.json,.jsonl,.txt,.md,.xlsx,.parquet,image/png,image/jpeg,image/webp,image/gif";

/// A file staged for the next message.
#[derive(Debug, Clone, PartialEq)]
struct Staged {
    key: u64,
    name: String,
    size: u64,
    /// A local picture of an image, until the page forgets it.
    preview: Option<String>,
    /// Its id once uploaded.
    uploaded: Option<AttachmentView>,
}

/// The files staged for one form's next message, and the last refusal.
#[derive(Debug, Clone, Copy)]
pub struct Attachments {
    staged: RwSignal<Vec<Staged>>,
    pub problem: RwSignal<Option<String>>,
    /// The key of the next staged file (only the browser stages files).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    next: StoredValue<u64>,
    dragging: RwSignal<bool>,
}

impl Default for Attachments {
    fn default() -> Self {
        Self::new()
    }
}

impl Attachments {
    pub fn new() -> Self {
        Self {
            staged: RwSignal::new(Vec::new()),
            problem: RwSignal::new(None),
            next: StoredValue::new(0),
            dragging: RwSignal::new(false),
        }
    }

    /// Whether a file is still on its way up (the message waits for it).
    pub fn uploading(&self) -> bool {
        self.staged
            .with(|staged| staged.iter().any(|file| file.uploaded.is_none()))
    }

    /// The uploaded files' ids, comma-separated, for the message; `None`
    /// when there are none.
    pub fn ids(&self) -> Option<String> {
        let ids: Vec<String> = self.staged.with_untracked(|staged| {
            staged
                .iter()
                .filter_map(|file| file.uploaded.as_ref().map(|view| view.id.clone()))
                .collect()
        });
        (!ids.is_empty()).then(|| ids.join(","))
    }

    /// Forgets the staged files once their message was sent.
    pub fn clear(&self) {
        let staged = self.staged.try_update(std::mem::take).unwrap_or_default();
        for file in staged {
            forget_preview(file.preview);
        }
        self.problem.set(None);
    }

    /// Whether a name and a size may be attached, before uploading: the
    /// same words the server would answer with.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn precheck(&self, name: &str, size: u64, adding: usize) -> Result<(), AttachmentError> {
        let name = AttachmentName::parse(name)?;
        if self.staged.with_untracked(Vec::len) + adding >= MAX_FILES {
            return Err(AttachmentError::TooMany);
        }
        if self.staged.with_untracked(|staged| {
            staged
                .iter()
                .any(|file| file.name.eq_ignore_ascii_case(name.as_str()))
        }) {
            return Err(AttachmentError::BadName {
                name: format!("{name} (attached twice)"),
            });
        }
        if size == 0 {
            return Err(AttachmentError::Empty {
                name: name.to_string(),
            });
        }
        if size > MAX_BYTES as u64 {
            return Err(AttachmentError::TooLarge {
                name: name.to_string(),
                size: size as usize,
            });
        }
        Ok(())
    }

    fn remove(&self, key: u64) {
        let mut removed = None;
        self.staged.update(|staged| {
            if let Some(at) = staged.iter().position(|file| file.key == key) {
                removed = Some(staged.remove(at));
            }
        });
        if let Some(file) = removed {
            forget_preview(file.preview);
            if let Some(view) = file.uploaded {
                forget_upload(view.id);
            }
        }
    }
}

#[cfg(feature = "hydrate")]
impl Attachments {
    /// Stages and uploads `files`, refusing (with the reason) what cannot
    /// go: the files before a refused one are kept.
    fn add(&self, files: web_sys::FileList) {
        self.problem.set(None);
        let mut adding: Vec<web_sys::File> = Vec::new();
        for index in 0..files.length() {
            let Some(file) = files.get(index) else {
                continue;
            };
            let twice = adding.iter().any(|other| other.name() == file.name());
            let checked = if twice {
                Err(AttachmentError::BadName {
                    name: format!("{} (attached twice)", file.name()),
                })
            } else {
                self.precheck(&file.name(), file.size() as u64, adding.len())
            };
            if let Err(error) = checked {
                self.problem.set(Some(error.to_string()));
                break;
            }
            adding.push(file);
        }
        for file in adding {
            let key = self.next.get_value();
            self.next.set_value(key + 1);
            let preview = file
                .type_()
                .starts_with("image/")
                .then(|| web_sys::Url::create_object_url_with_blob(&file).ok())
                .flatten();
            self.staged.update(|staged| {
                staged.push(Staged {
                    key,
                    name: file.name(),
                    size: file.size() as u64,
                    preview,
                    uploaded: None,
                })
            });
            let this = *self;
            leptos::task::spawn_local(async move {
                let uploaded = upload(&file).await;
                let mut kept = false;
                let mut refused = None;
                this.staged.update(|staged| {
                    let Some(at) = staged.iter().position(|staged| staged.key == key) else {
                        return;
                    };
                    match &uploaded {
                        Ok(view) => {
                            staged[at].uploaded = Some(view.clone());
                            kept = true;
                        }
                        Err(_) => refused = Some(staged.remove(at)),
                    }
                });
                match uploaded {
                    // Removed while it was on its way: forget it there too.
                    Ok(view) if !kept => forget_upload(view.id),
                    Ok(_) => {}
                    Err(reason) => {
                        if let Some(file) = refused {
                            forget_preview(file.preview);
                        }
                        this.problem.set(Some(reason));
                    }
                }
            });
        }
    }
}

/// Uploads one file; the server's reason when it refuses it.
#[cfg(feature = "hydrate")]
async fn upload(file: &web_sys::File) -> Result<AttachmentView, String> {
    use crate::error::AppError;
    let name = file.name();
    let url = format!(
        "/api/attachments?name={}",
        String::from(js_sys::encode_uri_component(&name))
    );
    let lost =
        || format!("{name} could not be uploaded: check your connection and attach it again.");
    let response = gloo_net::http::Request::post(&url)
        .header("content-type", "application/octet-stream")
        .body(wasm_bindgen::JsValue::from(file.clone()))
        .map_err(|_| lost())?
        .send()
        .await
        .map_err(|_| lost())?;
    if response.ok() {
        return response.json::<AttachmentView>().await.map_err(|_| lost());
    }
    match response.json::<AppError>().await {
        Ok(error) => Err(error.to_string()),
        Err(_) => Err(lost()),
    }
}

/// Removes an uploaded file that will not be sent (best effort: the server
/// lets go of old staged files by itself).
fn forget_upload(id: String) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let _ = gloo_net::http::Request::delete(&format!("/api/attachments/{id}"))
            .send()
            .await;
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

fn forget_preview(preview: Option<String>) {
    #[cfg(feature = "hydrate")]
    if let Some(url) = preview {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = preview;
}

/// The handlers that take files dropped on a form or pasted into it.
impl Attachments {
    pub fn on_dragover(&self, ev: leptos::ev::DragEvent) {
        ev.prevent_default();
        self.dragging.set(true);
    }

    pub fn on_dragleave(&self, _ev: leptos::ev::DragEvent) {
        self.dragging.set(false);
    }

    pub fn on_drop(&self, ev: leptos::ev::DragEvent) {
        ev.prevent_default();
        self.dragging.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.data_transfer().and_then(|data| data.files()) {
            self.add(files);
        }
    }

    /// Pasted files are attached; pasted text is typed as usual.
    pub fn on_paste(&self, ev: leptos::ev::ClipboardEvent) {
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.clipboard_data().and_then(|data| data.files()) {
            if files.length() > 0 {
                ev.prevent_default();
                self.add(files);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    /// Whether files are being dragged over the form.
    pub fn dragging(&self) -> bool {
        self.dragging.get()
    }
}

/// The "Attach" button and the file picker it opens.
#[component]
pub fn AttachButton(
    attachments: Attachments,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    #[cfg(not(feature = "hydrate"))]
    let _ = attachments;
    view! {
        <button
            type="button"
            class="button button-ghost button-small attach-button"
            disabled=move || disabled.get()
            aria-describedby="attach-rules"
            on:click=move |_| {
                if let Some(input) = input.get() {
                    input.click();
                }
            }
        >
            "Attach"
        </button>
        <span id="attach-rules" class="visually-hidden">
            {format!(
                "Up to {MAX_FILES} files of at most 20 MB: CSV, JSON, TXT, XLSX or Parquet data, or PNG, JPEG, WebP or GIF images. You can also drop or paste files here."
            )}
        </span>
        <input
            type="file"
            multiple
            class="visually-hidden"
            tabindex="-1"
            aria-hidden="true"
            accept=ACCEPT
            node_ref=input
            on:change=move |_ev| {
                #[cfg(feature = "hydrate")]
                if let Some(input) = input.get() {
                    if let Some(files) = input.files() {
                        attachments.add(files);
                    }
                    // Picking the same file again fires a change again.
                    input.set_value("");
                }
            }
        />
    }
}

/// The chips of the staged files, each with "Remove". At most five, so
/// they are drawn again whole when one changes.
#[component]
pub fn StagedChips(attachments: Attachments) -> impl IntoView {
    let staged = attachments.staged;
    move || {
        let files = staged.get();
        (!files.is_empty()).then(|| {
            let chips = files
                .into_iter()
                .map(|file| {
                    let key = file.key;
                    let label = format!("Remove {}", file.name);
                    let status = if file.uploaded.is_some() {
                        ollio_domain::size_text(file.size)
                    } else {
                        "Uploading…".to_owned()
                    };
                    view! {
                        <li class="attachment-chip" aria-busy=file.uploaded.is_none().to_string()>
                            {chip_picture(file.preview.clone(), &file.name)}
                            <span class="attachment-name">{file.name.clone()}</span>
                            <span class="attachment-size small muted">{status}</span>
                            <button
                                type="button"
                                class="attachment-remove"
                                aria-label=label
                                on:click=move |_| attachments.remove(key)
                            >
                                "×"
                            </button>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="attachment-chips" aria-label="Attached files">{chips}</ul> }
        })
    }
}

/// A sent message's files: thumbnails for images, chips for data.
#[component]
pub fn SentChips(files: Vec<AttachmentView>) -> impl IntoView {
    (!files.is_empty()).then(|| {
        view! {
            <ul class="attachment-chips attachment-chips-sent" aria-label="Attached files">
                {files
                    .into_iter()
                    .map(|file| {
                        let picture = file.image.then(|| file.url.clone());
                        view! {
                            <li class="attachment-chip">
                                {chip_picture(picture, &file.name)}
                                <a class="attachment-name" href=file.url.clone() download=file.name.clone()>
                                    {file.name.clone()}
                                </a>
                                <span class="attachment-size small muted">{file.size.clone()}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

fn chip_picture(picture: Option<String>, name: &str) -> impl IntoView {
    match picture {
        Some(src) => view! {
            <img class="attachment-thumb" src=src alt=format!("{name} (attached image)") loading="lazy" />
        }
        .into_any(),
        None => view! { <span class="attachment-icon" aria-hidden="true">"▤"</span> }.into_any(),
    }
}
