//! The Leptos site: its options (where the compiled WASM, JS and CSS live)
//! and the pages it serves.
//!
//! cargo-leptos reads `[package.metadata.leptos]` in `Cargo.toml` to build the
//! site and passes `LEPTOS_*` variables to the server it starts. A server
//! started any other way (a release binary, the tests) reads `Leptos.toml`
//! from its working folder instead, with the same `LEPTOS_*` overrides.

use std::{net::SocketAddr, path::Path};

use leptos::{
    config::{get_config_from_file, LeptosOptions},
    prelude::AnyView,
};
use leptos_axum::AxumRouteListing;

use super::config::ConfigError;

/// The pages the site serves, handed in by the crate root (`ollio::pages()`),
/// so that server code never names the UI, which sits above it.
#[derive(Clone, Copy)]
pub struct Pages {
    /// A whole document: the HTML shell around the app.
    pub shell: fn(LeptosOptions) -> AnyView,
    /// The app's page routes (Leptos renders the app once to find them).
    pub routes: fn() -> Vec<AxumRouteListing>,
}

pub const OPTIONS_FILE: &str = "Leptos.toml";

/// Loads the site options and makes them serve on `addr`.
pub fn options(addr: SocketAddr) -> Result<LeptosOptions, ConfigError> {
    let mut options = if Path::new(OPTIONS_FILE).exists() {
        get_config_from_file(OPTIONS_FILE)
            .map_err(|error| ConfigError::new("Leptos.toml", error.to_string()))?
            .leptos_options
    } else {
        LeptosOptions::builder()
            .output_name(std::env::var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|_| "ollio".into()))
            .site_root(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()))
            .site_pkg_dir(std::env::var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|_| "pkg".into()))
            .build()
    };
    options.site_addr = addr;
    Ok(options)
}

/// Keeps the site's folder open and serves it through the open descriptor
/// (`/proc/self/fd/N`), so that it stays reachable after the server gives
/// up root, even where a folder above it is closed to other users (a
/// checkout under `/root`). A folder that is not there is left as it is.
pub fn keep_site_open(options: &mut LeptosOptions) {
    use std::os::fd::IntoRawFd;
    if let Ok(folder) = std::fs::File::open(options.site_root.as_ref()) {
        if folder.metadata().is_ok_and(|meta| meta.is_dir()) {
            // Held for the life of the process.
            let fd = folder.into_raw_fd();
            options.site_root = format!("/proc/self/fd/{fd}").into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Leptos.toml` repeats what cargo-leptos reads from `Cargo.toml`; they
    /// must agree, or a release server would look for files that don't exist.
    #[test]
    fn leptos_toml_agrees_with_cargo_toml() {
        let root = env!("CARGO_MANIFEST_DIR");
        let cargo = get_config_from_file(format!("{root}/Cargo.toml"))
            .unwrap()
            .leptos_options;
        let runtime = get_config_from_file(format!("{root}/{OPTIONS_FILE}"))
            .unwrap()
            .leptos_options;
        assert_eq!(cargo.output_name, runtime.output_name);
        assert_eq!(cargo.site_root, runtime.site_root);
        assert_eq!(cargo.site_pkg_dir, runtime.site_pkg_dir);
    }
}
