//! What the app's tests share beyond the testkit: the app on a free port.

pub mod app;
