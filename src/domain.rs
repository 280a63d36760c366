//! Domain types shared by the server and the browser: parsed once at the edge,
//! trusted everywhere after ("parse, don't validate"). No I/O lives here.

pub mod calendar;
mod credentials;
mod ids;
mod next_path;
mod project_name;
mod prompt;
mod turn_event;

pub use credentials::{Email, EmailError, Password, PasswordError};
pub use ids::{FragmentId, MessageId, ProjectId, UserId};
pub use next_path::safe_next;
pub use project_name::{ProjectName, ProjectNameError};
pub use prompt::{Prompt, PromptError};
pub use turn_event::TurnEvent;
