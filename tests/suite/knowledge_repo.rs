//! A Knowledge Repo checkout built as it is (`content_dir = "."`), on the
//! fixture repository in `tests/fixtures/knowledge-repo/` (written for
//! these tests): what is published and what is not, URLs, redirects,
//! thumbnails, subtitles and private posts.

use std::path::Path;

use crate::common::{Page, Site, kiln_in, text, tree};

/// A copy of the fixture repository in a temp dir.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge-repo");
    for (rel, bytes) in tree(&fixture) {
        if rel.ends_with(".snap") {
            continue;
        }
        let target = dir.path().join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    dir
}

fn page(dir: &Path, rel: &str) -> Page {
    Page(scraper::Html::parse_document(
        &std::fs::read_to_string(dir.join("public").join(rel)).unwrap(),
    ))
}

#[test]
fn posts_publish_at_their_path_with_only_the_files_they_use() {
    let dir = repo();
    kiln_in(dir.path(), &["build"]).assert_ok();
    let published: Vec<String> = tree(&dir.path().join("public"))
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    let post = "projects/analysis/week-4";
    for wanted in [
        format!("{post}/index.html"),
        format!("{post}/images/plot.png"),
        format!("{post}/images/overview.png"),
        format!("{post}/images/table.csv"),
    ] {
        assert!(
            published.contains(&wanted),
            "{wanted} missing: {published:?}"
        );
    }
    for unwanted in [
        "README",
        "CONTRIBUTING",
        "kiln.toml",
        "REVISION",
        "UUID",
        "report.json",
        "rendered_from_kr",
        "orig_src",
        "unused.png",
        "secret",
        "salaries",
    ] {
        assert!(
            !published
                .iter()
                .any(|p| p.to_lowercase().contains(&unwanted.to_lowercase())),
            "{unwanted} published: {published:?}"
        );
    }
    // The list shows the subtitle and a small thumbnail made at build time.
    let index = page(dir.path(), "index.html");
    assert_eq!(
        index.texts(".card .subtitle"),
        ["What the cohort did after the launch"]
    );
    let thumbs = index.urls("index.html", ".card img.thumb", "src");
    assert_eq!(thumbs.len(), 2, "{thumbs:?}");
    assert!(
        thumbs.iter().any(|t| t.starts_with("data:image/gif")),
        "{thumbs:?}"
    );
    let thumb = thumbs.iter().find(|t| t.starts_with("/thumbs/")).unwrap();
    let small = image::open(dir.path().join("public").join(&thumb[1..])).unwrap();
    assert_eq!((small.width(), small.height()), (144, 72));
    // The feed carries the subtitle.
    let feed = std::fs::read_to_string(dir.path().join("public/atom.xml")).unwrap();
    assert!(feed.contains("What the cohort did after the launch"));
}

#[test]
fn old_urls_redirect_to_the_new_ones() {
    let dir = repo();
    kiln_in(dir.path(), &["build"]).assert_ok();
    for (old, new) in [
        (
            "post/projects/analysis/Week 4.kp/index.html",
            "/projects/analysis/week-4/",
        ),
        ("old/plain/index.html", "/guides/plain-note/"),
        ("legacy/plain.html", "/guides/plain-note/"),
    ] {
        let redirect = page(dir.path(), old);
        let refresh = redirect.attrs("meta[http-equiv=refresh]", "content");
        let target = refresh[0].strip_prefix("0; url=").unwrap();
        assert_eq!(crate::common::site_path(old, target), new, "{old}");
        assert_eq!(
            redirect.urls(old, "link[rel=canonical]", "href"),
            [new],
            "{old}"
        );
        assert_eq!(redirect.urls(old, "a", "href"), [new], "{old}");
    }
}

#[test]
fn private_posts_only_with_the_private_flag() {
    let dir = repo();
    kiln_in(dir.path(), &["build"]).assert_ok();
    assert!(!dir.path().join("public/projects/secret").exists());
    kiln_in(dir.path(), &["build", "--private"]).assert_ok();
    let secret = page(dir.path(), "projects/secret/index.html");
    assert_eq!(text(&secret.one("h1")), "Salaries");
}

#[test]
fn a_tldr_with_a_script_and_an_unclosed_div_cannot_swallow_the_page() {
    let site = Site::new();
    site.file(
        "content/a.md",
        "---\ntitle: Hostile\ncreated_at: 2024-01-03\ntldr: |\n  Short <script>document.title = 'owned'</script> and <div class=\"x\" onclick=\"steal()\">an open div\n---\nThe body is still here.\n",
    )
    .file(
        "content/b.md",
        "---\ntitle: Neighbour\ncreated_at: 2024-01-02\ntldr: A *plain* summary with `code`.\n---\nText.\n",
    );
    site.build();
    let page = site.page("a/index.html");
    assert_eq!(page.texts(".article-body p"), ["The body is still here."]);
    let tldr = page.one(".tldr");
    assert!(!tldr.html().contains("<script"), "{}", tldr.html());
    assert!(!tldr.html().contains("onclick"), "{}", tldr.html());
    assert!(text(&tldr).contains("an open div"));
    // Every card of the index is there, the neighbour's markup intact.
    let index = site.page("index.html");
    assert_eq!(index.select(".article-list > li.card").len(), 2);
    assert_eq!(index.texts(".card em"), ["plain"]);
    assert!(
        index
            .select("script")
            .iter()
            .all(|s| !s.html().contains("owned"))
    );
    let feed = std::fs::read_to_string(site.path("public/atom.xml")).unwrap();
    assert!(!feed.contains("&lt;script"), "{feed}");
}

#[test]
fn a_checkout_publishes_what_pages_use_and_its_static_folder() {
    let dir = repo();
    // A page that links to one data file, in raw HTML as notebooks write.
    std::fs::write(
        dir.path().join("notes/report.md"),
        "---\ntitle: Report\n---\n<p>The <a href=\"../data/summary.csv\">summary</a>.</p>\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("data/summary.csv"), "n\n1\n").unwrap();
    let run = kiln_in(dir.path(), &["build"]);
    run.assert_ok();
    let public = dir.path().join("public");
    assert!(public.join("data/summary.csv").is_file(), "a linked file");
    assert!(
        public.join("static/logo.svg").is_file(),
        "`static/` as it is"
    );
    for unlinked in ["data/users.csv", "queries/q.sql", "scripts/etl.sh"] {
        assert!(!public.join(unlinked).exists(), "{unlinked} was published");
    }
    assert!(
        run.stdout
            .contains("(3 more that no page links to left out)"),
        "{}",
        run.stdout
    );
    // `check` names each file left out, and none of them is a problem.
    let check = kiln_in(dir.path(), &["check"]);
    assert!(
        check
            .stdout
            .contains("note: `data/users.csv` is linked from no page"),
        "{}",
        check.stdout
    );
    assert!(
        !check.stdout.contains("note: `data/summary.csv`"),
        "{}",
        check.stdout
    );
}
