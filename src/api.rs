//! The server functions: the typed RPC between the pages and the server,
//! under `/api/*`. Compiled for both targets; in the browser only their
//! calls remain. Each is thin: the session, its inputs parsed into domain
//! types, one call into `server`, the answer mapped to a `dto` type.

pub mod account;
pub mod changes;
pub mod chat;
pub mod edits;
pub mod preview;
pub mod projects;
pub mod provider_keys;
pub mod refine;
pub mod search;
pub mod terminal;
pub mod training;
pub mod usage;
pub mod workspace;
