//! Preview starts, one at a time per project and kind of sandbox. A leaf:
//! the app's state keeps the locks, and the previews take them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use ollio_domain::ProjectId;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// One start at a time per project and kind of sandbox (working or
/// preview-only), within this process: two tabs (or a double click) asking
/// at once would otherwise each make a sandbox, and the one recorded first
/// would run unused until it expired. Kept in the app's state.
#[derive(Clone, Default)]
pub struct StartLocks(Arc<Mutex<HashMap<StartKey, Arc<AsyncMutex<()>>>>>);

/// A project, and whether the sandbox is its preview-only one.
type StartKey = (ProjectId, bool);

/// Held while a start runs; the last holder removes its lock from the map.
pub struct Starting {
    locks: StartLocks,
    key: StartKey,
    _held: OwnedMutexGuard<()>,
}

impl StartLocks {
    pub async fn hold(&self, project: &ProjectId, preview_only: bool) -> Starting {
        let key = (project.clone(), preview_only);
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            locks.entry(key.clone()).or_default().clone()
        };
        Starting {
            locks: self.clone(),
            key,
            _held: lock.lock_owned().await,
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        let mut locks = self.locks.0.lock().unwrap_or_else(PoisonError::into_inner);
        // The map's and this holder's: nobody else waits.
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) <= 2)
        {
            locks.remove(&self.key);
        }
    }
}
