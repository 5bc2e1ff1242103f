//! The site root as a boundary: kiln reads nothing that resolves outside
//! it. A symbolic link inside the site to a file or folder inside it is
//! followed; one that leads outside (to `/proc/self/environ`, a home
//! folder, `/etc`) is an error naming the link, so that no article, asset,
//! template or snippet can publish, serve or compile a file of the machine
//! that builds the site.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The site root, resolved once.
#[derive(Debug, Clone)]
pub struct Boundary {
    root: PathBuf,
}

impl Boundary {
    pub fn new(root: &Path) -> Boundary {
        let root = if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        };
        let root = std::fs::canonicalize(root)
            .or_else(|_| std::path::absolute(root))
            .unwrap_or_else(|_| root.to_owned());
        Boundary { root }
    }

    /// The real path of `path`, when it lies inside the root.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Error> {
        let real = std::fs::canonicalize(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(Error::Outside {
                path: path.to_owned(),
                target: real,
            })
        }
    }

    /// For a walk that follows links: an error when `entry` (the walk's
    /// start, or a link) leads outside the root; nothing behind it should
    /// be read then.
    pub fn check_entry(&self, entry: &walkdir::DirEntry) -> Result<(), Error> {
        if entry.path_is_symlink() || entry.depth() == 0 {
            self.resolve(entry.path()).map(drop)
        } else {
            Ok(())
        }
    }

    /// Whether `path` (which must exist) lies inside the root.
    pub fn contains(&self, path: &Path) -> bool {
        self.resolve(path).is_ok()
    }
}

// Makes symbolic links, which need a Unix here.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_inside_are_followed_and_links_outside_refused() {
        let outside = tempfile::tempdir().unwrap();
        let site = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::fs::write(site.path().join("real.txt"), "r").unwrap();
        std::os::unix::fs::symlink(site.path().join("real.txt"), site.path().join("in")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), site.path().join("out")).unwrap();
        let boundary = Boundary::new(site.path());
        assert!(
            boundary
                .resolve(&site.path().join("in"))
                .unwrap()
                .ends_with("real.txt")
        );
        let error = boundary.resolve(&site.path().join("out")).unwrap_err();
        assert!(
            error.to_string().contains("leads outside the site"),
            "{error}"
        );
    }
}
