//! The Rust runner: rustc from `$RUSTC` or `PATH`, the crates of
//! `snippets/Cargo.toml` built once by cargo, snippets compiled merged into
//! one crate where they may share one, and each run on its own.

use std::path::Path;

use super::compile::{self, CompileEnv, Compiled, Merge};
use super::deps::{self, Dependencies};
use super::exec::Program;
use super::runner::{Ran, Runner, Stage};
use super::sandbox::SandboxKey;
use super::toolchain::Toolchain;
use super::{Compile, Language, Mode, RunOptions, Snippet, SnippetOptions, SnippetRun, judge};
use crate::config::SnippetConfig;
use crate::error::Errors;

/// Rust's runner for one build.
pub(super) struct RustRunner {
    /// `None` when no Rust snippet is to be compiled.
    toolchain: Option<Toolchain>,
    deps: Option<Dependencies>,
    /// Whether cargo built the dependencies in this build.
    pub(super) cargo_ran: bool,
    /// cargo's package variables.
    package: Vec<(String, String)>,
    sandbox: SandboxKey,
    output_limit: usize,
}

/// Everything a Rust snippet's run depends on: its cache key, hashed
/// once. Every input is a field, so an input that is not keyed does not
/// compile.
#[derive(serde::Serialize)]
struct SnippetKey<'a> {
    /// Changes when kiln does something else with the same inputs.
    version: &'static str,
    environment: KeyEnvironment<'a>,
    options: &'a SnippetOptions,
    output_limit: usize,
    file_name: &'a str,
    /// The crate rustc compiles.
    code: String,
}

/// What every Rust snippet of a build shares in its key.
#[derive(serde::Serialize)]
struct KeyEnvironment<'a> {
    /// `rustc -vV`.
    compiler: &'a str,
    /// The key of the dependencies' build, if there are any.
    dependencies: Option<&'a str>,
    sandbox: &'a SandboxKey,
    /// cargo's package variables.
    package: &'a [(String, String)],
}

impl RustRunner {
    /// Finds rustc and builds the dependencies, if any of `snippets` is a
    /// Rust snippet to compile.
    pub(super) fn prepare(
        snippets: &[Snippet],
        config: &SnippetConfig,
        options: &RunOptions<'_>,
    ) -> Result<RustRunner, Errors> {
        let store = options.store;
        let needs_compiler = snippets
            .iter()
            .any(|s| s.language() == Language::Rust && s.options.mode != Mode::Ignore);
        let toolchain = if needs_compiler {
            Some(Toolchain::detect(store)?)
        } else {
            None
        };
        let deps = match &toolchain {
            Some(toolchain) => deps::build_dependencies(deps::DepsOptions {
                root: &options.root,
                store,
                compiler: &toolchain.version,
                offline: options.offline,
            })?,
            None => None,
        };
        let cargo_ran = deps.as_ref().is_some_and(|(_, ran)| *ran);
        Ok(RustRunner {
            toolchain,
            deps: deps.map(|(deps, _)| deps),
            cargo_ran,
            package: super::environment::package_env(&options.root),
            sandbox: SandboxKey::of(config),
            output_limit: config.output_limit,
        })
    }

    fn compile_env<'a>(&'a self, stage: &'a Stage<'a>) -> CompileEnv<'a> {
        CompileEnv {
            plan: stage.plan.walls.is_some().then_some(stage.plan),
            package: &self.package,
            deps: self.deps.as_ref(),
            pages: stage.pages,
            scratch: stage.scratch,
        }
    }
}

impl Runner for RustRunner {
    fn key(&self, snippet: &Snippet) -> String {
        let compiler = self.toolchain.as_ref().map(|t| t.version.as_str());
        crate::store::key(&SnippetKey {
            version: "kiln-snippet-v5",
            environment: KeyEnvironment {
                compiler: compiler.unwrap_or(""),
                dependencies: self.deps.as_ref().map(|d| d.key.as_str()),
                sandbox: &self.sandbox,
                package: &self.package,
            },
            options: &snippet.options,
            output_limit: self.output_limit,
            file_name: &snippet.code.file_name,
            code: snippet.code.standalone(),
        })
    }

    /// Compiles (merged where possible) and runs the misses, with a
    /// progress bar.
    fn run(&self, misses: &[(String, &Snippet)], stage: &Stage<'_>) -> Result<Ran, Errors> {
        let Some(toolchain) = &self.toolchain else {
            return Ok(Ran::default());
        };
        let env = self.compile_env(stage);
        let progress = super::progress_bar(misses.len() as u64 * 2, "compiling snippets");
        let built = compile::compile_all(misses, (toolchain, env), &progress, Merge::Allowed)
            .map_err(Errors::from)?;
        let mut invocations = built.invocations;
        progress.set_message("running snippets");
        let mut fresh = run_built(misses, &built, stage, &progress);
        // A run that went wrong inside a merged binary is redone alone, so
        // that its panic message names the snippet's own file and lines.
        let retry: Vec<(String, &Snippet)> = misses
            .iter()
            .zip(&fresh)
            .filter(|((key, snippet), (_, run))| {
                matches!(
                    built.results.get(key),
                    Some(Compiled::Binary { arg: Some(_), .. })
                ) && judge(&snippet.options, snippet.is_inline(), run).is_failure()
            })
            .map(|((key, snippet), _)| (key.clone(), *snippet))
            .collect();
        if !retry.is_empty() {
            let alone = compile::compile_all(&retry, (toolchain, env), &progress, Merge::Never)
                .map_err(Errors::from)?;
            invocations += alone.invocations;
            for (key, run) in run_built(&retry, &alone, stage, &progress) {
                if let Some(slot) = fresh.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = run;
                }
            }
        }
        progress.finish_and_clear();
        for (_, run) in &mut fresh {
            run.toolchain = toolchain.describe();
            if let Compile::Failed(diagnostics) = &mut run.compile {
                *diagnostics = toolchain.tidy(diagnostics);
            }
            for chunk in run.execution.iter_mut().flat_map(|e| &mut e.output) {
                chunk.text = toolchain.tidy(&chunk.text);
            }
        }
        Ok(Ran {
            runs: fresh,
            invocations,
        })
    }

    fn packages(&self, snippet: &Snippet) -> Vec<(String, String)> {
        let externs = self
            .deps
            .as_ref()
            .map(|d| d.externs.as_slice())
            .unwrap_or_default();
        deps::crates_used(&snippet.code.standalone(), externs)
            .into_iter()
            .map(|e| (e.package.clone(), e.version.clone()))
            .collect()
    }
}

/// Runs every compiled unit (in parallel) and pairs each key with its run.
fn run_built(
    units: &[(String, &Snippet)],
    built: &compile::Built,
    stage: &Stage<'_>,
    progress: &indicatif::ProgressBar,
) -> Vec<(String, SnippetRun)> {
    use rayon::prelude::*;
    units
        .par_iter()
        .map(|(key, snippet)| {
            let run = match built.results.get(key) {
                Some(Compiled::Binary { path, arg }) => {
                    let program = Program::binary(Path::new(path), arg.as_deref());
                    let (execution, walls) = stage.execute(&snippet.options, &program);
                    SnippetRun {
                        execution,
                        walls,
                        ..SnippetRun::compiled(Compile::Succeeded)
                    }
                }
                Some(Compiled::Failed(diagnostics)) => {
                    SnippetRun::compiled(Compile::Failed(diagnostics.clone()))
                }
                None => SnippetRun::compiled(Compile::Failed(
                    "kiln lost track of this snippet's build".into(),
                )),
            };
            progress.inc(1);
            (key.clone(), run)
        })
        .collect()
}
