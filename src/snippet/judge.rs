//! Whether a run is what its snippet's options expect. The one place that
//! decides pass or fail: the build reports [`Verdict::problem`], and the
//! page shows [`Verdict::status`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::options::{Mode, SnippetOptions};
use super::{Compile, Execution, Exit, Language, LimitHit, SnippetRun};

/// How a run turned out against its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Not compiled (`ignore`).
    Skipped,
    Passed,
    Failed,
}

/// The judgement of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    /// What happened, in a few words, for the page (`exit status 0`,
    /// `panicked, as expected`), with the run time when it ran.
    pub status: String,
    /// Why it failed, with rustc's or the program's output, for the build.
    pub problem: Option<String>,
}

impl Verdict {
    fn passed(status: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Passed,
            status: status.into(),
            problem: None,
        }
    }

    fn failed(status: impl Into<String>, problem: String) -> Verdict {
        Verdict {
            outcome: Outcome::Failed,
            status: status.into(),
            problem: Some(problem),
        }
    }

    pub fn is_failure(&self) -> bool {
        self.outcome == Outcome::Failed
    }
}

/// Judges a run against the snippet's options; `inline` says where its
/// options are written, for the hints.
pub fn judge(options: &SnippetOptions, inline: bool, run: &SnippetRun) -> Verdict {
    let execution = match (&run.compile, options.mode, &run.execution) {
        (Compile::Skipped, _, _) => {
            return Verdict {
                outcome: Outcome::Skipped,
                status: "not compiled (ignore)".to_owned(),
                problem: None,
            };
        }
        (Compile::Failed(_), Mode::CompileFail, _) => {
            return Verdict::passed("rustc rejects it, as expected");
        }
        (Compile::Failed(diagnostics), _, _) => {
            let what = match options.language {
                Language::Rust => "does not compile",
                Language::Python => "is not valid Python",
            };
            return Verdict::failed(what, format!("{what}:\n{}", diagnostics.trim_end()));
        }
        (Compile::Succeeded, Mode::CompileFail, _) => {
            return Verdict::failed(
                "compiled, but it should not",
                "compiled, but it is marked `compile_fail`".to_owned(),
            );
        }
        (Compile::Succeeded, _, None) => return Verdict::passed("compiles (not run)"),
        (Compile::Succeeded, _, Some(execution)) => execution,
    };
    let ran = |what: String| format!("{what} · ran in {} ms", execution.millis);
    let tail = || output_tail(execution);
    if let Some(limit) = limit_hit(options, execution) {
        return Verdict::failed(ran(limit.clone()), format!("{limit}{}", tail()));
    }
    if options.language == Language::Python {
        return judge_python(options, execution, inline, &ran, &tail);
    }
    match (&execution.exit, options.should_panic) {
        (Exit::Code(0), false) => Verdict::passed(ran("exit status 0".to_owned())),
        (Exit::Code(101), true) => Verdict::passed(ran("panicked, as expected".to_owned())),
        (Exit::Code(code), should_panic) => {
            let problem = match (code, should_panic) {
                (0, _) => format!("exited normally, but it is marked `should_panic`{}", tail()),
                (101, _) => format!(
                    "panicked (if the panic is the point, mark it {}){}",
                    if inline {
                        "`should_panic` in the fence: ```` ```rust,should_panic ````"
                    } else {
                        "with a first line `// kiln: should_panic` in the file"
                    },
                    tail()
                ),
                (code, _) => format!("exited with status {code}{}", tail()),
            };
            Verdict::failed(ran(format!("exit status {code}")), problem)
        }
        (exit, _) => ended_otherwise(exit, (options, inline), &ran, &tail),
    }
}

/// A Python run: a pass is exit status 0, or under `should_fail` any other
/// status (an uncaught exception exits with 1).
fn judge_python(
    options: &SnippetOptions,
    execution: &Execution,
    inline: bool,
    ran: &dyn Fn(String) -> String,
    tail: &dyn Fn() -> String,
) -> Verdict {
    // What was seen, not what it may mean: the snippet wrote its stderr.
    let traceback = execution.output.iter().any(|c| {
        c.stream == super::Stream::Stderr && c.text.contains("Traceback (most recent call last):")
    });
    let traceback = if traceback {
        ", a traceback on stderr"
    } else {
        ""
    };
    let seen = |code: i32| format!("exit status {code}{traceback}");
    match (&execution.exit, options.should_fail) {
        (Exit::Code(0), false) => Verdict::passed(ran("exit status 0".to_owned())),
        (Exit::Code(0), true) => Verdict::failed(
            ran("exit status 0".to_owned()),
            format!("exited normally, but it is marked `should_fail`{}", tail()),
        ),
        (Exit::Code(code), true) => {
            Verdict::passed(ran(format!("failed, as expected ({})", seen(*code))))
        }
        (Exit::Code(code), false) => {
            let mark = if inline {
                "`should_fail` in the fence: ```` ```python,run,should_fail ````"
            } else {
                "with a first line `# kiln: should_fail` in the file"
            };
            Verdict::failed(
                ran(seen(*code)),
                format!(
                    "exited with status {code}{traceback} (if the failure is the point, mark it {mark}){}",
                    tail()
                ),
            )
        }
        (exit, _) => ended_otherwise(exit, (options, inline), ran, tail),
    }
}

/// A run that did not end with a status of its own: a signal, the
/// timeout, or no start at all.
fn ended_otherwise(
    exit: &Exit,
    (options, inline): (&SnippetOptions, bool),
    ran: &dyn Fn(String) -> String,
    tail: &dyn Fn() -> String,
) -> Verdict {
    let comment = options.language.comment();
    let fence = match options.language {
        Language::Rust => "rust",
        Language::Python => "python,run",
    };
    match exit {
        Exit::Signal(signal) => {
            let name = signal_name(*signal)
                .map(|name| format!(" ({name})"))
                .unwrap_or_default();
            Verdict::failed(
                ran(format!("killed by signal {signal}{name}")),
                format!("was killed by signal {signal}{name}{}", tail()),
            )
        }
        Exit::TimedOut => Verdict::failed(
            ran("stopped at the timeout".to_owned()),
            format!(
                "was stopped after {:?}, its timeout (set a longer one with {}, or `snippets.timeout` in `kiln.toml`){}",
                options.timeout,
                if inline {
                    format!(
                        "`timeout=30s` in the fence (```` ```{fence},timeout=30s ````) or a first line `{comment} kiln: timeout = 30s`"
                    )
                } else {
                    format!("a first line `{comment} kiln: timeout = 30s` in the file")
                },
                tail()
            ),
        ),
        Exit::Error(message) => {
            Verdict::failed(ran(message.clone()), format!("could not be run: {message}"))
        }
        Exit::Code(code) => Verdict::failed(
            ran(format!("exit status {code}")),
            format!("exited with status {code}{}", tail()),
        ),
    }
}

/// The sandbox limit a failed run ran into, named with how to raise it.
fn limit_hit(options: &SnippetOptions, execution: &Execution) -> Option<String> {
    let output: String = execution.output.iter().map(|c| c.text.as_str()).collect();
    let comment = options.language.comment();
    let raise = |setting: &str, value: &str| {
        format!(
            "; raise it with `{comment} kiln: {setting} = {value}` (or `{setting}={value}` in the fence) or `snippets.{setting}` in `kiln.toml`"
        )
    };
    let memory = || {
        format!(
            "ran out of memory: its limit is {}{}",
            human_size(options.memory),
            raise("memory", "4GiB")
        )
    };
    let processes = || {
        format!(
            "could not start another process or thread: its limit is {} processes and threads{}",
            options.processes,
            raise("processes", "1024")
        )
    };
    let disk = || {
        format!(
            "ran out of disk space: its limit is {} for all its files together{}",
            human_size(options.disk),
            raise("disk", "4GiB")
        )
    };
    let failed = execution.exit != Exit::Code(0);
    match (&execution.exit, execution.limit) {
        (_, Some(LimitHit::Memory)) if failed => Some(memory()),
        (Exit::Signal(6), _) if output.contains("memory allocation of") => Some(memory()),
        (_, Some(LimitHit::Processes)) if failed => Some(processes()),
        (Exit::Code(101), _)
            if output.contains("Resource temporarily unavailable")
                || output.contains("failed to spawn thread") =>
        {
            Some(processes())
        }
        (Exit::Signal(24), _) => {
            Some("used up its CPU time limit; raise `snippets.cpu_time` in `kiln.toml`".to_owned())
        }
        (Exit::Signal(25), _) => Some(disk()),
        (Exit::Code(_), _) if failed && output.contains("No space left on device") => Some(disk()),
        _ => None,
    }
}

/// `2 GiB`, `512 MiB`, for messages.
fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| bytes >= *size && bytes.is_multiple_of(*size))
        .map(|(size, unit)| format!("{} {unit}", bytes / size))
        .unwrap_or_else(|| format!("{bytes} bytes"))
}

/// The usual name of a Unix signal that ends programs.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => return None,
    })
}

/// The last lines the program wrote, for an error message.
fn output_tail(execution: &Execution) -> String {
    let text: String = execution.output.iter().map(|c| c.text.as_str()).collect();
    let text = strip_ansi_escapes::strip_str(&text);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(20);
    format!("; its output ended with:\n{}", lines[start..].join("\n"))
}

/// Compares stdout with `snippets/NAME.stdout`, or rewrites it when
/// blessing. `Err` says how they differ.
pub fn check_golden(root: &Path, path: &str, run: &SnippetRun, bless: bool) -> Result<(), String> {
    if run.execution.is_none() {
        return Ok(());
    }
    let stem = path.rsplit_once('.').map_or(path, |(stem, _)| stem);
    let golden_rel = format!("{stem}.stdout");
    let golden = root.join(&golden_rel);
    let actual = run.stdout();
    if bless {
        return std::fs::write(&golden, &actual)
            .map_err(|e| format!("cannot write `{golden_rel}`: {e}"));
    }
    let expected = match std::fs::read_to_string(&golden) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read `{golden_rel}`: {e}")),
    };
    if expected == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header(&golden_rel, "actual stdout")
        .to_string();
    Err(format!(
        "its stdout differs from `{golden_rel}` (run `kiln build --bless` to accept the new output):\n{}",
        diff.trim_end()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SnippetConfig;
    use crate::snippet::options::fence_options;

    fn run(exit: Exit) -> SnippetRun {
        SnippetRun {
            compile: Compile::Succeeded,
            execution: Some(Execution {
                output: Vec::new(),
                exit,
                truncated: false,
                millis: 3,
                limit: None,
            }),
            toolchain: String::new(),
            ran_at: None,
            walls: None,
            saw: Vec::new(),
        }
    }

    #[test]
    fn verdicts() {
        let config = SnippetConfig::default();
        let plain = fence_options("rust", &config).unwrap();
        let panics = fence_options("rust,should_panic", &config).unwrap();
        assert_eq!(
            judge(&plain, true, &run(Exit::Code(0))).status,
            "exit status 0 · ran in 3 ms"
        );
        assert_eq!(
            judge(&panics, true, &run(Exit::Code(101))).outcome,
            Outcome::Passed
        );
        let v = judge(&panics, true, &run(Exit::Code(0)));
        assert!(v.is_failure());
        assert!(v.problem.unwrap().contains("marked `should_panic`"));
        let v = judge(&plain, true, &run(Exit::Signal(9)));
        assert_eq!(v.status, "killed by signal 9 (SIGKILL) · ran in 3 ms");
        let compile_fail = fence_options("rust,compile_fail", &config).unwrap();
        let rejected = SnippetRun {
            compile: Compile::Failed("error".into()),
            execution: None,
            toolchain: String::new(),
            ran_at: None,
            walls: None,
            saw: Vec::new(),
        };
        assert_eq!(
            judge(&compile_fail, true, &rejected).outcome,
            Outcome::Passed
        );
        assert!(judge(&plain, true, &rejected).is_failure());
    }
}
