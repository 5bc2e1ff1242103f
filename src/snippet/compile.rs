//! Compiles snippets: mergeable snippets of one edition into one crate (one
//! module each, with a dispatcher `main`), the rest one by one. When a
//! merged crate fails, the snippets rustc blamed are compiled alone, so their
//! errors land on the right snippet, and the rest are merged again.
//!
//! Merging never crosses a trust line: in a merged binary every snippet's
//! code that runs before `main` (an `.init_array` entry) runs in every
//! snippet's process. Snippets of different articles share a crate only
//! when none can put code there: no crate of `snippets/Cargo.toml` (whose
//! macros may expand to anything), no `global_asm!` or `include!`, and the
//! crate compiled with `-F unsafe_code` (which forbids `#[link_section]`,
//! `#[no_mangle]`, `#[export_name]` and `unsafe`); a snippet it rejects
//! is compiled alone. Other snippets merge only with snippets shown on
//! exactly the same pages (their own article's, as a rule).
//!
//! rustc runs inside the sandbox's walls (see `sandbox`), with cargo's
//! package variables set as for a doctest.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::sandbox::Plan;
use super::toolchain::Toolchain;
use super::{Dependencies, Snippet};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compiled {
    /// A binary, run with `arg` when the snippet shares it with others.
    Binary { path: PathBuf, arg: Option<String> },
    /// rustc's diagnostics.
    Failed(String),
}

/// Every compiled snippet, by key. The binaries live as long as `dir`.
pub struct Built {
    pub results: HashMap<String, Compiled>,
    pub invocations: usize,
    _dir: tempfile::TempDir,
}

/// How compiles are walled in and what they are told.
#[derive(Debug, Clone, Copy)]
pub struct CompileEnv<'a> {
    /// The sandbox's plan (`None`: sandbox off).
    pub plan: Option<&'a Plan>,
    /// `CARGO_PKG_*` and `CARGO_MANIFEST_DIR`.
    pub package: &'a [(String, String)],
    /// The crates of `snippets/Cargo.toml`, built.
    pub deps: Option<&'a Dependencies>,
    /// The articles that show each snippet, by key.
    pub pages: &'a std::collections::HashMap<String, Vec<usize>>,
    /// Where work folders go.
    pub scratch: &'a Path,
}

struct Builder<'a> {
    toolchain: &'a Toolchain,
    env: CompileEnv<'a>,
    /// What every rustc is given besides the snippet: the dependencies'
    /// `--extern`s and search path.
    extra_args: Vec<std::ffi::OsString>,
    /// The names of the crates snippets may use.
    crates: Vec<String>,
    dir: &'a Path,
    next_dir: AtomicUsize,
    invocations: AtomicUsize,
    progress: &'a indicatif::ProgressBar,
}

type Unit<'a> = (String, &'a Snippet);

/// How to compile a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Merge what can be merged.
    Allowed,
    /// Compile every snippet alone, for exact file names and lines.
    Never,
}

pub fn compile_all(
    units: &[(String, &Snippet)],
    (toolchain, env): (&Toolchain, CompileEnv<'_>),
    progress: &indicatif::ProgressBar,
    merge: Merge,
) -> Result<Built, Error> {
    let dir = scratch_dir(env.scratch)?;
    let builder = Builder {
        toolchain,
        env,
        extra_args: env.deps.map(Dependencies::rustc_args).unwrap_or_default(),
        crates: env
            .deps
            .iter()
            .flat_map(|d| d.externs.iter().map(|e| e.name.clone()))
            .collect(),
        dir: dir.path(),
        next_dir: AtomicUsize::new(0),
        invocations: AtomicUsize::new(0),
        progress,
    };
    // By edition and trust: `None` for snippets any article may share a
    // crate with; for the rest, the articles that show the snippet (a
    // linked file may stand in several), so that code shares a process
    // only with code shown on exactly the same pages.
    let mut groups: BTreeMap<(&str, Option<&[usize]>), Vec<Unit<'_>>> = BTreeMap::new();
    let mut alone: Vec<Unit<'_>> = Vec::new();
    for (key, snippet) in units {
        if let (Merge::Allowed, Some(edition)) = (merge, snippet.merge_group()) {
            let trust = (!shareable(snippet, &builder.crates))
                .then(|| env.pages.get(key).map(Vec::as_slice).unwrap_or_default());
            groups
                .entry((edition, trust))
                .or_default()
                .push((key.clone(), *snippet));
        } else {
            alone.push((key.clone(), *snippet));
        }
    }
    let groups: Vec<(bool, Vec<Unit<'_>>)> = groups
        .into_iter()
        .map(|((_, trust), units)| (trust.is_none(), units))
        .collect();
    let (merged, single) = rayon::join(
        || {
            groups
                .par_iter()
                .flat_map(|(shared, g)| builder.group(g, *shared))
                .collect::<Vec<_>>()
        },
        || {
            alone
                .par_iter()
                .map(|u| builder.single(u))
                .collect::<Vec<_>>()
        },
    );
    Ok(Built {
        results: merged.into_iter().chain(single).collect(),
        invocations: builder.invocations.into_inner(),
        _dir: dir,
    })
}

impl Builder<'_> {
    fn work_dir(&self) -> PathBuf {
        let n = self.next_dir.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("b{n}"))
    }

    fn rustc(
        &self,
        work: &Path,
        file: &str,
        (edition, crate_name): (&str, &str),
        (json, shared): (bool, bool),
    ) -> Result<(), String> {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let mut command = match self.command(work, crate_name) {
            Ok(command) => command,
            Err(e) => return Err(format!("cannot start the sandbox for rustc: {e}")),
        };
        if shared {
            command.args(["-F", "unsafe_code"]);
        }
        command
            .current_dir(work)
            .args([
                "--edition",
                edition,
                "--crate-type",
                "bin",
                "--crate-name",
                crate_name,
            ])
            .args(&self.extra_args)
            .args(["-A", "warnings", "-o", "snippet-bin"])
            .arg(if json {
                "--error-format=json"
            } else {
                "--color=never"
            })
            .arg(file)
            .stdin(std::process::Stdio::null());
        match command.output() {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
            Err(e) => Err(format!(
                "cannot run `{}`: {e}",
                self.toolchain.rustc.to_string_lossy()
            )),
        }
    }

    /// rustc for one crate: inside the walls with a clean environment and
    /// cargo's package variables, or (sandbox off) as the builder has it.
    fn command(&self, work: &Path, crate_name: &str) -> std::io::Result<std::process::Command> {
        let package = self
            .env
            .package
            .iter()
            .map(|(k, v)| (k.clone(), std::ffi::OsString::from(v)))
            .chain([("CARGO_CRATE_NAME".to_owned(), crate_name.into())]);
        let Some(plan) = self.env.plan else {
            let mut command = self.toolchain.command();
            command.envs(package);
            return Ok(command);
        };
        let (program, mut read, mut env) = self.toolchain.sandboxed();
        read.extend(self.env.deps.map(|d| d.search_dir.clone()));
        env.extend(plan.env.iter().cloned());
        env.extend(package);
        env.push(("HOME".into(), work.into()));
        env.push(("TMPDIR".into(), plan.tmp_dir(work).into()));
        // The helper passes the arguments that follow on to rustc.
        let request = plan.compile_request(vec![program.into()], work, &read);
        super::sandbox::command(&request, &env)
    }

    /// Compiles one snippet as its own crate.
    fn single(&self, (key, snippet): &Unit<'_>) -> (String, Compiled) {
        let work = self.work_dir();
        let file = &snippet.code.file_name;
        let written = std::fs::create_dir_all(work.join(file).parent().unwrap_or(&work))
            .and_then(|()| std::fs::write(work.join(file), snippet.code.standalone()));
        let result = match written {
            Err(e) => Compiled::Failed(format!("cannot write the snippet for rustc: {e}")),
            Ok(()) => match self.rustc(
                &work,
                file,
                (&snippet.options.edition, snippet.code.crate_name()),
                (false, false),
            ) {
                Ok(()) => Compiled::Binary {
                    path: work.join("snippet-bin"),
                    arg: None,
                },
                Err(diagnostics) => Compiled::Failed(diagnostics),
            },
        };
        self.progress.inc(1);
        (key.clone(), result)
    }

    /// Compiles a group of one edition as one crate, splitting it on failure.
    fn group(&self, units: &[Unit<'_>], shared: bool) -> Vec<(String, Compiled)> {
        if units.len() == 1 {
            return vec![self.single(&units[0])];
        }
        let blamed = match self.merged(units, shared) {
            Ok(results) => {
                self.progress.inc(units.len() as u64);
                return results;
            }
            Err(blamed) => blamed,
        };
        if blamed.is_empty() || blamed.len() == units.len() {
            return units.par_iter().map(|u| self.single(u)).collect();
        }
        let mut bad = Vec::new();
        let mut good = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            if blamed.contains(&i) {
                bad.push(unit.clone());
            } else {
                good.push(unit.clone());
            }
        }
        let (mut a, b) = rayon::join(
            || bad.par_iter().map(|u| self.single(u)).collect::<Vec<_>>(),
            || self.group(&good, shared),
        );
        a.extend(b);
        a
    }

    /// One merged crate. On failure, the indexes of the snippets that rustc's
    /// errors point into (empty if it cannot tell).
    fn merged(
        &self,
        units: &[Unit<'_>],
        shared: bool,
    ) -> Result<Vec<(String, Compiled)>, Vec<usize>> {
        let work = self.work_dir();
        let mut source = String::from("// Snippets merged by kiln: one module each.\n");
        let mut ranges = Vec::new();
        for (i, (_, snippet)) in units.iter().enumerate() {
            let start = source.lines().count() + 1;
            let _ = write!(
                source,
                "mod s{i} {{\n{}\npub fn __kiln_run() -> ::std::process::ExitCode {{ ::std::process::Termination::report(main()) }}\n}}\n",
                snippet.code.module_body()
            );
            ranges.push(start..=source.lines().count());
        }
        source.push_str("fn main() -> ::std::process::ExitCode {\n    match ::std::env::args().nth(1).as_deref() {\n");
        for i in 0..units.len() {
            let _ = writeln!(source, "        Some(\"s{i}\") => s{i}::__kiln_run(),");
        }
        source.push_str("        _ => ::std::process::ExitCode::from(254),\n    }\n}\n");
        let file = "kiln-merged.rs";
        if std::fs::create_dir_all(&work)
            .and_then(|()| std::fs::write(work.join(file), &source))
            .is_err()
        {
            return Err(Vec::new());
        }
        let edition = &units[0].1.options.edition;
        match self.rustc(&work, file, (edition, "snippet"), (true, shared)) {
            Ok(()) => Ok(units
                .iter()
                .enumerate()
                .map(|(i, (key, _))| {
                    (
                        key.clone(),
                        Compiled::Binary {
                            path: work.join("snippet-bin"),
                            arg: Some(format!("s{i}")),
                        },
                    )
                })
                .collect()),
            Err(json) => {
                let mut blamed: Vec<usize> = error_lines(&json)
                    .into_iter()
                    .filter_map(|line| ranges.iter().position(|r| r.contains(&line)))
                    .collect();
                blamed.sort_unstable();
                blamed.dedup();
                Err(blamed)
            }
        }
    }
}

/// Whether a snippet may share a crate with other articles' snippets: it
/// names no crate of `snippets/Cargo.toml` and neither `global_asm!` nor
/// `include!` (the rest `-F unsafe_code` catches).
fn shareable(snippet: &Snippet, crates: &[String]) -> bool {
    let code = &snippet.code.code;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let names = |name: &str| {
        code.match_indices(name).any(|(at, _)| {
            !code[..at].chars().next_back().is_some_and(ident)
                && !code[at + name.len()..].chars().next().is_some_and(ident)
        })
    };
    !code.contains("global_asm") && !code.contains("include!") && !crates.iter().any(|c| names(c))
}

/// A fresh work folder for this build's compiles (or scripts) under
/// `scratch` (in the cache), named for this process so that a later build
/// can remove what an interrupted one left. What it holds must be readable
/// by the sandbox's user (a root builder's snippets run as nobody).
pub(super) fn scratch_dir(scratch: &Path) -> Result<tempfile::TempDir, Error> {
    let fail = |source| Error::Write {
        path: scratch.to_owned(),
        source,
    };
    std::fs::create_dir_all(scratch).map_err(fail)?;
    crate::output::remove_leftovers(scratch, "snippets-");
    let dir = tempfile::Builder::new()
        .prefix(&format!("snippets-{}-", std::process::id()))
        .tempdir_in(scratch)
        .map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755));
    }
    Ok(dir)
}

/// The primary lines of every error in rustc's JSON diagnostics.
fn error_lines(json: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    for line in json.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if value["level"] != "error" {
            continue;
        }
        if let Some(spans) = value["spans"].as_array() {
            for span in spans.iter().filter(|s| s["is_primary"] == true) {
                if let Some(n) = span["line_start"].as_u64() {
                    lines.push(n as usize);
                }
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_from_json() {
        let json = r#"{"$message_type":"diagnostic","level":"error","spans":[{"line_start":7,"is_primary":true},{"line_start":3,"is_primary":false}]}
{"$message_type":"diagnostic","level":"warning","spans":[{"line_start":9,"is_primary":true}]}
not json"#;
        assert_eq!(error_lines(json), [7]);
    }
}
