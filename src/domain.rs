//! Domain types shared by the server and the browser: parsed once at the edge,
//! trusted everywhere after ("parse, don't validate"). No I/O lives here.

mod ids;
mod project_name;
mod prompt;

pub use ids::{FragmentId, MessageId, ProjectId, UserId};
pub use project_name::{ProjectName, ProjectNameError};
pub use prompt::{Prompt, PromptError};
