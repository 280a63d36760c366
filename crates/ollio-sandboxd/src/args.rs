//! The command-line arguments both binaries that run the daemon take
//! (`ollio` and `ollio-sandboxd`): the isolation switch, and the guest
//! agent's own arguments, which only the daemon passes.

use std::path::PathBuf;

use clap::Args;

use crate::{guest::GuestOptions, jail::Isolation};

#[derive(Args, Debug, Default)]
pub struct IsolationArgs {
    /// Run sandboxes as plain processes when bubblewrap is missing. Generated
    /// code can then read and change this machine; every page says so.
    #[arg(long)]
    pub unsafe_no_isolation: bool,
}

impl IsolationArgs {
    pub fn isolation(&self) -> Isolation {
        if self.unsafe_no_isolation {
            Isolation::None
        } else {
            Isolation::Bubblewrap
        }
    }
}

/// `sandbox-guest`: what the jail runs as the sandbox's first process.
#[derive(Args, Debug)]
pub struct GuestArgs {
    /// The listening socket the host passed in.
    #[arg(long)]
    listen_fd: i32,
    #[arg(long)]
    run_dir: PathBuf,
    #[arg(long)]
    home: PathBuf,
    #[arg(long)]
    confine: bool,
    #[arg(long)]
    serve_static: Option<u16>,
    #[arg(long)]
    disk_limit: u64,
    #[arg(long)]
    egress: bool,
    /// Count only this folder against the disk limit (an overlay's upper layer).
    #[arg(long)]
    usage_root: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    usage_baseline: u64,
    /// Keep this template's app running.
    #[arg(long)]
    app: Option<String>,
    #[arg(long, default_value = "/tmp/ollio")]
    app_dir: PathBuf,
    /// Set `RLIMIT_NPROC` to this on itself first.
    #[arg(long)]
    max_processes: Option<u64>,
}

impl GuestArgs {
    pub fn options(&self) -> GuestOptions {
        GuestOptions {
            listen_fd: self.listen_fd,
            run_dir: self.run_dir.clone(),
            home: self.home.clone(),
            confine: self.confine,
            serve_static: self.serve_static,
            disk_limit: self.disk_limit,
            egress: self.egress,
            usage_root: self.usage_root.clone(),
            usage_baseline: self.usage_baseline,
            app: self.app.clone(),
            app_dir: self.app_dir.clone(),
            max_processes: self.max_processes,
        }
    }
}
