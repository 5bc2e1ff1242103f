//! The authoring loop: `kiln new` and `kiln serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Site, assert_says, text};

#[test]
fn new_writes_an_article_and_snippet_that_build_accepts() {
    let site = Site::new();
    let run = site.kiln(&[
        "new",
        "My note: first & best",
        "--tags",
        "rust, notes",
        "--snippet",
    ]);
    run.assert_ok();
    assert!(
        run.stdout.contains("wrote content/my-note-first-best.md"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("wrote snippets/my_note_first_best.rs"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kiln serve --drafts"), "{}", run.stdout);
    // A draft, whose placeholders a plain build never publishes.
    let text_written = std::fs::read_to_string(site.path("content/my-note-first-best.md")).unwrap();
    assert!(text_written.contains("draft: true"), "{text_written}");
    site.build();
    assert!(!site.exists("public/my-note-first-best/index.html"));
    let built = site.kiln(&["build", "--drafts"]);
    built.assert_ok();
    // `check` names the placeholder TL;DR it left.
    let check = site.kiln(&["check", "--drafts"]);
    assert_says(
        &check,
        "the TL;DR is still the placeholder `kiln new` wrote",
    );
    assert!(
        built.stdout.contains("snippets: 1 (0 cached)"),
        "{}",
        built.stdout
    );
    let page = site.page("my-note-first-best/index.html");
    assert_eq!(text(&page.one("h1")), "My note: first & best");
    assert_eq!(page.texts(".article-header .tags a"), ["rust", "notes"]);
    // The `[TOC]` where the author put it, and the side column's copy
    // (the stylesheet shows one of them at a time).
    assert_eq!(page.select(".article-body nav.toc").len(), 1);
    assert_eq!(page.select(".sidebar nav.toc").len(), 1);
    assert_eq!(
        text(&page.one(".snippet-output samp")),
        "This snippet was compiled, run, shown."
    );
    assert_eq!(page.select(".article-header time").len(), 2);
}

#[test]
fn new_refuses_to_overwrite() {
    let site = Site::new();
    site.file("content/taken.md", "---\ntitle: Mine\n---\nkeep me\n");
    let run = site.kiln(&["new", "Taken"]);
    run.assert_failed();
    assert_says(
        &run,
        "`content/taken.md` already exists; kiln new never overwrites a file",
    );
    assert_eq!(
        std::fs::read_to_string(site.path("content/taken.md")).unwrap(),
        "---\ntitle: Mine\n---\nkeep me\n"
    );
    // A snippet in the way stops it too, before anything is written.
    site.file("snippets/other.rs", "fn main() {}\n");
    site.kiln(&["new", "Other", "--snippet"]).assert_failed();
    assert!(!site.exists("content/other.md"));
}

#[test]
fn new_under_a_root_names_it_in_its_hint() {
    let site = Site::new();
    let run = site.kiln(&["new", "Elsewhere", "--root", "kb"]);
    run.assert_ok();
    assert!(
        run.stdout.contains("kiln serve --drafts --root kb"),
        "{}",
        run.stdout
    );
    assert!(site.exists("kb/content/elsewhere.md"));
}

#[test]
fn init_starts_a_knowledge_base_that_builds_with_its_snippet_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = crate::common::kiln_in(dir.path(), &["init", "team kb", "--title", "Team notes"]);
    run.assert_ok();
    assert!(
        run.stdout.contains("cd 'team kb' && kiln serve"),
        "{}",
        run.stdout
    );
    let root = dir.path().join("team kb");
    for file in [
        "kiln.toml",
        "content/welcome.md",
        "snippets/hello.rs",
        "snippets/Cargo.toml",
        ".gitignore",
        ".github/workflows/kiln.yml",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
    let ignored = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(
        ignored.contains("/public/") && ignored.contains("/.kiln-cache/"),
        "{ignored}"
    );
    let built = crate::common::kiln_in(&root, &["build"]);
    built.assert_ok();
    assert!(
        built.stdout.contains("snippets: 1 (0 cached)"),
        "{}",
        built.stdout
    );
    // Its `[dependencies]` is empty: there is nothing for cargo to build.
    assert!(
        !built.stdout.contains("cargo") && !built.stderr.contains("cargo"),
        "{}{}",
        built.stdout,
        built.stderr
    );
    assert!(!root.join("snippets/Cargo.lock").exists());
    let page = crate::common::Page(scraper::Html::parse_document(
        &std::fs::read_to_string(root.join("public/welcome/index.html")).unwrap(),
    ));
    assert_eq!(
        text(&page.one(".snippet-output samp")),
        "This snippet was compiled, run, shown."
    );
    assert!(
        page.texts("title")[0].contains("Team notes"),
        "{:?}",
        page.texts("title")
    );
    crate::common::kiln_in(&root, &["check"]).assert_ok();
}

#[test]
fn init_twice_overwrites_nothing() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::kiln_in(dir.path(), &["init", "--title", "Ours"]).assert_ok();
    let config = dir.path().join("kiln.toml");
    std::fs::write(&config, "title = \"Edited by hand\"\n").unwrap();
    let again = crate::common::kiln_in(dir.path(), &["init", "--title", "Other"]);
    again.assert_ok();
    assert!(
        again.stdout.contains("kept kiln.toml (already there)"),
        "{}",
        again.stdout
    );
    assert!(!again.stdout.contains("wrote"), "{}", again.stdout);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "title = \"Edited by hand\"\n"
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = crate::common::kiln_in(dir.path(), &["completions", shell]);
        run.assert_ok();
        for command in ["build", "check", "init", "new", "serve"] {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    // A shell clap does not know is a usage error (exit 2), naming the value.
    let unknown = crate::common::kiln_in(dir.path(), &["completions", "klingon"]);
    assert_eq!(unknown.code, 2);
    assert_says(&unknown, "invalid value 'klingon'");
}

#[test]
fn serve_on_a_busy_port_fails_before_building_and_says_what_to_do() {
    let site = Site::new();
    site.file("content/a.md", crate::common::article("A", "x\n"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut child = crate::common::kiln_command(site.root(), &["serve", "--port", &port])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("serve kept running on a busy port");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("`--port 0` picks a free port"), "{stderr}");
    assert!(!site.exists(".kiln-cache/serve"), "it built before binding");
}

/// A running `kiln serve`, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(site: &Site) -> Server {
    let mut child = crate::common::kiln_command(site.root(), &["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("serving http://127.0.0.1:") {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, port }
}

/// A raw HTTP/1.1 GET, so that paths such as `/../x` reach the server as
/// written. Returns the status and the (de-chunked) body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let chunked = head.to_lowercase().contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Opens the live-reload event stream and waits for its first event.
fn events(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /_tower-livereload/event-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .unwrap();
    wait_for(&mut stream, "event: init");
    stream
}

fn wait_for(stream: &mut TcpStream, needle: &str) {
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    while !seen.contains(needle) {
        let n = stream.read(&mut buf).expect("the event came in time");
        assert!(n > 0, "the event stream closed before {needle:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

fn status(port: u16) -> serde_json::Value {
    serde_json::from_str(&get(port, "/__kiln/status").1).unwrap()
}

/// Polls the server's build status until `done` holds (20 s at most).
fn wait_until(port: u16, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let state = status(port);
        if done(&state) {
            return state;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stuck at {state}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_reloads_on_edits_and_survives_bad_ones() {
    let site = Site::new();
    site.file(
        "content/a.md",
        "---\ntitle: First title\n---\n## Hello\n\nBody text.\n",
    );
    let server = start_server(&site);
    let port = server.port;

    let (code, html) = get(port, "/a/");
    assert_eq!(code, 200);
    let page = scraper::Html::parse_document(&html);
    let h1 = scraper::Selector::parse("h1").unwrap();
    assert_eq!(
        page.select(&h1).next().unwrap().text().collect::<String>(),
        "First title"
    );
    // The reload script is in served pages only, never in the files.
    assert!(html.contains("_tower-livereload"));
    let built = std::fs::read_to_string(site.path(".kiln-cache/serve/a/index.html")).unwrap();
    assert!(!built.contains("_tower-livereload"));
    assert!(!site.exists("public"), "serve must not touch public/");

    // An edit: a reload event, then the new page.
    let mut stream = events(port);
    let edited = Instant::now();
    site.file(
        "content/a.md",
        "---\ntitle: Second title\n---\n## Hello\n\nBody text.\n",
    );
    wait_for(&mut stream, "event: reload");
    eprintln!("edit to reload event: {} ms", edited.elapsed().as_millis());
    let (_, html) = get(port, "/a/");
    assert!(html.contains("Second title"));

    // A bad edit: the server stays up and keeps going: every page, the
    // broken article's own URL (now the 404 page) too, says why.
    site.file("content/a.md", "---\ntitle: [broken\n---\n");
    let state = wait_until(port, |s| s["ok"] == false);
    let error = state["error"].as_str().unwrap();
    assert!(error.contains("content/a.md:"), "{error}");
    for (path, expected) in [("/", 200), ("/a/", 404)] {
        let (code, html) = get(port, path);
        assert_eq!(code, expected, "{path}");
        let page = scraper::Html::parse_document(&html);
        let overlay = scraper::Selector::parse("#kiln-error-overlay pre").unwrap();
        let shown = page
            .select(&overlay)
            .next()
            .expect("an error overlay")
            .text()
            .collect::<String>();
        assert_eq!(shown, error, "{path}");
    }

    // Fixed again: the overlay is gone.
    site.file("content/a.md", "---\ntitle: Third title\n---\nok\n");
    wait_until(port, |s| s["ok"] == true);
    let (_, html) = get(port, "/a/");
    assert!(html.contains("Third title") && !html.contains("kiln-error-overlay"));

    // Building reads the sources; that must not count as a change.
    std::thread::sleep(Duration::from_millis(500));
    let before = status(port)["builds"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        status(port)["builds"].as_u64().unwrap(),
        before,
        "rebuilds without edits"
    );
}

#[test]
fn serve_makes_the_search_index_after_the_pages() {
    let site = Site::new();
    site.file("content/a.md", "---\ntitle: A\n---\nA zeppelin.\n");
    let server = start_server(&site);
    let port = server.port;
    // The pages are served first; the index follows in the background.
    let ready = |jobs: u64| {
        move |s: &serde_json::Value| {
            s["search_jobs"].as_u64().unwrap_or(0) >= jobs && s["search"] == "search index ready"
        }
    };
    wait_until(port, ready(1));
    assert_eq!(get(port, "/pagefind/pagefind-entry.json").0, 200);
    assert_eq!(get(port, "/pagefind/pagefind-ui.js").0, 200);
    let (_, html) = get(port, "/a/");
    assert!(!html.contains("kiln-search-status"), "{html}");
    // An edit: a new index for the new text.
    let entry = || get(port, "/pagefind/pagefind-entry.json").1;
    let before = entry();
    site.file(
        "content/a.md",
        "---\ntitle: A\n---\nA zeppelin and a xylophone.\n",
    );
    wait_until(port, ready(2));
    assert_ne!(entry(), before, "the index did not change");
    assert!(!site.exists("public"), "serve must not touch public/");
}

#[test]
fn serve_refuses_paths_outside_the_site() {
    let site = Site::new();
    site.file("content/a.md", "---\ntitle: A\n---\nx\n")
        .file("kiln.toml", "title = \"SECRET-CONFIG\"\n");
    let server = start_server(&site);
    let outside = [
        "/../kiln.toml",
        "/../../kiln.toml",
        "/%2e%2e/kiln.toml",
        "/%2E%2E%2Fkiln.toml",
        "/..%2f..%2fkiln.toml",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/a/../../../../etc/passwd",
    ];
    for path in outside {
        let (code, body) = get(server.port, path);
        assert!(code == 404 || code == 400, "{path} gave {code}");
        assert!(!body.contains("root:x:0:0"), "{path} leaked /etc/passwd");
        assert!(
            !body.contains("title = \"SECRET-CONFIG\""),
            "{path} leaked kiln.toml"
        );
    }
    // The 404 page is the site's own.
    let (code, body) = get(server.port, "/no-such-page/");
    assert_eq!(code, 404);
    assert!(body.contains("Page not found"));
    // A name longer than a file system allows is a 404 too, and an
    // overlong URL a 414: never a server error.
    let (code, body) = get(server.port, &format!("/{}/", "a".repeat(300)));
    assert_eq!(code, 404);
    assert!(body.contains("Page not found"));
    assert_eq!(get(server.port, &format!("/{}", "a".repeat(10_000))).0, 414);
    assert_eq!(get(server.port, &"/a".repeat(1_000)).0, 404);
    assert_eq!(get(server.port, "/a/").0, 200);
}

#[test]
fn serve_re_renders_only_the_articles_that_changed() {
    let site = Site::new();
    site.file(
        "content/a.md",
        "---\ntitle: A\ntags: [t]\n---\nSee [b](b.md).\n",
    )
    .file("content/b.md", "---\ntitle: B\n---\n## Part\n")
    .file("content/c.md", "---\ntitle: C\n---\nc\n");
    let server = start_server(&site);
    let port = server.port;
    assert_eq!(status(port)["rendered"], 3);

    // Pages rendered (rather than reused) by the builds an edit causes.
    let rendered_by = |edit: &dyn Fn(), page: &str, expect: &str| {
        let before = status(port)["rendered"].as_u64().unwrap();
        edit();
        let started = Instant::now();
        while !get(port, page).1.contains(expect) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{page} never showed {expect}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let any second build of the same edit finish.
        std::thread::sleep(Duration::from_millis(400));
        status(port)["rendered"].as_u64().unwrap() - before
    };

    // One article's text: only it is rendered again (list pages always are).
    let n = rendered_by(
        &|| {
            site.file("content/c.md", "---\ntitle: C edited\n---\nc\n");
        },
        "/c/",
        "C edited",
    );
    assert_eq!(n, 1);
    assert!(get(port, "/").1.contains("C edited"));

    // A new URL for b: b and a (whose link to b changes) render; c does not.
    let n = rendered_by(
        &|| {
            site.file("content/b.md", "---\ntitle: B\nslug: bee\n---\n## Part\n");
        },
        "/a/",
        "href=\"../bee/index.html\"",
    );
    assert_eq!(n, 2);

    // A template change renders every page; `templates/` did not exist when
    // serve started, and is watched from then on.
    let template = |text: &str| {
        site.file(
            "templates/article.html",
            format!("{{% extends \"base.html\" %}}{{% block content %}}<h1>{{{{ article.title }}}}</h1><p>{text}</p>{{% endblock content %}}"),
        );
    };
    assert_eq!(rendered_by(&|| template("new look"), "/a/", "new look"), 3);
    assert_eq!(
        rendered_by(&|| template("newer look"), "/a/", "newer look"),
        3
    );
    // A template only lists use: no article renders.
    let n = rendered_by(
        &|| {
            site.file(
                "templates/tag.html",
                "{% extends \"base.html\" %}{% block content %}<h1>Tagged {{ tag.name }}</h1>{% endblock content %}",
            );
        },
        "/tags/t/",
        "Tagged t",
    );
    assert_eq!(n, 0);
}
