//! Writes the site into a staging folder beside the output folder and swaps
//! it in only when the whole build has succeeded, so a failed build leaves
//! the last good site as it was.
//!
//! Only what changed is written. A manifest of the output (each file's
//! hash, and the size, modification time and inode it had when written)
//! is kept in the cache; a file whose hash is the one already published,
//! and whose published copy is untouched, is hard-linked from the old
//! output instead of written. When nothing at all changed, the output
//! folder is left as it is and nothing is swapped.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::store::{Area, Store, write_atomic};

/// A file's content hash (blake3, hex).
pub type Hash = String;

/// The hash of some bytes, as the manifest records it.
pub fn hash_bytes(bytes: &[u8]) -> Hash {
    blake3::hash(bytes).to_hex().to_string()
}

/// A file's size, modification time and inode: what tells a changed file
/// without reading it (as git and cargo do). Every file kiln publishes
/// from its caches is checked by its stamp, since a copy edited in place
/// (they are hard links) changes the cached file too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Stamp {
    /// The stamp of the file at `path`; an error for anything but a file.
    pub fn of(path: &Path) -> std::io::Result<Stamp> {
        let meta = fs::metadata(path)?;
        if !meta.is_file() {
            return Err(std::io::Error::new(ErrorKind::InvalidInput, "not a file"));
        }
        Ok(Stamp::of_metadata(&meta))
    }

    /// The stamp of a file whose metadata is at hand (a walk's).
    pub fn of_metadata(meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Stamp {
            len: meta.len(),
            mtime_ns,
            ino,
        }
    }

    /// Whether the file at `path` still has this stamp.
    pub fn matches(&self, path: &Path) -> bool {
        Stamp::of(path).is_ok_and(|now| now == *self)
    }
}

/// One published file as it was written, and for a copy of a source file,
/// that file as it was then: an unchanged source is not read again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    hash: Hash,
    file: Stamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Stamp>,
}

/// Where a staged file's bytes come from when it has to be placed.
#[derive(Debug)]
enum Source {
    /// Written into the staging folder already.
    Written,
    /// A cache file of kiln's own, hard-linked (or copied across file
    /// systems).
    Link(PathBuf),
    /// A file of the site's sources, copied.
    Copy(PathBuf),
    /// The same bytes as the published file, which is untouched: linked.
    Published,
}

/// Where made files go: a build's staging folder, or nowhere for a check,
/// which makes every file to find every problem and publishes none.
pub trait Sink: Sync {
    /// Places `bytes` at `rel` (a `/`-separated path in the site).
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error>;
    /// Places a file of kiln's caches whose hash the caller knows at `rel`.
    fn link(&self, rel: &str, from: &Path, hash: Hash);
    /// Places a copy of the file `from` (a source of the site) at `rel`.
    fn copy(&self, rel: &str, from: &Path) -> Result<(), Error>;
}

/// The sink of `check`: keeps nothing, but a source that cannot be read
/// is still an error.
#[derive(Debug, Clone, Copy)]
pub struct Discard;

impl Sink for Discard {
    fn write(&self, _: &str, _: &[u8]) -> Result<(), Error> {
        Ok(())
    }

    fn link(&self, _: &str, _: &Path, _: Hash) {}

    fn copy(&self, _: &str, from: &Path) -> Result<(), Error> {
        fs::File::open(from)
            .map(drop)
            .map_err(|source| Error::Read {
                path: from.to_owned(),
                source,
            })
    }
}

impl Sink for Staging {
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        Staging::write(self, rel, bytes)
    }

    fn link(&self, rel: &str, from: &Path, hash: Hash) {
        Staging::link(self, rel, from, hash);
    }

    fn copy(&self, rel: &str, from: &Path) -> Result<(), Error> {
        Staging::copy(self, rel, from)
    }
}

/// What a commit did.
#[derive(Debug)]
pub enum Committed {
    /// The new site is in place; the old one was moved to this folder (if
    /// there was one), for the caller to delete when it suits it.
    Swapped { stale: Option<PathBuf> },
    /// Every file was already published as it is: nothing was touched.
    Unchanged,
    /// A few files changed, and only they were replaced (each atomically)
    /// or removed, in place.
    Patched,
}

/// At most one file in this many may change for the site to be patched in
/// place rather than swapped whole: a few pages are replaced in an instant,
/// while relinking a large site's every file into a new folder takes
/// seconds.
const PATCH_RATIO: usize = 8;

/// A folder that becomes the output folder on [`Staging::commit`]. Dropped
/// without a commit, it is removed and the output folder is untouched.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
    manifest_path: PathBuf,
    /// The published files, as the last commit left them.
    published: BTreeMap<String, Entry>,
    staged: Mutex<BTreeMap<String, (Hash, Source)>>,
    /// The source files copied, as they were when read.
    copied: Mutex<BTreeMap<String, Stamp>>,
}

impl Staging {
    /// Creates the staging folder next to `target`, on the same file
    /// system, reading what is published there from the manifest kept in
    /// the store (unless the build is `--fresh`: then every file is
    /// written anew).
    pub fn new(target: &Path, store: &Store) -> Result<Staging, Error> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|source| Error::Write {
            path: parent.clone(),
            source,
        })?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".to_owned());
        // Named for this process, so that the next build removes what an
        // interrupted one left.
        let prefix = format!(".{name}.staging-");
        remove_leftovers(&parent, &prefix);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}-", std::process::id()))
            .tempdir_in(&parent)
            .map_err(|source| Error::Write {
                path: parent.clone(),
                source,
            })?;
        // The manifest belongs to this output folder: its absolute path
        // names it, so `build` and `serve` keep their own.
        let absolute = fs::canonicalize(&parent)
            .unwrap_or(parent)
            .join(target.file_name().unwrap_or_default());
        let id = crate::store::key(&absolute);
        let manifest_path = store
            .folder(Area::Outputs)
            .join(format!("{}.json", &id[..32]));
        let published = match fs::read(&manifest_path) {
            Ok(bytes) if target.is_dir() && store.reads(Area::Outputs) => {
                serde_json::from_slice(&bytes).unwrap_or_default()
            }
            _ => BTreeMap::new(),
        };
        Ok(Staging {
            dir,
            target: target.to_owned(),
            manifest_path,
            published,
            staged: Mutex::default(),
            copied: Mutex::default(),
        })
    }

    /// Whether `rel` is published with this hash, untouched since.
    fn is_published(&self, rel: &str, hash: &str) -> bool {
        self.published
            .get(rel)
            .is_some_and(|e| e.hash == hash && e.file.matches(&self.target.join(rel)))
    }

    fn stage(&self, rel: &str, hash: Hash, source: Source) {
        if let Ok(mut staged) = self.staged.lock() {
            staged.insert(rel.to_owned(), (hash, source));
        }
    }

    /// Writes `bytes` to `rel` (a `/`-separated path) inside the staging
    /// folder, creating folders as needed; bytes already published there
    /// are linked instead.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let hash = hash_bytes(bytes);
        if self.is_published(rel, &hash) {
            self.stage(rel, hash, Source::Published);
            return Ok(());
        }
        let path = self.prepare(rel)?;
        fs::write(&path, bytes).map_err(|source| Error::Write { path, source })?;
        self.stage(rel, hash, Source::Written);
        Ok(())
    }

    /// Places `rel` from a cache file of kiln's own whose hash the caller
    /// knows; it is hard-linked when the site is put in place.
    pub fn link(&self, rel: &str, from: &Path, hash: Hash) {
        let source = if self.is_published(rel, &hash) {
            Source::Published
        } else {
            Source::Link(from.to_owned())
        };
        self.stage(rel, hash, source);
    }

    /// Copies the file `from` (a source of the site) to `rel`. A source
    /// unchanged since it was published is not read again.
    pub fn copy(&self, rel: &str, from: &Path) -> Result<(), Error> {
        let stamp = Stamp::of(from).ok();
        if let Some(stamp) = stamp.clone()
            && let Some(entry) = self.published.get(rel)
            && entry.source.as_ref() == Some(&stamp)
            && entry.file.matches(&self.target.join(rel))
        {
            self.stage(rel, entry.hash.clone(), Source::Published);
            if let Ok(mut copied) = self.copied.lock() {
                copied.insert(rel.to_owned(), stamp);
            }
            return Ok(());
        }
        let bytes = fs::read(from).map_err(|source| Error::Read {
            path: from.to_owned(),
            source,
        })?;
        let hash = hash_bytes(&bytes);
        let source = if self.is_published(rel, &hash) {
            Source::Published
        } else {
            Source::Copy(from.to_owned())
        };
        self.stage(rel, hash, source);
        // The stamp from before reading: a source changed while it was read
        // is read again next time.
        if let (Some(stamp), Ok(mut copied)) = (stamp, self.copied.lock()) {
            copied.insert(rel.to_owned(), stamp);
        }
        Ok(())
    }

    fn prepare(&self, rel: &str) -> Result<PathBuf, Error> {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        Ok(path)
    }

    /// Puts the staged site in place. When every file is published as it
    /// is and nothing else is there, the output folder is left alone.
    /// Otherwise the files not written yet are linked or copied in, the
    /// output folder is replaced in one atomic exchange where the file
    /// system supports it, and the manifest is saved.
    pub fn commit(self) -> Result<Committed, Error> {
        let staged = self.staged.into_inner().unwrap_or_default();
        let unchanged = staged.len() == self.published.len()
            && staged.iter().all(|(rel, (_, source))| {
                matches!(source, Source::Published) && self.published.contains_key(rel)
            })
            && count_files(&self.target) == self.published.len();
        let mut copied = self.copied.into_inner().unwrap_or_default();
        if unchanged {
            // Nothing to put in place, but sources newly stamped (say, by
            // a kiln that did not stamp them) are worth remembering.
            let source_of = |rel: &str| self.published.get(rel).and_then(|e| e.source.as_ref());
            if copied
                .iter()
                .any(|(rel, stamp)| source_of(rel) != Some(stamp))
            {
                let mut manifest = self.published.clone();
                for (rel, stamp) in copied {
                    if let Some(entry) = manifest.get_mut(&rel) {
                        entry.source = Some(stamp);
                    }
                }
                save_manifest(&self.manifest_path, &manifest)?;
            }
            return Ok(Committed::Unchanged);
        }
        let strays = count_files(&self.target) != self.published.len();
        if !strays && let Some(changes) = patch_plan(&self.target, &self.published, &staged) {
            patch(&self.target, self.dir.path(), &staged, &changes)?;
            let mut manifest = self.published.clone();
            for rel in &changes.removed {
                manifest.remove(*rel);
            }
            for rel in &changes.placed {
                let path = self.target.join(rel);
                let file = Stamp::of(&path).map_err(|source| Error::Write { path, source })?;
                let hash = staged[*rel].0.clone();
                manifest.insert(
                    (*rel).to_owned(),
                    Entry {
                        hash,
                        file,
                        source: None,
                    },
                );
            }
            for (rel, stamp) in copied {
                if let Some(entry) = manifest.get_mut(&rel) {
                    entry.source = Some(stamp);
                }
            }
            save_manifest(&self.manifest_path, &manifest)?;
            return Ok(Committed::Patched);
        }
        let dir = self.dir.path();
        for (rel, (_, source)) in &staged {
            let to = dir.join(rel);
            let place = |to: &Path| -> std::io::Result<()> {
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent)?;
                }
                match source {
                    Source::Written => Ok(()),
                    Source::Published => link_or_copy(&self.target.join(rel), to),
                    Source::Link(from) => link_or_copy(from, to),
                    Source::Copy(from) => fs::copy(from, to).map(drop),
                }
            };
            place(&to).map_err(|source| Error::Write {
                path: to.clone(),
                source,
            })?;
        }
        let mut manifest = BTreeMap::new();
        for (rel, (hash, _)) in staged {
            let path = dir.join(&rel);
            let file = Stamp::of(&path).map_err(|source| Error::Write { path, source })?;
            let source = copied.remove(&rel);
            manifest.insert(rel, Entry { hash, file, source });
        }
        let stale = swap(self.dir, &self.target)?;
        save_manifest(&self.manifest_path, &manifest)?;
        Ok(Committed::Swapped { stale })
    }
}

/// What patching the output in place does: the files to place, the files
/// to remove.
struct Changes<'a> {
    placed: Vec<&'a str>,
    removed: Vec<&'a str>,
}

/// The changes from `published` to `staged`, if they are few and each can
/// be made in place in `target`: no file where a folder goes or the other
/// way round.
fn patch_plan<'a>(
    target: &Path,
    published: &'a BTreeMap<String, Entry>,
    staged: &'a BTreeMap<String, (Hash, Source)>,
) -> Option<Changes<'a>> {
    let placed: Vec<&str> = staged
        .iter()
        .filter(|(_, (_, source))| !matches!(source, Source::Published))
        .map(|(rel, _)| rel.as_str())
        .collect();
    let removed: Vec<&str> = published
        .keys()
        .filter(|rel| !staged.contains_key(*rel))
        .map(String::as_str)
        .collect();
    if (placed.len() + removed.len()) * PATCH_RATIO > staged.len() {
        return None;
    }
    let fits = |rel: &str| {
        let path = target.join(rel);
        let file_or_nothing = fs::symlink_metadata(&path).map_or(true, |m| m.is_file());
        let folders = path
            .ancestors()
            .skip(1)
            .take_while(|a| *a != target)
            .all(|a| fs::symlink_metadata(a).map_or(true, |m| m.is_dir()));
        file_or_nothing && folders
    };
    placed
        .iter()
        .all(|rel| fits(rel))
        .then_some(Changes { placed, removed })
}

/// Places each changed file over the one published in `target` (put beside
/// it, then renamed: a reader sees the old file or the new, whole), then
/// removes the files the site no longer has, and their emptied folders.
/// Written files come from the staging folder `dir`.
fn patch(
    target: &Path,
    dir: &Path,
    staged: &BTreeMap<String, (Hash, Source)>,
    changes: &Changes<'_>,
) -> Result<(), Error> {
    for rel in &changes.placed {
        let to = target.join(rel);
        let temp = to.with_file_name(format!(
            ".{}.kiln-{}",
            to.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let place = || -> std::io::Result<()> {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            let _ = fs::remove_file(&temp);
            match &staged[*rel].1 {
                Source::Written => fs::rename(dir.join(rel), &to),
                Source::Link(from) => {
                    link_or_copy(from, &temp)?;
                    fs::rename(&temp, &to)
                }
                Source::Copy(from) => {
                    fs::copy(from, &temp)?;
                    fs::rename(&temp, &to)
                }
                Source::Published => Ok(()),
            }
        };
        place().map_err(|source| {
            let _ = fs::remove_file(&temp);
            Error::Write {
                path: to.clone(),
                source,
            }
        })?;
    }
    for rel in &changes.removed {
        let path = target.join(rel);
        fs::remove_file(&path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        for folder in path.ancestors().skip(1).take_while(|a| *a != target) {
            if fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
    Ok(())
}

/// How many files (anything but folders) are under `dir`: a file put in
/// the published site by hand is not kiln's, and a build replaces it.
fn count_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter(|e| e.as_ref().map_or(true, |e| !e.file_type().is_dir()))
        .count()
}

/// A hard link, or a copy where linking is not possible (another file
/// system, no support).
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(e),
        Err(_) => fs::copy(from, to).map(drop),
    }
}

fn save_manifest(path: &Path, manifest: &BTreeMap<String, Entry>) -> Result<(), Error> {
    let json = serde_json::to_vec(manifest).map_err(|e| Error::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, &[&json])
}

/// Removes the folders under `dir` whose names start with `prefix` and
/// then the id of a process that is gone: what an interrupted kiln left
/// (a process still running keeps its own).
pub fn remove_leftovers(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split(['-', '.']).next())
            .filter(|pid| !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Replaces `target` with the staging folder. Returns where the old site
/// now is, for the caller to delete when it suits it: deleting a large
/// tree takes a while, and the new site is already in place.
fn swap(dir: tempfile::TempDir, target: &Path) -> Result<Option<PathBuf>, Error> {
    let staged = dir.keep();
    // Temporary folders are private; a published site is world-readable.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&staged, fs::Permissions::from_mode(0o755));
    }
    let fail = |source| Error::Write {
        path: target.to_owned(),
        source,
    };
    if !target.exists() {
        return match fs::rename(&staged, target) {
            Ok(()) => Ok(None),
            Err(e) => {
                let _ = fs::remove_dir_all(&staged);
                Err(fail(e))
            }
        };
    }
    #[cfg(target_os = "linux")]
    {
        let exchanged = rustix::fs::renameat_with(
            rustix::fs::CWD,
            &staged,
            rustix::fs::CWD,
            target,
            rustix::fs::RenameFlags::EXCHANGE,
        );
        if exchanged.is_ok() {
            // The old site is now where the staging folder was.
            return Ok(Some(staged));
        }
    }
    // Two renames: the output folder is missing for a moment.
    let old = staged.with_file_name(format!(
        "{}.old",
        staged.file_name().unwrap_or_default().to_string_lossy()
    ));
    fs::rename(target, &old).map_err(fail)?;
    if let Err(e) = fs::rename(&staged, target) {
        let _ = fs::rename(&old, target);
        let _ = fs::remove_dir_all(&staged);
        return Err(fail(e));
    }
    Ok(Some(old))
}
