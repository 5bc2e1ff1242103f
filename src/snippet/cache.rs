//! The snippet cache: one JSON file per snippet key under `runs/`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::SnippetRun;
use crate::error::Error;

/// A folder of cached runs, keyed by a hash of everything a run depends on.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_owned(),
        }
    }

    /// The cached run for `key`, if there is a readable one.
    pub fn load(&self, key: &str) -> Option<SnippetRun> {
        self.load_json(&self.dir.join("runs").join(format!("{key}.json")))
    }

    pub fn store(&self, key: &str, run: &SnippetRun) -> Result<(), Error> {
        self.store_json(&format!("runs/{key}.json"), run)
    }

    /// A small JSON record at `rel` inside the cache.
    pub fn load_json<T: DeserializeOwned>(&self, path: &Path) -> Option<T> {
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes a JSON record atomically, so that a crash never leaves half a
    /// file for the next build to trust.
    pub fn store_json<T: Serialize>(&self, rel: &str, value: &T) -> Result<(), Error> {
        let path = self.dir.join(rel);
        let fail = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(fail)?;
        self.mark()?;
        let json = serde_json::to_vec(value).map_err(|e| fail(std::io::Error::other(e)))?;
        crate::output::write_atomic(&path, &[&json])
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Tells git and backup tools that the folder is a cache.
    fn mark(&self) -> Result<(), Error> {
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            fs::write(&ignore, "# kiln's snippet cache: safe to delete.\n*\n").map_err(
                |source| Error::Write {
                    path: ignore.clone(),
                    source,
                },
            )?;
            let tag = self.dir.join("CACHEDIR.TAG");
            let _ = fs::write(
                tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# This file marks kiln's snippet cache.\n",
            );
        }
        Ok(())
    }
}
