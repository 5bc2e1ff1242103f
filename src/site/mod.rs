//! The pipeline. [`prepare`] runs every stage up to the snippet runs once
//! (config, content, routes, templates, highlighter, snippets); then
//! [`build_site`] renders and writes a prepared site, and [`check_site`]
//! renders and inspects one. Both report every problem of every stage.

mod build;
mod check;
mod inputs;
mod list;
mod page;
mod registry;
mod report;
mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{CONFIG_FILE, Config, base_path_of};
use crate::content::{ArticleMemo, Content, ContentOptions, Loaded, ScanCache, load_content};
use crate::error::{Error, Warning};
use crate::highlight::Highlighter;
use crate::markdown::{Body, Scan};
use crate::route::Routes;
use crate::snippet::{
    RunOptions, SNIPPET_DIR, SnippetRuns, SnippetStats, collect_snippets, run_snippets,
};
use crate::store::{Record, Store};
use crate::template::{TEMPLATE_DIR, Templates};

pub use build::{Build, Summary, build_site};
pub use check::{CheckReport, check_site};

/// What to build, from the command line.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site root: the folder holding `content/`.
    pub root: PathBuf,
    /// Where the site goes; `<root>/public` if not given.
    pub output: Option<PathBuf>,
    /// Publish articles marked `draft: true`.
    pub drafts: bool,
    /// Publish posts marked `private: true`.
    pub private: bool,
    /// Overrides `base_url` from `kiln.toml`.
    pub base_url: Option<String>,
    /// Ignore cached snippet runs.
    pub fresh: bool,
    /// Rewrite golden snippet output instead of comparing with it.
    pub bless: bool,
    /// Build the snippets' dependencies without the network.
    pub offline: bool,
    /// Where to write the JSON report of every snippet.
    pub report: Option<PathBuf>,
    /// Leave the search index out of this build (`kiln serve` makes it
    /// after the pages are served).
    pub skip_search: bool,
    /// Publish every article that builds, past the errors that concern one
    /// article alone (also `keep_going = true` in `kiln.toml`).
    pub keep_going: bool,
    /// Articles of earlier builds of this process (`kiln serve`), so that
    /// unchanged files are not parsed again.
    pub memo: Option<Arc<ArticleMemo>>,
}

impl BuildOptions {
    /// A build of the site at `root` into `<root>/public`, with defaults.
    pub fn new(root: PathBuf) -> BuildOptions {
        BuildOptions {
            root,
            output: None,
            drafts: false,
            private: false,
            base_url: None,
            fresh: false,
            bless: false,
            offline: false,
            report: None,
            skip_search: false,
            keep_going: false,
            memo: None,
        }
    }
}

/// Every problem found so far: errors stop a build, warnings do not, and
/// the errors a build kept going past are set apart.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<Error>,
    pub warnings: Vec<Warning>,
    pub kept_going: Vec<Error>,
    /// Things worth knowing that are no problem (`check` shows them).
    pub notes: Vec<Warning>,
}

impl Problems {
    /// Keeps going past every error that concerns one article alone
    /// ([`Error::concerns_one_article`]); the rest still stop the build.
    fn keep_going(&mut self) {
        let (past, stopping): (Vec<Error>, Vec<Error>) = std::mem::take(&mut self.errors)
            .into_iter()
            .partition(Error::concerns_one_article);
        self.errors = stopping;
        self.kept_going.extend(past);
    }

    /// Broken links, images and thumbnails, counted as `mode` says: the
    /// one place that decides how much they weigh.
    fn add_broken(&mut self, mode: Mode, broken: Vec<Error>) {
        match mode {
            // CI gates on `check`: every problem counts.
            Mode::Check => self.errors.extend(broken),
            // A page with a dead link is still worth publishing.
            Mode::Build => self.warnings.extend(broken.iter().filter_map(as_warning)),
        }
    }
}

/// A broken link or formula as a warning.
fn as_warning(error: &Error) -> Option<Warning> {
    match error {
        Error::BrokenLink {
            path,
            line,
            message,
        } => Some(Warning {
            path: path.clone(),
            line: *line,
            message: message.clone(),
        }),
        Error::Math { path, line, .. } => {
            let full = error.to_string();
            let prefix = format!("{}:{line}: ", path.display());
            Some(Warning {
                path: path.clone(),
                line: *line,
                message: full.strip_prefix(&prefix).unwrap_or(&full).to_owned(),
            })
        }
        _ => None,
    }
}

/// What the pipeline is run for, which decides how much a problem weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Build,
    Check,
}

/// Everything the pages are made from, each stage complete.
#[derive(Debug)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub content: Content,
    pub routes: Routes,
    pub templates: Templates,
    pub highlighter: Highlighter,
    pub runs: SnippetRuns,
    pub snippet_stats: SnippetStats,
    /// Every cache of the site.
    pub store: Store,
    /// What identifies the running kiln: cached pages and search bundles
    /// are kiln's output, and a new kiln may make them otherwise.
    pub kiln: String,
    /// The build lock, held until the site is written.
    _lock: std::fs::File,
}

/// A site ready to render: the site, and each article's Markdown (by
/// article index), parsed only for the pages that have to be rendered.
#[derive(Debug)]
pub struct Prepared {
    pub site: Site,
    pub bodies: Vec<Body>,
}

/// Runs every stage before rendering, going as far as the problems allow,
/// so that one run reports them all: broken articles leave the others
/// loaded, a clashing URL leaves the rest routed, a missing snippet leaves
/// the others run. `None` when the site cannot be rendered at all (no
/// config, no `content/`, broken templates or theme).
pub fn prepare(options: &BuildOptions) -> (Option<Prepared>, Problems) {
    let mut problems = Problems::default();
    let prepared = prepare_into(options, &mut problems);
    // The report is written whatever else failed: CI wants it most then.
    if let (Some(path), Some(prepared)) = (&options.report, &prepared)
        && let Err(e) = report::write_report(path, &prepared.site)
    {
        problems.errors.push(e);
    }
    (prepared, problems)
}

fn prepare_into(options: &BuildOptions, problems: &mut Problems) -> Option<Prepared> {
    let root = &options.root;
    if !root.as_os_str().is_empty() && !root.is_dir() {
        problems.errors.push(Error::NoRoot { path: root.clone() });
        return None;
    }
    let config = load_config(options, problems)
        .map_err(|e| problems.errors.push(e))
        .ok()?;
    let kiln = kiln_fingerprint();
    let store = Store::open(root.join(config.cache_dir()), options.fresh);
    let scans = ScanCache::load(&store, &kiln);
    // Independent stages whose errors are all worth reporting together.
    let content_options = ContentOptions {
        root,
        dir: &config.content_dir,
        ignore: config
            .ignore_matcher(root)
            .unwrap_or_else(|_| ignore::gitignore::Gitignore::empty()),
        own_folders: vec![
            options
                .output
                .clone()
                .unwrap_or_else(|| default_output(root)),
            store.dir().to_owned(),
            root.join(SNIPPET_DIR),
            root.join(TEMPLATE_DIR),
            root.join(CONFIG_FILE),
        ],
        drafts: options.drafts,
        private: options.private,
        default_authors: &config.authors,
        memo: options.memo.as_deref(),
        scans: &scans,
    };
    let (loaded, templates) =
        rayon::join(|| load_content(&content_options), || Templates::load(root));
    let highlighter = Highlighter::new(&config.highlight);
    let templates = templates.map_err(|e| problems.errors.extend(e.0)).ok();
    let highlighter = highlighter.map_err(|e| problems.errors.push(e)).ok();
    let Loaded {
        content,
        bodies,
        warnings,
        errors,
    } = loaded.map_err(|e| problems.errors.push(e)).ok()?;
    problems.warnings.extend(warnings);
    problems.errors.extend(errors);
    let (routes, errors) = Routes::new(&config.base_path(), &content, &config.content_prefix());
    problems.errors.extend(errors);
    let lock = lock_site(&store)
        .map_err(|e| problems.errors.push(e))
        .ok()?;
    // Snippets run even when a template is broken, so that one run
    // reports both.
    let scans: Vec<Arc<Scan>> = bodies.iter().map(|b| b.scan.clone()).collect();
    let collected = collect_snippets(root, &content.articles, &scans, &routes, &config.snippets);
    let run_options = RunOptions {
        root: root.clone(),
        store: &store,
        bless: options.bless,
        offline: options.offline,
    };
    let (runs, snippet_stats) =
        match run_snippets(collected, &content.articles, &config.snippets, &run_options) {
            Ok(outcome) => {
                problems.errors.extend(outcome.failures);
                (outcome.runs, outcome.stats)
            }
            Err(e) => {
                problems.errors.extend(e.0);
                (SnippetRuns::default(), SnippetStats::default())
            }
        };
    Some(Prepared {
        site: Site {
            root: root.clone(),
            templates: templates?,
            highlighter: highlighter?,
            config,
            content,
            routes,
            runs,
            snippet_stats,
            store,
            kiln,
            _lock: lock,
        },
        bodies,
    })
}

/// What identifies the running kiln: its version and its executable's
/// path, size and modification time (as cargo tells builds apart). A new
/// build of kiln is a new kiln; reading the whole executable to hash it
/// (100 MB with line tables) would cost a tenth of a warm build.
fn kiln_fingerprint() -> String {
    /// What tells one kiln from another: its key, hashed once.
    #[derive(serde::Serialize, Default)]
    struct KilnKey {
        version: &'static str,
        exe: PathBuf,
        len: u64,
        modified_ns: u128,
    }
    let exe = std::env::current_exe().and_then(|path| {
        let meta = std::fs::metadata(&path)?;
        let modified = meta.modified()?.duration_since(std::time::UNIX_EPOCH);
        Ok(KilnKey {
            version: env!("CARGO_PKG_VERSION"),
            len: meta.len(),
            modified_ns: modified.map_or(0, |d| d.as_nanos()),
            exe: path,
        })
    });
    crate::store::key(&exe.unwrap_or(KilnKey {
        version: env!("CARGO_PKG_VERSION"),
        ..KilnKey::default()
    }))
}

/// `kiln.toml`, with `--base-url` applied.
fn load_config(options: &BuildOptions, problems: &mut Problems) -> Result<Config, Error> {
    let (mut config, warnings) = Config::read(&options.root)?;
    problems.warnings.extend(warnings);
    if let Some(base_url) = &options.base_url {
        if base_path_of(base_url).is_none() {
            return Err(Error::BaseUrl {
                value: base_url.clone(),
            });
        }
        config.base_url = base_url.clone();
    }
    Ok(config)
}

/// Takes the site's build lock, waiting for a build that holds it: two
/// builds of one site must not interleave their snippet runs and swaps.
/// The lock is released when the returned file is dropped.
pub fn lock_site(store: &Store) -> Result<std::fs::File, Error> {
    let cache_dir = store.dir();
    let path = store.record(Record::Lock);
    std::fs::create_dir_all(cache_dir).map_err(|source| Error::Write {
        path: cache_dir.to_owned(),
        source,
    })?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another kiln build of this site to finish (lock `{}`)",
                path.display()
            );
            file.lock()
                .map_err(|source| Error::Write { path, source })?;
            Ok(file)
        }
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Write { path, source }),
    }
}

/// The default output folder of a site root.
pub fn default_output(root: &Path) -> PathBuf {
    root.join("public")
}
