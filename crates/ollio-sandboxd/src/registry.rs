//! The sandboxes `sandboxd` runs: creating one (folder, cgroup, jailed guest
//! agent), finding it, extending it, and killing it with everything inside
//! when it is deleted or its time is up.

use std::{
    collections::{BTreeMap, HashMap},
    os::fd::AsRawFd,
    path::PathBuf,
    sync::{
        atomic::{AtomicI64, AtomicU32, Ordering},
        Arc, Mutex, RwLock,
    },
    time::Duration,
};

use super::{
    cgroup::{self, Cgroup, CgroupLimits, Flavour},
    egress::{EgressProxy, Network},
    guest_link::GuestLink,
    jail::{JailSpec, Rlimits},
    lock::locked,
    template_build::{build_limits, install},
    template_images::{copy_tree, hand_over, BuildError, BuildEvent, Progress, TemplateImages},
    warm_pool::WarmPool,
    DaemonConfig, Limits,
};
use ollio_sandbox::wire::NewSandbox;

/// What a sandbox starts from.
#[derive(Debug, Clone, Copy)]
pub enum Template {
    /// An empty home folder; nothing runs until asked (E2B's default).
    Base,
    /// One of Ollio's templates (`templates/{id}/`).
    App(&'static ollio_templates::Template),
}

impl Template {
    pub fn parse(id: &str) -> Option<Self> {
        match id {
            "base" => Some(Self::Base),
            other => ollio_templates::find(other).map(Self::App),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::App(template) => template.id,
        }
    }

    /// The port the guest's own file server serves the home folder on.
    fn static_port(self) -> Option<u16> {
        match self {
            Self::App(template) if template.serve_static => Some(template.port),
            _ => None,
        }
    }

    /// The template whose app runs from the sandbox's start.
    pub(crate) fn app_with_start(self) -> Option<&'static str> {
        match self {
            Self::App(template) if !template.start.is_empty() => Some(template.id),
            _ => None,
        }
    }

    /// The template that needs an image: files or packages to start from.
    pub(crate) fn app_with_files(self) -> Option<&'static ollio_templates::Template> {
        match self {
            Self::App(template) if template.needs_image() => Some(template),
            _ => None,
        }
    }
}

/// How long after a create its template's warm pool starts filling again.
const REFILL_AFTER: Duration = Duration::from_millis(500);

/// Host uids for sandboxes start here when sandboxd runs as root.
const UID_BASE: u32 = 3_000_000;
const UID_SPAN: u32 = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("template `{0}` does not exist; there are `base`, {ids}", ids = ollio_templates::ids())]
    UnknownTemplate(String),
    #[error("{0}")]
    Build(#[from] BuildError),
    #[error("a sandbox may live at most {max} seconds")]
    TooLong { max: u64 },
    #[error("this server runs its maximum of {0} sandboxes; try again when one ends")]
    Full(usize),
    #[error("the sandbox could not start: {0}")]
    Start(String),
}

pub struct SandboxRecord {
    pub id: String,
    pub template: Template,
    /// The envd access token callers must send as `X-Access-Token`.
    pub token: String,
    pub metadata: BTreeMap<String, String>,
    pub env_vars: BTreeMap<String, String>,
    pub started_ms: i64,
    end_ms: AtomicI64,
    pub root: PathBuf,
    pub link: GuestLink,
    guest: Mutex<Option<tokio::process::Child>>,
    cgroup: Option<Cgroup>,
    /// Kept for its lifetime: dropping it stops the registry proxy.
    _egress: Option<EgressProxy>,
}

impl SandboxRecord {
    pub fn end_ms(&self) -> i64 {
        self.end_ms.load(Ordering::Relaxed)
    }

    /// Sets the end to `seconds` from now.
    pub fn set_timeout(&self, seconds: u64) {
        self.end_ms.store(after(seconds), Ordering::Relaxed);
    }

    /// Moves the end to at least `seconds` from now.
    pub fn extend_to(&self, seconds: u64) {
        self.end_ms.fetch_max(after(seconds), Ordering::Relaxed);
    }

    /// The host pid of the sandbox's jail (bubblewrap, or the guest agent
    /// itself without isolation): every process of the sandbox descends
    /// from it.
    pub fn jail_pid(&self) -> Option<u32> {
        locked(&self.guest)
            .as_ref()
            .and_then(tokio::process::Child::id)
    }

    pub fn oom_killed(&self) -> bool {
        self.cgroup.as_ref().is_some_and(Cgroup::oom_killed)
    }

    /// Whether its jail has exited (say, code inside killed the agent): the
    /// sandbox can do nothing more and is reaped like an expired one.
    fn jail_exited(&self) -> bool {
        locked(&self.guest)
            .as_mut()
            .map(|child| child.try_wait())
            .is_some_and(|status| !matches!(status, Ok(None)))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis() as i64)
        .unwrap_or_default()
}

fn after(seconds: u64) -> i64 {
    now_ms().saturating_add(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX))
}

/// What a sandbox's home folder starts as.
enum Home<'a> {
    Empty,
    /// A built template under it, copy-on-write.
    Overlay(&'a std::path::Path),
    /// A built template copied in (no overlay without root and bubblewrap).
    Copy(&'a std::path::Path),
}

/// What [`Registry::start`] starts.
struct Start<'a> {
    id: &'a str,
    root: &'a std::path::Path,
    home: Home<'a>,
    serve_static: Option<u16>,
    /// The template whose app runs under the guest's supervisor.
    app: Option<&'static str>,
    network: &'a Network,
    limits: Limits,
    /// At the lowest CPU weight until handed out (a warm sandbox).
    background: bool,
}

type Started = (
    tokio::process::Child,
    Option<Cgroup>,
    GuestLink,
    Option<EgressProxy>,
);

pub struct Registry {
    config: DaemonConfig,
    images: TemplateImages,
    sandboxes: RwLock<HashMap<String, Arc<SandboxRecord>>>,
    cgroups: Option<Flavour>,
    next_uid: AtomicU32,
    /// Sandboxes being started: they count against `max_sandboxes` too.
    starting: std::sync::atomic::AtomicUsize,
    /// Ready sandboxes per template, handed out by `create`.
    warm: WarmPool<SandboxRecord>,
    /// Warm sandboxes being made in the background now: `kill_all` waits
    /// for them, so none is left behind once it returns.
    refills: tokio::sync::watch::Sender<usize>,
}

impl Registry {
    pub fn new(config: DaemonConfig) -> Self {
        let cgroups = if config.use_cgroups {
            cgroup::detect()
        } else {
            None
        };
        if cgroups.is_none() {
            tracing::warn!(
                "no writable cgroup hierarchy: sandboxes get rlimits but no memory or CPU limit"
            );
        }
        let config_warm = config.warm_per_template;
        Self {
            next_uid: AtomicU32::new(uid_start(&config.sandboxes_dir())),
            images: TemplateImages::new(&config.template_cache()),
            config,
            sandboxes: RwLock::new(HashMap::new()),
            cgroups,
            starting: 0.into(),
            refills: tokio::sync::watch::channel(0).0,
            warm: WarmPool::new(config_warm),
        }
    }

    /// Holds a place among `max_sandboxes` until the start ends either way.
    fn reserve_slot(&self) -> Result<SlotGuard<'_>, CreateError> {
        let starting = self.starting.fetch_add(1, Ordering::SeqCst);
        let slot = SlotGuard(&self.starting);
        let running = self.sandboxes.read().map(|map| map.len()).unwrap_or(0);
        if running + starting >= self.config.max_sandboxes {
            return Err(CreateError::Full(self.config.max_sandboxes));
        }
        Ok(slot)
    }

    pub fn config(&self) -> &DaemonConfig {
        &self.config
    }

    pub fn get(&self, id: &str) -> Option<Arc<SandboxRecord>> {
        let sandbox = self.sandboxes.read().ok()?.get(id).cloned()?;
        (sandbox.end_ms() > now_ms()).then_some(sandbox)
    }

    pub fn list(&self) -> Vec<Arc<SandboxRecord>> {
        let now = now_ms();
        let mut all: Vec<_> = self
            .sandboxes
            .read()
            .map(|map| map.values().filter(|s| s.end_ms() > now).cloned().collect())
            .unwrap_or_default();
        all.sort_by_key(|sandbox| sandbox.started_ms);
        all
    }

    /// A sandbox as `request` asks: a warm one of its template when there
    /// is one, else one made now. Either way the template's pool is filled
    /// again in the background.
    pub async fn create(
        self: &Arc<Self>,
        request: NewSandbox,
    ) -> Result<Arc<SandboxRecord>, CreateError> {
        let template = Template::parse(&request.template_id)
            .ok_or_else(|| CreateError::UnknownTemplate(request.template_id.clone()))?;
        let seconds = request
            .timeout
            .unwrap_or(self.config.default_timeout_secs)
            .max(1);
        if seconds > self.config.max_timeout_secs {
            return Err(CreateError::TooLong {
                max: self.config.max_timeout_secs,
            });
        }
        // A warm sandbox's app started without the request's variables.
        let warm_fits = request.env_vars.is_empty() || template.app_with_start().is_none();
        let warm = if warm_fits {
            self.take_warm(template)?
        } else {
            None
        };
        let (record, was_warm) = match warm {
            Some(record) => (record, true),
            None => {
                let _slot = self.reserve_slot()?;
                (self.make(template, false).await?, false)
            }
        };
        let record = Arc::new(SandboxRecord {
            metadata: request.metadata,
            env_vars: request.env_vars,
            started_ms: now_ms(),
            end_ms: AtomicI64::new(after(seconds)),
            ..record
        });
        if let Ok(mut map) = self.sandboxes.write() {
            map.insert(record.id.clone(), record.clone());
        }
        self.refill(template);
        tracing::info!(sandbox = %record.id, template = template.id(), seconds, warm = was_warm, "sandbox created");
        Ok(record)
    }

    /// A ready sandbox of `template` from the warm pool, if one is there
    /// and the server has room for one more running sandbox.
    fn take_warm(
        self: &Arc<Self>,
        template: Template,
    ) -> Result<Option<SandboxRecord>, CreateError> {
        if !self.warm.enabled() {
            return Ok(None);
        }
        while let Some(record) = self.warm.take(template.id()) {
            if record.jail_exited() {
                let registry = self.clone();
                tokio::spawn(async move { registry.destroy(Arc::new(record)).await });
                continue;
            }
            let running = self.sandboxes.read().map(|map| map.len()).unwrap_or(0);
            if running + self.starting.load(Ordering::SeqCst) >= self.config.max_sandboxes {
                let registry = self.clone();
                tokio::spawn(async move { registry.destroy(Arc::new(record)).await });
                return Err(CreateError::Full(self.config.max_sandboxes));
            }
            if let Some(cgroup) = &record.cgroup {
                cgroup.set_foreground(true);
            }
            return Ok(Some(record));
        }
        Ok(None)
    }

    /// Makes the sandboxes `template`'s warm pool lacks, one after another,
    /// in the background from [`REFILL_AFTER`] on; none while the server is
    /// near its maximum.
    fn refill(self: &Arc<Self>, template: Template) {
        let wanted = self.warm.start_filling(template.id());
        if wanted == 0 {
            return;
        }
        let registry = self.clone();
        self.refills.send_modify(|running| *running += 1);
        tokio::spawn(async move {
            // The sandbox just handed out gets its first moments to itself.
            tokio::time::sleep(REFILL_AFTER).await;
            for _ in 0..wanted {
                let running = registry.sandboxes.read().map(|map| map.len()).unwrap_or(0);
                let busy = running + registry.starting.load(Ordering::SeqCst) + registry.warm.len();
                // Shutting down: nothing more is made.
                let made = if busy > registry.config.max_sandboxes || !registry.warm.enabled() {
                    None
                } else {
                    match registry.make(template, true).await {
                        Ok(record) => Some(record),
                        Err(error) => {
                            tracing::warn!(%error, template = template.id(), "a warm sandbox could not be made");
                            None
                        }
                    }
                };
                if let Some(unwanted) = registry.warm.filled(template.id(), made) {
                    registry.destroy(Arc::new(unwanted)).await;
                }
            }
            registry.refills.send_modify(|running| *running -= 1);
        });
    }

    /// A new sandbox of `template`, running, not yet anyone's: no metadata
    /// and no end until it is handed out. A `warm` one starts (its app
    /// too) at the lowest CPU weight, so the sandboxes in use come first.
    async fn make(&self, template: Template, warm: bool) -> Result<SandboxRecord, CreateError> {
        let image = match template.app_with_files() {
            Some(app) => Some(self.image(app, &|_| {}).await?),
            None => None,
        };
        let id = new_id();
        let root = self.config.sandboxes_dir().join(&id);
        let home = match &image {
            None => Home::Empty,
            Some(image) if self.can_overlay() => Home::Overlay(image),
            Some(image) => Home::Copy(image),
        };
        let started = self
            .start(Start {
                id: &id,
                root: &root,
                home,
                serve_static: template.static_port(),
                app: template.app_with_start(),
                network: &self.config.network,
                limits: self.config.limits,
                background: warm,
            })
            .await;
        let (guest, cgroup, link, egress) = match started {
            Ok(parts) => parts,
            Err(error) => {
                let _ = remove_tree(&root);
                return Err(CreateError::Start(error));
            }
        };
        Ok(SandboxRecord {
            id,
            template,
            token: uuid::Uuid::new_v4().simple().to_string(),
            metadata: BTreeMap::new(),
            env_vars: BTreeMap::new(),
            started_ms: now_ms(),
            end_ms: AtomicI64::new(i64::MAX),
            root,
            link,
            guest: Mutex::new(Some(guest)),
            cgroup,
            _egress: egress,
        })
    }

    async fn start(&self, start: Start<'_>) -> Result<Started, String> {
        let Start {
            id,
            root,
            home,
            serve_static,
            app,
            network,
            limits,
            background,
        } = start;
        let limits = &limits;
        let host_uid = self.sandbox_uid();
        let cgroup = match self.cgroups {
            Some(flavour) => Some(
                Cgroup::create(
                    flavour,
                    &format!("ollio-{id}"),
                    CgroupLimits {
                        memory_bytes: limits.memory_bytes,
                        pids: limits.processes,
                        cpus: limits.cpus,
                    },
                )
                .map_err(|error| format!("cgroup: {error}"))?,
            ),
            None => None,
        };
        if let Some(cgroup) = cgroup.as_ref().filter(|_| background) {
            cgroup.set_foreground(false);
        }
        let mut spec = JailSpec {
            root,
            guest_exe: &self.config.guest_exe,
            host_uid,
            rlimits: Rlimits {
                processes: host_uid.map(|_| limits.processes),
                file_bytes: limits.disk_bytes,
                open_files: 4096,
                // Without a memory cgroup, each process at least is capped.
                data_bytes: cgroup.is_none().then_some(limits.memory_bytes),
            },
            cgroup_procs: cgroup.as_ref().map(Cgroup::procs_files).unwrap_or_default(),
            serve_static,
            disk_limit: limits.disk_bytes,
            egress: *network != Network::None,
            lower: match home {
                Home::Overlay(image) => Some(image),
                _ => None,
            },
            usage_baseline: 0,
            app,
            // In the jail's own user namespace this holds without root too.
            max_processes: (self.config.isolation == crate::Isolation::Bubblewrap)
                .then_some(limits.processes),
        };
        let fail = |message: String| {
            if let Some(cgroup) = &cgroup {
                cgroup.remove();
            }
            message
        };
        if let Err(error) = spec.prepare() {
            return Err(fail(format!("preparing its folder: {error}")));
        }
        if let Home::Copy(image) = home {
            let (from, to) = (image.to_path_buf(), spec.home());
            let copied = tokio::task::spawn_blocking(move || {
                copy_tree(&from, &to).map(|()| crate::guest::disk_usage(&to))
            })
            .await
            .map_err(std::io::Error::other)
            .and_then(|copied| copied);
            match copied {
                Ok(bytes) => spec.usage_baseline = bytes,
                Err(error) => return Err(fail(format!("copying its template: {error}"))),
            }
            if let Some(uid) = host_uid {
                if let Err(error) = hand_over(&spec.home(), uid) {
                    return Err(fail(format!("handing its template over: {error}")));
                }
            }
        }
        let egress = match network {
            Network::None => None,
            Network::Registries(hosts) => {
                match EgressProxy::start(&spec.run_dir(), hosts.clone(), host_uid) {
                    Ok(proxy) => Some(proxy),
                    Err(error) => {
                        return Err(fail(format!("starting its registry proxy: {error}")))
                    }
                }
            }
        };
        let listener = match spec.bind_guest_socket() {
            Ok(listener) => listener,
            Err(error) => return Err(fail(format!("binding its agent's socket: {error}"))),
        };
        let spawned = spec
            .command(self.config.isolation, listener.as_raw_fd())
            .and_then(|mut command| command.spawn());
        // The guest holds its own copy now.
        drop(listener);
        let mut guest = match spawned {
            Ok(child) => child,
            Err(error) => return Err(fail(format!("starting the jail: {error}"))),
        };
        let stderr = guest.stderr.take();
        let link = GuestLink::new(spec.guest_socket());
        let ready = tokio::select! {
            ready = link.wait_ready(Duration::from_secs(10)) => ready,
            _ = guest.wait() => false,
        };
        if !ready {
            let _ = guest.start_kill();
            let message = match stderr {
                Some(stderr) => first_words(stderr).await,
                None => String::new(),
            };
            return Err(fail(format!("its agent did not come up: {message}")));
        }
        if let Some(stderr) = stderr {
            tokio::spawn(log_guest_output(id.to_owned(), stderr));
        }
        Ok((guest, cgroup, link, egress))
    }

    /// A host uid of the sandbox's own when we are root, so that nothing in
    /// it is owned by root on the host or shared with another sandbox.
    fn sandbox_uid(&self) -> Option<u32> {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        root.then(|| UID_BASE + self.next_uid.fetch_add(1, Ordering::Relaxed) % UID_SPAN)
    }

    /// Whether sandboxes can start from a template copy-on-write: mounting
    /// an overlay takes root, and bubblewrap to put it in the jail.
    fn can_overlay(&self) -> bool {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        root && self.config.isolation == crate::Isolation::Bubblewrap
    }

    /// Sandboxes ready or being made in the warm pools.
    pub fn warm_count(&self) -> usize {
        self.warm.len()
    }

    /// The images of the templates.
    pub fn images(&self) -> &TemplateImages {
        &self.images
    }

    /// `template`'s built image: there already, or built now (telling
    /// `progress`), once however many ask at the same time.
    pub async fn image(
        &self,
        template: &'static ollio_templates::Template,
        progress: Progress<'_>,
    ) -> Result<PathBuf, BuildError> {
        if let Some(image) = self.images.built(template) {
            return Ok(image);
        }
        self.images.prepare()?;
        let _lock = self.images.lock(template).await?;
        if let Some(image) = self.images.built(template) {
            return Ok(image);
        }
        progress(BuildEvent::Started {
            template: template.id,
        });
        let began = std::time::Instant::now();
        let root = self.config.template_builds_dir().join(template.build_key());
        let _ = remove_tree(&root);
        let built = self.build(template, &root, progress).await;
        let kept = built.and_then(|()| self.images.keep(template, &root.join("home")));
        let _ = remove_tree(&root);
        let bytes = kept?;
        progress(BuildEvent::Built {
            template: template.id,
            elapsed: began.elapsed(),
            bytes,
        });
        tracing::info!(template = template.id, bytes, "template built");
        Ok(self.images.path(template))
    }

    /// Installs `template` in a sandbox of its own that can reach the
    /// package registries, leaving the result in `root/home`.
    async fn build(
        &self,
        template: &'static ollio_templates::Template,
        root: &std::path::Path,
        progress: Progress<'_>,
    ) -> Result<(), BuildError> {
        let network = match &self.config.network {
            Network::Registries(hosts) => Network::Registries(hosts.clone()),
            Network::None => Network::Registries(
                crate::egress::DEFAULT_REGISTRIES
                    .iter()
                    .map(|host| (*host).to_owned())
                    .collect(),
            ),
        };
        let id = format!("build-{}", template.build_key());
        let (mut guest, cgroup, link, _egress) = self
            .start(Start {
                id: &id,
                root,
                home: Home::Empty,
                serve_static: None,
                app: None,
                network: &network,
                limits: build_limits(self.config.limits),
                background: false,
            })
            .await
            .map_err(|message| BuildError::Start {
                template: template.id.to_owned(),
                message,
            })?;
        let installed = install(template, &link, progress).await;
        let _ = guest.start_kill();
        let _ = guest.wait().await;
        if let Some(cgroup) = &cgroup {
            cgroup.remove();
        }
        installed
    }

    /// Kills a sandbox and all its processes; removes its folder unless
    /// configured to keep it. `false` if there was no such sandbox.
    pub async fn kill(&self, id: &str) -> bool {
        let removed = self
            .sandboxes
            .write()
            .ok()
            .and_then(|mut map| map.remove(id));
        let Some(sandbox) = removed else {
            return false;
        };
        self.destroy(sandbox).await;
        true
    }

    async fn destroy(&self, sandbox: Arc<SandboxRecord>) {
        let guest = locked(&sandbox.guest).take();
        if let Some(mut guest) = guest {
            let _ = guest.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), guest.wait()).await;
        }
        let keep = self.config.keep_dirs;
        let root = sandbox.root.clone();
        let cgroup_done = tokio::task::spawn_blocking(move || {
            if let Some(cgroup) = &sandbox.cgroup {
                cgroup.remove();
            }
            if !keep {
                let _ = remove_tree(&root);
            }
        });
        let _ = cgroup_done.await;
        tracing::info!(kept = keep, "sandbox killed");
    }

    /// Kills every sandbox whose time is up, or whose jail has exited.
    pub async fn reap(&self) {
        let now = now_ms();
        let expired: Vec<Arc<SandboxRecord>> = self
            .sandboxes
            .write()
            .map(|mut map| {
                let ids: Vec<String> = map
                    .iter()
                    .filter(|(_, sandbox)| sandbox.end_ms() <= now || sandbox.jail_exited())
                    .map(|(id, _)| id.clone())
                    .collect();
                ids.iter().filter_map(|id| map.remove(id)).collect()
            })
            .unwrap_or_default();
        for sandbox in expired {
            tracing::info!(sandbox = %sandbox.id, "sandbox ended (timed out or its agent exited)");
            self.destroy(sandbox).await;
        }
        for idle in self.warm.idle(std::time::Instant::now()) {
            tracing::info!(sandbox = %idle.id, "a warm sandbox went: its template was not used lately");
            self.destroy(Arc::new(idle)).await;
        }
    }

    /// Kills every sandbox at once, without waiting on anything: for a
    /// daemon being dropped.
    pub fn kill_all_now(&self) {
        for sandbox in self.take_all() {
            let guest = locked(&sandbox.guest).take();
            if let Some(mut guest) = guest {
                let _ = guest.start_kill();
            }
            if let Some(cgroup) = &sandbox.cgroup {
                cgroup.remove();
            }
            if !self.config.keep_dirs {
                let _ = remove_tree(&sandbox.root);
            }
        }
    }

    /// Kills every sandbox (on shutdown), and waits (a while) for the warm
    /// ones still being made, which the closed pool hands back to be killed.
    pub async fn kill_all(&self) {
        for sandbox in self.take_all() {
            self.destroy(sandbox).await;
        }
        let mut refills = self.refills.subscribe();
        let _ = tokio::time::timeout(STOP_REFILLS, refills.wait_for(|running| *running == 0)).await;
    }

    /// Every sandbox, running or warm, removed.
    fn take_all(&self) -> Vec<Arc<SandboxRecord>> {
        let mut all: Vec<Arc<SandboxRecord>> = self
            .sandboxes
            .write()
            .map(|mut map| map.drain().map(|(_, sandbox)| sandbox).collect())
            .unwrap_or_default();
        all.extend(self.warm.drain().into_iter().map(Arc::new));
        all
    }
}

/// How long `kill_all` waits for warm sandboxes still being made.
const STOP_REFILLS: Duration = Duration::from_secs(30);

/// 20 lowercase letters and digits, like E2B's sandbox ids: fit for a DNS label.
fn new_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("i{}", &hex[..19])
}

/// The start of what a guest that failed to come up printed: at most 500
/// characters, read for at most 200 ms.
async fn first_words(mut stderr: tokio::process::ChildStderr) -> String {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut chunk = [0u8; 512];
    while bytes.len() < 2048 {
        match tokio::time::timeout_at(deadline, stderr.read(&mut chunk)).await {
            Ok(Ok(read)) if read > 0 => bytes.extend_from_slice(&chunk[..read]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(500).collect()
}

/// Logs what the guest prints, in bounded pieces: sandbox processes can
/// write to the guest's stderr, and a line without end must not grow
/// without end in the daemon.
async fn log_guest_output(id: String, mut stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncReadExt;
    let mut chunk = vec![0u8; 4096];
    while let Ok(read) = stderr.read(&mut chunk).await {
        if read == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&chunk[..read]);
        tracing::debug!(sandbox = %id, "guest: {}", text.trim_end());
    }
}

struct SlotGuard<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where a daemon starts handing out uids: from its data folder, which only
/// one daemon may use at a time, so that two daemons on a host (tests run
/// several) start far apart instead of at the same place.
fn uid_start(sandboxes: &std::path::Path) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    sandboxes.hash(&mut hasher);
    (hasher.finish() % u64::from(UID_SPAN)) as u32
}

/// Removes a sandbox's folder. A sandbox may leave folders it made
/// unreadable (mode 000); root removes them anyway, any other user first
/// gives itself access back. Symlinks are removed, never followed.
pub(crate) fn remove_tree(root: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(root) {
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            reopen_folders(root);
            std::fs::remove_dir_all(root)
        }
        other => other,
    }
}

fn reopen_folders(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            reopen_folders(&entry.path());
        }
    }
}

#[cfg(test)]
mod removal_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::remove_tree;

    #[test]
    fn locked_folders_go_and_links_are_not_followed() {
        let base = tempfile::tempdir().unwrap();
        let outside = base.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "keep").unwrap();
        let root = base.path().join("sandbox");
        let locked = root.join("home/locked");
        std::fs::create_dir_all(&locked).unwrap();
        std::fs::write(locked.join("file"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("home/link")).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o500)).unwrap();

        remove_tree(&root).unwrap();

        assert!(!root.exists());
        assert!(outside.join("keep.txt").exists());
        let mode = std::fs::metadata(&outside).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o500);
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}
