//! `kiln build` on fixture sites: pages, ids, TOC, tags, escaping, templates.

use std::collections::HashSet;

use crate::common::{Site, article, assert_says, text, tree};

#[test]
fn builds_the_repo_site_with_the_seed_article() {
    let out = tempfile::tempdir().unwrap();
    let output = crate::common::build_repo_site(out.path(), &[]);
    let read = |rel: &str| {
        crate::common::Page(scraper::Html::parse_document(
            &std::fs::read_to_string(output.join(rel)).unwrap(),
        ))
    };
    let page = read("socket-shutdown-vs-close/index.html");
    assert_eq!(
        text(&page.one("h1")),
        "What is the difference between 'socket.shutdown' and 'socket.close'?"
    );
    // The TOC links to headings that exist.
    let ids: HashSet<String> = page.ids().into_iter().collect();
    let toc = page.attrs("nav.toc a", "href");
    assert!(toc.len() >= 4, "{toc:?}");
    for href in &toc {
        assert!(
            ids.contains(href.trim_start_matches('#')),
            "{href} has no target"
        );
    }
    // Python is highlighted with classes, not inline styles.
    assert!(
        !page
            .select("code.language-python span.hl-keyword")
            .is_empty()
    );
    assert!(page.select("pre.code [style]").is_empty());
    // The tldr is rendered Markdown.
    assert_eq!(page.select(".tldr code").len(), 2);
    // Tags link to tag pages that list the article.
    let article = "socket-shutdown-vs-close/index.html";
    for tag_path in page.urls(article, ".article-header .tags a", "href") {
        let tag_page = format!("{}index.html", tag_path.trim_start_matches('/'));
        let tag = read(&tag_page);
        assert!(
            tag.urls(&tag_page, ".article-list h2 a", "href")
                .contains(&"/socket-shutdown-vs-close/".to_owned())
        );
    }
    // The thumbnail is published where the page points.
    let thumb = page.urls(article, "img.thumb", "src");
    assert_eq!(thumb, ["/images/python.png"]);
    assert!(output.join("images/python.png").is_file());
}

#[test]
fn headings_get_unique_ids_and_a_nested_toc() {
    let site = Site::new();
    site.file(
        "content/a.md",
        article(
            "Ids",
            "[TOC]\n\n## Setup\n\n### Step\n\n### Step\n\n## Setup\n\n## Custom {#mine}\n\n#### Deep\n\n##### Too deep\n\n## Mine\n\n## `code` & <b>\n",
        ),
    );
    site.build();
    let page = site.page("a/index.html");
    let ids = page.attrs(".article-body [id]", "id");
    assert_eq!(
        ids,
        [
            "setup", "step", "step-1", "setup-1", "mine", "deep", "too-deep", "mine-1", "code"
        ]
    );
    // Nested: the steps sit inside the first setup item.
    let nested = page.attrs(
        ".article-body nav.toc > ul > li:first-child > ul > li > a",
        "href",
    );
    assert_eq!(nested, ["#step", "#step-1"]);
    // h5 is outside the default levels.
    let all = page.attrs(".article-body nav.toc a", "href");
    assert!(!all.contains(&"#too-deep".to_owned()));
    assert!(all.contains(&"#deep".to_owned()));
    // Each heading links to itself.
    for h in page.select(".article-body h2") {
        let id = h.value().attr("id").unwrap();
        let link = h
            .select(&scraper::Selector::parse("a").unwrap())
            .next()
            .unwrap();
        assert_eq!(link.value().attr("href"), Some(format!("#{id}").as_str()));
    }
}

#[test]
fn titles_and_text_are_escaped() {
    let site = Site::new();
    site.file(
        "content/x.md",
        "---\ntitle: \"<script>alert(1)</script> & Vec<T>\"\ntags: [\"a<b\"]\ntldr: \"1 < 2 & <i>\"\n---\nBody\n",
    );
    site.build();
    let page = site.page("x/index.html");
    assert_eq!(text(&page.one("h1")), "<script>alert(1)</script> & Vec<T>");
    // No script but kiln's own page script, and nothing inline.
    let only_kilns = |page: &crate::common::Page| {
        page.select("script").iter().all(|s| {
            s.value()
                .attr("src")
                .is_some_and(|src| src.ends_with("static/kiln.js"))
                && s.inner_html().is_empty()
        })
    };
    assert!(only_kilns(&page));
    assert_eq!(page.texts(".article-header .tags a"), ["a<b"]);
    let index = site.page("index.html");
    assert!(only_kilns(&index));
    assert_eq!(
        index.texts(".article-list h2 a"),
        ["<script>alert(1)</script> & Vec<T>"]
    );
    let title = text(&page.one("title"));
    assert!(
        title.starts_with("<script>alert(1)</script> & Vec<T>"),
        "{title}"
    );
}

#[test]
fn index_tags_and_authors_pages() {
    let site = Site::new();
    site.file("content/old.md", "---\ntitle: Old\nauthors: Ann\ntags: [rust, Net]\ncreated_at: 2020-01-01\n---\nold\n")
        .file("content/new.md", "---\ntitle: New\nauthors: [Ann, Bob]\ntags: rust\ncreated_at: 2024-05-01T10:00:00+02:00\n---\nnew\n")
        .file("content/undated.md", "---\ntitle: Undated\ntags: [net]\n---\nx\n");
    let run = site.build();
    assert!(run.stdout.contains("built 3 articles"), "{}", run.stdout);
    let index = site.page("index.html");
    assert_eq!(index.texts(".article-list h2"), ["New", "Old", "Undated"]);
    let tags = site.page("tags/index.html");
    let listed: Vec<String> = tags.texts(".tag-cloud li");
    assert_eq!(listed, ["Net 2", "rust 2"]);
    let rust = site.page("tags/rust/index.html");
    assert_eq!(rust.texts(".article-list h2"), ["New", "Old"]);
    let net = site.page("tags/net/index.html");
    assert_eq!(net.texts(".article-list h2"), ["Old", "Undated"]);
    let ann = site.page("authors/ann/index.html");
    assert_eq!(ann.texts(".article-list h2"), ["New", "Old"]);
    let new = site.page("new/index.html");
    assert_eq!(new.attrs("time", "datetime")[0], "2024-05-01T08:00:00Z");
    assert_eq!(
        new.urls("new/index.html", ".meta a[rel=author]", "href"),
        ["/authors/ann/", "/authors/bob/"]
    );
}

#[test]
fn assets_are_copied_and_relative_links_rewritten() {
    let site = Site::new();
    site.file(
        "content/notes/a.md",
        "---\ntitle: A\nthumbnail: img/t.png\n---\n![pic](img/t.png) [b](../b.md#part) [ext](https://example.org/x.md) [missing](nope.md)\n",
    )
    .file("content/notes/img/t.png", [0x89, b'P', b'N', b'G'])
    .file("content/b.md", "---\ntitle: B\n---\n## Part\n");
    site.build();
    let at = "notes/a/index.html";
    let page = site.page(at);
    assert_eq!(
        page.urls(at, ".article-body img", "src"),
        ["/notes/img/t.png"]
    );
    assert_eq!(page.urls(at, "img.thumb", "src"), ["/notes/img/t.png"]);
    let links = page.urls(at, ".article-body a", "href");
    assert_eq!(
        links,
        ["/b/#part", "https://example.org/x.md", "/notes/a/nope.md"]
    );
    assert!(site.exists("public/notes/img/t.png"));
}

#[test]
fn internal_urls_are_relative_and_absolute_ones_carry_the_base_url() {
    let site = Site::new();
    site.file(
        "kiln.toml",
        "title = \"KB\"\nbase_url = \"https://example.org/kb/\"\n",
    )
    .file(
        "content/a.md",
        "---\ntitle: A\ntags: [t]\nauthors: [z]\n---\n[b](b.md)\n",
    )
    .file("content/b.md", "---\ntitle: B\n---\nb\n");
    site.build();
    let page = site.page("a/index.html");
    // Links between pages are relative, so the site works wherever it is
    // served (and from disk); each names a file of the site.
    for href in page.attrs("a[href], link[href], script[src]", "href") {
        assert!(
            !href.starts_with('/') && !href.contains("://") || href.starts_with('#'),
            "{href} is not relative"
        );
        let path = crate::common::site_path("a/index.html", &href);
        let path = path.split('#').next().unwrap();
        let file = site.path("public").join(path.trim_start_matches('/'));
        assert!(
            file.is_file() || file.join("index.html").is_file(),
            "{href}: no such file"
        );
    }
    assert_eq!(page.attrs(".article-body a", "href"), ["../b/index.html"]);
    // Absolute URLs (the feed's) carry the base URL.
    let feed = std::fs::read_to_string(site.path("public/atom.xml")).unwrap();
    assert!(feed.contains("https://example.org/kb/a/"), "{feed}");
    let run = site.kiln(&["build", "--base-url", "/other/"]);
    run.assert_ok();
    assert_eq!(
        site.page("a/index.html").attrs(".article-body a", "href"),
        ["../b/index.html"]
    );
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let site = Site::new();
    site.file("content/d.md", "---\ntitle: D\ndraft: true\n---\nd\n")
        .file("content/p.md", "---\ntitle: P\n---\np\n");
    site.build();
    assert!(!site.exists("public/d/index.html"));
    site.kiln(&["build", "--drafts"]).assert_ok();
    assert!(site.exists("public/d/index.html"));
}

#[test]
fn unknown_languages_are_escaped_plain_text() {
    let site = Site::new();
    site.file(
        "content/c.md",
        article(
            "C",
            "```klingon\n<b>&amp;</b>\n```\n\n    indented <i>\n\n```python\nx = 1\n```\n",
        ),
    );
    site.build();
    let page = site.page("c/index.html");
    let code = page.select("pre.code code");
    assert_eq!(text(&code[0]), "<b>&amp;</b>");
    assert!(code[0].children().all(|c| c.value().is_text()));
    assert_eq!(text(&code[1]), "indented <i>");
    assert!(!page.select("code.language-python span").is_empty());
    assert!(site.exists("public/static/highlight.css"));
    let css = std::fs::read_to_string(site.path("public/static/highlight.css")).unwrap();
    assert!(css.contains("@media (prefers-color-scheme: dark)"));
}

#[test]
fn unknown_fields_warn_with_a_hint_and_reach_templates() {
    let site = Site::new();
    site.file("content/u.md", "---\ntitle: U\ntgas: [x]\nlevel: expert\n---\nu\n")
        .file(
            "templates/article.html",
            "{% extends \"base.html\" %}{% block content %}<p id=\"level\">{{ article.extra.level }}</p>{% endblock content %}",
        );
    let run = site.build();
    assert_says(
        &run,
        "content/u.md:3: unknown front matter field `tgas`; did you mean `tags`?",
    );
    assert_eq!(text(&site.page("u/index.html").one("#level")), "expert");
}

#[test]
fn a_site_without_templates_or_config_builds() {
    let site = Site::new();
    site.file("content/only.md", "---\ntitle: Only\n---\nHello\n");
    site.build();
    assert_eq!(text(&site.page("only/index.html").one("h1")), "Only");
    assert!(site.exists("public/static/style.css"));
    assert!(site.exists("public/tags/index.html"));
}

#[test]
fn markdown_extensions() {
    let site = Site::new();
    site.file(
        "content/m.md",
        article(
            "M",
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n- [x] done\n- [ ] todo\n\nNote[^1].\n\n[^1]: The note.\n",
        ),
    );
    site.build();
    let page = site.page("m/index.html");
    assert_eq!(page.select("table td").len(), 2);
    assert_eq!(page.texts("del"), ["gone"]);
    assert_eq!(page.select("input[type=checkbox]").len(), 2);
    assert_eq!(page.select(".footnote-definition").len(), 1);
}

#[test]
fn a_page_bundle_publishes_its_files_beside_its_page() {
    let site = Site::new();
    site.file(
        "content/guide/index.md",
        "---\ntitle: Guide\n---\n<img src=\"diagram.png\" alt=\"raw html\">\n\n![md](diagram.png)\n",
    )
    .file("content/guide/diagram.png", [0x89, b'P', b'N', b'G']);
    site.build();
    let page = site.page("guide/index.html");
    // Markdown links are rewritten; raw HTML stays relative and still works,
    // because the file sits beside the page.
    assert_eq!(
        page.attrs(".article-body img", "src"),
        ["diagram.png", "../guide/diagram.png"]
    );
    assert_eq!(
        page.urls("guide/index.html", ".article-body img", "src"),
        ["/guide/diagram.png", "/guide/diagram.png"]
    );
    assert!(site.exists("public/guide/diagram.png"));
}

#[test]
fn rebuilds_are_byte_identical() {
    let site = Site::new();
    site.file(
        "content/a.md",
        article("A", "[TOC]\n\n## One\n\n```rust\nprintln!(\"hi\");\n```\n"),
    )
    .file(
        "content/b.md",
        "---\ntitle: B\ntags: [x, y]\nauthors: [p, q]\nlevel: 1\n---\nb\n",
    );
    site.build();
    let first = tree(&site.path("public"));
    site.build();
    assert_eq!(tree(&site.path("public")), first);
}

#[test]
fn files_that_no_longer_belong_are_gone_after_a_build() {
    let site = Site::new();
    site.file("content/a.md", "---\ntitle: A\n---\n")
        .file("content/b.md", "---\ntitle: B\n---\n");
    site.build();
    std::fs::remove_file(site.path("content/b.md")).unwrap();
    site.build();
    assert!(site.exists("public/a/index.html"));
    assert!(!site.exists("public/b"));
}

#[test]
fn a_second_concurrent_build_waits_for_the_first() {
    let site = Site::new();
    site.file(
        "content/a.md",
        article("A", "```rust\nstd::thread::sleep(std::time::Duration::from_millis(1500));\nprintln!(\"slow\");\n```\n"),
    );
    let start = || {
        crate::common::kiln_command(site.root(), &["build"])
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = start();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = start();
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first.status.success() && second.status.success());
    let waited = String::from_utf8_lossy(&second.stderr);
    assert!(
        waited.contains("waiting for another kiln build of this site to finish"),
        "{waited}"
    );
    // The second build found the first one's snippet run in the cache.
    assert!(String::from_utf8_lossy(&second.stdout).contains("(1 cached)"));
    assert_eq!(
        text(&site.page("a/index.html").one(".snippet-output samp")),
        "slow"
    );
}

#[test]
fn body_headings_start_at_h2_under_the_page_title() {
    let site = Site::new();
    site.file(
        "content/k.md",
        article("K", "[TOC]\n\n### First\n\n#### Inner\n\n### Second\n"),
    );
    site.build();
    let page = site.page("k/index.html");
    assert_eq!(page.attrs(".article-body h2", "id"), ["first", "second"]);
    assert_eq!(page.attrs(".article-body h3", "id"), ["inner"]);
    assert_eq!(
        page.attrs(".article-body nav.toc > ul > li > ul a", "href"),
        ["#inner"]
    );
    // The side column holds the same TOC.
    assert_eq!(
        page.attrs(".sidebar nav.toc > ul > li > ul a", "href"),
        ["#inner"]
    );
}
