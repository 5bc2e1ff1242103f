//! Snippets that use crates from `snippets/Cargo.toml`, built by the real
//! cargo and rustc. The crates are path dependencies written here, so no
//! test needs the network.

#[cfg(unix)]
use crate::common::{Run, kiln_command};
use crate::common::{Site, assert_says, text};

/// A site whose `snippets/Cargo.toml` depends on a small local crate,
/// `tiny` (with a `shout` feature and a macro).
fn site_with_tiny() -> Site {
    let site = Site::new();
    site.file(
        "snippets/Cargo.toml",
        "[package]\nname = \"kb\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntiny = { path = \"../crates/tiny\", features = [\"shout\"] }\n",
    );
    site.file(
        "crates/tiny/Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[features]\nshout = []\n",
    );
    site.file(
        "crates/tiny/src/lib.rs",
        r#"pub fn greet(name: &str) -> String {
    if cfg!(feature = "shout") { format!("HELLO, {}!", name.to_uppercase()) } else { format!("hello, {name}") }
}
pub fn check(n: i32) -> Result<i32, String> {
    if n < 0 { Err(format!("{n} is negative")) } else { Ok(n) }
}
#[macro_export]
macro_rules! twice { ($e:expr) => { ($e) * 2 } }
"#,
    );
    site
}

fn article_with(site: &Site, body: &str) {
    site.file("content/a.md", crate::common::article("Crates", body));
}

/// `kiln build` with `CARGO` and `RUSTC` wrappers that count their runs.
/// Returns the run and the counts (cargo, rustc) of this build.
// Counts runs through shell-script wrappers.
#[cfg(unix)]
fn counted_build(site: &Site) -> (Run, usize, usize) {
    let wrapper = |name: &str, real: &str| {
        let counter = site.path(&format!("{name}.count"));
        let script = site.path(&format!("{name}-wrapper.sh"));
        if script.exists() {
            // Rewriting it would change the toolchain's fingerprint.
            return (script, counter);
        }
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho x >> '{}'\nexec {real} \"$@\"\n",
                counter.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        (script, counter)
    };
    let (cargo, cargo_count) = wrapper("cargo", "cargo");
    let (rustc, rustc_count) = wrapper("rustc", "rustc");
    let (cargo_lines, rustc_lines) = (
        crate::common::LineCounter::open(&cargo_count),
        crate::common::LineCounter::open(&rustc_count),
    );
    let output = kiln_command(site.root(), &["build"])
        .env("CARGO", &cargo)
        .env("RUSTC", &rustc)
        .output()
        .unwrap();
    let run = Run::from(output);
    (run, cargo_lines.lines().len(), rustc_lines.lines().len())
}

#[test]
fn snippets_use_crates_the_way_crate_docs_write_them() {
    let site = site_with_tiny();
    article_with(
        &site,
        r#"```rust
println!("{}", tiny::greet("kiln"));
```

```rust
use std::error::Error;
# fn main() -> Result<(), Box<dyn Error>> {
let n = tiny::check(21)?;
println!("{}", n * 2);
# Ok(())
# }
```

```rust
let n = tiny::check(4)?;
println!("checked {n}");
Ok::<(), Box<dyn std::error::Error>>(())
```

```rust
#[macro_use]
extern crate tiny;
println!("{}", twice!(21));
```

```rust,should_panic
tiny::check(-1).unwrap();
```

```rust,compile_fail
let s: u8 = tiny::greet("x");
```

```rust
#![crate_name = "rary"]
fn main() {
    println!("crate {}", module_path!());
}
```
"#,
    );
    site.build();
    let page = site.page("a/index.html");
    let outputs: Vec<String> = page
        .select(".snippet-output samp")
        .iter()
        .map(text)
        .collect();
    assert_eq!(outputs[0], "HELLO, KILN!");
    assert_eq!(outputs[1], "42");
    assert_eq!(outputs[2], "checked 4");
    assert_eq!(outputs[3], "42");
    assert!(outputs[4].contains("-1 is negative"), "{}", outputs[4]);
    assert!(outputs[5].contains("mismatched types"), "{}", outputs[5]);
    assert_eq!(outputs[6], "crate rary");
    // Provenance: the toolchain and the locked version of the crate used.
    let provenance = page.texts(".snippet-status .provenance");
    assert!(provenance[0].starts_with("rustc 1."), "{provenance:?}");
    assert!(provenance[0].contains("tiny 0.3.1"), "{provenance:?}");
    assert!(!provenance[6].contains("tiny"), "{provenance:?}");
    // The lock file cargo made is beside the manifest, for committing.
    assert!(site.exists("snippets/Cargo.lock"));
    // Lists say how an article's snippets fared.
    assert_eq!(
        site.page("index.html").texts(".snippet-count"),
        ["7 snippets, all pass"]
    );
}

// Counts runs through shell-script wrappers.
#[cfg(unix)]
#[test]
fn a_warm_build_starts_no_cargo_and_no_rustc_and_a_lock_change_rebuilds() {
    let site = site_with_tiny();
    article_with(
        &site,
        "```rust\nprintln!(\"{}\", tiny::greet(\"a\"));\n```\n",
    );
    let (run, cargo, rustc) = counted_build(&site);
    run.assert_ok();
    assert!(cargo >= 1 && rustc >= 2, "cargo {cargo}, rustc {rustc}");
    assert!(
        run.stdout.contains("dependencies built by cargo"),
        "{}",
        run.stdout
    );
    let (run, cargo, rustc) = counted_build(&site);
    run.assert_ok();
    assert_eq!((cargo, rustc), (0, 0), "{}", run.stdout);
    // Editing a snippet recompiles that one, not the dependencies.
    article_with(
        &site,
        "```rust\nprintln!(\"{}\", tiny::greet(\"b\"));\n```\n",
    );
    let (run, cargo, rustc) = counted_build(&site);
    run.assert_ok();
    assert_eq!((cargo, rustc), (0, 1), "{}", run.stdout);
    // A changed lock file (here: the local crate's version) rebuilds the
    // dependencies and the snippets.
    let manifest = site.path("crates/tiny/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("0.3.1", "0.4.0")).unwrap();
    let (run, cargo, rustc) = counted_build(&site);
    run.assert_ok();
    assert!(cargo >= 1 && rustc >= 2, "cargo {cargo}, rustc {rustc}");
    assert!(run.stdout.contains("(0 cached)"), "{}", run.stdout);
    let lock = std::fs::read_to_string(site.path("snippets/Cargo.lock")).unwrap();
    assert!(lock.contains("0.4.0"), "{lock}");
    assert!(
        site.page("a/index.html")
            .texts(".provenance")
            .iter()
            .all(|p| p.contains("tiny 0.4.0"))
    );
}

#[test]
fn an_unknown_crate_offline_is_one_error_naming_the_manifest_line() {
    let site = site_with_tiny();
    article_with(&site, "Text.\n");
    site.build();
    let before = crate::common::tree(&site.path("public"));
    site.file(
        "snippets/Cargo.toml",
        "[package]\nname = \"kb\"\nversion = \"0.1.0\"\n\n[dependencies]\nkiln-test-no-such-crate = \"1\"\n",
    );
    article_with(&site, "```rust\nprintln!(\"x\");\n```\n");
    let run = site.kiln(&["build", "--offline"]);
    run.assert_failed();
    assert_says(
        &run,
        "error: snippets/Cargo.toml:6: cargo could not build the snippets' dependencies",
    );
    assert_says(&run, "`kiln-test-no-such-crate`");
    assert_eq!(crate::common::tree(&site.path("public")), before);
}

#[test]
fn a_broken_manifest_names_its_line_and_column() {
    let site = Site::new();
    site.file("snippets/Cargo.toml", "[dependencies\ntiny = 1\n");
    article_with(&site, "```rust\nprintln!(\"x\");\n```\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(&run, "error: snippets/Cargo.toml:1:14:");
}

#[test]
fn inline_snippets_take_options_in_the_fence_and_a_kiln_line() {
    let site = Site::new();
    article_with(
        &site,
        "```rust,timeout=1s\nloop { std::thread::sleep(std::time::Duration::from_millis(10)); }\n```\n\n```rust\n// kiln: timeout = 1s\nloop { std::thread::sleep(std::time::Duration::from_millis(10)); }\n```\n",
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(&run, "content/a.md:7: inline snippet: was stopped after 1s");
    assert_says(
        &run,
        "content/a.md:11: inline snippet: was stopped after 1s",
    );
    assert_says(&run, "`timeout=30s` in the fence");
    // The `// kiln:` line is an option, not code to show.
    site.file(
        "content/a.md",
        crate::common::article(
            "Crates",
            "```rust\n// kiln: timeout = 5s\nprintln!(\"hi\");\n```\n",
        ),
    );
    site.build();
    let code = text(&site.page("a/index.html").one(".snippet pre.code"));
    assert_eq!(code, "println!(\"hi\");");
}

#[test]
fn the_report_lists_every_snippet() {
    let site = site_with_tiny();
    article_with(
        &site,
        "```rust\nprintln!(\"{}\", tiny::greet(\"a\"));\n```\n\n```rust,ignore\nnot rust\n```\n",
    );
    site.kiln(&["build", "--report", "report.json"]).assert_ok();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.path("report.json")).unwrap()).unwrap();
    let snippets = report["snippets"].as_array().unwrap();
    assert_eq!(snippets.len(), 2);
    assert_eq!(snippets[0]["article"], "content/a.md");
    assert_eq!(snippets[0]["line"], 7);
    assert_eq!(snippets[0]["outcome"], "passed");
    assert_eq!(snippets[0]["cached"], false);
    assert_eq!(snippets[0]["crates"][0]["name"], "tiny");
    assert!(
        snippets[0]["toolchain"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );
    assert_eq!(snippets[1]["outcome"], "skipped");
    site.kiln(&["check", "--report", "report.json"]).assert_ok();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.path("report.json")).unwrap()).unwrap();
    assert_eq!(report["snippets"][0]["cached"], true);
}

#[test]
fn build_scripts_and_snippets_see_cargos_package_but_no_secret() {
    let site = Site::new();
    site.file(
        "snippets/Cargo.toml",
        "[package]\nname = \"kb-snippets\"\nversion = \"2.3.4-beta.1\"\nauthors = [\"A\", \"B\"]\nedition = \"2021\"\n\n[dependencies]\nprobe = { path = \"../crates/probe\" }\n",
    );
    site.file(
        "crates/probe/Cargo.toml",
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n",
    );
    site.file(
        "crates/probe/build.rs",
        "fn main() {\n    let seen = std::env::var(\"KILN_TEST_BUILD_SECRET\").unwrap_or_else(|_| \"nothing\".into());\n    println!(\"cargo:rustc-env=SEEN={seen}\");\n}\n",
    );
    site.file(
        "crates/probe/src/lib.rs",
        "pub const SEEN: &str = env!(\"SEEN\");\n",
    );
    article_with(
        &site,
        "```rust\nprintln!(\"{} {} {} {}\", probe::SEEN, env!(\"CARGO_PKG_NAME\"), env!(\"CARGO_PKG_VERSION_PRE\"), env!(\"CARGO_PKG_AUTHORS\"));\n```\n",
    );
    site.kiln_with_env(&["build"], &[("KILN_TEST_BUILD_SECRET", "TOKEN-77aa")])
        .assert_ok();
    let page = site.page("a/index.html");
    assert_eq!(
        page.texts(".snippet-output samp"),
        ["nothing kb-snippets beta.1 A:B"]
    );
}

#[test]
fn a_local_crate_inside_snippets_needs_no_workspace_line() {
    let site = Site::new();
    // No `[package]` in the snippets' manifest (kiln takes that), and no
    // `[workspace]` in the crate beside it: cargo alone would read
    // `snippets/Cargo.toml` as the crate's workspace and fail.
    site.file(
        "snippets/Cargo.toml",
        "[dependencies]\ntiny = { path = \"tiny\" }\n",
    )
    .file(
        "snippets/tiny/Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .file(
        "snippets/tiny/src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n",
    )
    .file(
        "snippets/uses_tiny.rs",
        "fn main() { println!(\"{}\", tiny::answer()); }\n",
    );
    article_with(&site, "[uses_tiny.rs](../snippets/uses_tiny.rs)\n");
    let run = site.kiln(&["build"]);
    run.assert_ok();
    let page = site.page("a/index.html");
    assert_eq!(page.texts(".snippet-output samp"), ["42"]);
    // An edit to the crate is seen: its copy is made afresh.
    site.file(
        "snippets/tiny/src/lib.rs",
        "pub fn answer() -> u32 { 43 }\n",
    );
    site.kiln(&["build"]).assert_ok();
    assert_eq!(
        site.page("a/index.html").texts(".snippet-output samp"),
        ["43"]
    );
}
