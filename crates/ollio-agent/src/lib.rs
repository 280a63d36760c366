//! The agent: a user's message becomes a turn that runs in the background.
//!
//! - the model side: provider-neutral chat with tools (`chat`), the
//!   `ChatProvider` trait (`chat_provider`), the providers' wire protocols over reqwest (`openai` for every
//!   OpenAI-compatible endpoint, `anthropic`, `ollama`'s own API),
//!   `provider:model` names (`model`, `providers`), the models a provider
//!   lists (`model_list`), the guard on users' own provider URLs
//!   (`url_guard`), the text protocol for models without tool calling
//!   (`text_protocol`);
//! - the work: the tool contract (`tools`), one turn's loop (`turn`) and
//!   its requests fitted into the model's context window (`context`), the
//!   check of the app before it ends and what it found (`check`,
//!   `check_findings`), a message's attached files in it (`attachments`), the
//!   project templates' prompts (`templates`), versions' files
//!   (`snapshot`), making a project's sandbox from a version
//!   (`project_sandbox`, shared with the Preview tab);
//! - the durable side: a turn job from start to end (`engine`), an ML
//!   model's training run after it (`training`), the
//!   workers and their leases (`worker`), the recorded and streamed steps
//!   (`event_log`);
//! - its configuration (`config`: `OLLIO_MODEL`, the providers' keys and
//!   endpoints, the limits of turns and workers).
//!
//! It sits on the store and the sandbox client, and knows nothing of the
//! web app above it.

pub mod anthropic;
pub mod app_ready;
pub mod app_watch;
mod attachments;
pub mod chat;
pub mod chat_provider;
pub mod check;
pub mod check_findings;
pub mod code_index;
pub mod config;
pub mod context;
pub mod edit_file;
pub mod embeddings;
pub mod engine;
pub mod event_log;
pub mod listing;
pub mod model;
pub mod model_list;
pub mod ollama;
pub mod openai;
pub mod project_sandbox;
pub mod providers;
pub mod refine;
pub mod snapshot;
pub mod sse;
pub mod table_preview;
pub mod templates;
pub mod text_protocol;
pub mod tools;
pub mod training;
pub mod turn;
pub mod url_guard;
pub mod worker;
