//! The offline full-text search index, built by Pagefind as a library while
//! the article pages are rendered. The browser loads the index in small
//! chunks, only when someone searches.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::Error;

/// The folder of the search bundle in the output.
pub const SEARCH_DIR: &str = "pagefind";

/// The bundle's files: a path relative to [`SEARCH_DIR`], and the bytes.
pub type BundleFiles = Vec<(String, Vec<u8>)>;

/// A background indexer: pages go in as they are rendered, the bundle's
/// files come out at the end.
pub struct SearchIndexer {
    sender: mpsc::SyncSender<(String, String)>,
    worker: JoinHandle<Result<BundleFiles, String>>,
}

impl std::fmt::Debug for SearchIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndexer").finish_non_exhaustive()
    }
}

impl SearchIndexer {
    /// Starts the indexer for pages in `language` (an ISO 639-1 code).
    pub fn start(language: &str) -> SearchIndexer {
        // A small queue: rendering never holds more than a few pages for it.
        let (sender, receiver) = mpsc::sync_channel::<(String, String)>(64);
        let language = language.to_owned();
        let worker = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let config = pagefind::options::PagefindServiceConfig::builder()
                    .force_language(language)
                    .build();
                let mut index =
                    pagefind::api::PagefindIndex::new(Some(config)).map_err(|e| e.to_string())?;
                while let Ok((url, html)) = receiver.recv() {
                    index
                        .add_html_file(None, Some(url.clone()), html)
                        .await
                        .map_err(|e| format!("cannot index `{url}`: {e}"))?;
                }
                let files = index.get_files().await.map_err(|e| e.to_string())?;
                Ok(files
                    .into_iter()
                    .map(|f| (f.filename.to_string_lossy().into_owned(), f.contents))
                    .collect())
            })
        });
        SearchIndexer { sender, worker }
    }

    /// Indexes a page published at `url` (a path from the site root, such
    /// as `/my-article/`; the browser adds the base path).
    pub fn add(&self, url: String, html: String) {
        // If the worker died, `finish` reports why.
        let _ = self.sender.send((url, html));
    }

    /// Waits for the index and returns its files, relative to
    /// [`SEARCH_DIR`].
    pub fn finish(self) -> Result<BundleFiles, Error> {
        drop(self.sender);
        let fail = |message: String| Error::Other {
            message: format!("the search index failed: {message}"),
        };
        match self.worker.join() {
            Ok(result) => result.map_err(fail),
            Err(_) => Err(fail("the indexer panicked".to_owned())),
        }
    }
}
