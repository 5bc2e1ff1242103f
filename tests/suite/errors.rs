//! Every bad input gets a clear message naming the file and line, exit code
//! 1, and leaves the last good `public/` as it was.

use crate::common::{Run, Site, article, assert_not_says, assert_says};

fn snapshot(site: &Site) -> Vec<(String, Vec<u8>)> {
    crate::common::tree(&site.path("public"))
}

/// Builds a good site, breaks it with `file`, builds again, and checks that
/// the build failed and `public/` did not change.
fn broken(rel: &str, text: &str) -> (Site, Run) {
    let site = Site::new();
    site.file("content/good.md", "---\ntitle: Good\n---\nfine\n");
    site.build();
    let before = snapshot(&site);
    site.file(rel, text);
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_eq!(
        snapshot(&site),
        before,
        "public/ changed after a failed build"
    );
    assert_not_says(&run, "panicked");
    (site, run)
}

#[test]
fn broken_yaml_names_file_line_and_column() {
    let (_, run) = broken(
        "content/bad.md",
        "---\ntitle: Bad\ntags: [a, b\nauthors: x\n---\nbody\n",
    );
    assert_says(&run, "error: content/bad.md:4:");
    assert_says(&run, "the build failed with 1 error");
}

#[test]
fn missing_closing_fence() {
    let (_, run) = broken(
        "content/bad.md",
        "---\ntitle: Bad\n\nbody without a fence\n",
    );
    assert_says(
        &run,
        "error: content/bad.md:1:1: the front matter opened by this `---` is never closed",
    );
}

#[test]
fn no_front_matter_at_all() {
    let (_, run) = broken("content/bad.md", "# Just markdown\n");
    assert_says(&run, "error: content/bad.md:1:1: expected front matter");
}

#[test]
fn missing_title() {
    let (_, run) = broken("content/bad.md", "---\nauthors: [a]\n---\nbody\n");
    assert_says(&run, "error: content/bad.md:3:1: missing field `title`");
}

#[test]
fn invalid_field_types() {
    let (_, run) = broken(
        "content/bad.md",
        "---\ntitle: Bad\ncreated_at: last tuesday\n---\n",
    );
    assert_says(
        &run,
        "error: content/bad.md:3:13: `created_at`: `last tuesday` is not a date",
    );
    let (_, run) = broken("content/bad.md", "---\ntitle: Bad\ntags: {a: 1}\n---\n");
    assert_says(
        &run,
        "error: content/bad.md:3:7: `tags`: invalid type: map, expected a list of names",
    );
    let (_, run) = broken("content/bad.md", "---\ntitle: [x]\n---\n");
    assert_says(
        &run,
        "error: content/bad.md:2:8: `title`: invalid type: sequence, expected a string",
    );
    let (_, run) = broken("content/bad.md", "---\ntitle: X\ndraft: maybe\n---\n");
    assert_says(
        &run,
        "error: content/bad.md:3:8: `draft`: invalid type: string \"maybe\", expected a boolean",
    );
}

#[test]
fn every_broken_article_is_reported_at_once() {
    let site = Site::new();
    site.file("content/a.md", "---\ntitle: [\n---\n")
        .file("content/b.md", "no front matter\n")
        .file(
            "content/c.md",
            "---\ntitle: C\nupdated_at: 2023-13-01\n---\n",
        )
        .file("content/ok.md", "---\ntitle: OK\n---\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(&run, "content/a.md:");
    assert_says(&run, "content/b.md:1:1:");
    assert_says(&run, "content/c.md:3:13:");
    assert_says(&run, "the build failed with 3 errors");
    assert!(!site.exists("public"));
}

#[test]
fn not_utf8() {
    let (_, run) = broken("content/bad.md", "---\ntitle: \u{0}\n---\n");
    assert!(run.code == 1);
    let site = Site::new();
    site.file("content/latin1.md", b"---\ntitle: caf\xe9\n---\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/latin1.md: `the file's text` is not valid UTF-8",
    );
}

#[test]
fn two_articles_at_one_url() {
    let (_, run) = broken("content/other.md", "---\ntitle: Other\nslug: good\n---\n");
    assert_says(
        &run,
        "content/other.md: the page URL `/good/` is also produced by",
    );
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let (_, run) = broken(
        "templates/article.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{{ article.title \n{% endblock content %}",
    );
    assert_says(&run, "error: template `");
    assert_says(&run, "templates/article.html");
    assert_says(&run, "--> article.html:4:1");
}

#[test]
fn template_render_error_names_template_and_line() {
    let (_, run) = broken(
        "templates/article.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{{ no_such_value }}\n{% endblock content %}",
    );
    assert_says(&run, "Variable `no_such_value` is not defined");
    assert_says(&run, "article.html:3:");
}

#[test]
fn bad_config() {
    let (_, run) = broken("kiln.toml", "title = \"x\"\nbase_url = \"example.org\"\n");
    assert_says(&run, "error: kiln.toml: `base_url` is `example.org`");
    let (_, run) = broken(
        "kiln.toml",
        "title = \"x\"\n[highlight]\nlight_theme = \"Nope\"\n",
    );
    assert_says(
        &run,
        "`highlight.light_theme` is `Nope`, which is not a known theme",
    );
    let (_, run) = broken("kiln.toml", "titel = \"x\"\n");
    assert_says(&run, "kiln.toml:1:1: unknown field `titel`");
}

#[test]
fn no_content_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = crate::common::kiln_in(dir.path(), &["build"]);
    run.assert_failed();
    assert_says(&run, "no `content` folder");
}

#[test]
fn an_article_at_a_url_kiln_uses_itself() {
    let (_, run) = broken("content/clash.md", "---\ntitle: Clash\nslug: tags\n---\n");
    assert_says(
        &run,
        "error: content/clash.md: the page URL `/tags/` is kiln's own (its `/tags/` pages); choose another `slug` or file name",
    );
}

#[test]
fn the_old_snippets_cache_dir_still_works_with_a_warning() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article("A", "```rust\nprintln!(\"cached\");\n```\n"),
    );
    site.file(
        "kiln.toml",
        "title = \"T\"\n\n[snippets]\ncache_dir = \"old-cache\"\n",
    );
    let run = site.build();
    assert_says(
        &run,
        "warning: kiln.toml:4: `snippets.cache_dir` is now the top-level `cache_dir` (every cache of the site lives there); move it above `[snippets]`",
    );
    assert!(site.exists("old-cache/runs"));
    assert!(!site.exists(".kiln-cache"));
    site.file("kiln.toml", "title = \"T\"\ncache_dir = \"new-cache\"\n");
    let run = site.build();
    assert_not_says(&run, "warning");
    assert!(site.exists("new-cache/runs"));
}

#[test]
fn keep_going_publishes_the_rest_and_without_it_nothing_changes() {
    let site = Site::new();
    site.file("content/good.md", article("Good", "Fine.\n"))
        .file(
            "content/broken.md",
            "---\ntitle: A tldr\ntldr: first line\ncontinued on an unindented line: x: y\n---\nx\n",
        );
    // Without it, the build fails and publishes nothing.
    let strict = site.kiln(&["build"]);
    strict.assert_failed();
    assert_says(&strict, "content/broken.md:4");
    assert!(!site.exists("public"));
    let kept = site.kiln(&["build", "--keep-going"]);
    kept.assert_ok();
    assert_says(
        &kept,
        "kept going (the article is left out): content/broken.md:4",
    );
    assert!(
        kept.stdout.contains("(1 broken article left out)"),
        "{}",
        kept.stdout
    );
    assert!(site.exists("public/good/index.html"));
    assert!(!site.exists("public/broken/index.html"));
    // `check` stays strict.
    site.kiln(&["check"]).assert_failed();
}

#[test]
fn a_site_root_that_does_not_exist_is_named() {
    let site = Site::new();
    for command in ["build", "check"] {
        let run = site.kiln(&[command, "--root", "no/such/kb"]);
        run.assert_failed();
        assert_says(
            &run,
            "the site root `no/such/kb` is no folder: `kiln init no/such/kb` starts a knowledge base there",
        );
    }
}

#[test]
fn labels_are_plain_when_piped_and_coloured_when_asked() {
    let site = Site::new();
    let piped = site.kiln(&["check", "--root", "missing"]);
    assert_says(&piped, "error: the site root `missing` is no folder");
    assert!(!piped.stderr.contains('\u{1b}'), "{:?}", piped.stderr);
    // As on a terminal (anstream honours CLICOLOR_FORCE, as cargo does).
    let coloured = site.kiln_with_env(&["check", "--root", "missing"], &[("CLICOLOR_FORCE", "1")]);
    assert!(
        coloured.stderr.contains("\u{1b}[1m\u{1b}[31merror:"),
        "{:?}",
        coloured.stderr
    );
    let plain = site.kiln_with_env(
        &["check", "--root", "missing"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(
        !plain.stderr.contains('\u{1b}'),
        "NO_COLOR wins: {:?}",
        plain.stderr
    );
}

#[test]
fn an_article_changed_while_it_is_built_is_an_error_and_the_site_is_kept() {
    // The snippet edits the article that runs it (only possible with the
    // sandbox off): the page must not be made from bytes that differ from
    // what the build loaded.
    let site = Site::new();
    site.file("kiln.toml", "[snippets]\nsandbox = \"off\"\n");
    site.file("content/b.md", article("B", "Stays.\n"));
    site.build();
    let before = crate::common::tree(&site.path("public"));
    let edit = format!(
        "```rust\nstd::fs::write({:?}, \"---\\ntitle: A\\n---\\nEdited.\\n\").unwrap();\n```\n",
        site.path("content/a.md").display().to_string()
    );
    site.file("content/a.md", article("A", &edit));
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md: the file changed while kiln was building the site: build again",
    );
    assert!(crate::common::tree(&site.path("public")) == before);
}
