//! The up-to-date check, as make and cargo have it. A build is made of
//! files (`kiln.toml`, the content, snippets and templates folders, the
//! snippets' local crates) and of what surrounds it (kiln itself, the
//! command line, the toolchains, cargo's variables). When every one of
//! them has the stamp (size, modification time, inode) it had when the
//! last good build began, and every published file is as that build left
//! it, the site is up to date: the build reads one small record instead of
//! every article, and says what the last one said.
//!
//! The inputs are stamped before the build reads them: a file changed
//! while it is read makes the next build a full one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use super::BuildOptions;
use super::build::Summary;
use crate::config::{CONFIG_FILE, Config};
use crate::error::{Error, Warning};
use crate::output::Stamp;
use crate::snippet::{MANIFEST, SNIPPET_DIR, SnippetStats, Surroundings, local_crate_folders};
use crate::store::{Record, Store};
use crate::template::TEMPLATE_DIR;

/// A build's inputs, stamped when it began.
#[derive(Debug, Serialize)]
pub(super) struct Inputs {
    version: &'static str,
    kiln: String,
    /// The command line's say in what is published.
    options: (bool, bool, Option<String>, bool, bool),
    output: PathBuf,
    /// The output folder as the user named it, for messages.
    #[serde(skip)]
    named: PathBuf,
    surroundings: Surroundings,
    /// Every input file (or `None`: it could not be read), in walk order.
    files: Vec<(PathBuf, Option<Stamp>)>,
}

/// What the last good build said, to say again when nothing changed.
#[derive(Debug, Serialize, Deserialize)]
struct Said {
    /// The hash of its inputs.
    inputs: String,
    /// The hash of its published files' stamps.
    published: String,
    articles: usize,
    pages: usize,
    assets: usize,
    files_left_out: usize,
    /// How many search bundles it published, with search on.
    search: Option<usize>,
    snippets: SnippetStats,
    warnings: Vec<Warning>,
}

impl Inputs {
    /// Stamps the inputs of a build of `options`, unless the build is one
    /// that must do its work (`--fresh`, `--bless`, `--report`, `serve`'s).
    pub(super) fn stamp(
        options: &BuildOptions,
        config: &Config,
        kiln: &str,
        output: &Path,
    ) -> Option<Inputs> {
        if options.fresh || options.bless || options.report.is_some() || options.skip_search {
            return None;
        }
        if options.memo.is_some() {
            return None;
        }
        // Absolute from here on, so that the walk compares paths as they
        // are (an empty root is the current folder).
        let root = match options.root.as_os_str().is_empty() {
            true => Path::new("."),
            false => options.root.as_path(),
        };
        let root = &std::path::absolute(root).ok()?;
        let own = [
            std::path::absolute(output).ok()?,
            root.join(config.cache_dir()),
        ];
        let mut folders = vec![
            root.join(&config.content_dir),
            root.join(SNIPPET_DIR),
            root.join(TEMPLATE_DIR),
        ];
        folders.extend(local_crate_folders(&root.join(MANIFEST)));
        let mut files: Vec<(PathBuf, Option<Stamp>)> = [CONFIG_FILE, ".gitignore"]
            .iter()
            .map(|name| {
                let path = root.join(name);
                let stamp = Stamp::of(&path).ok();
                (path, stamp)
            })
            .collect();
        for folder in &folders {
            stamp_folder(folder, Some(&own), &mut files);
        }
        Some(Inputs {
            version: "kiln-inputs-v1",
            kiln: kiln.to_owned(),
            options: (
                options.drafts,
                options.private,
                options.base_url.clone(),
                options.keep_going,
                options.offline,
            ),
            output: own[0].clone(),
            named: output.to_owned(),
            surroundings: Surroundings::now(&config.snippets),
            files,
        })
    }

    /// The hash of these inputs.
    fn key(&self) -> String {
        crate::store::key(self)
    }

    /// The hash of the files published now.
    fn published(&self) -> String {
        let mut published = Vec::new();
        stamp_folder(&self.output, None, &mut published);
        crate::store::key(&published)
    }

    /// What the last build said, if it was made of these inputs and its
    /// output is untouched: this build is then done.
    pub(super) fn up_to_date(
        &self,
        store: &Store,
        started: std::time::Instant,
    ) -> Option<(Summary, Vec<Warning>)> {
        let said: Said = store.load_json(&store.record(Record::Inputs))?;
        // The inputs first: when they changed, the output is not walked.
        if said.inputs != self.key() || !self.output.is_dir() || said.published != self.published()
        {
            return None;
        }
        let summary = Summary {
            articles: said.articles,
            pages: said.pages,
            assets: said.assets,
            output: self.named.clone(),
            stale: None,
            snippets: said.snippets.all_cached(std::time::Duration::ZERO),
            rendered: 0,
            search: said.search.map(|bundles| (0, bundles)),
            unchanged: true,
            search_job: None,
            left_out: 0,
            files_left_out: said.files_left_out,
            elapsed: started.elapsed(),
        };
        Some((summary, said.warnings))
    }

    /// Records that a good build made of these inputs published its output
    /// and said `summary` and `warnings`.
    pub(super) fn record(
        &self,
        store: &Store,
        summary: &Summary,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        let said = Said {
            inputs: self.key(),
            published: self.published(),
            articles: summary.articles,
            pages: summary.pages,
            assets: summary.assets,
            files_left_out: summary.files_left_out,
            search: summary.search.map(|(_, bundles)| bundles),
            snippets: summary.snippets.clone(),
            warnings: warnings.to_vec(),
        };
        store.store_json(&store.record(Record::Inputs), &said)
    }
}

/// Stamps every file under `folder` (following links, as the content walk
/// does) into `files`; with `own`, but those in hidden folders and in the
/// folders `own` names. A folder that is not there is an input too: it may
/// come.
fn stamp_folder(folder: &Path, own: Option<&[PathBuf]>, files: &mut Vec<(PathBuf, Option<Stamp>)>) {
    let walk = WalkDir::new(folder)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let Some(own) = own else { return true };
            let hidden = e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.');
            e.depth() == 0 || !(hidden || own.iter().any(|o| o == e.path()))
        });
    for entry in walk {
        match entry {
            Ok(entry) if entry.file_type().is_dir() => {}
            Ok(entry) => {
                let stamp = entry.metadata().ok().map(|m| Stamp::of_metadata(&m));
                files.push((entry.into_path(), stamp));
            }
            Err(e) => files.push((e.path().unwrap_or(folder).to_owned(), None)),
        }
    }
}
