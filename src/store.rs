//! The cache store: every cache of a site in one folder (`cache_dir`,
//! `.kiln-cache` by default), and the one place that decides where each
//! cache's entries live, how they are keyed and written, what `--fresh`
//! ignores, and when an entry is thrown away.
//!
//! - **Keys.** An entry's key is a struct deriving `Serialize` holding
//!   every input, hashed once with blake3 ([`key`]): an input that is not a
//!   field does not compile into the key.
//! - **Writes.** Whole files through a temporary file renamed into place
//!   ([`write_atomic`]): a crash never leaves half an entry to trust.
//! - **Pruning.** One policy for the caches of [`Area::PRUNED`] (snippet
//!   runs, pages, lists, search bundles, thumbnails): an entry this build
//!   did not use goes when it was last used more than [`MAX_AGE`] ago, and
//!   while the store is over its size budget (`cache_size`) the least
//!   recently used go first. When each entry was last used is kept in one
//!   small ledger (`uses.json`), since the entries' own times cannot say:
//!   pages are hard-linked into the published site, and touching them would
//!   change the published files' stamps. A build prunes at most once an
//!   hour (the ledger's grain), so a warm build does not walk the caches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Where caches live when `cache_dir` is not set.
pub const DEFAULT_DIR: &str = ".kiln-cache";

/// The size budget when `cache_size` is not set.
pub const DEFAULT_SIZE: u64 = 2 << 30;

/// How long an entry no build uses is kept.
pub const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Entries used this recently are kept even over the budget: another
/// process of the site (`serve`'s search job) may have just made them.
const RECENT: Duration = Duration::from_secs(600);

/// A last use is written again only when it is older than this, so that
/// a build that changes nothing does not rewrite the ledger.
const LEDGER_GRAIN: u64 = 3600;

/// The hash of a key struct: its JSON, hashed once (blake3, hex).
pub fn key<K: Serialize + ?Sized>(value: &K) -> String {
    let mut hasher = blake3::Hasher::new();
    // Serializing a struct of strings and numbers into a hasher cannot
    // fail; were it to, the key would still be the hash of what was fed.
    let _ = serde_json::to_writer(&mut hasher, value);
    hasher.finalize().to_hex().to_string()
}

/// The caches whose entries are named by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// A snippet's run: `runs/KEY.json`.
    Runs,
    /// An article's page: `pages/KEY.html` and `KEY.json`.
    Pages,
    /// A list page: `lists/KEY.html` and `KEY.stamp`.
    Lists,
    /// A search bundle: the folder `search/KEY/`.
    Search,
    /// A list thumbnail: `thumbs/KEY.png`.
    Thumbs,
    /// The snippets' dependencies as cargo built them: records
    /// `deps/KEY.json` and cargo's own package and target folders.
    Deps,
    /// Python snippets' virtual environments: the folder `python/KEY/`,
    /// one per requirements file and interpreter.
    Python,
    /// Each output folder's manifest, by the folder's path.
    Outputs,
    /// Compile and run folders, removed when done.
    Scratch,
    /// `kiln serve`'s published site.
    Serve,
}

impl Area {
    /// The areas pruned by last use.
    pub const PRUNED: [Area; 5] = [
        Area::Runs,
        Area::Pages,
        Area::Lists,
        Area::Search,
        Area::Thumbs,
    ];

    /// Its folder under the store.
    pub fn folder(self) -> &'static str {
        match self {
            Area::Runs => "runs",
            Area::Pages => "pages",
            Area::Lists => "lists",
            Area::Search => "search",
            Area::Thumbs => "thumbs",
            Area::Deps => "deps",
            Area::Python => "python",
            Area::Outputs => "outputs",
            Area::Scratch => "tmp",
            Area::Serve => "serve",
        }
    }

    /// Whether a `--fresh` build ignores what is stored there. Thumbnails
    /// are a function of the image's bytes alone, and the dependencies'
    /// build is cargo's to judge.
    fn fresh_ignores(self) -> bool {
        matches!(
            self,
            Area::Runs | Area::Pages | Area::Lists | Area::Search | Area::Outputs
        )
    }
}

/// The store's single files.
#[derive(Debug, Clone, Copy)]
pub enum Record {
    /// Every article's scan, by its bytes.
    Scans,
    /// The toolchain's version, by what identifies its files.
    Toolchain,
    /// The Python interpreter's version and folders, by what identifies
    /// its file.
    Python,
    /// The build lock.
    Lock,
    /// When the caches were last pruned (its modification time).
    Pruned,
    /// What the last good build was made from and published, hashed, and
    /// what it said: a build with the same is up to date.
    Inputs,
}

impl Record {
    fn file(self) -> &'static str {
        match self {
            Record::Scans => "scans.json",
            Record::Toolchain => "toolchain.json",
            Record::Python => "python.json",
            Record::Lock => "build.lock",
            Record::Pruned => "pruned",
            Record::Inputs => "inputs.json",
        }
    }

    /// Whether a `--fresh` build ignores it.
    fn fresh_ignores(self) -> bool {
        matches!(self, Record::Scans)
    }
}

/// The last use of every entry of the pruned areas, in seconds since 1970.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    #[serde(default)]
    areas: BTreeMap<Area, HashMap<String, u64>>,
}

/// A site's cache folder, opened for one build.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    fresh: bool,
    /// The entries this process used (read or wrote), by area.
    used: Mutex<BTreeMap<Area, HashSet<String>>>,
}

impl Store {
    /// The store in `dir`; with `fresh`, nothing of what `--fresh` ignores
    /// is read.
    pub fn open(dir: PathBuf, fresh: bool) -> Store {
        Store {
            dir,
            fresh,
            used: Mutex::default(),
        }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of `area`.
    pub fn folder(&self, area: Area) -> PathBuf {
        self.dir.join(area.folder())
    }

    /// Whether stored entries of `area` may be read by this build.
    pub fn reads(&self, area: Area) -> bool {
        !(self.fresh && area.fresh_ignores())
    }

    /// Whether the record may be read by this build.
    pub fn reads_record(&self, record: Record) -> bool {
        !(self.fresh && record.fresh_ignores())
    }

    /// The path of one of the files of entry `key` of `area`
    /// (`KEY.EXT`, or the folder `KEY` when `ext` is empty), noting that
    /// this build uses the entry.
    pub fn entry(&self, area: Area, key: &str, ext: &str) -> PathBuf {
        if let Ok(mut used) = self.used.lock() {
            let keys = used.entry(area).or_default();
            if !keys.contains(key) {
                keys.insert(key.to_owned());
            }
        }
        let name = if ext.is_empty() {
            key.to_owned()
        } else {
            format!("{key}.{ext}")
        };
        self.folder(area).join(name)
    }

    /// The path of a single file of the store.
    pub fn record(&self, record: Record) -> PathBuf {
        self.dir.join(record.file())
    }

    /// A JSON file of the store, if there is a readable one.
    pub fn load_json<T: DeserializeOwned>(&self, path: &Path) -> Option<T> {
        serde_json::from_slice(&fs::read(path).ok()?).ok()
    }

    /// Writes `value` as JSON to `path` in the store, atomically.
    pub fn store_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), Error> {
        let json = serde_json::to_vec(value).map_err(|e| Error::Write {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?;
        self.write(path, &[&json])
    }

    /// Writes `parts` to `path` in the store, atomically; the first write
    /// marks the folder as a cache.
    pub fn write(&self, path: &Path, parts: &[&[u8]]) -> Result<(), Error> {
        self.mark()?;
        write_atomic(path, parts)
    }

    /// Tells git and backup tools that the folder is a cache.
    fn mark(&self) -> Result<(), Error> {
        let ignore = self.dir.join(".gitignore");
        if ignore.exists() {
            return Ok(());
        }
        fs::create_dir_all(&self.dir).map_err(|source| Error::Write {
            path: self.dir.clone(),
            source,
        })?;
        fs::write(&ignore, "# kiln's cache: safe to delete.\n*\n").map_err(|source| {
            Error::Write {
                path: ignore.clone(),
                source,
            }
        })?;
        let tag = self.dir.join("CACHEDIR.TAG");
        let _ = fs::write(
            tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file marks kiln's cache.\n",
        );
        Ok(())
    }

    /// Records this build's uses in the ledger, without pruning: for a
    /// process that does not hold the build lock (`serve`'s search job).
    pub fn record_uses(&self) {
        let _ = self.update_ledger(|_, _| {});
    }

    /// [`Store::prune_now`], at most once an hour: a warm build then
    /// neither walks the caches nor reads the ledger. Uses go unrecorded
    /// for at most that hour, the ledger's grain; an entry made meanwhile
    /// counts as used when it was written.
    pub fn prune(&self, budget: u64) -> usize {
        let stamp = self.record(Record::Pruned);
        let recent = fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() < LEDGER_GRAIN);
        if recent {
            return 0;
        }
        let removed = self.prune_now(budget);
        let _ = fs::write(&stamp, b"");
        removed
    }

    /// Records this build's uses and applies the one policy to every
    /// pruned area: entries this build did not use go when unused for
    /// [`MAX_AGE`], then the least recently used while the pruned areas
    /// together hold more than `budget` bytes; leftovers of an interrupted
    /// write (names starting with `.`) go after an hour. Returns the
    /// entries removed. Called by a build holding the site's lock, after
    /// the site is in place.
    pub fn prune_now(&self, budget: u64) -> usize {
        self.update_ledger(|ledger, used| prune_areas(&self.dir, ledger, used, budget))
            .unwrap_or(0)
    }

    /// Reads the ledger under its lock, sets this build's uses to now,
    /// lets `change` work on it, and writes it back if it changed enough
    /// to matter.
    fn update_ledger<R>(
        &self,
        change: impl FnOnce(&mut Ledger, &BTreeMap<Area, HashSet<String>>) -> R,
    ) -> Result<R, Error> {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let lock_path = self.dir.join("uses.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| Error::Write {
                path: lock_path,
                source,
            })?;
        let _ = lock.lock();
        let path = self.dir.join("uses.json");
        let mut ledger: Ledger = self.load_json(&path).unwrap_or_default();
        let now = now_secs();
        let mut dirty = false;
        for (area, keys) in &used {
            let times = ledger.areas.entry(*area).or_default();
            for key in keys {
                let last = times.entry(key.clone()).or_insert(0);
                if now.saturating_sub(*last) >= LEDGER_GRAIN {
                    *last = now;
                    dirty = true;
                }
            }
        }
        let before: usize = ledger.areas.values().map(HashMap::len).sum();
        let result = change(&mut ledger, &used);
        let after: usize = ledger.areas.values().map(HashMap::len).sum();
        if dirty || before != after {
            self.store_json(&path, &ledger)?;
        }
        Ok(result)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One entry found on disk: its files (or folder), their size and when
/// it was last used.
struct Found {
    area: Area,
    key: String,
    paths: Vec<PathBuf>,
    size: u64,
    last_use: u64,
}

/// Walks the pruned areas, removes what the policy says, and leaves in
/// the ledger exactly the entries that remain. Returns how many went.
fn prune_areas(
    dir: &Path,
    ledger: &mut Ledger,
    used: &BTreeMap<Area, HashSet<String>>,
    budget: u64,
) -> usize {
    let now = now_secs();
    let mut found: Vec<Found> = Vec::new();
    for area in Area::PRUNED {
        let times = ledger.areas.entry(area).or_default();
        let mut by_key: HashMap<String, Found> = HashMap::new();
        let Ok(entries) = fs::read_dir(dir.join(area.folder())) else {
            times.clear();
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            if name.starts_with('.') {
                if now.saturating_sub(modified) > 3600 {
                    remove(&entry.path());
                }
                continue;
            }
            let key = name.split('.').next().unwrap_or_default().to_owned();
            let size = if meta.is_dir() {
                folder_size(&entry.path())
            } else {
                meta.len()
            };
            let slot = by_key.entry(key.clone()).or_insert_with(|| Found {
                area,
                last_use: times.get(&key).copied().unwrap_or(0),
                key,
                paths: Vec::new(),
                size: 0,
            });
            // An entry the ledger does not know yet (made by an older kiln)
            // counts as used when it was written.
            if slot.last_use == 0 {
                slot.last_use = modified;
            }
            slot.paths.push(entry.path());
            slot.size += size;
        }
        found.extend(by_key.into_values());
    }
    let is_used = |f: &Found| used.get(&f.area).is_some_and(|keys| keys.contains(&f.key));
    let max_age = MAX_AGE.as_secs();
    let (mut kept, old): (Vec<Found>, Vec<Found>) = found
        .into_iter()
        .partition(|f| is_used(f) || now.saturating_sub(f.last_use) <= max_age);
    let mut removed = old.len();
    old.iter()
        .for_each(|f| f.paths.iter().for_each(|p| remove(p)));
    let mut total: u64 = kept.iter().map(|f| f.size).sum();
    if total > budget {
        // Oldest first; ties by name, so that pruning is deterministic.
        kept.sort_by(|a, b| (a.last_use, &a.key).cmp(&(b.last_use, &b.key)));
        let mut left = Vec::with_capacity(kept.len());
        for f in kept {
            let recent = now.saturating_sub(f.last_use) < RECENT.as_secs();
            if total > budget && !is_used(&f) && !recent {
                total -= f.size;
                f.paths.iter().for_each(|p| remove(p));
                removed += 1;
            } else {
                left.push(f);
            }
        }
        kept = left;
    }
    let mut areas: BTreeMap<Area, HashMap<String, u64>> = BTreeMap::new();
    for f in kept {
        areas.entry(f.area).or_default().insert(f.key, f.last_use);
    }
    ledger.areas = areas;
    removed
}

fn folder_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

fn remove(path: &Path) {
    if path.is_dir() {
        let _ = fs::remove_dir_all(path);
    } else {
        let _ = fs::remove_file(path);
    }
}

/// Writes `parts` to `path` through a temporary file beside it, renamed
/// into place, so that a crash never leaves half a file to trust; readable
/// by all, since cached pages are hard-linked into the published site.
pub fn write_atomic(path: &Path, parts: &[&[u8]]) -> Result<(), Error> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(fail)?;
    let mut file = tempfile::Builder::new()
        .prefix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    for part in parts {
        std::io::Write::write_all(&mut file, part).map_err(fail)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(fail)?;
    }
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(store: &Store, area: Area, key: &str, bytes: usize) {
        let path = store.entry(area, key, "bin");
        store.write(&path, &[&vec![0; bytes]]).unwrap();
    }

    #[test]
    fn keys_hash_every_field() {
        #[derive(Serialize)]
        struct K<'a> {
            a: &'a str,
            b: u32,
        }
        assert_eq!(key(&K { a: "x", b: 1 }), key(&K { a: "x", b: 1 }));
        assert_ne!(key(&K { a: "x", b: 1 }), key(&K { a: "x", b: 2 }));
        assert_eq!(key(&K { a: "x", b: 1 }).len(), 64);
    }

    #[test]
    fn over_budget_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path().to_owned(), false);
        put(&first, Area::Pages, "old", 100);
        put(&first, Area::Thumbs, "older", 100);
        first.record_uses();
        // Pretend those uses were a day and two days ago.
        let ledger_path = dir.path().join("uses.json");
        let mut ledger: Ledger = first.load_json(&ledger_path).unwrap();
        let day = 24 * 3600;
        ledger
            .areas
            .get_mut(&Area::Pages)
            .unwrap()
            .insert("old".into(), now_secs() - day);
        ledger
            .areas
            .get_mut(&Area::Thumbs)
            .unwrap()
            .insert("older".into(), now_secs() - 2 * day);
        first.store_json(&ledger_path, &ledger).unwrap();

        let second = Store::open(dir.path().to_owned(), false);
        put(&second, Area::Runs, "new", 100);
        // 300 bytes against a budget of 250: the oldest goes.
        assert_eq!(second.prune_now(250), 1);
        assert!(!dir.path().join("thumbs/older.bin").exists());
        assert!(dir.path().join("pages/old.bin").exists());
        // What this build used stays, whatever the budget.
        assert_eq!(Store::open(dir.path().to_owned(), false).prune_now(1), 1);
        let third = Store::open(dir.path().to_owned(), false);
        third.entry(Area::Runs, "new", "bin");
        assert_eq!(third.prune_now(1), 0);
        assert!(dir.path().join("runs/new.bin").exists());
    }

    #[test]
    fn unused_entries_go_after_the_age_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_owned(), false);
        put(&store, Area::Search, "stale", 10);
        store.record_uses();
        let ledger_path = dir.path().join("uses.json");
        let mut ledger: Ledger = store.load_json(&ledger_path).unwrap();
        let long_ago = now_secs() - MAX_AGE.as_secs() - 1;
        ledger
            .areas
            .get_mut(&Area::Search)
            .unwrap()
            .insert("stale".into(), long_ago);
        store.store_json(&ledger_path, &ledger).unwrap();
        assert_eq!(
            Store::open(dir.path().to_owned(), false).prune_now(u64::MAX),
            1
        );
        assert!(!dir.path().join("search/stale.bin").exists());
    }

    #[test]
    fn fresh_ignores_what_a_build_made() {
        let store = Store::open(PathBuf::from("x"), true);
        assert!(!store.reads(Area::Pages));
        assert!(store.reads(Area::Thumbs));
        assert!(!store.reads_record(Record::Scans));
    }
}
