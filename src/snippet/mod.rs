//! Rust snippets: collect every snippet of the site, key and cache them,
//! compile the misses (merged into one crate where possible), run them, and
//! judge each run against its options and golden output.
//!
//! A snippet is either a paragraph that is only a link to a `.rs` file under
//! `snippets/`, or a fenced ```` ```rust ```` block (rustdoc conventions).

mod cache;
mod compile;
mod exec;
mod toolchain;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{SnippetConfig, parse_duration};
use crate::content::{Article, Content};
use crate::error::{Error, Errors};
use crate::render::fence_language;
use crate::route::{Routes, Target};

pub use cache::Cache;
pub use exec::{Chunk, Execution, Exit, Stream};

/// The folder under the site root that holds linked snippets.
pub const SNIPPET_DIR: &str = "snippets";

/// What kiln does with a snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Compile and run it.
    Run,
    /// Compile it only.
    NoRun,
    /// Expect rustc to reject it.
    CompileFail,
    /// Neither compile nor run it.
    Ignore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetOptions {
    pub mode: Mode,
    /// A run passes only if it panics.
    pub should_panic: bool,
    pub edition: String,
    pub timeout: Duration,
}

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

/// A snippet as a crate: crate-level attributes, and a body with `fn main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCode {
    pub crate_attrs: String,
    pub body: String,
    /// The file name rustc is given, which shows in panic messages.
    pub file_name: String,
}

impl PreparedCode {
    /// The whole crate, for compiling on its own.
    pub fn standalone(&self) -> String {
        format!("{}{}", self.crate_attrs, self.body)
    }
}

impl Snippet {
    /// How errors name the snippet.
    pub fn name(&self) -> String {
        match &self.origin {
            Origin::Linked { path } => format!("snippet `{path}`"),
            Origin::Inline => "inline snippet".to_owned(),
        }
    }

    /// Whether the snippet can share a crate with others.
    fn mergeable(&self) -> bool {
        matches!(self.options.mode, Mode::Run | Mode::NoRun)
            && !self.options.should_panic
            && self.code.crate_attrs.trim().is_empty()
            && !self.code.body.contains("#![")
            && !self.code.body.contains("extern crate")
            && !self.code.body.contains("macro_export")
    }
}

/// The result of compiling and running one snippet, as cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetRun {
    pub compile: Compile,
    /// `None` when the snippet was not run.
    pub execution: Option<Execution>,
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

/// A snippet's run, ready for the page.
#[derive(Debug, Clone)]
pub struct Embed {
    pub snippet: Snippet,
    pub run: Arc<SnippetRun>,
}

/// Every snippet's run, by article and by the index of the event where its
/// block starts.
#[derive(Debug, Default)]
pub struct SnippetRuns {
    by_article: HashMap<usize, HashMap<usize, Embed>>,
}

impl SnippetRuns {
    /// The embeds of one article, by event index.
    pub fn in_article(&self, article: usize) -> Option<&HashMap<usize, Embed>> {
        self.by_article.get(&article)
    }
}

/// What the snippet stage did, for the summary line.
#[derive(Debug, Clone, Default)]
pub struct SnippetStats {
    pub snippets: usize,
    pub cached: usize,
    pub rustc_invocations: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

/// How to run the stage.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub root: PathBuf,
    /// Ignore cached runs.
    pub fresh: bool,
    /// Rewrite golden `.stdout` files instead of comparing with them.
    pub bless: bool,
}

/// Finds every snippet in the site and prepares its code. A link to a
/// snippet file that does not exist, or bad options, is an error.
pub fn collect_snippets(
    root: &Path,
    content: &Content,
    routes: &Routes,
    config: &SnippetConfig,
) -> Result<Vec<Snippet>, Errors> {
    let found: Vec<Result<Vec<Snippet>, Vec<Error>>> = content
        .articles
        .par_iter()
        .enumerate()
        .map(|(index, article)| collect_in_article(root, index, article, routes, config))
        .collect();
    let mut snippets = Vec::new();
    let mut errors = Vec::new();
    for result in found {
        match result {
            Ok(mut s) => snippets.append(&mut s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(snippets)
    } else {
        Err(Errors(errors))
    }
}

fn collect_in_article(
    root: &Path,
    index: usize,
    article: &Article,
    routes: &Routes,
    config: &SnippetConfig,
) -> Result<Vec<Snippet>, Vec<Error>> {
    let events = &article.document.events;
    let mut snippets = Vec::new();
    let mut errors = Vec::new();
    let fail = |line: usize, path: &str, message: String| Error::Snippet {
        article: article.source.clone(),
        line,
        snippet: format!("snippet `{path}`"),
        message,
    };
    for (i, event) in events.iter().enumerate() {
        let line = article.document.lines[i] as usize;
        match event {
            Event::Start(Tag::Paragraph) => {
                let Some(path) = linked_snippet(events, i, article, routes) else {
                    continue;
                };
                let source = match std::fs::read(root.join(&path)) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            errors.push(fail(line, &path, "the file is not valid UTF-8".into()));
                            continue;
                        }
                    },
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        errors.push(fail(
                            line,
                            &path,
                            format!("the linked file `{path}` does not exist"),
                        ));
                        continue;
                    }
                    Err(e) => {
                        errors.push(fail(line, &path, format!("cannot read `{path}`: {e}")));
                        continue;
                    }
                };
                match linked_options(&source, config) {
                    Ok((options, display)) => {
                        let file_name = path.clone();
                        snippets.push(Snippet {
                            article: index,
                            event: i,
                            line,
                            origin: Origin::Linked { path },
                            display,
                            code: prepare(&source, file_name),
                            options,
                        });
                    }
                    Err(message) => errors.push(fail(line, &path, message)),
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                if fence_language(info) != "rust" {
                    continue;
                }
                let code: String = events[i + 1..]
                    .iter()
                    .take_while(|e| !matches!(e, Event::End(TagEnd::CodeBlock)))
                    .filter_map(|e| match e {
                        Event::Text(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let options = fence_options(info, config);
                let (display, compiled) = split_hidden_lines(&code);
                snippets.push(Snippet {
                    article: index,
                    event: i,
                    line,
                    origin: Origin::Inline,
                    display,
                    code: prepare(&compiled, "snippet.rs".to_owned()),
                    options,
                });
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(snippets)
    } else {
        Err(errors)
    }
}

/// The snippet file of a paragraph that is nothing but a link to
/// `snippets/….rs`.
fn linked_snippet(
    events: &[Event<'_>],
    start: usize,
    article: &Article,
    routes: &Routes,
) -> Option<String> {
    let Some(Event::Start(Tag::Link { dest_url, .. })) = events.get(start + 1) else {
        return None;
    };
    let end_link = events[start + 2..]
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Link)))?
        + start
        + 2;
    if !matches!(
        events.get(end_link + 1),
        Some(Event::End(TagEnd::Paragraph))
    ) {
        return None;
    }
    let resolved = routes.resolve(article.rel_dir(), dest_url)?;
    match resolved.target {
        Target::Other(path)
            if path.starts_with(&format!("{SNIPPET_DIR}/")) && path.ends_with(".rs") =>
        {
            Some(path)
        }
        _ => None,
    }
}

/// Options from a fence info string such as `rust,no_run,edition2024`.
/// Unknown words are other tools' (`editable`, …) and are ignored.
fn fence_options(info: &str, config: &SnippetConfig) -> SnippetOptions {
    let mut options = SnippetOptions {
        mode: Mode::Run,
        should_panic: false,
        edition: config.edition.clone(),
        timeout: config.timeout,
    };
    for word in info
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .skip(1)
    {
        apply_flag(&mut options, word);
    }
    options
}

/// Applies a rustdoc attribute; false if the word is not one.
fn apply_flag(options: &mut SnippetOptions, word: &str) -> bool {
    match word {
        "ignore" => options.mode = Mode::Ignore,
        "no_run" => options.mode = Mode::NoRun,
        "compile_fail" => options.mode = Mode::CompileFail,
        "should_panic" => options.should_panic = true,
        w if w.starts_with("edition") && ["2015", "2018", "2021", "2024"].contains(&&w[7..]) => {
            options.edition = w[7..].to_owned();
        }
        _ => return false,
    }
    true
}

/// Options from a linked file's `// kiln: …` line, and the code to show
/// (the file without that line).
fn linked_options(
    source: &str,
    config: &SnippetConfig,
) -> Result<(SnippetOptions, String), String> {
    let mut options = SnippetOptions {
        mode: Mode::Run,
        should_panic: false,
        edition: config.edition.clone(),
        timeout: config.timeout,
    };
    let options_line = source
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with("//"))
        .position(|l| l.trim_start().starts_with("// kiln:"));
    let Some(index) = options_line else {
        return Ok((options, source.to_owned()));
    };
    let line = source.lines().nth(index).unwrap_or_default();
    let spec = line.trim_start().trim_start_matches("// kiln:");
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some((key, value)) = item.split_once('=') {
            let (key, value) = (key.trim(), value.trim());
            match key {
                "timeout" => {
                    options.timeout = parse_duration(value)
                        .map_err(|e| format!("`// kiln:` option `timeout`: {e}"))?;
                    if options.timeout.is_zero() {
                        return Err("`// kiln:` option `timeout` must be longer than zero".into());
                    }
                }
                "edition" if ["2015", "2018", "2021", "2024"].contains(&value) => {
                    options.edition = value.to_owned();
                }
                _ => {
                    return Err(format!(
                        "unknown `// kiln:` option `{item}`; expected `ignore`, `no_run`, `compile_fail`, `should_panic`, `edition = 2021` or `timeout = 5s`"
                    ));
                }
            }
        } else if !apply_flag(&mut options, item) {
            return Err(format!(
                "unknown `// kiln:` option `{item}`; expected `ignore`, `no_run`, `compile_fail`, `should_panic`, `edition = 2021` or `timeout = 5s`"
            ));
        }
    }
    let display: Vec<&str> = source
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, l)| l)
        .collect();
    let mut display = display.join("\n");
    if source.ends_with('\n') {
        display.push('\n');
    }
    Ok((options, display.trim_start_matches('\n').to_owned()))
}

/// rustdoc's hidden lines: `# code` is compiled but not shown, a lone `#`
/// is a hidden blank line, and `##` shows a literal `#`. Returns the shown
/// code and the compiled code.
pub fn split_hidden_lines(code: &str) -> (String, String) {
    let mut shown = String::with_capacity(code.len());
    let mut compiled = String::with_capacity(code.len());
    for line in code.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        let trimmed = content.trim_start();
        let indent = &content[..content.len() - trimmed.len()];
        if let Some(rest) = trimmed.strip_prefix("##") {
            shown.push_str(indent);
            shown.push('#');
            shown.push_str(rest);
            shown.push_str(ending);
            compiled.push_str(indent);
            compiled.push('#');
            compiled.push_str(rest);
            compiled.push_str(ending);
        } else if trimmed == "#" {
            compiled.push_str(ending);
        } else if let Some(rest) = trimmed.strip_prefix("# ") {
            compiled.push_str(indent);
            compiled.push_str(rest);
            compiled.push_str(ending);
        } else {
            shown.push_str(line);
            compiled.push_str(line);
        }
    }
    (shown, compiled)
}

/// Moves crate-level attributes out and wraps code without `fn main` in
/// one, as rustdoc does.
pub fn prepare(code: &str, file_name: String) -> PreparedCode {
    if has_main(code) {
        return PreparedCode {
            crate_attrs: String::new(),
            body: code.to_owned(),
            file_name,
        };
    }
    let mut crate_attrs = String::new();
    let mut body = String::new();
    let mut in_header = true;
    for line in code.lines() {
        let trimmed = line.trim_start();
        if in_header && (trimmed.starts_with("#![") || trimmed.starts_with("extern crate")) {
            crate_attrs.push_str(line);
            crate_attrs.push('\n');
            continue;
        }
        if !trimmed.is_empty() && !trimmed.starts_with("//") {
            in_header = false;
        }
        body.push_str(line);
        body.push('\n');
    }
    let last = body
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let returns_result = last.starts_with("Ok(") || last.starts_with("Ok::<");
    let body = if returns_result {
        format!("fn main() -> Result<(), impl core::fmt::Debug> {{\n{body}}}\n")
    } else {
        format!("fn main() {{\n{body}}}\n")
    };
    PreparedCode {
        crate_attrs,
        body,
        file_name,
    }
}

/// Whether the code defines `fn main` at some depth (rustdoc looks only at
/// the top level, which this approximates by ignoring comments).
fn has_main(code: &str) -> bool {
    code.lines().any(|line| {
        let line = line.split("//").next().unwrap_or_default();
        let mut words = line.split_whitespace().peekable();
        while let Some(word) = words.next() {
            if word == "fn"
                && let Some(next) = words.peek()
                && (*next == "main" || next.starts_with("main(") || next.starts_with("main<"))
            {
                return true;
            }
        }
        false
    })
}

/// The cache key of a snippet: its code and everything that changes what
/// it does.
fn snippet_key(snippet: &Snippet, compiler: &str, output_limit: usize) -> String {
    let mut hasher = blake3::Hasher::new();
    let options = &snippet.options;
    for part in [
        "kiln-snippet-v1",
        compiler,
        &format!("{:?}", options.mode),
        &options.should_panic.to_string(),
        &options.edition,
        &options.timeout.as_millis().to_string(),
        &output_limit.to_string(),
        &snippet.code.file_name,
        &snippet.code.crate_attrs,
        &snippet.code.body,
    ] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
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

/// Compiles and runs every snippet that the cache does not hold, then
/// judges every snippet. `Err` only when the stage itself cannot work (no
/// rustc, an unwritable cache).
pub fn run_snippets(
    snippets: Vec<Snippet>,
    articles: &[Article],
    config: &SnippetConfig,
    options: &RunOptions,
) -> Result<SnippetOutcome, Errors> {
    let started = Instant::now();
    let cache = Cache::new(&options.root.join(&config.cache_dir));
    let needs_compiler = snippets.iter().any(|s| s.options.mode != Mode::Ignore);
    let toolchain = if needs_compiler {
        Some(toolchain::Toolchain::detect(&cache)?)
    } else {
        None
    };
    let compiler = toolchain.as_ref().map(|t| t.version.as_str()).unwrap_or("");
    let keys: Vec<String> = snippets
        .iter()
        .map(|s| snippet_key(s, compiler, config.output_limit))
        .collect();

    // One job per distinct key: the same snippet embedded twice runs once.
    let mut runs: HashMap<String, Arc<SnippetRun>> = HashMap::new();
    let mut misses: Vec<(String, &Snippet)> = Vec::new();
    let mut missed: HashSet<&str> = HashSet::new();
    let mut cached = 0;
    for (snippet, key) in snippets.iter().zip(&keys) {
        if runs.contains_key(key) || missed.contains(key.as_str()) {
            continue;
        }
        if snippet.options.mode == Mode::Ignore {
            let run = SnippetRun {
                compile: Compile::Skipped,
                execution: None,
            };
            runs.insert(key.clone(), Arc::new(run));
            continue;
        }
        match (!options.fresh).then(|| cache.load(key)).flatten() {
            Some(run) => {
                cached += 1;
                runs.insert(key.clone(), Arc::new(run));
            }
            None => {
                missed.insert(key);
                misses.push((key.clone(), snippet));
            }
        }
    }

    let mut rustc_invocations = 0;
    if let (Some(toolchain), false) = (&toolchain, misses.is_empty()) {
        let progress = indicatif::ProgressBar::new(misses.len() as u64 * 2);
        progress.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        progress.set_message("compiling snippets");
        let built = compile::compile_all(&misses, toolchain, &progress, compile::Merge::Allowed)
            .map_err(Errors::from)?;
        rustc_invocations = built.invocations;
        progress.set_message("running snippets");
        let mut fresh = build_and_run(&misses, &built, config, &progress);
        // A run that went wrong inside a merged binary is redone alone, so
        // that its panic message names the snippet's own file and lines.
        let retry: Vec<(String, &Snippet)> = misses
            .iter()
            .zip(&fresh)
            .filter(|((key, snippet), (_, run))| {
                matches!(
                    built.results.get(key),
                    Some(compile::Compiled::Binary { arg: Some(_), .. })
                ) && judge(&snippet.options, run).is_err()
            })
            .map(|((key, snippet), _)| (key.clone(), *snippet))
            .collect();
        if !retry.is_empty() {
            let alone = compile::compile_all(&retry, toolchain, &progress, compile::Merge::Never)
                .map_err(Errors::from)?;
            rustc_invocations += alone.invocations;
            for (key, run) in build_and_run(&retry, &alone, config, &progress) {
                if let Some(slot) = fresh.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = run;
                }
            }
        }
        progress.finish_and_clear();
        for (key, run) in fresh {
            // A timeout may pass on a quieter machine: never cache one.
            let timed_out = run
                .execution
                .as_ref()
                .is_some_and(|e| e.exit == Exit::TimedOut);
            if !timed_out {
                cache.store(&key, &run)?;
            }
            runs.insert(key, Arc::new(run));
        }
    }

    let mut errors = Vec::new();
    let mut by_article: HashMap<usize, HashMap<usize, Embed>> = HashMap::new();
    let mut count = 0;
    for (snippet, key) in snippets.into_iter().zip(keys) {
        let Some(run) = runs.get(&key).cloned() else {
            continue;
        };
        let article = &articles[snippet.article];
        let mut verdict = judge(&snippet.options, &run);
        if verdict.is_ok()
            && let Origin::Linked { path } = &snippet.origin
        {
            verdict = check_golden(&options.root, path, &run, options.bless);
        }
        if let Err(message) = verdict {
            errors.push(Error::Snippet {
                article: article.source.clone(),
                line: snippet.line,
                snippet: snippet.name(),
                message,
            });
        }
        count += 1;
        by_article
            .entry(snippet.article)
            .or_default()
            .insert(snippet.event, Embed { snippet, run });
    }
    let stats = SnippetStats {
        snippets: count,
        cached,
        rustc_invocations,
        failed: errors.len(),
        elapsed: started.elapsed(),
    };
    Ok(SnippetOutcome {
        runs: SnippetRuns { by_article },
        stats,
        failures: errors,
    })
}

/// Runs every compiled unit (in parallel) and pairs each key with its run.
fn build_and_run(
    units: &[(String, &Snippet)],
    built: &compile::Built,
    config: &SnippetConfig,
    progress: &indicatif::ProgressBar,
) -> Vec<(String, SnippetRun)> {
    units
        .par_iter()
        .map(|(key, snippet)| {
            let run = match built.results.get(key) {
                Some(compile::Compiled::Binary { path, arg }) => {
                    let execution = (snippet.options.mode == Mode::Run).then(|| {
                        exec::execute(
                            path,
                            arg.as_deref(),
                            snippet.options.timeout,
                            config.output_limit,
                        )
                    });
                    SnippetRun {
                        compile: Compile::Succeeded,
                        execution,
                    }
                }
                Some(compile::Compiled::Failed(diagnostics)) => SnippetRun {
                    compile: Compile::Failed(diagnostics.clone()),
                    execution: None,
                },
                None => SnippetRun {
                    compile: Compile::Failed("kiln lost track of this snippet's build".into()),
                    execution: None,
                },
            };
            progress.inc(1);
            (key.clone(), run)
        })
        .collect()
}

/// Whether a run is what the snippet's options expect.
pub fn judge(options: &SnippetOptions, run: &SnippetRun) -> Result<(), String> {
    match (&run.compile, options.mode) {
        (Compile::Skipped, _) => return Ok(()),
        (Compile::Failed(_), Mode::CompileFail) => return Ok(()),
        (Compile::Succeeded, Mode::CompileFail) => {
            return Err("compiled, but it is marked `compile_fail`".to_owned());
        }
        (Compile::Failed(diagnostics), _) => {
            return Err(format!("does not compile:\n{}", diagnostics.trim_end()));
        }
        (Compile::Succeeded, _) => {}
    }
    let Some(execution) = &run.execution else {
        return Ok(());
    };
    let tail = || output_tail(execution);
    match (&execution.exit, options.should_panic) {
        (Exit::Code(0), false) => Ok(()),
        (Exit::Code(101), true) => Ok(()),
        (Exit::Code(0), true) => Err(format!(
            "exited normally, but it is marked `should_panic`{}",
            tail()
        )),
        (Exit::Code(101), false) => Err(format!("panicked{}", tail())),
        (Exit::Code(code), _) => Err(format!("exited with status {code}{}", tail())),
        (Exit::Signal(signal), _) => Err(format!(
            "was killed by signal {signal}{}{}",
            signal_name(*signal)
                .map(|name| format!(" ({name})"))
                .unwrap_or_default(),
            tail()
        )),
        (Exit::TimedOut, _) => Err(format!(
            "was stopped after {:?}, its timeout (set a longer one with `// kiln: timeout = 30s` or `snippets.timeout` in `kiln.toml`){}",
            options.timeout,
            tail()
        )),
        (Exit::Error(message), _) => Err(format!("could not be run: {message}")),
    }
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
/// blessing.
fn check_golden(root: &Path, path: &str, run: &SnippetRun, bless: bool) -> Result<(), String> {
    if run.execution.is_none() {
        return Ok(());
    }
    let golden_rel = format!("{}.stdout", path.trim_end_matches(".rs"));
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

    #[test]
    fn hidden_lines() {
        let (shown, compiled) = split_hidden_lines(
            "# use std::fmt;\nlet x = 1;\n#\n    ## not hidden\n#[derive(Debug)]\n",
        );
        assert_eq!(shown, "let x = 1;\n    # not hidden\n#[derive(Debug)]\n");
        assert_eq!(
            compiled,
            "use std::fmt;\nlet x = 1;\n\n    # not hidden\n#[derive(Debug)]\n"
        );
    }

    #[test]
    fn implicit_main() {
        let p = prepare(
            "#![allow(unused)]\nlet x = 1;\nprintln!(\"{x}\");\n",
            "s.rs".into(),
        );
        assert_eq!(p.crate_attrs, "#![allow(unused)]\n");
        assert!(p.body.starts_with("fn main() {\n"));
        let p = prepare(
            "let n: i32 = \"5\".parse()?;\nOk::<(), std::num::ParseIntError>(())\n",
            "s.rs".into(),
        );
        assert!(
            p.body
                .starts_with("fn main() -> Result<(), impl core::fmt::Debug>")
        );
        let p = prepare("// fn main is below\nfn main() {}\n", "s.rs".into());
        assert_eq!(p.body, "// fn main is below\nfn main() {}\n");
        assert!(!has_main("// fn main()\nlet x = 1;"));
    }

    #[test]
    fn fence_attributes() {
        let config = SnippetConfig::default();
        let o = fence_options("rust,no_run", &config);
        assert_eq!(o.mode, Mode::NoRun);
        let o = fence_options("rust should_panic,edition2024,editable", &config);
        assert!(o.should_panic);
        assert_eq!(o.edition, "2024");
        assert_eq!(
            fence_options("rust,compile_fail", &config).mode,
            Mode::CompileFail
        );
        assert_eq!(fence_options("rust,ignore", &config).mode, Mode::Ignore);
    }

    #[test]
    fn linked_option_lines() {
        let config = SnippetConfig::default();
        let (o, shown) = linked_options(
            "// kiln: should_panic, timeout = 5s\nfn main() {}\n",
            &config,
        )
        .unwrap();
        assert!(o.should_panic);
        assert_eq!(o.timeout, Duration::from_secs(5));
        assert_eq!(shown, "fn main() {}\n");
        let e = linked_options("// kiln: shuold_panic\nfn main() {}\n", &config).unwrap_err();
        assert!(
            e.contains("unknown `// kiln:` option `shuold_panic`"),
            "{e}"
        );
        let (o, _) =
            linked_options("//! Docs\n// kiln: compile_fail\nfn main() {}\n", &config).unwrap();
        assert_eq!(o.mode, Mode::CompileFail);
        let (o, _) = linked_options("fn main() {}\n// kiln: ignore\n", &config).unwrap();
        assert_eq!(o.mode, Mode::Run);
    }
}
