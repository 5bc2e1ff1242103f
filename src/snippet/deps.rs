//! Crates for snippets: `snippets/Cargo.toml` is an ordinary Cargo manifest
//! (with its `Cargo.lock` beside it). Cargo builds its dependencies once,
//! in a hidden package under the cache with one shared target folder; then
//! every snippet is compiled with `--extern` for each of them.
//!
//! The result is recorded under a key of the manifest, the lock file and
//! the compiler, so a build with nothing changed starts no cargo at all.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::local_crates::{absolute_paths, copy_crate, hash_local_sources, localize_paths};
use super::{SNIPPET_DIR, environment};
use crate::config::line_column;
use crate::error::{Error, Position};
use crate::store::{Area, Store};

/// The manifest of the snippets' crates, relative to the site root.
pub const MANIFEST: &str = "snippets/Cargo.toml";

/// The snippets' dependencies, built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependencies {
    /// A hash of everything the build depends on, for snippet keys.
    pub key: String,
    /// One per direct dependency, by the name snippets use.
    pub externs: Vec<Extern>,
    /// Where the dependencies' own dependencies are.
    pub search_dir: PathBuf,
}

/// A crate snippets can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extern {
    /// The name in code, such as `serde_json`.
    pub name: String,
    /// The compiled library.
    pub path: PathBuf,
    /// The package and its locked version, such as `serde_json` `1.0.140`.
    pub package: String,
    pub version: String,
}

impl Dependencies {
    /// The rustc arguments that make the crates available.
    pub fn rustc_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        for e in &self.externs {
            let mut arg = OsString::from(format!("{}=", e.name));
            arg.push(&e.path);
            args.push("--extern".into());
            args.push(arg);
        }
        let mut search = OsString::from("dependency=");
        search.push(&self.search_dir);
        args.push("-L".into());
        args.push(search);
        args
    }
}

/// How the dependencies are built.
#[derive(Debug, Clone, Copy)]
pub struct DepsOptions<'a> {
    pub root: &'a Path,
    pub store: &'a Store,
    /// `rustc -vV`, part of the key.
    pub compiler: &'a str,
    /// Run cargo with `--offline`.
    pub offline: bool,
}

/// Everything the dependencies' build is made of: its key, hashed once.
#[derive(Serialize)]
struct DepsKey<'a> {
    version: &'static str,
    /// The hidden package's manifest.
    manifest: &'a str,
    /// A hash of `snippets/Cargo.lock`, if there is one.
    lock: Option<String>,
    /// `rustc -vV`.
    compiler: &'a str,
    /// What identifies the local (path) dependencies' sources.
    local_sources: &'a str,
}

/// Builds the dependencies of `snippets/Cargo.toml`, or takes the record
/// of an earlier build with the same key. `None` without a manifest.
/// Returns whether cargo ran.
pub fn build_dependencies(options: DepsOptions<'_>) -> Result<Option<(Dependencies, bool)>, Error> {
    let manifest_path = options.root.join(MANIFEST);
    let boundary = crate::boundary::Boundary::new(options.root);
    for file in [
        &manifest_path,
        &options.root.join(SNIPPET_DIR).join("Cargo.lock"),
    ] {
        if let Err(error @ Error::Outside { .. }) = boundary.resolve(file) {
            return Err(error);
        }
    }
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: manifest_path,
                source,
            });
        }
    };
    let manifest = Manifest::parse(&text, &manifest_path, options.root)?;
    if manifest.no_crates {
        return Ok(None);
    }
    let lock_path = options.root.join(SNIPPET_DIR).join("Cargo.lock");
    let lock = std::fs::read(&lock_path).ok();
    let key = |lock: Option<&[u8]>| {
        crate::store::key(&DepsKey {
            version: "kiln-deps-v2",
            manifest: &manifest.hidden,
            lock: lock.map(|bytes| blake3::hash(bytes).to_hex().to_string()),
            compiler: options.compiler,
            local_sources: &manifest.local_sources,
        })
    };
    let record = |key: &str| options.store.folder(Area::Deps).join(format!("{key}.json"));
    if let Some(deps) = options
        .store
        .load_json::<Dependencies>(&record(&key(lock.as_deref())))
        .filter(|d| d.externs.iter().all(|e| e.path.is_file()))
    {
        return Ok(Some((deps, false)));
    }
    let built = run_cargo(&manifest, lock.as_deref(), &lock_path, options)?;
    // Keyed by the lock file as the next build will find it.
    let key = key(built.lock.as_deref().or(lock.as_deref()));
    let deps = Dependencies {
        key: key.clone(),
        externs: built.externs,
        search_dir: built.search_dir,
    };
    options.store.store_json(&record(&key), &deps)?;
    Ok(Some((deps, true)))
}

/// What cargo built: the crates, their search folder, and the lock file
/// if cargo wrote a new one.
struct Built {
    externs: Vec<Extern>,
    search_dir: PathBuf,
    lock: Option<Vec<u8>>,
}

/// The user's manifest, and the hidden package made from it.
struct Manifest {
    path: PathBuf,
    text: String,
    /// The hidden package's `Cargo.toml`.
    hidden: String,
    /// A hash of the files of every `path =` dependency: editing a local
    /// crate rebuilds it.
    local_sources: String,
    /// The local crates inside `snippets/` (absolute), each copied into the
    /// hidden package at `local/` and its path there: cargo would otherwise
    /// read `snippets/Cargo.toml` as their workspace.
    local_crates: Vec<(PathBuf, PathBuf)>,
    /// No crate at all (an empty `[dependencies]`, as `kiln init` writes
    /// it): there is nothing for cargo to build.
    no_crates: bool,
}

impl Manifest {
    /// Parses the manifest and makes the hidden package's: the user's
    /// package name (so the lock file fits), dependencies and features,
    /// with `path =` dependencies made absolute.
    fn parse(text: &str, path: &Path, root: &Path) -> Result<Manifest, Error> {
        let fail = |at: Option<Position>, message: String| Error::Config {
            path: path.to_owned(),
            at,
            message,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e.span().map(|span| {
                let (line, column) = line_column(text, span.start);
                Position { line, column }
            });
            fail(at, e.message().to_owned())
        })?;
        let snippets_dir =
            std::path::absolute(root.join(SNIPPET_DIR)).unwrap_or_else(|_| root.join(SNIPPET_DIR));
        let package = table.get("package").and_then(|p| p.as_table());
        let name = package
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("snippets");
        let version = package
            .and_then(|p| p.get("version"))
            .and_then(|v| v.as_str())
            .unwrap_or("0.0.0");
        let mut hidden = toml::Table::new();
        let mut package_table = toml::Table::new();
        package_table.insert("name".into(), name.into());
        package_table.insert("version".into(), version.into());
        package_table.insert("edition".into(), "2021".into());
        package_table.insert("publish".into(), false.into());
        hidden.insert("package".into(), package_table.into());
        let mut lib = toml::Table::new();
        lib.insert("path".into(), "lib.rs".into());
        hidden.insert("lib".into(), lib.into());
        for section in ["dependencies", "features", "patch", "target"] {
            if let Some(value) = table.get(section) {
                let mut value = value.clone();
                absolute_paths(&mut value, &snippets_dir);
                hidden.insert(section.into(), value);
            }
        }
        if !table.contains_key("dependencies") {
            return Err(fail(
                None,
                "has no `[dependencies]`; list the crates snippets may use, such as `serde_json = \"1\"`".to_owned(),
            ));
        }
        let no_crates = !table.contains_key("target")
            && table
                .get("dependencies")
                .and_then(|d| d.as_table())
                .is_some_and(toml::Table::is_empty);
        // Its own workspace, so that no folder above the cache claims it.
        hidden.insert("workspace".into(), toml::Table::new().into());
        let local_sources = hash_local_sources(&hidden);
        let mut local_crates = Vec::new();
        let mut hidden = toml::Value::Table(hidden);
        localize_paths(&mut hidden, &snippets_dir, &mut local_crates);
        let hidden = toml::to_string(&hidden).map_err(|e| fail(None, e.to_string()))?;
        Ok(Manifest {
            path: path.to_owned(),
            text: text.to_owned(),
            hidden,
            local_sources,
            local_crates,
            no_crates,
        })
    }

    /// The manifest line that names `crate_name` as a dependency.
    fn line_of(&self, crate_name: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                let key = line.split('=').next().unwrap_or_default().trim();
                let key = key.trim_start_matches('[').trim_end_matches(']');
                key == crate_name || key.ends_with(&format!(".{crate_name}"))
            })
            .map(|i| i + 1)
    }
}

/// What cargo reports of one compiled target.
#[derive(Deserialize)]
struct Artifact {
    reason: String,
    #[serde(default)]
    package_id: String,
    #[serde(default)]
    target: Option<ArtifactTarget>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    kind: Vec<String>,
}

fn run_cargo(
    manifest: &Manifest,
    lock: Option<&[u8]>,
    lock_path: &Path,
    options: DepsOptions<'_>,
) -> Result<Built, Error> {
    let fail = |message: String| Error::Dependencies {
        path: manifest.path.clone(),
        line: None,
        message,
    };
    // Absolute: rustc runs in a folder of its own.
    let absolute = |rel: &str| {
        let path = options.store.folder(Area::Deps).join(rel);
        std::path::absolute(&path).unwrap_or(path)
    };
    let package = absolute("package");
    let target = absolute("target");
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::create_dir_all(&package)
            .and_then(|()| std::fs::write(&path, bytes))
            .map_err(|source| Error::Write { path, source })
    };
    write(package.join("Cargo.toml"), manifest.hidden.as_bytes())?;
    write(package.join("lib.rs"), b"")?;
    let _ = std::fs::remove_dir_all(package.join("local"));
    for (from, copy) in &manifest.local_crates {
        copy_crate(from, &package.join(copy))?;
    }
    match lock {
        Some(lock) => write(package.join("Cargo.lock"), lock)?,
        None => {
            let _ = std::fs::remove_file(package.join("Cargo.lock"));
        }
    }
    eprintln!("building the snippets' dependencies with cargo (once per `snippets/Cargo.lock`)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .env_clear()
        .envs(environment::cargo_environment())
        .arg("build")
        .arg("--manifest-path")
        .arg(package.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .arg("--message-format=json-render-diagnostics")
        .stdin(std::process::Stdio::null());
    if options.offline {
        build.arg("--offline");
    }
    let output = build.output().map_err(|e| {
        fail(format!(
            "cannot run `{}` to build the snippets' dependencies: {e}",
            cargo.to_string_lossy()
        ))
    })?;
    if !output.status.success() {
        return Err(cargo_failure(manifest, &package, &output.stderr));
    }
    // The lock file cargo made or updated is the user's to commit.
    let new_lock = std::fs::read(package.join("Cargo.lock"))
        .ok()
        .filter(|new| lock != Some(new.as_slice()));
    if let Some(new_lock) = &new_lock {
        std::fs::write(lock_path, new_lock).map_err(|source| Error::Write {
            path: lock_path.to_owned(),
            source,
        })?;
    }
    let libraries = libraries(&output.stdout);
    let externs = direct_dependencies(&cargo, &package, options.offline)
        .map_err(fail)?
        .into_iter()
        .filter_map(|(name, id, package, version)| {
            Some(Extern {
                name,
                path: libraries.get(&id)?.clone(),
                package,
                version,
            })
        })
        .collect();
    Ok(Built {
        externs,
        search_dir: target.join("debug").join("deps"),
        lock: new_lock,
    })
}

/// Each package's compiled library (an rlib, or a proc macro's shared
/// object), by package id, from `cargo build --message-format=json`.
fn libraries(stdout: &[u8]) -> BTreeMap<String, PathBuf> {
    let mut libraries = BTreeMap::new();
    for line in stdout.split(|&b| b == b'\n') {
        let Ok(artifact) = serde_json::from_slice::<Artifact>(line) else {
            continue;
        };
        let Some(target) = artifact
            .target
            .filter(|_| artifact.reason == "compiler-artifact")
        else {
            continue;
        };
        let library = if target.kind.iter().any(|k| k == "proc-macro") {
            artifact.filenames.into_iter().next()
        } else if target.kind.iter().any(|k| k == "lib" || k == "rlib") {
            artifact
                .filenames
                .into_iter()
                .find(|f| f.extension().is_some_and(|e| e == "rlib"))
        } else {
            None
        };
        if let Some(library) = library {
            libraries.insert(artifact.package_id, library);
        }
    }
    libraries
}

/// The error of a failed cargo build: cargo's own message, at the manifest
/// line that names the crate where that can be told, with a hint for a
/// local crate that cargo took `snippets/Cargo.toml` as the workspace of.
fn cargo_failure(manifest: &Manifest, package: &Path, stderr: &[u8]) -> Error {
    let stderr = String::from_utf8_lossy(stderr);
    let message = stderr
        .replace(&package.display().to_string(), &manifest_dir(manifest))
        .trim()
        .to_owned();
    let line = message
        .split('`')
        .skip(1)
        .step_by(2)
        .find_map(|quoted| manifest.line_of(quoted));
    let own_manifest = format!("failed to parse manifest at `{}", manifest.path.display());
    let hint = if message.contains(&own_manifest)
        || message.contains(&format!(
            "at `{}",
            std::path::absolute(&manifest.path)
                .unwrap_or_default()
                .display()
        )) {
        "\n(a crate inside `snippets/` makes cargo read `snippets/Cargo.toml` as its workspace: give that crate an empty `[workspace]` table, or keep it outside `snippets/`)"
    } else {
        ""
    };
    Error::Dependencies {
        path: manifest.path.clone(),
        line,
        message: format!("cargo could not build the snippets' dependencies:\n{message}{hint}"),
    }
}

/// `snippets` as the user knows it, for cargo's messages.
fn manifest_dir(manifest: &Manifest) -> String {
    manifest
        .path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| SNIPPET_DIR.to_owned())
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetadataPackage>,
    resolve: Resolve,
}

#[derive(Deserialize)]
struct MetadataPackage {
    id: String,
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct Resolve {
    root: Option<String>,
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    name: String,
    pkg: String,
}

/// The hidden package's direct dependencies: (name in code, package id,
/// package name, version), from `cargo metadata`.
fn direct_dependencies(
    cargo: &OsString,
    package: &Path,
    offline: bool,
) -> Result<Vec<(String, String, String, String)>, String> {
    let mut command = Command::new(cargo);
    command
        .env_clear()
        .envs(environment::cargo_environment())
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(package.join("Cargo.toml"))
        .stdin(std::process::Stdio::null());
    if offline {
        command.arg("--offline");
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata: Metadata = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read `cargo metadata`'s answer: {e}"))?;
    let root = metadata.resolve.root.unwrap_or_default();
    let packages: BTreeMap<&str, &MetadataPackage> = metadata
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let Some(node) = metadata.resolve.nodes.iter().find(|n| n.id == root) else {
        return Ok(Vec::new());
    };
    Ok(node
        .deps
        .iter()
        .filter_map(|dep| {
            let package = packages.get(dep.pkg.as_str())?;
            Some((
                dep.name.clone(),
                dep.pkg.clone(),
                package.name.clone(),
                package.version.clone(),
            ))
        })
        .collect())
}

/// The crates of `externs` that `code` uses: a path through them
/// (`serde_json::json!`), a `use` of them, or an `extern crate`.
pub fn crates_used<'a>(code: &str, externs: &'a [Extern]) -> Vec<&'a Extern> {
    externs
        .iter()
        .filter(|e| uses_name(code, &e.name))
        .collect()
}

fn uses_name(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        let starts_word = !before.is_some_and(ident);
        let ends_word = !after.chars().next().is_some_and(ident);
        if !starts_word || !ends_word {
            return false;
        }
        let preceding = code[..at].trim_end();
        after.trim_start().starts_with("::")
            || preceding.ends_with("use")
            || preceding.ends_with("extern crate")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_of_a_crate() {
        assert!(uses_name("let v = serde_json::json!({});", "serde_json"));
        assert!(uses_name("use itoa;\n", "itoa"));
        assert!(uses_name("#[macro_use] extern crate tiny;", "tiny"));
        assert!(uses_name("#[tokio::main]\nasync fn main() {}", "tokio"));
        assert!(!uses_name("let serde_json_like = 1;", "serde_json"));
        assert!(!uses_name("// tiny crate", "tiny"));
    }

    #[test]
    fn hidden_manifest() {
        let m = Manifest::parse(
            "[package]\nname = \"kb\"\n[dependencies]\ntiny = { path = \"tiny\" }\nitoa = \"1\"\n",
            Path::new("snippets/Cargo.toml"),
            Path::new("/site"),
        )
        .unwrap();
        assert!(m.hidden.contains("name = \"kb\""), "{}", m.hidden);
        // A crate inside `snippets/` is built from a copy in the hidden
        // package, which its workspace owns.
        assert!(m.hidden.contains("path = \"local/tiny\""), "{}", m.hidden);
        assert_eq!(
            m.local_crates,
            [(
                PathBuf::from("/site/snippets/tiny"),
                PathBuf::from("local/tiny")
            )]
        );
        assert_eq!(m.line_of("itoa"), Some(5));
        let e = Manifest::parse(
            "[dependencies\n",
            Path::new("snippets/Cargo.toml"),
            Path::new("/s"),
        )
        .err()
        .unwrap();
        assert!(e.to_string().starts_with("snippets/Cargo.toml:1:"), "{e}");
    }
}
