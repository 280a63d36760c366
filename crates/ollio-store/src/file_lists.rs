//! Versions never change once saved (but for the user's edit version,
//! which folds the next save while it is the newest, and is forgotten here
//! when it does), so a version's file list (paths, languages and sizes:
//! what the Code tab's tree shows) is kept in memory after its first read. The project page lists the newest version's files
//! on every load; a 500-file list is the largest read of that page.
//! Bounded: past [`KEPT`] versions the oldest entry goes.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use super::VersionFile;
use ollio_domain::{UserId, VersionId};

/// How many versions' lists are kept.
pub const KEPT: usize = 64;

/// (owner, version): a list is only ever handed to the owner it was read for.
type Key = (String, String);

#[derive(Default)]
pub struct FileLists {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    lists: HashMap<Key, Arc<Vec<VersionFile>>>,
    order: VecDeque<Key>,
}

fn key(owner: &UserId, version: &VersionId) -> Key {
    (owner.as_str().to_owned(), version.as_str().to_owned())
}

impl FileLists {
    pub fn get(&self, owner: &UserId, version: &VersionId) -> Option<Arc<Vec<VersionFile>>> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.lists.get(&key(owner, version)).cloned()
    }

    /// Forgets `version`'s list, for everyone (its files changed).
    pub fn forget(&self, version: &VersionId) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.lists.retain(|(_, id), _| id != version.as_str());
        kept.order.retain(|(_, id)| id != version.as_str());
    }

    pub fn put(&self, owner: &UserId, version: &VersionId, list: Arc<Vec<VersionFile>>) {
        let key = key(owner, version);
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.lists.insert(key.clone(), list).is_none() {
            kept.order.push_back(key);
        }
        while kept.order.len() > KEPT {
            if let Some(oldest) = kept.order.pop_front() {
                kept.lists.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(path: &str) -> Arc<Vec<VersionFile>> {
        Arc::new(vec![VersionFile {
            path: path.into(),
            content: String::new(),
            language: "html".into(),
            size: 1,
            binary: false,
        }])
    }

    #[test]
    fn a_list_is_kept_for_its_owner_only() {
        let lists = FileLists::default();
        let (ada, bob) = (UserId::from_raw("ada"), UserId::from_raw("bob"));
        let version = VersionId::from_raw("v1");
        lists.put(&ada, &version, list("index.html"));
        assert_eq!(lists.get(&ada, &version).unwrap()[0].path, "index.html");
        assert!(lists.get(&bob, &version).is_none());
        assert!(lists.get(&ada, &VersionId::from_raw("v2")).is_none());
    }

    #[test]
    fn the_oldest_list_goes_past_the_bound() {
        let lists = FileLists::default();
        let ada = UserId::from_raw("ada");
        let version = |n: usize| VersionId::from_raw(format!("v{n}"));
        for n in 0..=KEPT {
            lists.put(&ada, &version(n), list(&format!("{n}.html")));
        }
        assert!(lists.get(&ada, &version(0)).is_none());
        assert!(lists.get(&ada, &version(1)).is_some());
        assert!(lists.get(&ada, &version(KEPT)).is_some());
        // Putting a kept version again does not count twice.
        lists.put(&ada, &version(KEPT), list("again.html"));
        assert!(lists.get(&ada, &version(1)).is_some());
    }
}
