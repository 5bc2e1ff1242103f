//! Places every snippet in its article with its run and verdict, and
//! collects the snippets that failed (golden output included).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::judge::check_golden;
use super::{Embed, Error, Origin, Placed, RunOptions, Snippet, SnippetRun, judge};
use crate::content::Article;

/// Every snippet in its article's place with its run and verdict, and the
/// snippets that failed.
pub(super) struct Placement {
    pub(super) by_article: HashMap<usize, HashMap<usize, Placed>>,
    pub(super) failures: Vec<Error>,
    pub(super) count: usize,
    pub(super) failed: usize,
}

/// What placing snippets reads.
pub(super) struct Placing<'a> {
    pub(super) runs: &'a HashMap<String, Arc<SnippetRun>>,
    pub(super) cached: &'a HashSet<String>,
    /// The packages a snippet uses, with their versions.
    pub(super) packages: &'a (dyn Fn(&Snippet) -> Vec<(String, String)> + Sync),
    pub(super) articles: &'a [Article],
    pub(super) options: &'a RunOptions<'a>,
}

impl Placing<'_> {
    pub(super) fn place(
        &self,
        snippets: Vec<Snippet>,
        keys: Vec<String>,
        unavailable: Vec<(usize, usize)>,
    ) -> Placement {
        let mut placement = Placement {
            by_article: HashMap::new(),
            failures: Vec::new(),
            count: 0,
            failed: 0,
        };
        for (article, event) in unavailable {
            placement
                .by_article
                .entry(article)
                .or_default()
                .insert(event, Placed::Unavailable);
        }
        for (snippet, key) in snippets.into_iter().zip(keys) {
            let Some(run) = self.runs.get(&key).cloned() else {
                continue;
            };
            let verdict = judge(&snippet.options, snippet.is_inline(), &run);
            let mut problem = verdict.problem.clone();
            if problem.is_none()
                && let Origin::Linked { path } = &snippet.origin
            {
                let options = self.options;
                problem = check_golden(&options.root, path, &run, options.bless).err();
            }
            if let Some(message) = problem {
                placement.failed += 1;
                placement.failures.push(Error::Snippet {
                    article: self.articles[snippet.article].source.clone(),
                    line: snippet.line,
                    snippet: snippet.name(),
                    message,
                });
            }
            placement.count += 1;
            let crates = (self.packages)(&snippet);
            let event = snippet.event;
            let embed = Embed {
                snippet,
                run,
                verdict,
                crates,
                cached: self.cached.contains(&key),
                key,
            };
            placement
                .by_article
                .entry(embed.snippet.article)
                .or_default()
                .insert(event, Placed::Embed(Box::new(embed)));
        }
        placement
    }
}
