//! The daemon through the sandbox client and through E2B's own Python SDK,
//! with real bubblewrap jails: one test binary for the crate.

mod e2b_sdk;
mod non_root;
mod sandbox_client;
mod sandbox_escapes;
mod templates;
mod warm_pool;

/// The agent every test sandbox runs: this crate's own binary.
const GUEST: &str = env!("CARGO_BIN_EXE_ollio-sandboxd");
