//! The snippets' local crates (`path =` dependencies of
//! `snippets/Cargo.toml`): their paths made absolute, their sources hashed
//! into the dependencies' key, and those inside `snippets/` copied into the
//! hidden package.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The folders that `path =` entries of `manifest` name, as written.
fn path_entries(manifest: &toml::Table) -> Vec<PathBuf> {
    fn paths(value: &toml::Value, out: &mut Vec<PathBuf>) {
        match value {
            toml::Value::Table(table) => {
                for (key, item) in table {
                    match item {
                        toml::Value::String(path) if key == "path" => out.push(path.into()),
                        other => paths(other, out),
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|i| paths(i, out)),
            _ => {}
        }
    }
    let mut dirs = Vec::new();
    paths(&toml::Value::Table(manifest.clone()), &mut dirs);
    dirs
}

/// The folders of the local crates of the snippets' manifest (`snippets/
/// Cargo.toml`) at `manifest`, if it can be read.
pub fn local_crate_folders(manifest: &Path) -> Vec<PathBuf> {
    let Some(table) = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return Vec::new();
    };
    let base = manifest.parent().unwrap_or(Path::new("."));
    path_entries(&table)
        .into_iter()
        .map(|dir| base.join(dir))
        .collect()
}

/// A hash of every file (but `target/` and hidden ones) of the folders
/// that `path =` entries of `manifest` name.
pub(super) fn hash_local_sources(manifest: &toml::Table) -> String {
    let mut dirs = path_entries(manifest);
    dirs.sort();
    let mut hasher = blake3::Hasher::new();
    for dir in dirs {
        let files = walkdir::WalkDir::new(&dir)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0 || !(name.starts_with('.') || name == "target")
            })
            .flatten()
            .filter(|e| e.file_type().is_file());
        for file in files {
            hasher.update(file.path().as_os_str().as_encoded_bytes());
            hasher.update(&std::fs::read(file.path()).unwrap_or_default());
        }
    }
    hasher.finalize().to_hex().to_string()
}

/// Makes every relative `path = "…"` inside `value` absolute, from `base`.
pub(super) fn absolute_paths(value: &mut toml::Value, base: &Path) {
    match value {
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                if key == "path"
                    && let toml::Value::String(path) = item
                    && Path::new(path.as_str()).is_relative()
                {
                    *path = base.join(path.as_str()).display().to_string();
                } else {
                    absolute_paths(item, base);
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(|i| absolute_paths(i, base)),
        _ => {}
    }
}

/// Points every absolute `path = "…"` inside `snippets_dir` at a copy in
/// the hidden package (`local/…`, the same layout), and lists them: the
/// hidden package's `[workspace]` then owns those crates, as cargo makes
/// every path dependency in a workspace's folder a member.
pub(super) fn localize_paths(
    value: &mut toml::Value,
    snippets_dir: &Path,
    out: &mut Vec<(PathBuf, PathBuf)>,
) {
    match value {
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                match item {
                    toml::Value::String(path) if key == "path" => {
                        if let Ok(inside) = Path::new(path.as_str()).strip_prefix(snippets_dir)
                            && !inside.as_os_str().is_empty()
                        {
                            let copy = Path::new("local").join(inside);
                            out.push((PathBuf::from(path.as_str()), copy.clone()));
                            *path = copy.display().to_string();
                        }
                    }
                    other => localize_paths(other, snippets_dir, out),
                }
            }
        }
        toml::Value::Array(items) => items
            .iter_mut()
            .for_each(|i| localize_paths(i, snippets_dir, out)),
        _ => {}
    }
}

/// Copies a local crate (but `target/` and hidden files) to `to`, afresh.
pub(super) fn copy_crate(from: &Path, to: &Path) -> Result<(), Error> {
    let _ = std::fs::remove_dir_all(to);
    let entries = walkdir::WalkDir::new(from).into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0 || !(name.starts_with('.') || name == "target")
    });
    for entry in entries {
        let entry = entry.map_err(|e| Error::Read {
            path: from.to_owned(),
            source: e.into(),
        })?;
        let rel = entry.path().strip_prefix(from).unwrap_or(entry.path());
        let dest = to.join(rel);
        let done = if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)
        } else if entry.path_is_symlink() {
            // A link stays a link: its target is read (if at all) by cargo,
            // as when the crate was built in place, and never copied into
            // the cache.
            copy_link(entry.path(), &dest)
        } else {
            std::fs::copy(entry.path(), &dest).map(drop)
        };
        done.map_err(|source| Error::Write { path: dest, source })?;
    }
    Ok(())
}

/// The link at `from`, made again at `to` (pointing where it pointed).
fn copy_link(from: &Path, to: &Path) -> std::io::Result<()> {
    let target = std::fs::read_link(from)?;
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, to)
    }
    #[cfg(not(unix))]
    {
        // Without symbolic links to make, a link is left out.
        let _ = (target, to);
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    // Makes symbolic links, which need a Unix here.
    #[cfg(unix)]
    #[test]
    fn a_copied_crate_keeps_its_links_as_links() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("tiny"), dir.path().join("copy"));
        std::fs::create_dir_all(from.join("src")).unwrap();
        std::fs::write(from.join("src/lib.rs"), "pub fn a() {}\n").unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), from.join("link")).unwrap();
        copy_crate(&from, &to).unwrap();
        assert_eq!(
            std::fs::read_to_string(to.join("src/lib.rs")).unwrap(),
            "pub fn a() {}\n"
        );
        let copied = std::fs::symlink_metadata(to.join("link")).unwrap();
        assert!(
            copied.file_type().is_symlink(),
            "the link's target was copied"
        );
    }
}
