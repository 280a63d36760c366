//! The daemon on its own, as `ollio sandboxd` and the crate's
//! `ollio-sandboxd` binary run it: until a shutdown signal, with the key
//! from `OLLIO_SANDBOXD_API_KEY` or one kept in the data folder.

use std::{future::Future, os::unix::fs::OpenOptionsExt, path::Path};

use ollio_sandbox::ApiKey;

use crate::{DaemonConfig, DaemonError, DaemonSettings, Isolation};

/// Where a generated key is kept, inside the data folder.
pub const KEY_FILE: &str = "sandboxd.key";

/// Runs the daemon until `shutdown` completes, then kills every sandbox.
pub async fn run(
    settings: &DaemonSettings,
    data_dir: &Path,
    isolation: Isolation,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    std::fs::create_dir_all(data_dir).map_err(|source| DaemonError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let key_file = data_dir.join(KEY_FILE);
    let key = match settings.api_key.clone() {
        Some(key) => key,
        None => stored_key(&key_file)?,
    };
    let config = DaemonConfig::from_settings(settings, data_dir.to_path_buf(), isolation, key);
    let daemon = crate::start(config).await?;
    println!(
        "sandboxd is running at http://{} (API key: OLLIO_SANDBOXD_API_KEY, or {})",
        daemon.addr,
        key_file.display()
    );
    shutdown.await;
    daemon.shutdown().await;
    Ok(())
}

/// Reads the key at `path`, or writes a fresh one there (readable by the
/// owner only).
fn stored_key(path: &Path) -> Result<ApiKey, DaemonError> {
    let failed = |source| DaemonError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = ApiKey::new(existing.trim());
        if key.has_e2b_shape() {
            return Ok(key);
        }
    }
    let key = ApiKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    std::io::Write::write_all(&mut file, key.expose().as_bytes()).map_err(failed)?;
    Ok(key)
}

#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    #[error("template `{0}` does not exist; there are {ids}", ids = ollio_templates::ids())]
    Unknown(String),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(transparent)]
    Build(#[from] crate::template_images::BuildError),
}

/// `ollio templates build [ID…]`: builds the templates named (every one by
/// default) into the template cache ahead of their first use, printing the
/// progress; a template already built is left as it is.
pub async fn build_templates(
    settings: &DaemonSettings,
    data_dir: &Path,
    isolation: Isolation,
    ids: &[String],
) -> Result<(), TemplatesError> {
    let chosen: Vec<&'static ollio_templates::Template> = if ids.is_empty() {
        ollio_templates::ALL.iter().collect()
    } else {
        ids.iter()
            .map(|id| ollio_templates::find(id).ok_or_else(|| TemplatesError::Unknown(id.clone())))
            .collect::<Result<_, _>>()?
    };
    if isolation == Isolation::Bubblewrap && !crate::jail::bubblewrap_available() {
        return Err(DaemonError::NoBubblewrap.into());
    }
    std::fs::create_dir_all(data_dir).map_err(|source| DaemonError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let data_dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let config = DaemonConfig::from_settings(settings, data_dir, isolation, ApiKey::generate());
    let registry = crate::Registry::new(config);
    for template in chosen.into_iter().filter(|t| t.needs_image()) {
        let image = registry
            .image(template, &crate::template_images::print_progress)
            .await?;
        println!("{}\t{}", template.id, image.display());
    }
    Ok(())
}
