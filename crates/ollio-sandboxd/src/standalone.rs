//! The daemon on its own, as `ollio sandboxd` and the crate's
//! `ollio-sandboxd` binary run it: until a shutdown signal, with the key
//! from `OLLIO_SANDBOXD_API_KEY` or one kept in the daemon's folder.

use std::{future::Future, os::unix::fs::OpenOptionsExt, path::Path, time::Duration};

use ollio_sandbox::ApiKey;

use crate::{daemon_dir, DaemonConfig, DaemonError, DaemonSettings, Isolation};

/// Where a generated key is kept, inside the daemon's folder.
pub const KEY_FILE: &str = "sandboxd.key";

/// What `run` prints once it serves; `ollio serve` reads the address from it.
pub const READY_LINE: &str = "sandboxd is running at http://";

/// Who started the daemon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Launch {
    /// An operator: it runs until a shutdown signal.
    #[default]
    ByHand,
    /// `ollio serve`, started as root, which keeps root only here and holds
    /// the other end of the daemon's stdin: the daemon also stops when that
    /// closes (the server stopped, or died), and waits a while for a daemon
    /// still stopping to let go of the folder.
    Supervised,
}

/// How long a supervised daemon waits for its predecessor's lock.
const SUPERVISED_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Runs the daemon until `shutdown` completes, then kills every sandbox. Its
/// files live in `{data_dir}/sandboxd` (see [`daemon_dir`]).
pub async fn run(
    settings: &DaemonSettings,
    data_dir: &Path,
    isolation: Isolation,
    launch: Launch,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let dir = daemon_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|source| DaemonError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    let key_file = dir.join(KEY_FILE);
    let key = match settings.api_key.clone() {
        Some(key) => key,
        None => stored_key(&key_file)?,
    };
    let mut config = DaemonConfig::from_settings(settings, dir, isolation, key);
    if launch == Launch::Supervised {
        config.lock_wait = SUPERVISED_LOCK_WAIT;
    }
    let daemon = crate::start(config).await?;
    println!(
        "{READY_LINE}{} (API key: OLLIO_SANDBOXD_API_KEY, or {})",
        daemon.addr,
        key_file.display()
    );
    match launch {
        Launch::ByHand => shutdown.await,
        Launch::Supervised => tokio::select! {
            () = shutdown => {}
            () = stdin_closed() => tracing::info!("ollio serve went away: stopping"),
        },
    }
    daemon.shutdown().await;
    Ok(())
}

/// Completes when stdin reaches its end (or fails).
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
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
    let dir = daemon_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|source| DaemonError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    crate::check_owned_by_root(&dir)?;
    let data_dir = std::fs::canonicalize(&dir).unwrap_or(dir);
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
