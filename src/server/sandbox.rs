//! Sandboxes speaking E2B's protocol. So far: the Connect envelope framing
//! that envd's streaming RPCs (`process.Process/Start`) use; the client and
//! the bundled `sandboxd` build on it.

pub mod connect;
