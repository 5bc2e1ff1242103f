//! `kiln serve`: build, serve on loopback, watch the sources, rebuild on a
//! change and reload the open pages. A failed rebuild keeps the last good
//! pages served and shows its errors over them.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use notify_debouncer_full::notify::RecursiveMode;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_status::SetStatus;
use tower_livereload::{LiveReloadLayer, Reloader};

use crate::config::{CONFIG_FILE, Config};
use crate::error::{CAUSED_BY, Error, Level, chain, print_labelled, print_labelled_line};
use crate::highlight::escape_html;
use crate::site::{Build, BuildOptions, build_site, default_output};
use crate::snippet::SNIPPET_DIR;
use crate::template::TEMPLATE_DIR;

/// What `kiln serve` was asked for.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site root.
    pub root: PathBuf,
    /// Publish articles marked `draft: true`.
    pub drafts: bool,
    /// Publish posts marked `private: true`.
    pub private: bool,
    pub bind: IpAddr,
    pub port: u16,
    pub open: bool,
}

/// How `serve` builds: into a folder of kiln's own under the cache, so it
/// never replaces the `public/` that `build` made, with `base_url = "/"`
/// (the server's root), and without the search index, which is made after
/// the pages are served (into its own folder, served at `/pagefind/`).
fn build_options(options: &ServeOptions) -> Result<(BuildOptions, Config), Error> {
    let config = Config::load(&options.root)?;
    let build = BuildOptions {
        output: Some(
            options
                .root
                .join(config.cache_dir())
                .join(crate::store::Area::Serve.folder()),
        ),
        drafts: options.drafts,
        private: options.private,
        base_url: Some("/".to_owned()),
        skip_search: true,
        // An author sees every other article while one is broken; the
        // overlay names the broken ones.
        keep_going: true,
        memo: Some(Arc::default()),
        ..BuildOptions::new(options.root.clone())
    };
    Ok((build, config))
}

/// What the server shows besides the site: the last build's errors.
#[derive(Debug, Default)]
struct Status {
    builds: u64,
    /// Article pages rendered (not reused) by all builds so far.
    rendered: usize,
    /// The terminal's message of the last failed build, if it failed.
    error: Option<String>,
    /// The search index jobs started, and whether the last one is still
    /// running: the pages are served before their index is made.
    search_jobs: u64,
    search_updating: bool,
    /// Held by the search job that runs: one at a time.
    search_turn: Arc<Mutex<()>>,
}

type Shared = Arc<Mutex<Status>>;

/// Runs until Ctrl-C. Errors only if the server cannot start.
pub fn serve(options: ServeOptions) -> Result<(), Error> {
    let (build, config) = build_options(&options)?;
    // The port first: a busy one fails at once, not after a whole build.
    let address = SocketAddr::new(options.bind, options.port);
    let listener = std::net::TcpListener::bind(address)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|e| {
            serve_error(
                format!("cannot listen on {address} (is another server there? `--port 0` picks a free port)"),
                e,
            )
        })?;
    // Builds run outside the server's runtime (the search indexer has its
    // own): the first one here, the next ones on the watcher's thread.
    let status: Shared = Arc::default();
    rebuild(&build, &status, "built");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| serve_error("cannot start the server", e))?;
    runtime.block_on(run(options, listener, (build, config), status))
}

async fn run(
    options: ServeOptions,
    listener: std::net::TcpListener,
    (build, config): (BuildOptions, Config),
    status: Shared,
) -> Result<(), Error> {
    let output = build
        .output
        .clone()
        .unwrap_or_else(|| default_output(&build.root));

    let livereload = LiveReloadLayer::new();
    let reloader = livereload.reloader();
    let not_found = SetStatus::new(
        ServeFile::new(output.join("404.html")),
        StatusCode::NOT_FOUND,
    );
    let app = Router::new()
        .route("/__kiln/status", get(status_json))
        .nest_service("/pagefind", ServeDir::new(search_folder(&build)))
        .fallback_service(ServeDir::new(&output).not_found_service(not_found))
        .layer(middleware::from_fn_with_state(
            status.clone(),
            error_overlay,
        ))
        .layer(middleware::from_fn(unservable))
        .layer(livereload)
        .with_state(status.clone());

    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| serve_error("cannot listen", e))?;
    let local = listener
        .local_addr()
        .map_err(|e| serve_error("cannot read the bound address", e))?;
    let url = format!("http://{local}/");
    println!("serving {url} (from `{}`; Ctrl-C stops)", output.display());
    if !options.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines",
            options.bind
        );
    }
    if options.open
        && let Err(e) = open::that_detached(&url)
    {
        print_labelled(Level::Warning, &format!("cannot open a browser: {e}"));
    }

    watch(&build, &config, status.clone(), reloader)?;
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    served.map_err(|e| serve_error("the server stopped", e))
}

fn serve_error(
    what: impl Into<String>,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::Serve {
        what: what.into(),
        source: Box::new(source),
    }
}

/// Builds, prints what happened as `kiln build` would, and records it.
fn rebuild(options: &BuildOptions, status: &Shared, verb: &str) {
    let started = Instant::now();
    let Build {
        warnings,
        kept_going,
        result,
    } = build_site(options);
    for warning in &warnings {
        print_labelled(Level::Warning, &warning.to_string());
    }
    let mut past = String::new();
    for error in &kept_going {
        past.push_str(&format!("error: {}\n", chain(error, CAUSED_BY)));
    }
    let mut rendered = None;
    let mut job = None;
    let error = match result {
        Ok(summary) => {
            rendered = Some(summary.rendered);
            job = summary.search_job;
            println!(
                "{verb} {} articles ({} rendered, the rest unchanged) in {} ms",
                summary.articles,
                summary.rendered,
                started.elapsed().as_millis()
            );
            if let Some(stale) = summary.stale {
                std::thread::spawn(move || std::fs::remove_dir_all(stale));
            }
            // The rest is served; the overlay shows what is broken.
            (!past.is_empty()).then(|| {
                past.lines().for_each(print_labelled_line);
                format!("{past}the other pages are served as they are now")
            })
        }
        Err(errors) => {
            let mut text = String::new();
            for error in &errors.0 {
                text.push_str(&format!("error: {}\n", chain(error, CAUSED_BY)));
            }
            text.push_str(&format!("error: {errors}; the last good pages stay served"));
            text.lines().for_each(print_labelled_line);
            Some(text)
        }
    };
    if let Ok(mut status) = status.lock() {
        status.builds += 1;
        status.error = error;
        status.rendered += rendered.unwrap_or(0);
    }
    if let Some(job) = job {
        start_search(job, search_folder(options), status.clone());
    }
}

/// Where `serve` keeps the search bundle it serves at `/pagefind/`.
fn search_folder(options: &BuildOptions) -> PathBuf {
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| default_output(&options.root));
    output.with_file_name("serve-search")
}

/// Indexes the served pages in the background; the status says "search
/// index updating" until the newest job is done. Jobs run one at a time,
/// and a job that a newer one has overtaken is skipped.
fn start_search(job: crate::search::SearchJob, folder: PathBuf, status: Shared) {
    let (generation, turn) = match status.lock() {
        Ok(mut s) => {
            s.search_jobs += 1;
            s.search_updating = true;
            (s.search_jobs, s.search_turn.clone())
        }
        Err(_) => return,
    };
    std::thread::spawn(move || {
        let _turn = turn.lock();
        let latest = || {
            status
                .lock()
                .map(|s| s.search_jobs == generation)
                .unwrap_or(false)
        };
        if !latest() {
            return;
        }
        let started = Instant::now();
        match job.run(&folder) {
            Ok((indexed, bundles, stale)) => {
                if indexed > 0 {
                    println!(
                        "search index updated ({indexed} of {bundles} bundle{} indexed) in {} ms",
                        if bundles == 1 { "" } else { "s" },
                        started.elapsed().as_millis()
                    );
                }
                if let Some(stale) = stale {
                    let _ = std::fs::remove_dir_all(stale);
                }
            }
            Err(e) => print_labelled(
                Level::Error,
                &format!("the search index: {}", chain(&e, CAUSED_BY)),
            ),
        }
        if let Ok(mut s) = status.lock()
            && s.search_jobs == generation
        {
            s.search_updating = false;
        }
    });
}

/// Watches the site's sources and rebuilds on a change. The returned
/// debouncer stops watching when dropped.
fn watch(
    options: &BuildOptions,
    config: &Config,
    status: Shared,
    reloader: Reloader,
) -> Result<(), Error> {
    let root = options.root.clone();
    let dirs: Vec<PathBuf> = [
        config.content_dir.as_path(),
        Path::new(TEMPLATE_DIR),
        Path::new(SNIPPET_DIR),
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    let written = written_by_builds(options, config);
    let config_file = root.join(CONFIG_FILE);
    let relevant = {
        let dirs = dirs.clone();
        // `dirs` itself moves into the watcher's thread below.
        let config_file = config_file.clone();
        move |path: &Path| {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            // `.git/` and other hidden folders are no content either.
            let hidden = path.components().any(|c| {
                matches!(c, std::path::Component::Normal(name) if name.to_string_lossy().starts_with('.'))
            });
            (dirs.iter().any(|d| path.starts_with(d)) || path == config_file)
                && !written.iter().any(|w| absolute.starts_with(w))
                && !hidden
        }
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let mut debouncer =
        notify_debouncer_full::new_debouncer(Duration::from_millis(50), None, sender)
            .map_err(|e| serve_error("cannot watch the site", e))?;
    let fail = |path: &Path, e: notify_debouncer_full::notify::Error| {
        serve_error(format!("cannot watch `{}`", path.display()), e)
    };
    let mut watched = Vec::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        debouncer
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| fail(dir, e))?;
        watched.push(dir.clone());
    }
    // The root itself, for `kiln.toml` and for folders created later.
    let root_dir = if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root.clone()
    };
    debouncer
        .watch(&root_dir, RecursiveMode::NonRecursive)
        .map_err(|e| fail(&root_dir, e))?;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let root_abs = absolute(&root_dir);
    let options = options.clone();
    // The thread owns the watcher: it watches as long as the server runs.
    std::thread::spawn(move || {
        for events in receiver {
            let Ok(events) = events else { continue };
            // A source folder created after the start (say `templates/`) is
            // watched from now on.
            for dir in &dirs {
                if dir.is_dir()
                    && !watched.contains(dir)
                    && debouncer.watch(dir, RecursiveMode::Recursive).is_ok()
                {
                    watched.push(dir.clone());
                }
            }
            // Reading the sources during a build is reported too (as access
            // events): only changes count, or every build would start another.
            let changed = events
                .iter()
                .filter(|e| !e.kind.is_access() && !e.kind.is_other())
                .flat_map(|e| e.paths.iter())
                .any(|p| {
                    let rel = p.strip_prefix(&root_abs).unwrap_or(p);
                    relevant(&root.join(rel))
                });
            if changed {
                rebuild(&options, &status, "rebuilt");
                reloader.reload();
            }
        }
    });
    Ok(())
}

/// What builds write (the cache and the output), as absolute paths: never
/// a reason to build again (the content folder may be the root, which
/// holds them).
fn written_by_builds(options: &BuildOptions, config: &Config) -> Vec<PathBuf> {
    let root = &options.root;
    [
        root.join(config.cache_dir()),
        options
            .output
            .clone()
            .unwrap_or_else(|| default_output(root)),
    ]
    .into_iter()
    .map(|p| std::path::absolute(&p).unwrap_or(p))
    .collect()
}

/// The longest URL path `serve` reads; past it, 414.
const LONGEST_PATH: usize = 4096;

/// A path no file system could hold (too long, or a part longer than a
/// file name may be) is the site's 404, or 414 for an overlong one,
/// never a server error.
async fn unservable(
    mut request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path.len() > LONGEST_PATH {
        return (StatusCode::URI_TOO_LONG, "URI too long\n").into_response();
    }
    let too_long = path
        .split('/')
        .any(|part| percent_encoding::percent_decode_str(part).count() > 255);
    if too_long {
        *request.uri_mut() = axum::http::Uri::from_static("/__kiln/no-such-page");
    }
    next.run(request).await
}

async fn status_json(State(status): State<Shared>) -> impl IntoResponse {
    let (builds, rendered, error, updating, jobs) = match status.lock() {
        Ok(s) => (
            s.builds,
            s.rendered,
            s.error.clone(),
            s.search_updating,
            s.search_jobs,
        ),
        Err(_) => (0, 0, None, false, 0),
    };
    let body = serde_json::json!({
        "builds": builds,
        "rendered": rendered,
        "ok": error.is_none(),
        "error": error,
        "search": if updating { "search index updating" } else { "search index ready" },
        "search_jobs": jobs,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

/// While the last build failed, every HTML page carries its errors on top.
async fn error_overlay(
    State(status): State<Shared>,
    request: Request<Body>,
    next: Next,
) -> Response<Body> {
    let response = next.run(request).await;
    let (error, updating) = status
        .lock()
        .map(|s| (s.error.clone(), s.search_updating))
        .unwrap_or_default();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html || (error.is_none() && !updating) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let overlay = match error {
        Some(error) => error_html(&error),
        None => SEARCH_UPDATING.to_owned(),
    };
    let injected = match html.rfind("</body>") {
        Some(at) => format!("{}{overlay}{}", &html[..at], &html[at..]),
        None => format!("{html}{overlay}"),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(injected))
}

/// The note shown while the served pages' search index is being made.
const SEARCH_UPDATING: &str = "<div id=\"kiln-search-status\" role=\"status\" style=\"position:fixed;right:1rem;bottom:1rem;z-index:2147483646;background:#223;color:#eef;font:13px/1.4 system-ui,sans-serif;padding:.4rem .7rem;border-radius:6px;opacity:.9\">kiln: search index updating…</div>";

/// The overlay over every page while the last build failed or left
/// something out.
fn error_html(error: &str) -> String {
    format!(
        "<div id=\"kiln-error-overlay\" role=\"alert\" style=\"position:fixed;inset:0;z-index:2147483647;overflow:auto;background:#141418;color:#ffd7d7;font:14px/1.5 ui-monospace,monospace;padding:2rem\"><button type=\"button\" onclick=\"this.parentElement.remove()\" style=\"float:right;font:600 1rem system-ui,sans-serif;padding:.3rem .8rem;cursor:pointer\">Close</button><h2 style=\"color:#fff;font:600 1.3rem system-ui,sans-serif\">kiln: problems in the last build</h2><pre style=\"white-space:pre-wrap\">{}</pre><p style=\"color:#ccc;font-family:system-ui,sans-serif\">Fix it and save: the page reloads. Until then the pages kiln could build are served under this message.</p></div>",
        escape_html(error)
    )
}
