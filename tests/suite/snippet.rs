//! Snippets through the real binary and the real rustc.

use crate::common::{Site, assert_not_says, assert_says, text};

fn site_with(article_body: &str) -> Site {
    let site = Site::new();
    site.file(
        "content/a.md",
        format!("---\ntitle: A\n---\n{article_body}"),
    );
    site
}

/// The text of each snippet's output panel on the article's page.
fn outputs(site: &Site) -> Vec<String> {
    site.outputs("a/index.html")
}

#[test]
fn linked_and_inline_snippets_show_their_real_output() {
    let site = site_with(
        "Intro.\n\n[hello.rs](../snippets/hello.rs)\n\n```rust\n# use std::collections::BTreeMap;\nlet mut m = BTreeMap::new();\nm.insert(\"k\", 1);\nprintln!(\"{m:?}\");\neprintln!(\"to stderr\");\n```\n",
    );
    site.file(
        "snippets/hello.rs",
        "fn main() {\n    println!(\"hello from {}\", 6 * 7);\n}\n",
    );
    let run = site.build();
    assert!(
        run.stdout.contains("snippets: 2 (0 cached)"),
        "{}",
        run.stdout
    );
    let page = site.page("a/index.html");
    assert_eq!(page.select("figure.snippet").len(), 2);
    // stdout and stderr in the order they were written, stderr named for
    // a screen reader.
    let out = outputs(&site);
    assert_eq!(out[0], "hello from 42\n");
    assert_eq!(out[1], "{\"k\": 1}\nstderr: to stderr\n");
    assert_eq!(page.texts(".snippet-output .stderr"), ["stderr: to stderr"]);
    assert_eq!(
        page.texts(".snippet-output .stderr .visually-hidden"),
        ["stderr:"]
    );
    // The hidden line is compiled but not shown.
    let code = text(&page.select("figure.snippet pre.code")[1]);
    assert!(!code.contains("use std::collections"), "{code}");
    assert!(code.contains("BTreeMap::new()"));
    assert!(page.texts(".snippet-status")[0].starts_with("exit status 0"));
    assert_eq!(page.texts("figure.snippet figcaption span")[0], "hello.rs");
}

#[test]
fn should_panic_compile_fail_no_run_and_ignore() {
    let site = site_with(concat!(
        "```rust,should_panic\npanic!(\"boom\");\n```\n\n",
        "```rust,compile_fail\nlet s = String::new();\ndrop(s);\nprintln!(\"{s}\");\n```\n\n",
        "```rust,no_run\nloop {}\n```\n\n",
        "```rust,ignore\nthis is not rust\n```\n\n",
        "[cf.rs](../snippets/cf.rs)\n",
    ));
    site.file(
        "snippets/cf.rs",
        "// kiln: compile_fail\nfn main() { let x: u8 = \"no\"; }\n",
    );
    site.build();
    let page = site.page("a/index.html");
    let statuses = page.texts(".snippet-status > span:first-child");
    assert!(
        statuses[0].starts_with("panicked, as expected"),
        "{statuses:?}"
    );
    assert_eq!(statuses[1], "rustc rejects it, as expected");
    assert_eq!(statuses[2], "compiles (not run)");
    assert_eq!(statuses[3], "not compiled (ignore)");
    assert_eq!(statuses[4], "rustc rejects it, as expected");
    let out = outputs(&site);
    assert!(out[0].contains("boom"), "{out:?}");
    assert!(
        out[1].contains("error[E0382]: borrow of moved value: `s`"),
        "{out:?}"
    );
    assert!(out[2].contains("error[E0308]: mismatched types"), "{out:?}");
    assert!(out[2].contains("snippets/cf.rs:2:"), "{out:?}");
}

#[test]
fn unexpected_outcomes_fail_the_build_together() {
    let site = site_with(concat!(
        "```rust\nstd::process::exit(3);\n```\n\n",
        "```rust\npanic!(\"unexpected\");\n```\n\n",
        "```rust,should_panic\nprintln!(\"fine\");\n```\n\n",
        "```rust,compile_fail\nlet x = 1;\n```\n\n",
        "```rust\nlet x: u8 = 300u32;\n```\n\n",
        "```rust\nstd::process::abort();\n```\n",
    ));
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(&run, "content/a.md:4: inline snippet: ");
    assert_says(&run, "exited with status 3");
    assert_says(&run, "content/a.md:8: inline snippet");
    assert_says(
        &run,
        "panicked (if the panic is the point, mark it `should_panic` in the fence: ```` ```rust,should_panic ````); its output ended with:",
    );
    assert_says(&run, "unexpected");
    // The failed run was redone outside the merged binary: the panic names
    // the article and the line the author wrote.
    assert_says(&run, "panicked at content/a.md:9:1:");
    assert_says(&run, "exited normally, but it is marked `should_panic`");
    assert_says(&run, "compiled, but it is marked `compile_fail`");
    assert_says(&run, "content/a.md:20: inline snippet");
    assert_says(&run, "does not compile:\nerror[E0308]: mismatched types");
    assert_says(
        &run,
        "content/a.md:24: inline snippet: was killed by signal 6 (SIGABRT)",
    );
    assert_says(&run, "the build failed with 6 errors");
    assert!(!site.exists("public"));
}

#[test]
fn a_hanging_snippet_and_its_child_are_killed_at_the_timeout() {
    let site = site_with("[hang.rs](../snippets/hang.rs)\n");
    site.file(
        "snippets/hang.rs",
        r#"// kiln: timeout = 1s
fn main() {
    let child = std::process::Command::new("sleep").arg("300.4242").spawn().unwrap();
    println!("spawned child {} and now hanging", child.id());
    loop { std::thread::sleep(std::time::Duration::from_millis(50)); }
}
"#,
    );
    let started = std::time::Instant::now();
    let output = crate::common::kiln_command(site.root(), &["build"])
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("content/a.md:4: snippet `snippets/hang.rs`: was stopped after 1s"),
        "{stderr}"
    );
    assert!(stderr.contains("spawned child"), "{stderr}");
    // No process of the host runs the child's command line any more (a
    // zombie waiting for its reaper has none).
    assert_eq!(
        crate::common::processes_running("300.4242"),
        Vec::<String>::new()
    );
}

#[test]
fn a_child_left_holding_stdout_does_not_hang_the_build() {
    let site = site_with(
        "```rust\nstd::process::Command::new(\"sleep\").arg(\"300\").spawn().unwrap();\nprintln!(\"parent done\");\n```\n",
    );
    let started = std::time::Instant::now();
    site.build();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(outputs(&site), ["parent done\n"]);
}

#[test]
fn huge_output_is_capped() {
    let site = site_with(
        "```rust\nlet line = \"x\".repeat(99);\nfor _ in 0..100_000 { println!(\"{line}\"); }\n```\n",
    );
    site.build();
    let out = &outputs(&site)[0];
    assert!(out.len() < 70 * 1024, "{} bytes kept", out.len());
    assert!(
        out.ends_with("… output truncated"),
        "{}",
        &out[out.len() - 40..]
    );
    let page = std::fs::metadata(site.path("public/a/index.html"))
        .unwrap()
        .len();
    assert!(page < 200 * 1024, "page is {page} bytes");
}

#[test]
fn output_is_escaped_and_ansi_becomes_spans() {
    let site = site_with(
        "```rust\nprintln!(\"<script>alert('x')</script> & <b>\");\nprintln!(\"\\x1b[31mred\\x1b[0m plain\");\n```\n",
    );
    site.build();
    let page = site.page("a/index.html");
    // The only script is kiln's own page script: none came from the output.
    let scripts = page.select("script");
    assert_eq!(scripts.len(), 1);
    assert_eq!(scripts[0].value().attr("src"), Some("../static/kiln.js"));
    assert!(page.select(".snippet-output b").is_empty());
    let out = &outputs(&site)[0];
    assert!(out.contains("<script>alert('x')</script> & <b>"), "{out}");
    assert!(out.contains("red plain"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert_eq!(page.select(".snippet-output samp span[style]").len(), 1);
}

#[test]
fn non_utf8_output_is_shown_with_replacement_characters() {
    let site = site_with(
        "```rust\nuse std::io::Write;\nstd::io::stdout().write_all(b\"ok \\xff\\xfe end\\n\").unwrap();\n```\n",
    );
    site.build();
    assert_eq!(outputs(&site), ["ok \u{fffd}\u{fffd} end\n"]);
}

#[test]
fn a_missing_snippet_file_is_an_error() {
    let site = site_with("Text.\n\n[gone.rs](../snippets/gone.rs)\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "error: content/a.md:6: snippet `snippets/gone.rs`: the linked file `snippets/gone.rs` does not exist",
    );
}

#[test]
fn bad_kiln_options_are_an_error() {
    let site = site_with("[x.rs](../snippets/x.rs)\n");
    site.file("snippets/x.rs", "// kiln: should_pnaic\nfn main() {}\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "snippet `snippets/x.rs`: unknown `// kiln:` option `should_pnaic`",
    );
}

#[test]
fn golden_mismatch_fails_with_a_diff_and_bless_rewrites_it() {
    let site = site_with("[g.rs](../snippets/g.rs)\n");
    site.file(
        "snippets/g.rs",
        "fn main() { println!(\"one\"); println!(\"two\"); }\n",
    )
    .file("snippets/g.stdout", "one\nthree\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "its stdout differs from `snippets/g.stdout` (run `kiln build --bless` to accept the new output)",
    );
    assert_says(&run, "-three\n+two");
    site.kiln(&["build", "--bless"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(site.path("snippets/g.stdout")).unwrap(),
        "one\ntwo\n"
    );
    site.build();
}

// Counts rustc runs through a shell-script wrapper.
#[cfg(unix)]
#[test]
fn a_warm_rebuild_runs_no_rustc_and_fresh_runs_it_again() {
    let site = site_with(
        "[a.rs](../snippets/a.rs)\n\n```rust\nprintln!(\"inline\");\n```\n\n```rust\nprintln!(\"inline\");\n```\n",
    );
    site.file("snippets/a.rs", "fn main() { println!(\"a\"); }\n");
    let counter = site.path("rustc-calls");
    let wrapper = site.path("counting-rustc");
    site.file(
        "counting-rustc",
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec rustc \"$@\"\n",
            counter.display()
        ),
    );
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut calls = 0;
    let mut build = || {
        let counted = crate::common::LineCounter::open(&counter);
        let run = site.kiln_with_env(&["build"], &[("RUSTC", wrapper.to_str().unwrap())]);
        run.assert_ok();
        calls += counted.lines().len();
        (run.stdout, calls)
    };
    let (first, calls) = build();
    // `rustc --print sysroot` once (the toolchain's own rustc then tells
    // its version), then one merged compile for both distinct snippets.
    assert_eq!(calls, 2, "{first}");
    assert!(
        first.contains("snippets: 3 (0 cached), compiled in 1 rustc invocation"),
        "{first}"
    );
    let (second, calls) = build();
    assert_eq!(calls, 2, "the warm build ran rustc: {second}");
    // The inline block stands twice, at two lines: two runs, each keyed
    // by its place so that its messages name its own line.
    assert!(
        second.contains("snippets: 3 (3 cached), compiled in 0 rustc invocations"),
        "{second}"
    );
    assert_eq!(outputs(&site), ["a\n", "inline\n", "inline\n"]);
}

#[test]
fn a_merged_build_blames_only_the_broken_snippet() {
    let site = site_with(concat!(
        "```rust\nprintln!(\"first\");\n```\n\n",
        "```rust\nlet n: i32 = \"not a number\";\n```\n\n",
        "```rust\nprintln!(\"third\");\n```\n",
    ));
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "error: content/a.md:8: inline snippet: does not compile:\nerror[E0308]: mismatched types",
    );
    assert_says(&run, "the build failed with 1 error");
    assert_not_says(&run, "content/a.md:4:");
    assert_not_says(&run, "content/a.md:12:");
    // The diagnostic points at the article's own line, not a merged file.
    assert_says(&run, "--> content/a.md:9:14");
}

#[test]
fn the_same_snippet_twice_is_one_job() {
    let site = site_with("[a.rs](../snippets/a.rs)\n\nAgain:\n\n[a.rs](../snippets/a.rs)\n");
    site.file("snippets/a.rs", "fn main() { println!(\"once\"); }\n");
    let run = site.build();
    assert!(
        run.stdout
            .contains("snippets: 2 (0 cached), compiled in 1 rustc invocation"),
        "{}",
        run.stdout
    );
    assert_eq!(outputs(&site), ["once\n", "once\n"]);
}

#[test]
fn inline_show_highlights_inline_blocks_and_still_runs_linked_ones() {
    let site = site_with(
        "[hello.rs](../snippets/hello.rs)\n\n```rust\nuse serde::Deserialize; // no such crate here: shown, not compiled\nfn main() {}\n```\n",
    );
    site.file("kiln.toml", "[snippets]\ninline = \"show\"\n")
        .file("snippets/hello.rs", "fn main() { println!(\"linked\"); }\n");
    let run = site.build();
    assert!(
        run.stdout.contains("snippets: 1 (0 cached)"),
        "{}",
        run.stdout
    );
    let page = site.page("a/index.html");
    assert_eq!(page.select("figure.snippet").len(), 1);
    assert_eq!(outputs(&site), ["linked\n"]);
    // The inline block is plain highlighted code.
    let blocks = page.select("pre.code");
    assert_eq!(blocks.len(), 2);
    assert!(text(&blocks[1]).contains("use serde::Deserialize"));
    assert!(!blocks[1].html().contains("snippet-output"));
}
