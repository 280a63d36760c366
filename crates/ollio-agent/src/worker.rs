//! Workers take jobs from the queue (turns, and ML models' training
//! runs) and run them through the [`Engine`]. Each holds its job under a
//! lease that a heartbeat extends every second; a heartbeat that fails
//! means the job was stopped (Stop) or taken over (this worker was too
//! slow), and the worker lets go. A
//! reaper puts jobs of dead workers back in the queue once their lease has
//! run out, at start-up and then periodically.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::engine::{Engine, JobOutcome};
use ollio_domain::{MessageId, ProjectId, UserId};
use ollio_store::{now_ms, Job, JobState, StoreError, TRAIN_JOB};

/// How often a running job's lease is extended, and Stop noticed from
/// another process.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often idle workers look for due jobs (they are also woken when a
/// job is queued by this process).
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    pub count: usize,
    pub lease: Duration,
}

/// The workers of this process.
#[derive(Clone)]
pub struct Workers {
    engine: Engine,
    wake: Arc<Notify>,
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    shutdown: CancellationToken,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Workers {
    /// Starts `options.count` workers and the reaper.
    pub fn start(engine: Engine, options: WorkerOptions) -> Self {
        let workers = Self {
            engine,
            wake: Arc::new(Notify::new()),
            running: Arc::default(),
            shutdown: CancellationToken::new(),
            tasks: Arc::default(),
        };
        let host = uuid::Uuid::new_v4().simple().to_string();
        let mut tasks = Vec::new();
        for index in 0..options.count {
            let worker = workers.clone();
            let id = format!("{}-{index}", &host[..12]);
            tasks.push(tokio::spawn(
                async move { worker.work(id, options.lease).await },
            ));
        }
        let reaper = workers.clone();
        tasks.push(tokio::spawn(
            async move { reaper.reap(options.lease).await },
        ));
        if let Ok(mut all) = workers.tasks.lock() {
            all.extend(tasks);
        }
        workers
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A job was queued: an idle worker takes it now rather than at its next look.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops taking jobs and lets go of running ones; their leases run out
    /// and a worker of the next start (or another process) takes them again.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .map(|mut tasks| tasks.drain(..).collect())
            .unwrap_or_default();
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Stops the turn that fills in `message`, if it is `owner`'s and still
    /// queued or running. The message ends at once (in the store); a
    /// worker of this process stops now, one of another process at its
    /// next heartbeat, and a dead one's job is simply never taken again.
    /// `false` when there was nothing to stop.
    pub async fn cancel(&self, owner: &UserId, message: &MessageId) -> Result<bool, StoreError> {
        let store = &self.engine.store;
        let Some(job) = store.cancel_turn(owner, message).await? else {
            return Ok(false);
        };
        if let Ok(turn) = job.turn() {
            self.engine.hub.notify(&turn.project);
        }
        let local = self
            .running
            .lock()
            .ok()
            .and_then(|running| running.get(&job.id).cloned());
        if let Some(token) = local {
            token.cancel();
        }
        Ok(true)
    }

    /// Before the owner's project (or, with `None`, every project of the
    /// owner) is deleted: its turns are stopped and its sandboxes killed,
    /// so nothing of it keeps running.
    pub async fn forget_projects(
        &self,
        owner: &UserId,
        project: Option<&ProjectId>,
    ) -> Result<(), StoreError> {
        let store = &self.engine.store;
        let cancelled = store.cancel_project_jobs(owner, project).await?;
        // This process's workers stop at once; others at their next heartbeat.
        if let Ok(running) = self.running.lock() {
            for id in &cancelled {
                if let Some(token) = running.get(id) {
                    token.cancel();
                }
            }
        }
        for sandbox in store.live_sandboxes(owner, project).await? {
            if let Err(error) = self.engine.sandboxes.kill(&sandbox.id).await {
                tracing::warn!(%error, sandbox = %sandbox.id, "a deleted project's sandbox could not be killed");
            }
            store.end_sandbox(&sandbox.id).await?;
        }
        Ok(())
    }

    async fn work(self, id: String, lease: Duration) {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        while !self.shutdown.is_cancelled() {
            match self.engine.store.claim_job(&id, lease_ms, now_ms()).await {
                Ok(Some(job)) => self.run(&id, job, lease_ms).await,
                Ok(None) => {
                    tokio::select! {
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(POLL) => {}
                        () = self.shutdown.cancelled() => {}
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "taking a job failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn run(&self, worker: &str, job: Job, lease_ms: i64) {
        let store = &self.engine.store;
        let turn = match job.turn() {
            Ok(turn) => turn,
            Err(error) => {
                let _ = store
                    .end_job(&job.id, worker, JobState::Dead, Some(&error.to_string()))
                    .await;
                return;
            }
        };
        tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
        let stop = CancellationToken::new();
        let lost = CancellationToken::new();
        if let Ok(mut running) = self.running.lock() {
            running.insert(job.id.clone(), stop.clone());
        }
        let heartbeat = {
            let (store, id, worker) = (store.clone(), job.id.clone(), worker.to_owned());
            let (stop, lost) = (stop.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    match store.heartbeat_job(&id, &worker, lease_ms).await {
                        Ok(true) => {}
                        Ok(false) => {
                            let state = store.job(&id).await.ok().flatten().map(|job| job.state);
                            if state == Some(JobState::Cancelled) {
                                stop.cancel();
                            } else {
                                lost.cancel();
                            }
                            return;
                        }
                        Err(error) => tracing::warn!(%error, "a heartbeat failed"),
                    }
                }
            })
        };
        let training = (job.kind == TRAIN_JOB).then(|| job.train());
        let work = async {
            match &training {
                Some(Ok(train)) => self.engine.train(train, job.attempts, &stop).await,
                Some(Err(error)) => JobOutcome::Failed {
                    reason: error.to_string(),
                    refund: false,
                },
                None => self.engine.run(&turn, job.attempts, &stop).await,
            }
        };
        let outcome = tokio::select! {
            outcome = work => Some(outcome),
            () = lost.cancelled() => None,
            () = self.shutdown.cancelled() => None,
        };
        heartbeat.abort();
        if let Ok(mut running) = self.running.lock() {
            running.remove(&job.id);
        }
        let Some(outcome) = outcome else {
            tracing::warn!(job = %job.id, "let go of a turn (taken over, or shutting down)");
            return;
        };
        tracing::info!(job = %job.id, kind = %job.kind, ?outcome, "job ended");
        let settled = match &outcome {
            JobOutcome::Done => {
                let ended = store.end_job(&job.id, worker, JobState::Done, None).await;
                // A turn may have queued its version's training run.
                self.wake();
                ended
            }
            JobOutcome::Cancelled => {
                store
                    .end_job(&job.id, worker, JobState::Cancelled, None)
                    .await
            }
            JobOutcome::Failed { reason, refund } => self.fail(&job, worker, reason, *refund).await,
            JobOutcome::Retry { reason, .. } if job.attempts >= job.max_attempts => {
                let what = if training.is_some() {
                    "training"
                } else {
                    "turn"
                };
                let reason = format!("The {what} kept failing and was given up: {reason}.");
                self.fail(&job, worker, &reason, true).await
            }
            JobOutcome::Retry { after, reason } => {
                let run_at = now_ms() + i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
                let state = store.retry_job(&job.id, worker, run_at, reason).await;
                self.wake();
                state.map(|state| state.is_some())
            }
        };
        if let Err(error) = settled {
            tracing::error!(%error, job = %job.id, "a job could not be settled");
        }
    }

    /// Ends the job and its turn as failed, in one go (see `Store::fail_turn`).
    async fn fail(
        &self,
        job: &Job,
        worker: &str,
        reason: &str,
        refund: bool,
    ) -> Result<bool, StoreError> {
        // Users read the reason: no addresses of the services behind the app.
        let reason = ollio_domain::without_addresses(reason);
        let ended = self
            .engine
            .store
            .fail_turn(job, worker, &reason, refund)
            .await?;
        if ended {
            if let Ok(turn) = job.turn() {
                self.engine.hub.notify(&turn.project);
            }
        }
        Ok(ended)
    }

    /// Every so often (and at start-up): jobs of dead workers go back to
    /// the queue, and any turn left unfinished by a crash is finished.
    async fn reap(self, lease: Duration) {
        let every = (lease / 2).max(Duration::from_secs(1));
        let store = self.engine.store.clone();
        loop {
            match store.reclaim_expired_jobs(now_ms()).await {
                Ok(jobs) => {
                    for job in &jobs {
                        tracing::warn!(job = %job.id, state = job.state.as_str(), "took back a turn whose worker stopped");
                    }
                    if jobs.iter().any(|job| job.state == JobState::Queued) {
                        self.wake();
                    }
                }
                Err(error) => tracing::error!(%error, "reclaiming jobs failed"),
            }
            match store.reconcile_turns().await {
                Ok(projects) => {
                    for project in &projects {
                        self.engine.hub.notify(project);
                    }
                }
                Err(error) => tracing::error!(%error, "finishing interrupted turns failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.shutdown.cancelled() => return,
            }
        }
    }
}
