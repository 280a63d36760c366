//! Sandboxes speaking E2B's protocol: one client for the control plane
//! (`client`) and for envd inside each sandbox (`envd`), used against E2B
//! cloud or against the bundled daemon (the `ollio-sandboxd` crate, which
//! shares this crate's `wire` types). Both retry through `retry`.

pub mod client;
pub mod connect;
pub mod envd;
pub mod error;
pub mod retry;
pub mod settings;
pub mod wire;

pub use client::{Sandbox, SandboxClient};
pub use envd::{
    Command, CommandEvent, CommandOutput, CommandStream, Envd, FilePart, MAX_WHOLE_READ,
};
pub use error::SandboxError;
pub use retry::RetryPolicy;
pub use settings::{ApiKey, Endpoint};
