//! Untrusted snippets stay in their box: the real binary builds sites whose
//! snippets try to read secrets, reach the network, touch files outside
//! their folder, and use too much memory or too many threads. Every loop is
//! bounded and every address is on this machine.

mod common;

use std::io::Read;
use std::net::TcpListener;

use common::{Run, Site, assert_says, kiln_command, text};

/// `kiln <args>` with extra environment variables.
fn kiln_with_env(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = kiln_command(site.root(), args);
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn outputs(site: &Site) -> Vec<String> {
    site.page("a/index.html")
        .select(".snippet-output samp")
        .iter()
        .map(text)
        .collect()
}

#[test]
fn secrets_in_the_environment_stay_out_and_allowed_ones_are_named() {
    let site = Site::new();
    site.file("kiln.toml", "[snippets]\nenv = [\"KILN_TEST_ALLOWED\"]\n");
    site.file(
        "content/a.md",
        common::article(
            "Env",
            "```rust\nlet mut names: Vec<String> = std::env::vars().map(|(k, _)| k).filter(|k| k.starts_with(\"KILN_TEST\")).collect();\nnames.sort();\nprintln!(\"{names:?} {:?}\", std::env::var(\"KILN_TEST_ALLOWED\").ok());\n```\n",
        ),
    );
    kiln_with_env(
        &site,
        &["build"],
        &[
            ("KILN_TEST_TOKEN", "s3cret"),
            ("KILN_TEST_ALLOWED", "visible"),
        ],
    )
    .assert_ok();
    assert_eq!(outputs(&site), [r#"["KILN_TEST_ALLOWED"] Some("visible")"#]);
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(
        provenance[0].contains("saw `KILN_TEST_ALLOWED`"),
        "{provenance:?}"
    );
    assert!(provenance[0].contains("sandboxed"), "{provenance:?}");
}

#[test]
fn the_builders_listeners_are_unreachable_but_a_snippets_own_loopback_works() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let site = Site::new();
    let probe = format!(
        "println!(\"builder: {{}}\", std::net::TcpStream::connect(\"127.0.0.1:{port}\").is_ok());\nlet own = std::net::TcpListener::bind(\"127.0.0.1:0\").unwrap();\nprintln!(\"own: {{}}\", std::net::TcpStream::connect(own.local_addr().unwrap()).is_ok());\n"
    );
    site.file(
        "content/a.md",
        common::article(
            "Net",
            &format!("```rust\n{probe}```\n\n```rust,network\n{probe}```\n"),
        ),
    );
    site.build();
    assert_eq!(
        outputs(&site),
        ["builder: false own: true", "builder: true own: true"]
    );
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(
        provenance[1].contains("with network access"),
        "{provenance:?}"
    );
    // The one connection that reached the builder's listener is the
    // `network` snippet's.
    let mut accepted = 0;
    while let Ok((mut stream, _)) = listener.accept() {
        let _ = stream.read(&mut [0; 1]);
        accepted += 1;
    }
    assert_eq!(accepted, 1);
}

#[test]
fn files_outside_the_snippets_folder_are_out_of_reach() {
    let site = Site::new();
    let home = tempfile::tempdir().unwrap();
    let secret = home.path().join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();
    let outside = site.path("written-by-snippet.txt");
    site.file(
        "content/a.md",
        common::article(
            "Files",
            &format!(
                "```rust\nprintln!(\"read: {{:?}}\", std::fs::read_to_string({secret:?}).map_err(|e| e.kind()));\nprintln!(\"write outside: {{:?}}\", std::fs::write({outside:?}, \"x\").map_err(|e| e.kind()));\nprintln!(\"write inside: {{:?}}\", std::fs::write(\"mine.txt\", \"x\").map_err(|e| e.kind()));\nprintln!(\"system: {{}}\", std::fs::read_to_string(\"/etc/hostname\").is_ok() || std::fs::read_to_string(\"/etc/passwd\").is_ok());\n```\n"
            ),
        ),
    );
    kiln_with_env(
        &site,
        &["build"],
        &[("HOME", home.path().to_str().unwrap())],
    )
    .assert_ok();
    assert_eq!(
        outputs(&site),
        [
            "read: Err(PermissionDenied) write outside: Err(PermissionDenied) write inside: Ok(()) system: true"
        ]
    );
    assert!(!outside.exists());
}

#[test]
fn memory_and_process_limits_fail_with_their_names_while_others_pass() {
    let site = Site::new();
    site.file(
        "content/a.md",
        common::article(
            "Limits",
            "```rust\nlet v = vec![1u8; 3 << 30];\nprintln!(\"{}\", v.len());\n```\n\n```rust\nlet handles: Vec<_> = (0..300).map(|_| std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(300)))).collect();\nfor h in handles { h.join().unwrap(); }\n```\n\n```rust\nprintln!(\"fine\");\n```\n\n```rust,memory=4GiB\nlet v = vec![1u8; 3 << 30];\nprintln!(\"{}\", v.len() >> 30);\n```\n",
        ),
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md:7: inline snippet: ran out of memory: its limit is 2 GiB; raise it with `// kiln: memory = 4GiB`",
    );
    assert_says(
        &run,
        "content/a.md:12: inline snippet: could not start another process or thread: its limit is 256 processes and threads",
    );
    assert_says(&run, "the build failed with 2 errors");
}

#[test]
fn required_fails_where_namespaces_are_forbidden_and_best_effort_says_so() {
    let site = Site::new();
    site.file(
        "content/a.md",
        common::article("Deny", "```rust\nprintln!(\"ran\");\n```\n"),
    );
    let deny = [("KILN_SANDBOX_DENY", "namespaces")];
    site.file("kiln.toml", "[snippets]\nsandbox = \"required\"\n");
    let run = kiln_with_env(&site, &["build"], &deny);
    run.assert_failed();
    assert_says(
        &run,
        "error: sandbox: `snippets.sandbox` is `required`, but no network namespace here (denied by `KILN_SANDBOX_DENY`)",
    );
    assert!(!site.exists("public"));
    site.file("kiln.toml", "[snippets]\nsandbox = \"best-effort\"\n");
    let run = kiln_with_env(&site, &["build"], &deny);
    run.assert_ok();
    assert_says(
        &run,
        "sandbox: no network namespace here (denied by `KILN_SANDBOX_DENY`); no process limit (it needs a user namespace); walls up: own folder only, bounded memory and processes, clean environment",
    );
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(
        provenance[0].contains("sandboxed, with network access"),
        "{provenance:?}"
    );
    // Off: the builder's rights, said plainly; the setting is part of the
    // key, so the snippet runs again.
    site.file("kiln.toml", "[snippets]\nsandbox = \"off\"\n");
    let run = kiln_with_env(&site, &["build"], &deny);
    run.assert_ok();
    assert!(run.stdout.contains("(0 cached)"), "{}", run.stdout);
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(provenance[0].contains("not sandboxed"), "{provenance:?}");
}
