//! Publishing: feed, sitemap, robots, 404, search, subpath hosting, and
//! `kiln check`.

use std::path::Path;

use crate::common::{Site, article, assert_not_says, assert_says, build_repo_site, kiln_in, text};

fn read(site: &Site, rel: &str) -> String {
    std::fs::read_to_string(site.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn two_articles(base_url: &str) -> Site {
    let site = Site::new();
    site.file("kiln.toml", format!("title = \"KB & co\"\nbase_url = \"{base_url}\"\n"))
        .file(
            "content/old.md",
            "---\ntitle: Old <one>\nauthors: [Ann]\ntags: [net]\ncreated_at: 2020-01-01\ntldr: An **old** one.\n---\n## Body\n\nThe zeppelin paragraph.\n",
        )
        .file(
            "content/new.md",
            "---\ntitle: New\ncreated_at: 2024-01-01\nupdated_at: 2024-02-01\n---\n[old](old.md#body)\n",
        );
    site
}

#[test]
fn atom_feed_and_sitemap_parse_and_carry_the_base_url() {
    let site = two_articles("https://example.org/kb/");
    site.build();
    let atom = read(&site, "public/atom.xml");
    let doc = roxmltree::Document::parse(&atom).expect("atom.xml is XML");
    let ns = "http://www.w3.org/2005/Atom";
    let feed = doc.root_element();
    assert_eq!(feed.tag_name().name(), "feed");
    assert_eq!(feed.tag_name().namespace(), Some(ns));
    let entries: Vec<_> = feed
        .children()
        .filter(|n| n.has_tag_name((ns, "entry")))
        .collect();
    assert_eq!(entries.len(), 2);
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|n| n.has_tag_name((ns, name)))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    // Newest first, with ids, links, dates, summary and full content.
    assert_eq!(child_text(entries[0], "title").as_deref(), Some("New"));
    assert_eq!(
        child_text(entries[0], "id").as_deref(),
        Some("https://example.org/kb/new/")
    );
    assert_eq!(
        child_text(entries[0], "updated").as_deref(),
        Some("2024-02-01T00:00:00+00:00")
    );
    assert_eq!(
        child_text(entries[1], "title").as_deref(),
        Some("Old <one>")
    );
    assert!(
        child_text(entries[1], "summary")
            .unwrap()
            .contains("<strong>old</strong>")
    );
    assert!(
        child_text(entries[1], "content")
            .unwrap()
            .contains("zeppelin")
    );
    let content = child_text(entries[0], "content").unwrap();
    assert!(content.contains("href=\"/kb/old/#body\""), "{content}");
    assert_eq!(
        child_text(feed, "updated").as_deref(),
        Some("2024-02-01T00:00:00+00:00")
    );
    for link in doc.descendants().filter(|n| n.has_tag_name((ns, "link"))) {
        assert!(
            link.attribute("href")
                .unwrap()
                .starts_with("https://example.org/kb/")
        );
    }

    let sitemap = read(&site, "public/sitemap.xml");
    let doc = roxmltree::Document::parse(&sitemap).expect("sitemap.xml is XML");
    let sm = "http://www.sitemaps.org/schemas/sitemap/0.9";
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((sm, "loc")))
        .filter_map(|n| n.text())
        .collect();
    for page in ["", "new/", "old/", "tags/", "tags/net/", "authors/ann/"] {
        assert!(
            locs.contains(&format!("https://example.org/kb/{page}").as_str()),
            "{page} missing: {locs:?}"
        );
    }
    let lastmods: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((sm, "lastmod")))
        .filter_map(|n| n.text())
        .collect();
    assert!(lastmods.contains(&"2024-02-01"));

    assert_eq!(
        read(&site, "public/robots.txt"),
        "User-agent: *\nAllow: /\nSitemap: https://example.org/kb/sitemap.xml\n"
    );
    let not_found = site.page("404.html");
    assert_eq!(text(&not_found.one("h1")), "Page not found");
    assert!(
        not_found
            .attrs("link[rel=stylesheet]", "href")
            .iter()
            .all(|h| h.starts_with("/kb/"))
    );
}

/// Runs Pagefind's own search code in Node over a built site.
fn search(public: &Path, query: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/search/search.mjs");
    let output = std::process::Command::new("node")
        .arg(script)
        .arg(public)
        .arg(query)
        .output()
        .expect("node runs (it is on the machine; see .ci/run)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    results
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn search_finds_an_article_by_a_word_of_its_body() {
    let site = two_articles("/");
    site.build();
    assert_eq!(search(&site.path("public"), "zeppelin"), ["/old/"]);
    assert!(search(&site.path("public"), "xylophone").is_empty());
    // Every page has the search box; the search page loads the bundle.
    let page = site.page("new/index.html");
    assert_eq!(
        page.attrs("form[role=search]", "action"),
        ["../search/index.html"]
    );
    let search_page = site.page("search/index.html");
    assert_eq!(
        search_page.attrs("script[src]", "src"),
        ["../static/kiln.js", "../pagefind/pagefind-ui.js"]
    );
}

#[test]
fn a_large_site_is_searched_across_its_bundles() {
    // More articles than one bundle holds: the index comes in shards,
    // which the search page merges.
    let site = Site::new();
    // A word of letters only for each post: `uniqaaazt`, `uniqaabzt`, …
    let word = |i: usize| {
        let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
        format!("uniq{}{}{}zt", letter(i / 676), letter(i / 26), letter(i))
    };
    for i in 0..300 {
        site.file(
            &format!("content/post-{i:03}.md"),
            article(
                &format!("Post {i}"),
                &format!("Common words and {} here.", word(i)),
            ),
        );
    }
    let run = site.build();
    assert!(
        run.stdout.contains("search index built in 2 bundles"),
        "{}",
        run.stdout
    );
    let public = site.path("public");
    assert!(
        public
            .join("pagefind/shard-1/pagefind-entry.json")
            .is_file()
    );
    for i in [0, 77, 150, 299] {
        assert_eq!(search(&public, &word(i)), [format!("/post-{i:03}/")]);
    }
    assert_eq!(search(&public, "common").len(), 300);
    let bundles = site
        .page("search/index.html")
        .attrs("#search", "data-bundles");
    assert_eq!(bundles, ["pagefind/shard-1/"]);
}

#[test]
fn the_seed_article_is_found_by_a_word_of_its_body() {
    let out = tempfile::tempdir().unwrap();
    let public = build_repo_site(out.path(), &[]);
    assert_eq!(
        search(&public, "descriptor"),
        ["/socket-shutdown-vs-close/"]
    );
}

/// Every `href` and `src` of every page, resolved the way a server at
/// `prefix` would: each must name a file of the site.
fn assert_no_broken_links(public: &Path, prefix: &str) -> usize {
    let mut checked = 0;
    let mut stack = vec![public.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let html = scraper::Html::parse_document(&std::fs::read_to_string(&path).unwrap());
            let selector = scraper::Selector::parse("[href], [src]").unwrap();
            for element in html.select(&selector) {
                let url = element
                    .value()
                    .attr("href")
                    .or(element.value().attr("src"))
                    .unwrap();
                if url.starts_with('#') || url.contains("://") {
                    continue;
                }
                let url = url.split(['#', '?']).next().unwrap();
                // A relative URL (every page's own) works under any prefix;
                // an absolute one must carry the prefix.
                let page = path.strip_prefix(public).unwrap().to_string_lossy();
                let resolved;
                let inside = if url.starts_with('/') {
                    url.strip_prefix(prefix).unwrap_or_else(|| {
                        panic!("{}: `{url}` is not under `{prefix}`", path.display())
                    })
                } else {
                    resolved = crate::common::site_path(&page, url);
                    resolved.trim_start_matches('/')
                };
                let mut file = public.join(inside);
                if inside.is_empty() || inside.ends_with('/') {
                    file = file.join("index.html");
                }
                assert!(file.is_file(), "{}: `{url}` names no file", path.display());
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn the_site_works_from_a_subpath_and_from_the_root() {
    for prefix in ["/kb/", "/"] {
        let out = tempfile::tempdir().unwrap();
        let public = build_repo_site(out.path(), &["--base-url", prefix]);
        let checked = assert_no_broken_links(&public, prefix);
        assert!(checked > 20, "only {checked} links checked");
    }
}

#[test]
fn check_is_green_on_the_repo() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = kiln_in(Path::new(root), &["check", "--root", root]);
    run.assert_ok();
    let articles = walkdir::WalkDir::new(Path::new(root).join("content"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("md".as_ref()))
        .count();
    let expected = format!("checked {articles} articles,");
    assert!(
        articles > 1 && run.stdout.contains(&expected),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("no problems\n"), "{}", run.stdout);
}

#[test]
fn check_reports_broken_links_anchors_and_images_and_writes_nothing() {
    let site = Site::new();
    site.file(
        "content/a.md",
        article(
            "A",
            "## Here\n\n[ok](b.md#there) [ok too](#here) [gone](missing.md)\n\n[bad anchor](b.md#nowhere)\n\n![pic](img/none.png)\n\n[self](#nope) [abs](/b/#there) [abs bad](/c/)\n\n[outside](../README.md)\n",
        ),
    )
    .file("content/b.md", "---\ntitle: B\nthumbnail: img/thumb.png\ntgas: [x]\n---\n## There\n");
    let run = site.kiln(&["check"]);
    run.assert_failed();
    let expected = [
        "error: content/a.md:9: link `missing.md` points at `content/missing.md`, which does not exist",
        "error: content/a.md:11: link `b.md#nowhere` points at `#nowhere`, which is no heading id of its page",
        "error: content/a.md:13: image `img/none.png` points at `content/img/none.png`, which does not exist",
        "error: content/a.md:15: link `#nope` points at `#nope`, which is no heading id of its page",
        "error: content/a.md:15: link `/c/` points at no page or file of the site",
        "error: content/b.md:3: thumbnail `img/thumb.png` points at `content/img/thumb.png`, which does not exist",
        "warning: content/b.md:4: unknown front matter field `tgas`; did you mean `tags`?",
    ];
    for line in expected {
        assert_says(&run, line);
    }
    assert_says(&run, "content/a.md:17: link `../README.md`");
    assert_not_says(&run, "`b.md#there`");
    assert_not_says(&run, "`/b/#there`");
    assert!(
        run.stdout
            .contains("checked 2 articles, 10 links and 0 snippets: 8 problems"),
        "{}",
        run.stdout
    );
    assert!(!site.exists("public"));
}

#[test]
fn check_reports_front_matter_and_snippet_problems_together() {
    let site = Site::new();
    site.file("content/bad.md", "---\ntitle: [\n---\n")
        .file(
            "content/s.md",
            "---\ntitle: S\n---\n```rust\npanic!(\"no\");\n```\n\n[g.rs](../snippets/g.rs)\n",
        )
        .file("snippets/g.rs", "fn main() { println!(\"new\"); }\n")
        .file("snippets/g.stdout", "old\n");
    let run = site.kiln(&["check"]);
    run.assert_failed();
    assert_says(&run, "error: content/bad.md:");
    assert_says(&run, "error: content/s.md:4: inline snippet: panicked");
    assert_says(
        &run,
        "error: content/s.md:8: snippet `snippets/g.rs`: its stdout differs",
    );
    assert!(run.stdout.contains("3 problems"), "{}", run.stdout);
    // It reuses the snippet cache: the second check compiles nothing.
    let again = site.kiln(&["check"]);
    assert_eq!(again.stderr, run.stderr);
}
