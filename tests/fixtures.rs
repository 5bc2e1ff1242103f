//! The fixture suite: every folder under `tests/fixtures/` is a small site.
//! Each is copied to a temp dir, built and checked by the real binary, and
//! what came out is compared with the `output.snap` beside it: both
//! commands' exit codes and messages, the files published, and the
//! `<article>` of every article page.
//!
//! Adding a case: make a folder with `content/` (and any `snippets/`,
//! `templates/`, `kiln.toml`), run `cargo test --test fixtures`, then
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --test
//! fixtures`) and read the new snapshot before accepting it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Page, kiln_in, tree};
use libtest_mimic::{Arguments, Failed, Trial};

/// One test per case folder, named after it with `_` for `-` (so `cargo
/// test --test fixtures errors_template` runs `errors-template` alone),
/// run in parallel.
fn main() -> std::process::ExitCode {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<PathBuf> = fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let count = cases.len();
    let mut trials = vec![Trial::test("fixture_cases_are_there", move || {
        if count >= 20 {
            Ok(())
        } else {
            Err(format!("only {count} fixture cases").into())
        }
    })];
    trials.extend(cases.into_iter().map(|case| {
        let name = case
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('-', "_");
        Trial::test(name, move || {
            std::panic::catch_unwind(|| run_case(&case)).map_err(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "the case panicked".to_owned());
                Failed::from(message)
            })
        })
    }));
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// Builds and checks one case and compares the outcome with its snapshot.
fn run_case(case: &Path) {
    let dir = tempfile::tempdir().unwrap();
    copy_site(case, dir.path());
    let build = kiln_in(dir.path(), &["build"]);
    let check = kiln_in(dir.path(), &["check"]);
    let mut out = format!(
        "## kiln build: exit {}\n{}{}\n## kiln check: exit {}\n{}{}\n",
        build.code, build.stdout, build.stderr, check.code, check.stdout, check.stderr
    );
    let public = dir.path().join("public");
    if public.is_dir() {
        out.push_str("## published\n");
        let files = tree(&public);
        for (path, _) in files
            .iter()
            .filter(|(p, _)| !p.starts_with("pagefind/") && !p.starts_with("static/"))
        {
            out.push_str(&format!("{path}\n"));
        }
        for (path, bytes) in &files {
            let html = String::from_utf8_lossy(bytes);
            if !path.ends_with(".html") || !html.contains("<article") {
                continue;
            }
            let page = Page(scraper::Html::parse_document(&html));
            out.push_str(&format!("\n## {path}\n{}\n", page.one("article").html()));
        }
    }
    let site = regex_escape(&dir.path().display().to_string());
    insta::with_settings!({
        snapshot_path => case,
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![
            (site.as_str(), "[site]"),
            (r"ran in \d+ ms", "ran in [n] ms"),
            (r"in \d+(\.\d+)? ?(ns|µs|ms|s)\b", "in [time]"),
            (r"thread '([^']*)' \(\d+\)", "thread '$1' ([id])"),
            (r"(ran|on) \d{4}-\d\d-\d\d \d\d:\d\d UTC", "$1 [date]"),
            (r"rustc \d+\.\d+\.\d+(-[a-z]+)?", "rustc [version]"),
            (r"Python \d+\.\d+\.\d+", "Python [version]"),
            (r"failed, \d+(\.\d+)? ?(ns|µs|ms|s)", "failed, [time]"),
        ],
    }, {
        insta::assert_snapshot!("output", out);
    });
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Copies the case's site (not its snapshots) into `to`.
fn copy_site(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        if rel.ends_with(".snap") || rel.ends_with(".snap.new") {
            continue;
        }
        let target = to.join(&rel);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
    }
}
