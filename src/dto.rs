//! The types server functions take and answer, shared by the browser and
//! the server. Plain data, no behaviour: the server layer builds them
//! (`server::views` maps the store's rows to them), the pages read them,
//! and each `api` module offers those of its functions.

pub mod account;
pub mod changes;
pub mod chat;
pub mod preview;
pub mod projects;
pub mod provider_keys;
pub mod refine;
pub mod search;
pub mod terminal;
pub mod training;
pub mod usage;
pub mod workspace;
