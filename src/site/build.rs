//! `build`: makes every file of a prepared site into a staging folder,
//! swapped in for the output folder only when nothing went wrong.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::inputs::Inputs;
use super::registry::{ArticleFile, Make, Planned, make_files, make_site};
use super::{
    BuildOptions, Mode, Prepared, Problems, Site, default_output, kiln_fingerprint, lock_site,
    prepare,
};
use crate::config::Config;
use crate::error::{Error, Errors, Warning};
use crate::output::{Committed, Discard, Staging};
use crate::route::OwnPage;
use crate::search::{SearchJob, SearchPage, build_bundles};
use crate::snippet::SnippetStats;
use crate::store::Store;

/// What a successful build did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub articles: usize,
    pub pages: usize,
    pub assets: usize,
    pub output: PathBuf,
    /// The previous site, moved aside: delete it when convenient.
    pub stale: Option<PathBuf>,
    pub snippets: SnippetStats,
    /// Article pages rendered, as opposed to reused from the page cache.
    pub rendered: usize,
    /// Search bundles indexed by this build, of how many (none when
    /// search is off).
    pub search: Option<(usize, usize)>,
    /// Whether the output folder was left as it was: every file was
    /// already published as it is.
    pub unchanged: bool,
    /// The search index left for later (`BuildOptions::skip_search`).
    pub search_job: Option<SearchJob>,
    /// Articles left out because they could not be read (keeping going).
    pub left_out: usize,
    /// Files of the content folder no page links to, not published.
    pub files_left_out: usize,
    pub elapsed: Duration,
}

/// The outcome of a build: warnings are worth showing either way, and so
/// are the errors a build kept going past.
#[derive(Debug)]
pub struct Build {
    pub warnings: Vec<Warning>,
    pub kept_going: Vec<Error>,
    pub result: Result<Summary, Errors>,
}

/// Builds the site. On any error the output folder is left as it was, and
/// every problem of every stage is reported.
pub fn build_site(options: &BuildOptions) -> Build {
    let started = Instant::now();
    let inputs = stamp_inputs(options);
    // Without a cache there is no record of a last build (and no lock to
    // take).
    if let Some((inputs, store)) = &inputs
        && store.dir().is_dir()
        && let Ok(_lock) = lock_site(store)
        && let Some((summary, warnings)) = inputs.up_to_date(store, started)
    {
        return Build {
            warnings,
            kept_going: Vec::new(),
            result: Ok(summary),
        };
    }
    if let Some((_, store)) = &inputs {
        // Until this build succeeds, no build is known to be up to date.
        let _ = std::fs::remove_file(store.record(crate::store::Record::Inputs));
    }
    let (prepared, mut problems) = prepare(options);
    if let Some(prepared) = &prepared
        && (options.keep_going || prepared.site.config.keep_going)
    {
        problems.keep_going();
    }
    let summary = match prepared {
        Some(prepared) if problems.errors.is_empty() => {
            let summary = write_site(prepared, options, started, &mut problems);
            // The record of a good build, with nothing it kept going past.
            if let (Some(summary), Some((inputs, store))) = (&summary, &inputs)
                && problems.kept_going.is_empty()
                && let Err(e) = inputs.record(store, summary, &problems.warnings)
            {
                problems.errors.push(e);
            }
            summary
        }
        // Nothing is published, but every file is still made, so that
        // template errors and broken links are reported with the rest.
        Some(Prepared { site, bodies }) => {
            make_site(&site, &bodies, &Discard, (Mode::Build, &mut problems));
            None
        }
        None => None,
    };
    // Notes are for `check`.
    let Problems {
        errors,
        warnings,
        kept_going,
        ..
    } = problems;
    let result = match summary {
        Some(summary) if errors.is_empty() => Ok(summary),
        _ => Err(Errors(errors)),
    };
    Build {
        warnings,
        kept_going,
        result,
    }
}

/// The inputs of this build, stamped before anything reads them, and the
/// store that keeps the last good build's; none when the build must do its
/// work whatever changed (or `kiln.toml` cannot be read: the build says
/// why).
fn stamp_inputs(options: &BuildOptions) -> Option<(Inputs, Store)> {
    // An empty root is the current folder.
    if !options.root.as_os_str().is_empty() && !options.root.is_dir() {
        return None;
    }
    let (config, _) = Config::read(&options.root).ok()?;
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&options.root));
    let inputs = Inputs::stamp(options, &config, &kiln_fingerprint(), &output)?;
    let store = Store::open(options.root.join(config.cache_dir()), options.fresh);
    Some((inputs, store))
}

/// Makes every file of a prepared site into a staging folder and swaps it
/// in when `problems` holds no error.
fn write_site(
    prepared: Prepared,
    options: &BuildOptions,
    started: Instant,
    problems: &mut Problems,
) -> Option<Summary> {
    let Prepared { site, bodies } = prepared;
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&site.root));
    let staging = Staging::new(&output, &site.store)
        .map_err(|e| problems.errors.push(e))
        .ok()?;
    let (_, made) = make_site(&site, &bodies, &staging, (Mode::Build, problems));
    let made = made?;
    let (search, search_job) = match stage_search(&site, options, &staging, &made.articles.files) {
        Ok(staged) => staged,
        Err(e) => {
            problems.errors.push(e);
            (None, None)
        }
    };
    if !problems.errors.is_empty() {
        return None;
    }
    let committed = staging.commit().map_err(|e| problems.errors.push(e)).ok()?;
    site.store.prune(site.config.cache_size);
    let (stale, unchanged) = match committed {
        Committed::Swapped { stale } => (stale, false),
        Committed::Patched => (None, false),
        Committed::Unchanged => (None, true),
    };
    Some(Summary {
        articles: site.content.articles.len(),
        pages: made.pages,
        assets: made.assets,
        output,
        stale,
        snippets: site.snippet_stats.clone(),
        rendered: made.articles.rendered,
        search,
        unchanged,
        search_job,
        left_out: problems
            .kept_going
            .iter()
            .filter(|e| e.leaves_article_out())
            .count(),
        files_left_out: made.left_out.len(),
        elapsed: started.elapsed(),
    })
}

/// The search index of a build: none with search off; staged (the bundles
/// indexed, of how many); or, with `skip_search`, a job for later.
type StagedSearch = (Option<(usize, usize)>, Option<SearchJob>);

fn stage_search(
    site: &Site,
    options: &BuildOptions,
    staging: &Staging,
    files: &[ArticleFile],
) -> Result<StagedSearch, Error> {
    if !site.config.search {
        return Ok((None, None));
    }
    let pages: Vec<SearchPage> = files
        .iter()
        .map(|f| SearchPage {
            url: format!("/{}/", site.content.articles[f.index].slug),
            file: f.file.clone(),
            hash: f.hash.clone(),
        })
        .collect();
    if options.skip_search {
        let job = SearchJob {
            pages,
            language: site.config.language.clone(),
            kiln: site.kiln.clone(),
            cache_dir: site.store.dir().to_owned(),
        };
        return Ok((None, Some(job)));
    }
    let bundles = build_bundles(&pages, &site.config.language, (&site.store, &site.kiln))?;
    // The bundles' files, as entries of the output registry.
    let plan: Vec<Planned<'_>> = bundles
        .files
        .into_iter()
        .map(|file| Planned {
            path: format!("{}{}", OwnPage::SearchBundle.path(), file.rel),
            make: Make::Link {
                file: file.file,
                hash: file.hash,
            },
            sitemap: None,
        })
        .collect();
    if let Some(error) = make_files(site, &plan, &[], staging).into_iter().next() {
        return Err(error);
    }
    Ok((Some((bundles.indexed, bundles.shards)), None))
}
