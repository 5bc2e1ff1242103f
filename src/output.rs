//! Writes the site into a staging folder beside the output folder and swaps
//! it in only when the whole build has succeeded, so a failed build leaves
//! the last good site as it was.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A folder that becomes the output folder on [`Staging::commit`]. Dropped
/// without a commit, it is removed and the output folder is untouched.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Staging {
    /// Creates the staging folder next to `target`, on the same file system.
    pub fn new(target: &Path) -> Result<Staging, Error> {
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
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.staging-"))
            .tempdir_in(&parent)
            .map_err(|source| Error::Write {
                path: parent.clone(),
                source,
            })?;
        Ok(Staging {
            dir,
            target: target.to_owned(),
        })
    }

    /// The staging folder, for tools that read the staged site.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` to `rel` (a `/`-separated path) inside the staging
    /// folder, creating folders as needed.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.prepare(rel)?;
        fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
    }

    /// Copies the file `from` to `rel` inside the staging folder.
    pub fn copy(&self, rel: &str, from: &Path) -> Result<(), Error> {
        let path = self.prepare(rel)?;
        fs::copy(from, &path).map_err(|source| Error::Read {
            path: from.to_owned(),
            source,
        })?;
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

    /// Replaces the output folder with the staging folder, in one atomic
    /// exchange where the file system supports it. Returns where the old
    /// site now is, for the caller to delete when it suits it: deleting a
    /// large tree takes a while, and the new site is already in place.
    pub fn commit(self) -> Result<Option<PathBuf>, Error> {
        let staged = self.dir.keep();
        // Temporary folders are private; a published site is world-readable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&staged, fs::Permissions::from_mode(0o755));
        }
        let fail = |source| Error::Write {
            path: self.target.clone(),
            source,
        };
        if !self.target.exists() {
            return match fs::rename(&staged, &self.target) {
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
                &self.target,
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
        fs::rename(&self.target, &old).map_err(fail)?;
        if let Err(e) = fs::rename(&staged, &self.target) {
            let _ = fs::rename(&old, &self.target);
            let _ = fs::remove_dir_all(&staged);
            return Err(fail(e));
        }
        Ok(Some(old))
    }
}
