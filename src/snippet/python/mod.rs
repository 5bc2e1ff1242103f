//! The Python runner: the interpreter of `snippets.python.interpreter`, the
//! packages of `snippets/requirements.txt` in a virtual environment under
//! the cache, every snippet's code checked by one `compile()` pass inside
//! the walls (a syntax error is shown as rustc's diagnostics are), then
//! each run on its own, in parallel.
//!
//! Runs are deterministic and cut off from the builder: hash seed 0, no
//! bytecode written, UTF-8 streams, unbuffered output (so stdout and
//! stderr interleave as written), no user site and no script folder on
//! `sys.path`. `-I` would do the last two, but it also drops every
//! `PYTHON*` variable, the hash seed's included, so kiln sets each one;
//! the sandbox's clean environment lets no other in.
//!
//! A traceback names the article's file and line for an inline block
//! (the script is padded so its lines are the article's), and
//! `snippets/….py` for a linked file; the standard library's frames are
//! under `<python>/`, the packages' under `<venv>/`.

mod interpreter;
mod venv;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use self::interpreter::Interpreter;
pub(super) use self::interpreter::current_fingerprint;
use self::venv::{Venv, prepare_venv};
use super::exec::{Execution, Exit, Program};
use super::runner::{Ran, Runner, Stage};
use super::sandbox::SandboxKey;
use super::{Compile, Language, Mode, RunOptions, Snippet, SnippetOptions, SnippetRun};
use crate::config::SnippetConfig;
use crate::error::{Error, Errors};

/// Python's runner for one build.
pub(super) struct PythonRunner {
    /// `None` when no Python snippet is to run.
    interpreter: Option<Interpreter>,
    venv: Option<Venv>,
    /// Whether pip installed the packages in this build.
    pub(super) pip_ran: bool,
    sandbox: SandboxKey,
    output_limit: usize,
}

/// Everything a Python snippet's run depends on, hashed once.
#[derive(Serialize)]
struct PythonKey<'a> {
    version: &'static str,
    interpreter: Option<&'a Interpreter>,
    /// The key of the virtual environment, if there is one.
    venv: Option<&'a str>,
    sandbox: &'a SandboxKey,
    options: &'a SnippetOptions,
    output_limit: usize,
    file_name: &'a str,
    /// The script, padded to the article's lines.
    code: String,
}

/// Compiles every script named in `names.json` of the folder given, and
/// prints `[index, message]` for each that Python rejects.
const CHECK: &str = "import json, sys, traceback
base = sys.argv[1]
with open(base + '/names.json', encoding='utf-8') as f: names = json.load(f)
for i, name in enumerate(names):
    try:
        with open(f'{base}/{i}/snippet.py', encoding='utf-8') as f: compile(f.read(), name, 'exec', dont_inherit=True)
    except Exception as e:
        print(json.dumps([i, ''.join(traceback.format_exception_only(type(e), e))]), flush=True)";

/// The variables every run gets, for the same output on every machine.
const RUN_ENV: [(&str, &str); 6] = [
    ("PYTHONHASHSEED", "0"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PYTHONUTF8", "1"),
    ("PYTHONUNBUFFERED", "1"),
    ("PYTHONNOUSERSITE", "1"),
    ("PYTHONSAFEPATH", "1"),
];

impl PythonRunner {
    /// Finds the interpreter and makes the packages' environment, if any
    /// of `snippets` is a Python snippet to check or run.
    pub(super) fn prepare(
        snippets: &[Snippet],
        config: &SnippetConfig,
        options: &RunOptions<'_>,
    ) -> Result<PythonRunner, Errors> {
        let needed = snippets
            .iter()
            .any(|s| s.language() == Language::Python && s.options.mode != Mode::Ignore);
        let interpreter = if needed {
            Some(Interpreter::detect(
                &config.python.interpreter,
                options.store,
            )?)
        } else {
            None
        };
        let (venv, pip_ran) = match &interpreter {
            Some(interpreter) => {
                prepare_venv(&options.root, options.store, interpreter, options.offline)?
            }
            None => (None, false),
        };
        Ok(PythonRunner {
            interpreter,
            venv,
            pip_ran,
            sandbox: SandboxKey::of(config),
            output_limit: config.output_limit,
        })
    }

    /// What a run of `script` starts, with what it must read.
    fn program(&self, interpreter: &Interpreter, args: Vec<OsString>, read: &Path) -> Program {
        let mut readable = interpreter.folders.clone();
        readable.push(interpreter.executable.clone());
        readable.extend(self.venv.as_ref().map(|v| v.folder.clone()));
        readable.push(read.to_owned());
        Program {
            path: self
                .venv
                .as_ref()
                .map_or_else(|| interpreter.executable.clone(), |v| v.python.clone()),
            args,
            env: RUN_ENV
                .iter()
                .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
                .collect(),
            read: readable,
        }
    }
}

impl Runner for PythonRunner {
    fn key(&self, snippet: &Snippet) -> String {
        crate::store::key(&PythonKey {
            version: "kiln-python-v1",
            interpreter: self.interpreter.as_ref(),
            venv: self.venv.as_ref().map(|v| v.key.as_str()),
            sandbox: &self.sandbox,
            options: &snippet.options,
            output_limit: self.output_limit,
            file_name: &snippet.code.file_name,
            code: snippet.code.standalone(),
        })
    }

    fn run(&self, misses: &[(String, &Snippet)], stage: &Stage<'_>) -> Result<Ran, Errors> {
        let Some(interpreter) = &self.interpreter else {
            return Ok(Ran::default());
        };
        let scratch = super::compile::scratch_dir(stage.scratch).map_err(Errors::from)?;
        // Runs start elsewhere: scripts are named by their whole paths.
        let dir = std::path::absolute(scratch.path()).unwrap_or_else(|_| scratch.path().to_owned());
        write_scripts(&dir, misses).map_err(Errors::from)?;
        let progress = super::progress_bar(misses.len() as u64, "running Python snippets");
        let checked = self.check(interpreter, &dir, misses, stage);
        let runs: Vec<(String, SnippetRun)> = misses
            .par_iter()
            .enumerate()
            .map(|(i, (key, snippet))| {
                let run = match &checked {
                    Err(problem) => not_checked(problem),
                    Ok(rejected) => match rejected.iter().find(|(at, _)| *at == i) {
                        Some((_, message)) => {
                            SnippetRun::compiled(Compile::Failed(message.clone()))
                        }
                        None => self.run_one(interpreter, &script_path(&dir, i), snippet, stage),
                    },
                };
                progress.inc(1);
                let run = SnippetRun {
                    toolchain: interpreter.describe(),
                    ..run
                };
                (key.clone(), run)
            })
            .collect();
        progress.finish_and_clear();
        // The check, and each snippet that ran after it.
        let ran = runs.iter().filter(|(_, r)| r.execution.is_some()).count();
        let started = 1 + if checked.is_ok() { ran } else { 0 };
        Ok(Ran {
            runs,
            invocations: started,
        })
    }

    fn packages(&self, snippet: &Snippet) -> Vec<(String, String)> {
        let Some(venv) = &self.venv else {
            return Vec::new();
        };
        let imported = imports(&snippet.code.code);
        let mut used: Vec<(String, String)> = venv
            .packages
            .iter()
            .filter(|p| p.modules.iter().any(|m| imported.contains(&m.as_str())))
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        used.sort();
        used.dedup();
        used
    }
}

impl PythonRunner {
    /// One sandboxed `compile()` of every script: the ones Python rejects,
    /// with its message; `Err` when the check itself did not work.
    fn check(
        &self,
        interpreter: &Interpreter,
        dir: &Path,
        misses: &[(String, &Snippet)],
        stage: &Stage<'_>,
    ) -> Result<Vec<(usize, String)>, String> {
        let args = vec!["-I".into(), "-c".into(), CHECK.into(), dir.into()];
        let program = self.program(interpreter, args, dir);
        // A compile takes about a millisecond; an imported knowledge base
        // may run thousands of blocks.
        let options = SnippetOptions {
            timeout: stage.config.timeout
                + std::time::Duration::from_millis(20) * misses.len() as u32,
            ..SnippetOptions::defaults(Language::Python, stage.config)
        };
        let (execution, _) = stage.execute_with(&options, &program, usize::MAX >> 1);
        let Some(execution) = execution else {
            return Err("the check did not run".to_owned());
        };
        let text: String = execution
            .output
            .iter()
            .filter(|c| c.stream == super::Stream::Stdout)
            .map(|c| c.text.as_str())
            .collect();
        if execution.exit != Exit::Code(0) {
            let all: String = execution.output.iter().map(|c| c.text.as_str()).collect();
            return Err(format!(
                "the syntax check {}: {}",
                exit_words(&execution.exit),
                all.trim()
            ));
        }
        text.lines()
            .map(|line| serde_json::from_str::<(usize, String)>(line).map_err(|e| e.to_string()))
            .filter(|found| found.as_ref().map_or(true, |(i, _)| *i < misses.len()))
            .collect()
    }

    /// Runs one checked script (or not, under `no_run`).
    fn run_one(
        &self,
        interpreter: &Interpreter,
        script: &Path,
        snippet: &Snippet,
        stage: &Stage<'_>,
    ) -> SnippetRun {
        let args = vec!["-s".into(), script.into()];
        let folder = script.parent().unwrap_or(script);
        let program = self.program(interpreter, args, folder);
        let (mut execution, walls) = stage.execute(&snippet.options, &program);
        let frames = self.frame_names(interpreter, script, snippet);
        for chunk in execution.iter_mut().flat_map(|e| &mut e.output) {
            for (path, shown) in &frames {
                if chunk.text.contains(path.as_str()) {
                    chunk.text = chunk.text.replace(path.as_str(), shown);
                }
            }
        }
        SnippetRun {
            execution,
            walls,
            ..SnippetRun::compiled(Compile::Succeeded)
        }
    }

    /// How a traceback's frames are named on the page: the script by the
    /// file the author wrote (`content/a.md`, `snippets/x.py`), and the
    /// interpreter's and the environment's files by `<python>` and
    /// `<venv>`, not by where they are on the builder.
    fn frame_names(
        &self,
        interpreter: &Interpreter,
        script: &Path,
        snippet: &Snippet,
    ) -> Vec<(String, String)> {
        let frame = |path: &Path, rest: &str| format!("File \"{}{rest}", path.display());
        let mut names = vec![(
            frame(script, "\""),
            format!("File \"{}\"", snippet.code.file_name),
        )];
        names.extend(
            self.venv
                .iter()
                .map(|v| (frame(&v.folder, "/"), "File \"<venv>/".to_owned())),
        );
        let mut folders = interpreter.folders.clone();
        // The longest first, so a folder inside another keeps its name.
        folders.sort_by_key(|f| std::cmp::Reverse(f.as_os_str().len()));
        names.extend(
            folders
                .iter()
                .map(|f| (frame(f, "/"), "File \"<python>/".to_owned())),
        );
        names
    }
}

/// A run that did not happen because the check did not work: not cached,
/// since it says nothing of the snippet.
fn not_checked(problem: &str) -> SnippetRun {
    SnippetRun {
        execution: Some(Execution {
            output: Vec::new(),
            truncated: false,
            exit: Exit::Error(problem.to_owned()),
            millis: 0,
            limit: None,
        }),
        ..SnippetRun::compiled(Compile::Succeeded)
    }
}

fn exit_words(exit: &Exit) -> String {
    match exit {
        Exit::Code(code) => format!("exited with status {code}"),
        Exit::Signal(signal) => format!("was killed by signal {signal}"),
        Exit::TimedOut => "timed out".to_owned(),
        Exit::Error(message) => message.clone(),
    }
}

fn script_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(index.to_string()).join("snippet.py")
}

/// Writes each miss's script (`N/snippet.py`) and the names Python is to
/// report them by (`names.json`).
fn write_scripts(dir: &Path, misses: &[(String, &Snippet)]) -> Result<(), Error> {
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    for (i, (_, snippet)) in misses.iter().enumerate() {
        let script = script_path(dir, i);
        if let Some(parent) = script.parent() {
            std::fs::create_dir_all(parent).map_err(fail(parent))?;
        }
        std::fs::write(&script, snippet.code.standalone()).map_err(fail(&script))?;
    }
    let names: Vec<&str> = misses
        .iter()
        .map(|(_, s)| s.code.file_name.as_str())
        .collect();
    let list = dir.join("names.json");
    let json = serde_json::to_vec(&names).map_err(|e| fail(&list)(std::io::Error::other(e)))?;
    std::fs::write(&list, json).map_err(fail(&list))
}

/// The top-level modules a script imports (`import a.b, c as d`, `from e
/// import f`), relative imports left out.
fn imports(code: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for line in code.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("import ") {
            for item in rest.split(',') {
                let name = item.split_whitespace().next().unwrap_or_default();
                found.extend(name.split('.').next().filter(|n| !n.is_empty()));
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let name = rest.split_whitespace().next().unwrap_or_default();
            if !name.starts_with('.') {
                found.extend(name.split('.').next().filter(|n| !n.is_empty()));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read() {
        let code = "import os, numpy.linalg as la\nfrom attr import define\nfrom . import sibling\n    import yaml\nx = 'import no'\n";
        assert_eq!(imports(code), ["os", "numpy", "attr", "yaml"]);
    }
}
