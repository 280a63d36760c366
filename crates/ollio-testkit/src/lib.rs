//! What Ollio's tests and benchmarks share, and nothing the app ships: the
//! scripted model server (`scripted`, also the `scripted-model` binary the
//! browser suite runs), fresh databases on SQLite and PostgreSQL (`db`) and rows put straight
//! into them (`fixtures`), and
//! the bundled sandbox daemon on a free port (`sandboxd`), and how the
//! benchmarks print their figures (`figures`). Every crate takes
//! it as a dev-dependency only.

pub mod db;
pub mod figures;
pub mod fixtures;
pub mod sandboxd;
pub mod scripted;

pub use db::TestDb;
pub use sandboxd::{test_limits, TestDaemon};
pub use scripted::ScriptedServer;
