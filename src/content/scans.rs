//! The scan cache: what the stages before rendering need of each article
//! (its snippet candidates and images), kept by the article's bytes.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::markdown::Scan;

/// The [`Scan`] of every article of the last build, by its bytes, kept in
/// the cache as one file: an unchanged article's Markdown is parsed only
/// when its page has to be rendered.
#[derive(Debug)]
pub struct ScanCache {
    path: PathBuf,
    /// A hash of kiln: another kiln may parse otherwise.
    kiln: String,
    known: HashMap<String, Arc<Scan>>,
    made: Mutex<HashMap<String, Arc<Scan>>>,
}

#[derive(Serialize, Deserialize)]
struct StoredScans {
    kiln: String,
    scans: HashMap<String, Arc<Scan>>,
}

impl ScanCache {
    /// The scans stored in the store by this kiln (none if `--fresh`).
    pub fn load(store: &crate::store::Store, kiln: &str) -> ScanCache {
        let record = crate::store::Record::Scans;
        let path = store.record(record);
        let known = match std::fs::read(&path) {
            Ok(bytes) if store.reads_record(record) => {
                serde_json::from_slice::<StoredScans>(&bytes)
                    .ok()
                    .filter(|stored| stored.kiln == kiln)
                    .map(|stored| stored.scans)
                    .unwrap_or_default()
            }
            _ => HashMap::new(),
        };
        ScanCache {
            path,
            kiln: kiln.to_owned(),
            known,
            made: Mutex::default(),
        }
    }

    pub(super) fn get(&self, hash: &str) -> Option<Arc<Scan>> {
        if let Some(scan) = self.known.get(hash) {
            return Some(scan.clone());
        }
        self.made.lock().ok()?.get(hash).cloned()
    }

    pub(super) fn put(&self, hash: &str, scan: Arc<Scan>) {
        if let Ok(mut made) = self.made.lock() {
            made.insert(hash.to_owned(), scan);
        }
    }

    /// Stores the scans of the articles of this build (by their hashes),
    /// if they are not what is stored already.
    pub fn save(&self, used: &HashSet<String>) -> Result<(), Error> {
        let made = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        let unused = self.known.keys().any(|hash| !used.contains(hash));
        if made.is_empty() && !unused {
            return Ok(());
        }
        let mut scans: HashMap<String, Arc<Scan>> = self
            .known
            .iter()
            .filter(|(hash, _)| used.contains(*hash))
            .map(|(hash, scan)| (hash.clone(), scan.clone()))
            .collect();
        scans.extend(made.into_iter().filter(|(hash, _)| used.contains(hash)));
        let stored = StoredScans {
            kiln: self.kiln.clone(),
            scans,
        };
        let json = serde_json::to_vec(&stored).map_err(|e| Error::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        crate::store::write_atomic(&self.path, &[&json])
    }
}
