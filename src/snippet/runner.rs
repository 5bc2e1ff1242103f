//! What a language's runner is: how its snippets are keyed, how their
//! dependencies are prepared, whether they are compiled, how they run, how
//! their errors map back to the article, and which packages their panels
//! name. The snippet stage around it (cache look-up, storing, placing,
//! judging) is the same for every language, and so are the walls.
//!
//! A runner is prepared once per build ([`super::rust::RustRunner`],
//! [`super::python::PythonRunner`]): a third language is one more file
//! with a `prepare` and an `impl Runner`, and its arms in [`super::Language`]
//! and in `run_snippets`'s choice of runner.

use std::collections::HashMap;
use std::path::Path;

use super::exec::{self, Program};
use super::sandbox::{self, Plan, Walls};
use super::{Snippet, SnippetOptions, SnippetRun};
use crate::config::SnippetConfig;
use crate::error::Errors;

pub(super) trait Runner: Sync {
    /// The snippet's cache key: everything its panel depends on.
    fn key(&self, snippet: &Snippet) -> String;

    /// Compiles (where the language compiles) and runs the snippets the
    /// cache did not answer, each with its key; every run names what made
    /// it (`toolchain`). `Err` only when the runner itself cannot work.
    fn run(&self, misses: &[(String, &Snippet)], stage: &Stage<'_>) -> Result<Ran, Errors>;

    /// The packages a snippet uses, with their versions, for its panel.
    fn packages(&self, snippet: &Snippet) -> Vec<(String, String)>;
}

/// What a runner did.
#[derive(Debug, Default)]
pub(super) struct Ran {
    pub(super) runs: Vec<(String, SnippetRun)>,
    /// Processes the runner started, for the summary line: rustc's for
    /// Rust, the check's and the runs' for Python.
    pub(super) invocations: usize,
}

/// What every runner of a build shares: the settings, the walls, and
/// where work folders go.
pub(super) struct Stage<'a> {
    pub(super) config: &'a SnippetConfig,
    pub(super) plan: &'a Plan,
    /// The articles that show each snippet, by key.
    pub(super) pages: &'a HashMap<String, Vec<usize>>,
    pub(super) scratch: &'a Path,
}

impl Stage<'_> {
    /// Runs `program` inside the build's walls and the limits of
    /// `options` (or plainly when the sandbox is off), or `None` when the
    /// options say it is not to run.
    pub(super) fn execute(
        &self,
        options: &SnippetOptions,
        program: &Program,
    ) -> (Option<exec::Execution>, Option<Walls>) {
        self.execute_with(options, program, self.config.output_limit)
    }

    /// [`Stage::execute`], keeping up to `output_limit` bytes of output.
    pub(super) fn execute_with(
        &self,
        options: &SnippetOptions,
        program: &Program,
        output_limit: usize,
    ) -> (Option<exec::Execution>, Option<Walls>) {
        let plan = self.plan;
        // A snippet that asks for the network keeps the other walls.
        let walls = plan.walls.clone().map(|walls| Walls {
            network: walls.network && !options.network,
            ..walls
        });
        let spec = exec::RunSpec {
            timeout: options.timeout,
            output_limit,
            sandbox: walls.as_ref().map(|walls| exec::Sandboxed {
                plan,
                walls,
                limits: sandbox::Limits {
                    memory: options.memory,
                    processes: options.processes,
                    disk: options.disk,
                    cpu_seconds: plan.cpu_seconds,
                },
            }),
        };
        let execution = (options.mode == super::Mode::Run).then(|| exec::execute(program, &spec));
        (execution, walls)
    }
}
