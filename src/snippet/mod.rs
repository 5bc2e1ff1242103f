//! Snippets: collect every snippet of the site, key and cache them, run
//! the misses through their language's runner, and judge each run against
//! its options and golden output.
//!
//! A snippet is either a paragraph that is only a link to a `.rs` or `.py`
//! file under `snippets/`, or a fenced ```` ```rust ```` block (rustdoc
//! conventions), or a fenced ```` ```python,run ```` block.
//! [`collect`] finds them, [`options`] and [`doctest`] read them, a
//! [`runner`] per language ([`rust`]: [`compile`] then [`exec`];
//! [`python`]) runs them inside the same walls, and [`judge`] decides each
//! verdict.

mod collect;
mod compile;
mod deps;
mod doctest;
mod environment;
mod exec;
mod judge;
mod language;
mod local_crates;
mod options;
mod place;
mod python;
mod runner;
mod rust;
mod sandbox;
mod toolchain;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::SnippetConfig;
use crate::content::Article;
use crate::error::{Error, Errors};
use crate::store::{Area, Store};

pub use collect::{Collected, collect_snippets};
pub use deps::{Dependencies, Extern, MANIFEST, crates_used};
pub use doctest::{PreparedCode, prepare, split_hidden_lines};
pub use exec::{Chunk, Execution, Exit, LimitHit, Stream};
pub use judge::{Outcome, Verdict, judge, signal_name};
pub use language::Language;
pub use local_crates::local_crate_folders;
pub use options::{Mode, SnippetOptions};
use sandbox::SandboxKey;
pub use sandbox::{
    COMMAND as SANDBOX_COMMAND, FAILURE_PREFIX as SANDBOX_FAILURE_PREFIX, SANDBOX_FAILED, Scope,
    Walls, enter as enter_sandbox,
};

/// The folder under the site root that holds linked snippets.
pub const SNIPPET_DIR: &str = "snippets";

/// Where a snippet's code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file under `snippets/`, by its path relative to the site root.
    Linked { path: String },
    /// A fenced block in the article.
    Inline,
}

/// One snippet, at one place in one article.
#[derive(Debug, Clone)]
pub struct Snippet {
    /// Index into `Content::articles`.
    pub article: usize,
    /// Index of the block's first event in the article's document.
    pub event: usize,
    /// The article line of the block.
    pub line: usize,
    pub origin: Origin,
    /// The code a reader sees.
    pub display: String,
    /// The code rustc sees.
    pub code: PreparedCode,
    pub options: SnippetOptions,
}

impl Snippet {
    /// How errors name the snippet.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::Linked { path } => format!("snippet `{path}`"),
            Origin::Inline => "inline snippet".to_owned(),
        }
    }

    pub fn language(&self) -> Language {
        self.options.language
    }

    /// Whether it is a fenced block in the article.
    pub fn is_inline(&self) -> bool {
        self.origin == Origin::Inline
    }

    /// The edition of the crate the snippet can share with others, if its
    /// options ([`SnippetOptions::merge_group`]) and its code allow.
    fn merge_group(&self) -> Option<&str> {
        let code_allows = self.code.crate_attrs.is_empty()
            && !self.code.code.contains("#![")
            && !self.code.code.contains("extern crate")
            && !self.code.code.contains("macro_export");
        self.options.merge_group().filter(|_| code_allows)
    }
}

/// The result of compiling and running one snippet, as cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetRun {
    pub compile: Compile,
    /// `None` when the snippet was not run.
    pub execution: Option<Execution>,
    /// What compiled it, such as `rustc 1.95.0` (empty when nothing did).
    #[serde(default)]
    pub toolchain: String,
    /// When it ran (UTC), for readers to judge how fresh the output is.
    #[serde(default)]
    pub ran_at: Option<String>,
    /// The walls it ran inside (`None`: no sandbox).
    #[serde(default)]
    pub walls: Option<Walls>,
    /// The variables of `snippets.env` it could see.
    #[serde(default)]
    pub saw: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compile {
    /// Not compiled (`ignore`).
    Skipped,
    Succeeded,
    /// rustc rejected it; its diagnostics.
    Failed(String),
}

impl SnippetRun {
    /// A run that went no further than `compile`: nothing ran yet.
    pub fn compiled(compile: Compile) -> SnippetRun {
        SnippetRun {
            compile,
            execution: None,
            toolchain: String::new(),
            ran_at: None,
            walls: None,
            saw: Vec::new(),
        }
    }

    /// Everything the program wrote to stdout.
    pub fn stdout(&self) -> String {
        self.execution
            .as_ref()
            .map(|e| {
                e.output
                    .iter()
                    .filter(|c| c.stream == Stream::Stdout)
                    .map(|c| c.text.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A snippet's run and its verdict, ready for the page.
#[derive(Debug, Clone)]
pub struct Embed {
    pub snippet: Snippet,
    pub run: Arc<SnippetRun>,
    pub verdict: Verdict,
    /// The crates of `snippets/Cargo.toml` it uses, with their locked
    /// versions.
    pub crates: Vec<(String, String)>,
    /// Whether the run came from the cache (for the report; the page is
    /// the same either way).
    pub cached: bool,
    /// The snippet's cache key: everything its panel depends on.
    pub key: String,
}

/// What stands in an article where a snippet is.
#[derive(Debug, Clone)]
pub enum Placed {
    Embed(Box<Embed>),
    /// A linked snippet whose file could not be read (its error is
    /// reported apart).
    Unavailable,
}

/// Every snippet's run, by article and by the index of the event where its
/// block starts.
#[derive(Debug, Default)]
pub struct SnippetRuns {
    by_article: HashMap<usize, HashMap<usize, Placed>>,
}

impl SnippetRuns {
    /// The snippets of one article, by event index.
    pub fn in_article(&self, article: usize) -> Option<&HashMap<usize, Placed>> {
        self.by_article.get(&article)
    }
}

/// What the snippet stage did, for the summary line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SnippetStats {
    pub snippets: usize,
    pub cached: usize,
    /// Snippets marked `ignore`: shown, never compiled.
    pub ignored: usize,
    pub rustc_invocations: usize,
    /// Whether cargo built the snippets' dependencies in this build.
    pub cargo_ran: bool,
    /// The languages of the site's snippets.
    pub languages: Vec<Language>,
    /// Python processes started for checks and runs.
    pub python_processes: usize,
    /// Whether pip installed the Python snippets' packages in this build.
    pub pip_ran: bool,
    pub failed: usize,
    pub elapsed: Duration,
}

impl SnippetStats {
    /// The same snippets as a later build sees them when nothing changed:
    /// every one not ignored taken from the cache, nothing started.
    pub fn all_cached(&self, elapsed: Duration) -> SnippetStats {
        SnippetStats {
            cached: self.snippets - self.ignored,
            rustc_invocations: 0,
            cargo_ran: false,
            python_processes: 0,
            pip_ran: false,
            failed: 0,
            elapsed,
            ..self.clone()
        }
    }
}

/// What the snippet stage's results depend on besides the site's own
/// files, as far as it can be told without starting a process: the
/// toolchain's and the interpreter's files, cargo's variables (no secret
/// among them) and the sandbox's settings. Serialized into a key.
#[derive(Debug, Serialize)]
pub struct Surroundings {
    rust: Option<String>,
    python: Option<String>,
    cargo: Vec<(String, String)>,
    sandbox: SandboxKey,
}

impl Surroundings {
    pub fn now(config: &SnippetConfig) -> Surroundings {
        Surroundings {
            rust: toolchain::current_fingerprint(),
            python: python::current_fingerprint(&config.python.interpreter),
            cargo: environment::cargo_environment()
                .into_iter()
                .map(|(name, value)| {
                    let text = |s: std::ffi::OsString| s.to_string_lossy().into_owned();
                    (text(name), text(value))
                })
                .collect(),
            sandbox: SandboxKey::of(config),
        }
    }
}

/// How to run the stage.
#[derive(Debug, Clone)]
pub struct RunOptions<'a> {
    pub root: PathBuf,
    /// The site's caches (a `--fresh` store reads no cached run).
    pub store: &'a Store,
    /// Rewrite golden `.stdout` files instead of comparing with them.
    pub bless: bool,
    /// Run cargo with `--offline` for the snippets' dependencies.
    pub offline: bool,
}

/// Everything the snippet stage produced: the runs (failed ones too, so a
/// page or a check can still show them), its figures, and every snippet
/// that did not do what its options expect.
#[derive(Debug)]
pub struct SnippetOutcome {
    pub runs: SnippetRuns,
    pub stats: SnippetStats,
    pub failures: Vec<Error>,
}

/// Compiles and runs every snippet that the cache does not hold, each
/// through its language's runner, then judges every snippet. `Err` only
/// when the stage itself cannot work (no rustc, an unwritable cache).
pub fn run_snippets(
    collected: Collected,
    articles: &[Article],
    config: &SnippetConfig,
    options: &RunOptions<'_>,
) -> Result<SnippetOutcome, Errors> {
    let started = Instant::now();
    let Collected {
        snippets,
        unavailable,
        errors: mut failures,
    } = collected;
    let store = options.store;
    let mut languages: Vec<Language> = snippets.iter().map(Snippet::language).collect();
    languages.sort();
    languages.dedup();
    let rust = rust::RustRunner::prepare(&snippets, config, options)?;
    let python = python::PythonRunner::prepare(&snippets, config, options)?;
    let runner = |language: Language| -> &dyn runner::Runner {
        match language {
            Language::Rust => &rust,
            Language::Python => &python,
        }
    };
    let keys: Vec<String> = snippets
        .iter()
        .map(|s| runner(s.language()).key(s))
        .collect();
    let Lookup {
        mut runs,
        misses,
        cached,
        ignored,
    } = look_up(&snippets, &keys, store);
    let started_processes = if misses.is_empty() {
        HashMap::new()
    } else {
        let pages = pages_of(&snippets, &keys);
        let fresh = run_misses(&misses, &runner, (config, options, &pages))?;
        for (key, run) in fresh.runs {
            runs.insert(key, Arc::new(run));
        }
        fresh.processes
    };
    let processes = |language| started_processes.get(&language).copied().unwrap_or(0);
    let placing = place::Placing {
        runs: &runs,
        cached: &cached,
        packages: &|snippet: &Snippet| runner(snippet.language()).packages(snippet),
        articles,
        options,
    };
    let placed = placing.place(snippets, keys, unavailable);
    failures.extend(placed.failures);
    let stats = SnippetStats {
        languages,
        python_processes: processes(Language::Python),
        pip_ran: python.pip_ran,
        snippets: placed.count,
        cached: cached.len(),
        ignored,
        rustc_invocations: processes(Language::Rust),
        cargo_ran: rust.cargo_ran,
        failed: placed.failed,
        elapsed: started.elapsed(),
    };
    Ok(SnippetOutcome {
        runs: SnippetRuns {
            by_article: placed.by_article,
        },
        stats,
        failures,
    })
}

/// The runs of the snippets the cache did not answer, and the processes
/// each language's runner started (rustc's, Python's).
struct Fresh {
    runs: Vec<(String, SnippetRun)>,
    processes: HashMap<Language, usize>,
}

/// Runs the misses through their languages' runners inside the walls
/// (planned here, once), and stores each lasting run.
fn run_misses<'a>(
    misses: &[(String, &Snippet)],
    runner: &dyn Fn(Language) -> &'a dyn runner::Runner,
    (config, options, pages): (
        &SnippetConfig,
        &RunOptions<'_>,
        &HashMap<String, Vec<usize>>,
    ),
) -> Result<Fresh, Errors> {
    let store = options.store;
    let plan =
        sandbox::plan(config, &options.root).map_err(|message| Error::Sandbox { message })?;
    let scratch = store.folder(Area::Scratch);
    let stage = runner::Stage {
        config,
        plan: &plan,
        pages,
        scratch: &scratch,
    };
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string();
    let mut fresh = Fresh {
        runs: Vec::new(),
        processes: HashMap::new(),
    };
    for language in Language::ALL {
        let mine: Vec<(String, &Snippet)> = misses
            .iter()
            .filter(|(_, s)| s.language() == language)
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        let ran = runner(language).run(&mine, &stage)?;
        fresh.processes.insert(language, ran.invocations);
        for (key, mut run) in ran.runs {
            if run.execution.is_some() {
                run.ran_at = Some(now.clone());
                run.saw = plan.saw.clone();
            }
            if lasting(&run) {
                store.store_json(&store.entry(Area::Runs, &key, "json"), &run)?;
            }
            fresh.runs.push((key, run));
        }
    }
    Ok(fresh)
}

/// The articles that show each snippet, by key (sorted).
fn pages_of(snippets: &[Snippet], keys: &[String]) -> HashMap<String, Vec<usize>> {
    let mut pages: HashMap<String, Vec<usize>> = HashMap::new();
    for (snippet, key) in snippets.iter().zip(keys) {
        let shown = pages.entry(key.clone()).or_default();
        if !shown.contains(&snippet.article) {
            shown.push(snippet.article);
            shown.sort_unstable();
        }
    }
    pages
}

/// Whether a run says something lasting about its snippet, to cache: a
/// timeout may pass on a quieter machine, and a run that could not start
/// (the sandbox failed) says nothing of the snippet.
fn lasting(run: &SnippetRun) -> bool {
    !run.execution
        .as_ref()
        .is_some_and(|e| matches!(e.exit, Exit::TimedOut | Exit::Error(_)))
}

/// The runs the cache (or `ignore`) answers, and the snippets it does not.
struct Lookup<'a> {
    runs: HashMap<String, Arc<SnippetRun>>,
    /// One per distinct key: the same snippet embedded twice runs once.
    misses: Vec<(String, &'a Snippet)>,
    /// The keys the cache answered.
    cached: HashSet<String>,
    /// How many distinct snippets are `ignore`d.
    ignored: usize,
}

fn look_up<'a>(snippets: &'a [Snippet], keys: &[String], store: &Store) -> Lookup<'a> {
    let mut runs: HashMap<String, Arc<SnippetRun>> = HashMap::new();
    let mut misses: Vec<(String, &Snippet)> = Vec::new();
    let mut missed: HashSet<&str> = HashSet::new();
    let mut cached = HashSet::new();
    let mut ignored = 0;
    for (snippet, key) in snippets.iter().zip(keys) {
        if runs.contains_key(key) || missed.contains(key.as_str()) {
            continue;
        }
        if snippet.options.mode == Mode::Ignore {
            runs.insert(
                key.clone(),
                Arc::new(SnippetRun::compiled(Compile::Skipped)),
            );
            ignored += 1;
            continue;
        }
        let stored = store
            .reads(Area::Runs)
            .then(|| store.load_json(&store.entry(Area::Runs, key, "json")))
            .flatten();
        match stored {
            Some(run) => {
                cached.insert(key.clone());
                runs.insert(key.clone(), Arc::new(run));
            }
            None => {
                missed.insert(key);
                misses.push((key.clone(), snippet));
            }
        }
    }
    Lookup {
        runs,
        misses,
        cached,
        ignored,
    }
}

/// A progress bar for a runner's work, with its first message.
fn progress_bar(len: u64, message: &'static str) -> indicatif::ProgressBar {
    let progress = indicatif::ProgressBar::new(len);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message(message);
    progress
}
