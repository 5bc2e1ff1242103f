//! The up-to-date check: a build whose inputs all have the stamps of the
//! last good build's, and whose published files are untouched, reads no
//! article and says what that build said; anything the stamps or the
//! command line tell apart makes a full build.

use crate::common::{Run, Site, article, assert_says};

/// A site with a linked snippet, an inline one and a broken link.
fn site() -> Site {
    let site = Site::new();
    site.file(
        "content/a.md",
        article(
            "A",
            "See [the missing one](missing.md).\n\n[run](../snippets/hello.rs)\n",
        ),
    )
    .file(
        "content/b.md",
        article("B", "```rust\nprintln!(\"inline {}\", 6 * 7);\n```\n"),
    )
    .file(
        "snippets/hello.rs",
        "fn main() {\n    println!(\"hello\");\n}\n",
    );
    site
}

/// Whether the summary (stdout) says the site was up to date.
fn up_to_date(run: &Run) -> bool {
    run.stdout.contains("is up to date")
}

/// What tells a file or folder from another put in its place under the
/// same name: the inode on Unix, the volume and file index on Windows.
#[cfg(unix)]
fn inode(site: &Site, rel: &str) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(site.path(rel)).unwrap();
    (meta.dev(), meta.ino())
}

#[cfg(windows)]
fn inode(site: &Site, rel: &str) -> (u64, u64) {
    let handle = winapi_util::Handle::from_path_any(site.path(rel)).unwrap();
    let info = winapi_util::file::information(&handle).unwrap();
    (info.volume_serial_number(), info.file_index())
}

#[test]
fn an_unchanged_site_is_up_to_date_and_says_what_the_last_build_said() {
    let site = site();
    let first = site.build();
    assert_says(&first, "missing.md");
    let page = inode(&site, "public/a/index.html");
    let records = std::fs::metadata(site.path(".kiln-cache/inputs.json")).unwrap();

    let again = site.build();
    assert!(up_to_date(&again), "{}", again.stdout);
    for said in [
        "snippets: 2 (2 cached), compiled in 0 rustc invocations, 0 failed",
        "search index unchanged",
    ] {
        assert!(again.stdout.contains(said), "{}", again.stdout);
    }
    // The same warning, word for word.
    let warnings = |run: &Run| {
        run.stderr
            .lines()
            .filter(|l| l.contains("missing.md"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(warnings(&first), warnings(&again));
    assert!(!warnings(&again).is_empty());
    // Nothing was written: not the site, not the record.
    assert_eq!(inode(&site, "public/a/index.html"), page);
    let after = std::fs::metadata(site.path(".kiln-cache/inputs.json")).unwrap();
    assert_eq!(after.modified().unwrap(), records.modified().unwrap());
    assert_eq!(site.outputs("a/index.html"), ["hello\n"]);
}

#[test]
fn what_the_stamps_or_the_command_line_tell_apart_makes_a_full_build() {
    let site = site();
    site.file("kiln.toml", "[snippets]\nenv = [\"KILN_TEST_SHOWN\"]\n")
        .file(
            "content/c.md",
            "---\ntitle: C\ndraft: true\n---\nA draft.\n",
        )
        .file(
            "snippets/hello.rs",
            "fn main() {\n    println!(\"{:?}\", std::env::var(\"KILN_TEST_SHOWN\").ok());\n}\n",
        );
    let build = |env: &str, args: &[&str]| {
        let run = site.kiln_with_env(&[&["build"], args].concat(), &[("KILN_TEST_SHOWN", env)]);
        run.assert_ok();
        run
    };
    build("one", &[]);
    assert!(up_to_date(&build("one", &[])));
    assert_eq!(site.outputs("a/index.html"), ["Some(\"one\")\n"]);

    // A variable passed into the sandbox, with another value.
    assert!(!up_to_date(&build("two", &[])));
    assert_eq!(site.outputs("a/index.html"), ["Some(\"two\")\n"]);

    // A flag that publishes more.
    assert!(!site.exists("public/c/index.html"));
    build("two", &["--drafts"]);
    assert!(site.exists("public/c/index.html"));
    build("two", &[]);
    assert!(!site.exists("public/c/index.html"));

    // A folder that was not there: templates of the site's own.
    site.file(
        "templates/article.html",
        "{% extends \"base.html\" %}{% block content %}<h1 class=\"own\">{{ article.title }}</h1>{% endblock content %}",
    );
    build("two", &[]);
    assert_eq!(site.page("b/index.html").texts("h1.own"), ["B"]);

    // A `.gitignore` of the content folder, which leaves an article out.
    site.file("content/.gitignore", "b.md\n");
    build("two", &[]);
    assert!(!site.exists("public/b/index.html"));

    // A published file deleted by hand comes back.
    std::fs::remove_file(site.path("public/a/index.html")).unwrap();
    assert!(!up_to_date(&build("two", &[])));
    assert!(site.exists("public/a/index.html"));
    assert!(up_to_date(&build("two", &[])));
}

#[test]
fn a_failed_build_forgets_that_the_site_was_up_to_date() {
    let site = site();
    site.build();
    site.file("content/b.md", "---\ntitle: [unclosed\n---\n");
    site.kiln(&["build"]).assert_failed();
    assert!(!site.exists(".kiln-cache/inputs.json"));
    site.file("content/b.md", article("B", "Fixed.\n"));
    site.build();
    assert!(up_to_date(&site.build()));
}

#[test]
fn a_few_changed_files_are_patched_in_place_and_the_site_is_as_fresh() {
    let site = Site::new();
    site.file("kiln.toml", "search = false\n");
    for i in 0..60 {
        site.file(
            &format!("content/p{i:02}.md"),
            article(&format!("P{i}"), &format!("Body {i}.\n")),
        );
    }
    site.build();
    let folder = inode(&site, "public");
    let other = inode(&site, "public/p02/index.html");

    site.file("content/p01.md", article("P1", "Body 1, edited.\n"));
    assert!(!up_to_date(&site.build()));
    assert_eq!(
        site.page("p01/index.html").texts(".article-body p"),
        ["Body 1, edited."]
    );
    std::fs::remove_file(site.path("content/p03.md")).unwrap();
    site.build();
    assert!(
        !site.exists("public/p03"),
        "the removed article's folder went"
    );
    // The same folder, patched: not a new one swapped in.
    assert_eq!(inode(&site, "public"), folder);
    assert_eq!(inode(&site, "public/p02/index.html"), other);
    assert!(up_to_date(&site.build()));

    site.kiln(&["build", "--fresh", "--output", "fresh"])
        .assert_ok();
    let (patched, fresh) = (
        crate::common::tree(&site.path("public")),
        crate::common::tree(&site.path("fresh")),
    );
    assert!(
        patched == fresh,
        "the patched site differs from a fresh build"
    );
}
