//! What the app's tests share beyond the testkit: the app on a free port,
//! and the process's peak memory.

pub mod app;
pub mod memory;
