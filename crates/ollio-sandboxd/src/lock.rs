//! Locks that hold through a panic elsewhere.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex` even when a thread panicked while holding it. What the
/// daemon and the guest guard this way (process groups, open stdins, a
/// sandbox's jail) changes one entry at a time and stays whole, while
/// giving up on a poisoned lock would leave a process group or a jail
/// running that nothing then kills.
pub(crate) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
