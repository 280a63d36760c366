//! Domain types shared by the server and the browser: parsed once at the edge,
//! trusted everywhere after ("parse, don't validate"). No I/O lives here, and
//! the crate builds for wasm32 as well as for the server.

pub mod attachment;
pub mod calendar;
pub mod check;
pub mod config;
mod credentials;
pub mod file_path;
mod ids;
mod next_path;
mod project_name;
mod prompt;
pub mod provider_key;
mod query;
mod redact;
mod sizes;
mod turn_event;
pub mod turn_mode;

pub use check::{errors_text, CheckProblem, ProblemSource};
pub use credentials::{Email, EmailError, Password, PasswordError};
pub use ids::{AttachmentId, MessageId, ProjectId, TrainingJobId, UserId, VersionId};
pub use next_path::safe_next;
pub use project_name::{ProjectName, ProjectNameError};
pub use prompt::{Prompt, PromptError};
pub use query::{decode_query_value, encode_query_value};
pub use redact::without_addresses;
pub use sizes::{number_text, size_text, tokens_text};
pub use turn_event::{TrainingStage, TurnEvent};
pub use turn_mode::TurnMode;
