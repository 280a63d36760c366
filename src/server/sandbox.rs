//! Sandboxes speaking E2B's protocol: one client for the control plane
//! (`client`) and for envd inside each sandbox (`envd`), used against E2B
//! cloud or against the bundled `sandboxd` (see `server::sandboxd`).

pub mod client;
pub mod connect;
pub mod envd;
pub mod error;
pub mod settings;
pub mod wire;

pub use client::{RetryPolicy, Sandbox, SandboxClient};
pub use envd::{Command, CommandEvent, CommandOutput, CommandStream, Envd};
pub use error::SandboxError;
pub use settings::{ApiKey, Endpoint};
