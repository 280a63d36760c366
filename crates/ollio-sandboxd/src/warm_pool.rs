//! Warm sandboxes: for each template used lately, a few sandboxes made
//! ahead of time in the background (its app already starting), so that a
//! create is only handing one over. Each is handed out once, never shared;
//! the pool of a template nobody asked for in [`IDLE`] is let go.
//! `OLLIO_SANDBOX_WARM` sets how many per template (0 turns it off).

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use super::lock::locked;

/// A template's pool goes once nobody asked for one of its sandboxes for this long.
pub const IDLE: Duration = Duration::from_secs(30 * 60);

struct Pool<T> {
    ready: VecDeque<T>,
    /// Being made now.
    filling: usize,
    last_asked: Option<Instant>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self {
            ready: VecDeque::new(),
            filling: 0,
            last_asked: None,
        }
    }
}

/// Ready sandboxes (`T`) by template id.
pub struct WarmPool<T> {
    per_template: usize,
    pools: Mutex<HashMap<&'static str, Pool<T>>>,
    /// Drained on shutdown: nothing is handed out or made again, even by a
    /// create still under way then.
    closed: AtomicBool,
}

impl<T> WarmPool<T> {
    pub fn new(per_template: usize) -> Self {
        Self {
            per_template,
            pools: Mutex::default(),
            closed: AtomicBool::new(false),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_template > 0 && !self.closed.load(Ordering::SeqCst)
    }

    /// A ready sandbox of `template`, taken out of the pool for good; the
    /// template counts as just used either way.
    pub fn take(&self, template: &'static str) -> Option<T> {
        if !self.enabled() {
            return None;
        }
        let mut pools = locked(&self.pools);
        let pool = pools.entry(template).or_default();
        pool.last_asked = Some(Instant::now());
        pool.ready.pop_front()
    }

    /// How many more `template` needs, now counted as being made.
    pub fn start_filling(&self, template: &'static str) -> usize {
        if !self.enabled() {
            return 0;
        }
        let mut pools = locked(&self.pools);
        let Some(pool) = pools.get_mut(template) else {
            return 0;
        };
        let wanted = self
            .per_template
            .saturating_sub(pool.ready.len() + pool.filling);
        pool.filling += wanted;
        wanted
    }

    /// One being made is done: `made` is ready, or `None` if it failed.
    /// A pool let go meanwhile gives the sandbox back, to be killed.
    pub fn filled(&self, template: &'static str, made: Option<T>) -> Option<T> {
        let mut pools = locked(&self.pools);
        let Some(pool) = pools.get_mut(template) else {
            return made;
        };
        pool.filling = pool.filling.saturating_sub(1);
        pool.ready.extend(made);
        None
    }

    /// How many sandboxes are ready or being made, over all templates.
    pub fn len(&self) -> usize {
        locked(&self.pools)
            .values()
            .map(|pool| pool.ready.len() + pool.filling)
            .sum()
    }

    /// The pools of templates not asked for since `IDLE` before `now`,
    /// removed; their sandboxes are returned to be killed.
    pub fn idle(&self, now: Instant) -> Vec<T> {
        let mut pools = locked(&self.pools);
        let stale: Vec<&'static str> = pools
            .iter()
            .filter(|(_, pool)| {
                pool.last_asked
                    .is_none_or(|asked| now.duration_since(asked) >= IDLE)
            })
            .map(|(template, _)| *template)
            .collect();
        stale
            .into_iter()
            .filter_map(|template| pools.remove(template))
            .flat_map(|pool| pool.ready)
            .collect()
    }

    /// Every ready sandbox, removed, and the pools closed (on shutdown).
    pub fn drain(&self) -> Vec<T> {
        let mut pools = locked(&self.pools);
        self.closed.store(true, Ordering::SeqCst);
        pools.drain().flat_map(|(_, pool)| pool.ready).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_asked_for_is_filled_and_each_sandbox_is_handed_out_once() {
        let pool = WarmPool::new(2);
        // Nothing is made for a template nobody asked for.
        assert_eq!(pool.start_filling("react"), 0);
        assert_eq!(pool.take("react"), None);
        assert_eq!(pool.start_filling("react"), 2);
        assert_eq!(pool.start_filling("react"), 0, "two are being made");
        assert_eq!(pool.filled("react", Some(1)), None);
        assert_eq!(
            pool.filled("react", None),
            None,
            "a failed one frees its place"
        );
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.start_filling("react"), 1);
        assert_eq!(pool.filled("react", Some(2)), None);
        assert_eq!(pool.take("react"), Some(1));
        assert_eq!(pool.take("react"), Some(2));
        assert_eq!(pool.take("react"), None);
        assert_eq!(pool.take("python-api"), None);
    }

    #[test]
    fn an_idle_template_s_pool_is_let_go() {
        let pool = WarmPool::new(1);
        pool.take("react");
        pool.start_filling("react");
        pool.filled("react", Some(7));
        let now = Instant::now();
        assert!(pool.idle(now).is_empty());
        assert_eq!(pool.idle(now + IDLE), vec![7]);
        // A sandbox finished after its pool went is given back to be killed.
        assert_eq!(pool.filled("react", Some(8)), Some(8));
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn a_drained_pool_makes_and_hands_out_nothing_more() {
        let pool = WarmPool::<u32>::new(2);
        pool.take("react");
        assert_eq!(pool.start_filling("react"), 2);
        assert!(pool.drain().is_empty());
        // A create under way at shutdown: nothing for it, nothing made.
        assert_eq!(pool.take("react"), None);
        assert_eq!(pool.start_filling("react"), 0);
        assert_eq!(pool.filled("react", Some(7)), Some(7));
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn zero_turns_the_pool_off() {
        let pool: WarmPool<u32> = WarmPool::new(0);
        assert!(!pool.enabled());
        assert_eq!(pool.take("react"), None);
        assert_eq!(pool.start_filling("react"), 0);
    }
}
