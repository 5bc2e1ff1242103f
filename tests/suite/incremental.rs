//! Incremental builds: each edit re-renders exactly the article pages that
//! depend on it, the output is byte-identical to a build from empty
//! caches, and lists are paginated.

use std::collections::{BTreeSet, HashSet};

use crate::common::{Run, Site, tree};

/// The `(N rendered, M unchanged)` of a build's summary, as (rendered,
/// unchanged).
fn counts(run: &Run) -> (usize, usize) {
    // `built …`, or `` `public` is up to date: built … ``.
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.find("built ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no summary in:\n{}", run.stdout));
    let articles: usize = line["built ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    let number_before = |word: &str| -> Option<usize> {
        let at = line.find(word)?;
        line[..at]
            .trim_end()
            .rsplit(['(', ' '])
            .next()?
            .parse()
            .ok()
    };
    match (number_before(" rendered"), number_before(" unchanged")) {
        (Some(r), Some(u)) => (r, u),
        (None, Some(u)) => (0, u),
        _ => (articles, 0),
    }
}

fn rendered(run: &Run) -> usize {
    counts(run).0
}

/// A site with snippets (linked and inline), tags, authors, an image, a
/// link between articles and search on.
fn knowledge_base() -> Site {
    let site = Site::new();
    site.file("kiln.toml", "title = \"KB\"\npage_size = 2\n")
        .file(
            "content/a.md",
            "---\ntitle: A\nauthors: [Ann]\ntags: [net, rust]\ncreated_at: 2024-01-03\n---\nSee [b](b.md) and ![diagram](img/d.svg).\n\n[run](../snippets/hello.rs)\n",
        )
        .file(
            "content/b.md",
            "---\ntitle: B\nauthors: [Bob]\ntags: [net]\ncreated_at: 2024-01-02\n---\n## Part\n\n```rust\nfn main() { println!(\"inline {}\", 6 * 7); }\n```\n",
        )
        .file(
            "content/c.md",
            "---\ntitle: C\nauthors: [Ann]\ntags: [misc]\ncreated_at: 2024-01-01\n---\nThird.\n",
        )
        .file("content/d.md", "---\ntitle: D\ntags: [misc]\n---\nFourth.\n")
        .file(
            "content/img/d.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"/>",
        )
        .file(
            "snippets/hello.rs",
            "fn main() {\n    println!(\"hello\");\n}\n",
        );
    site
}

/// Builds `site` again from empty page, search and output caches (the
/// snippet runs kept, so that their recorded times match) into `fresh/`,
/// and asserts it is byte-identical to `public/`.
#[track_caller]
fn assert_same_as_fresh(site: &Site) {
    for cache in ["pages", "search", "outputs"] {
        let _ = std::fs::remove_dir_all(site.path(".kiln-cache").join(cache));
    }
    let _ = std::fs::remove_dir_all(site.path("fresh"));
    let run = site.kiln(&["build", "--output", "fresh"]);
    run.assert_ok();
    let (rendered, _) = counts(&run);
    assert!(rendered > 0, "{}", run.stdout);
    let incremental = tree(&site.path("public"));
    let fresh = tree(&site.path("fresh"));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&incremental), names(&fresh));
    for ((name, a), (_, b)) in incremental.iter().zip(&fresh) {
        assert!(a == b, "{name} differs from a fresh build");
    }
}

#[test]
fn every_edit_re_renders_exactly_what_depends_on_it() {
    let site = knowledge_base();
    assert_eq!(rendered(&site.build()), 4);

    // Nothing changed: nothing rendered, the output left as it is.
    let run = site.build();
    assert_eq!(counts(&run), (0, 4));
    assert!(run.stdout.contains("(4 unchanged)"), "{}", run.stdout);
    assert!(run.stdout.contains("is up to date"), "{}", run.stdout);
    assert!(
        run.stdout.contains("search index unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("compiled in 0 rustc invocations"),
        "{}",
        run.stdout
    );

    // One article's text.
    site.file(
        "content/c.md",
        "---\ntitle: C\nauthors: [Ann]\ntags: [misc]\ncreated_at: 2024-01-01\n---\nThird, edited.\n",
    );
    assert_eq!(counts(&site.build()), (1, 3));
    assert!(
        site.page("c/index.html")
            .0
            .html()
            .contains("Third, edited.")
    );

    // A template only the lists use, then a setting only the lists use.
    site.file(
        "templates/tag.html",
        "{% extends \"base.html\" %}{% block content %}<h1>Tagged {{ tag.name }}</h1>{% include \"article_list.html\" %}{% endblock content %}",
    );
    assert_eq!(rendered(&site.build()), 0);
    site.file("kiln.toml", "title = \"KB\"\npage_size = 3\n");
    assert_eq!(rendered(&site.build()), 0);

    // The template of article pages, and a setting they show: all.
    site.file(
        "templates/article.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ article.title }}</h1>{{ article.body | safe }}{% endblock content %}",
    );
    assert_eq!(rendered(&site.build()), 4);
    site.file("kiln.toml", "title = \"Our KB\"\npage_size = 3\n");
    assert_eq!(rendered(&site.build()), 4);

    // A linked snippet: only the article that runs it.
    site.file(
        "snippets/hello.rs",
        "fn main() {\n    println!(\"hello again\");\n}\n",
    );
    assert_eq!(rendered(&site.build()), 1);
    assert!(site.page("a/index.html").0.html().contains("hello again"));

    // An article at a new URL: itself, and a, whose link to it follows.
    site.file(
        "content/b.md",
        "---\ntitle: B\nslug: bee\nauthors: [Bob]\ntags: [net]\ncreated_at: 2024-01-02\n---\n## Part\n\n```rust\nfn main() { println!(\"inline {}\", 6 * 7); }\n```\n",
    );
    assert_eq!(rendered(&site.build()), 2);
    let links = site.page("a/index.html").urls("a/index.html", "a", "href");
    assert!(links.contains(&"/bee/".to_owned()), "{links:?}");
    assert!(!site.exists("public/b/index.html"));

    // An image's new bytes: published again, no page rendered; then
    // nothing changed again.
    site.file(
        "content/img/d.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"/>",
    );
    assert_eq!(rendered(&site.build()), 0);
    let published = std::fs::read_to_string(site.path("public/img/d.svg")).unwrap();
    assert!(published.contains("width=\"8\""), "{published}");
    assert!(site.build().stdout.contains("is up to date"));

    // A deleted image: the article that shows it (its link now broken).
    std::fs::remove_file(site.path("content/img/d.svg")).unwrap();
    let run = site.build();
    assert_eq!(rendered(&run), 1);
    assert!(!site.exists("public/img/d.svg"));

    // A removed article: no page renders, its page and list entries go.
    std::fs::remove_file(site.path("content/d.md")).unwrap();
    assert_eq!(counts(&site.build()), (0, 3));
    assert!(!site.exists("public/d/index.html"));

    assert_same_as_fresh(&site);
}

#[test]
fn two_fresh_builds_are_byte_identical_search_bundle_included() {
    let site = Site::new();
    for i in 0..40 {
        site.file(
            &format!("content/post-{i:02}.md"),
            format!(
                "---\ntitle: Post {i}\ntags: [t{}]\n---\n## Heading {i}\n\nWords about sockets, buffers and shutdown number {i}.\n",
                i % 3
            ),
        );
    }
    site.kiln(&["build", "--fresh", "--output", "one"])
        .assert_ok();
    site.kiln(&["build", "--fresh", "--output", "two"])
        .assert_ok();
    let (one, two) = (tree(&site.path("one")), tree(&site.path("two")));
    assert!(one.iter().any(|(n, _)| n.starts_with("pagefind/index/")));
    assert_eq!(one.len(), two.len());
    for ((name, a), (other, b)) in one.iter().zip(&two) {
        assert_eq!(name, other);
        assert!(a == b, "{name} differs between two fresh builds");
    }
}

#[test]
fn a_failed_incremental_build_leaves_the_site_and_the_next_build_recovers() {
    let site = knowledge_base();
    site.build();
    let before = tree(&site.path("public"));
    site.file("content/c.md", "---\ntitle: [unclosed\n---\nbroken\n");
    site.kiln(&["build"]).assert_failed();
    assert!(tree(&site.path("public")) == before);
    site.file(
        "content/c.md",
        "---\ntitle: C\nauthors: [Ann]\ntags: [misc]\ncreated_at: 2024-01-01\n---\nThird, fixed.\n",
    );
    assert_eq!(counts(&site.build()), (1, 3));
    assert_same_as_fresh(&site);
}

#[test]
fn a_published_page_edited_by_hand_is_written_again() {
    let site = knowledge_base();
    site.build();
    let page = site.path("public/c/index.html");
    // Edited in place, as a post-processing step might: the page cache
    // (hard-linked to it) must not be trusted, nor the published copy.
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("<!-- tampered -->");
    std::fs::write(&page, text).unwrap();
    site.build();
    assert!(!std::fs::read_to_string(&page).unwrap().contains("tampered"));
    // A file put there by hand is not the site's: an unchanged build
    // replaces the folder as a changed one would.
    site.file("public/stray.txt", "not kiln's");
    site.build();
    assert!(!site.exists("public/stray.txt"));
    assert_same_as_fresh(&site);
}

#[test]
fn lists_are_paginated_and_every_article_is_reachable() {
    let site = Site::new();
    site.file("kiln.toml", "page_size = 3\n");
    for i in 0..8 {
        site.file(
            &format!("content/p{i}.md"),
            format!("---\ntitle: Post {i}\ntags: [all]\nauthors: [Ann]\ncreated_at: 2024-01-0{}\n---\nText {i}.\n", i + 1),
        );
    }
    site.build();
    for (first, expected_pages) in [
        ("index.html", 3),
        ("tags/all/index.html", 3),
        ("authors/ann/index.html", 3),
    ] {
        let mut seen = BTreeSet::new();
        let mut at = first.to_owned();
        let mut pages = 0;
        loop {
            pages += 1;
            let page = site.page(&at);
            let items = page.urls(&at, ".article-list h2 a", "href");
            assert!(items.len() <= 3, "{at}: {items:?}");
            seen.extend(items);
            let nav = page.one("nav.pagination");
            assert!(
                crate::common::text(&nav).contains(&format!("Page {pages} of {expected_pages}"))
            );
            let head_next = page.urls(&at, "link[rel=next]", "href");
            let next = page.urls(&at, "nav.pagination a[rel=next]", "href");
            assert_eq!(head_next, next);
            if pages > 1 {
                assert_eq!(
                    page.urls(&at, "nav.pagination a[rel=prev]", "href").len(),
                    1
                );
            }
            match next.first() {
                Some(url) => at = format!("{}index.html", url.trim_start_matches('/')),
                None => break,
            }
        }
        assert_eq!(pages, expected_pages, "{first}");
        let all: BTreeSet<String> = (0..8).map(|i| format!("/p{i}/")).collect();
        assert_eq!(seen, all, "{first}");
    }
    // Newest first across pages; page 2 lives at /page/2/.
    let second = site.page("page/2/index.html");
    let titles: Vec<String> = second
        .select(".article-list h2 a")
        .iter()
        .map(crate::common::text)
        .collect();
    assert_eq!(titles, ["Post 4", "Post 3", "Post 2"]);
    // The feed and the search page do not page.
    let feed = std::fs::read_to_string(site.path("public/atom.xml")).unwrap();
    let feed = roxmltree::Document::parse(&feed).unwrap();
    assert_eq!(
        feed.descendants()
            .filter(|n| n.has_tag_name("entry"))
            .count(),
        8
    );
    assert!(
        site.page("search/index.html")
            .select("nav.pagination")
            .is_empty()
    );
    // The sitemap lists each list once, not its later pages.
    let sitemap = std::fs::read_to_string(site.path("public/sitemap.xml")).unwrap();
    assert!(!sitemap.contains("/page/"), "{sitemap}");
    let ids: HashSet<String> = site.page("index.html").ids().into_iter().collect();
    assert!(ids.contains("main"));
}
