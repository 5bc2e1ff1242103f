//! Untrusted snippets stay in their box: the real binary builds sites whose
//! snippets try to read secrets, reach the network, touch files outside
//! their folder, and use too much memory or too many threads. Every loop is
//! bounded and every address is on this machine.

use std::io::Read;
use std::net::TcpListener;

use crate::common::{Site, assert_not_says, assert_says, text};

fn outputs(site: &Site) -> Vec<String> {
    site.page("a/index.html")
        .select(".snippet-output samp")
        .iter()
        .map(text)
        .collect()
}

/// Makes the site's folder private, as a home folder or a CI checkout
/// often is: a root builder's snippets run as nobody, who cannot reach
/// anything in it by its path.
fn make_private(site: &Site) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(site.root(), std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn secrets_in_the_environment_stay_out_and_allowed_ones_are_named() {
    let site = Site::new();
    make_private(&site);
    site.file("kiln.toml", "[snippets]\nenv = [\"KILN_TEST_ALLOWED\"]\n");
    site.file(
        "content/a.md",
        crate::common::article(
            "Env",
            "```rust\nlet mut names: Vec<String> = std::env::vars().map(|(k, _)| k).filter(|k| k.starts_with(\"KILN_TEST\")).collect();\nnames.sort();\nprintln!(\"{names:?} {:?}\", std::env::var(\"KILN_TEST_ALLOWED\").ok());\n```\n",
        ),
    );
    site.kiln_with_env(
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
        crate::common::article(
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
    let outside = site.path("content/written-by-snippet.txt");
    site.file(
        "content/a.md",
        crate::common::article(
            "Files",
            &format!(
                "```rust\nprintln!(\"read: {{:?}}\", std::fs::read_to_string({secret:?}).map_err(|e| e.kind()));\nprintln!(\"write outside: {{:?}}\", std::fs::write({outside:?}, \"x\").map_err(|e| e.kind()));\nprintln!(\"write inside: {{:?}}\", std::fs::write(\"mine.txt\", \"x\").map_err(|e| e.kind()));\nprintln!(\"system: {{}}\", std::fs::read_to_string(\"/etc/hostname\").is_ok() || std::fs::read_to_string(\"/etc/passwd\").is_ok());\nprintln!(\"root's files: {{}}\", std::fs::read_to_string(\"/etc/shadow\").is_ok());\n```\n"
            ),
        ),
    );
    site.kiln_with_env(&["build"], &[("HOME", home.path().to_str().unwrap())])
        .assert_ok();
    assert_eq!(
        outputs(&site),
        [
            "read: Err(NotFound) write outside: Err(NotFound) write inside: Ok(()) system: true root's files: false"
        ]
    );
    // Not even there: the run has a root of its own.
    assert!(!outside.exists());
    assert!(!outside.exists());
}

#[test]
fn memory_and_process_limits_fail_with_their_names_while_others_pass() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
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
    make_private(&site);
    site.file(
        "content/a.md",
        crate::common::article(
            "Deny",
            "```rust\nlet status = std::fs::read_to_string(\"/proc/self/status\").unwrap();\nlet uid = status.lines().find(|l| l.starts_with(\"Uid:\")).unwrap().split_whitespace().nth(1).unwrap().to_owned();\nprintln!(\"ran as root: {}\", uid == \"0\");\n```\n",
        ),
    );
    let deny = [("KILN_SANDBOX_DENY", "namespaces")];
    site.file("kiln.toml", "[snippets]\nsandbox = \"required\"\n");
    let run = site.kiln_with_env(&["build"], &deny);
    run.assert_failed();
    assert_says(
        &run,
        "error: sandbox: `snippets.sandbox` is `required`, but no namespaces here (namespaces denied by `KILN_SANDBOX_DENY`): no network wall, no root of its own (host sockets and `/tmp` reachable), and processes may outlive their run",
    );
    assert!(!site.exists("public"));
    site.file("kiln.toml", "[snippets]\nsandbox = \"best-effort\"\n");
    let run = site.kiln_with_env(&["build"], &deny);
    run.assert_ok();
    assert_says(
        &run,
        "sandbox: no namespaces here (namespaces denied by `KILN_SANDBOX_DENY`): no network wall, no root of its own (host sockets and `/tmp` reachable), and processes may outlive their run; walls up: own files only, limits per run, clean environment",
    );
    // The page names exactly the walls that stood, and a root builder's
    // snippet still did not run as root.
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(
        provenance[0]
            .contains("sandboxed in part: own files only, limits per run, clean environment"),
        "{provenance:?}"
    );
    assert_eq!(outputs(&site), ["ran as root: false"]);
    // Off: the builder's rights, said plainly; the setting is part of the
    // key, so the snippet runs again.
    site.file("kiln.toml", "[snippets]\nsandbox = \"off\"\n");
    let run = site.kiln_with_env(&["build"], &deny);
    run.assert_ok();
    assert!(run.stdout.contains("(0 cached)"), "{}", run.stdout);
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(provenance[0].contains("not sandboxed"), "{provenance:?}");
}

/// The outputs of every page's panels, by page.

#[test]
fn a_symbolic_link_that_leads_outside_the_site_is_an_error_naming_it() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOKEN-4c1d").unwrap();
    std::fs::create_dir(outside.path().join("posts")).unwrap();
    std::fs::write(
        outside.path().join("posts/p.md"),
        crate::common::article("Outside", "TOKEN-4c1d\n"),
    )
    .unwrap();
    std::fs::write(
        outside.path().join("x.rs"),
        "fn main() { /* TOKEN-4c1d */ }\n",
    )
    .unwrap();
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
            "A",
            "See [the file](copy.txt).\n\n[x.rs](../snippets/x.rs)\n",
        ),
    );
    // A link that stays inside the site is followed, and published as
    // the file it leads to.
    site.file("shared/real.txt", "inside text");
    let link = |target: &std::path::Path, at: &str| {
        std::os::unix::fs::symlink(target, site.path(at)).unwrap();
    };
    link(&site.path("shared/real.txt"), "content/copy.txt");
    link(&outside.path().join("secret.txt"), "content/env.txt");
    link(&outside.path().join("posts"), "content/posts");
    std::fs::create_dir_all(site.path("snippets")).unwrap();
    link(&outside.path().join("x.rs"), "snippets/x.rs");
    std::fs::create_dir_all(site.path("templates")).unwrap();
    link(&outside.path().join("secret.txt"), "templates/page.html");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    let outside_path = std::fs::canonicalize(outside.path()).unwrap();
    for (at, target) in [
        ("content/env.txt", "secret.txt"),
        ("content/posts", "posts"),
        ("templates/page.html", "secret.txt"),
    ] {
        assert_says(
            &run,
            &format!(
                "error: {at}: a symbolic link that leads outside the site, to `{}`; kiln reads nothing outside the site root (copy what it needs into the site instead)",
                outside_path.join(target).display()
            ),
        );
    }
    assert_says(
        &run,
        "content/a.md:9: snippet `snippets/x.rs`: `snippets/x.rs` is a symbolic link that leads outside the site",
    );
    assert_not_says(&run, "TOKEN-4c1d");
    assert!(!site.exists("public"));
    // Without the links that lead outside, the one inside is published as
    // a plain file.
    for at in [
        "content/env.txt",
        "content/posts",
        "snippets/x.rs",
        "templates/page.html",
    ] {
        std::fs::remove_file(site.path(at)).unwrap();
    }
    site.file(
        "content/a.md",
        crate::common::article("A", "See [the file](copy.txt).\n"),
    );
    site.build();
    let published = site.path("public/copy.txt");
    assert!(!published.is_symlink());
    assert_eq!(std::fs::read_to_string(published).unwrap(), "inside text");
}

#[test]
fn the_compiler_sees_no_secret_and_no_host_file_but_what_cargo_sets() {
    let site = Site::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.txt");
    std::fs::write(&secret, "TOKEN-9f2e").unwrap();
    site.file("snippets/data.txt", "beside the snippets\n");
    site.file(
        "content/a.md",
        crate::common::article(
            "Compile",
            &format!(
                "```rust\nprintln!(\"{{:?}}\", option_env!(\"KILN_TEST_COMPILE_SECRET\"));\nprintln!(\"{{}} {{}} {{}}\", env!(\"CARGO_PKG_NAME\"), env!(\"CARGO_PKG_VERSION\"), env!(\"CARGO_CRATE_NAME\"));\nlet data = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/data.txt\");\nprint!(\"{{}}\", std::fs::read_to_string(data).unwrap());\n```\n\n```rust\nprintln!(\"{{}}\", include_str!({secret:?}));\n```\n"
            ),
        ),
    );
    let run = site.kiln_with_env(&["build"], &[("KILN_TEST_COMPILE_SECRET", "TOKEN-9f2e")]);
    run.assert_failed();
    assert_says(&run, "content/a.md:14: inline snippet: does not compile");
    assert_eq!(
        run.stderr.matches("does not compile").count(),
        1,
        "{}",
        run.stderr
    );
    assert_says(&run, &format!("couldn't read `{}`", secret.display()));
    assert_not_says(&run, "TOKEN-9f2e");
    site.file(
        "content/a.md",
        std::fs::read_to_string(site.path("content/a.md"))
            .unwrap()
            .replace(&format!("include_str!({secret:?})"), "\"gone\""),
    );
    site.kiln_with_env(&["build"], &[("KILN_TEST_COMPILE_SECRET", "TOKEN-9f2e")])
        .assert_ok();
    assert_eq!(
        outputs(&site)[0],
        "None snippets 0.0.0 snippet beside the snippets"
    );
}

#[test]
fn nothing_a_snippet_starts_outlives_its_run() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
            "Daemon",
            "```rust\nlet status = std::process::Command::new(\"sh\").arg(\"-c\").arg(\"setsid sh -c 'sleep 301.777' </dev/null >/dev/null 2>&1 &\").status().unwrap();\nprintln!(\"started: {status}\");\n```\n",
        ),
    );
    site.build();
    assert_eq!(outputs(&site), ["started: exit status: 0"]);
    assert_eq!(
        crate::common::processes_running("301.777"),
        Vec::<String>::new()
    );
}

#[test]
fn one_articles_code_never_runs_in_another_articles_process() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article("Bank", "```rust\nprintln!(\"balance = 10\");\n```\n"),
    );
    site.file(
        "content/b.md",
        crate::common::article(
            "Forger",
            "```rust\n#[used]\n#[unsafe(link_section = \".init_array\")]\nstatic FORGE: extern \"C\" fn() = {\n    extern \"C\" fn forge() {\n        println!(\"balance = 1000000\");\n        std::process::exit(0);\n    }\n    forge\n};\nfn main() {}\n```\n",
        ),
    );
    site.build();
    assert_eq!(site.outputs("a/index.html"), ["balance = 10\n"]);
    assert_eq!(site.outputs("b/index.html"), ["balance = 1000000\n"]);
}

#[test]
fn memory_and_disk_are_counted_for_the_whole_run() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
            "Whole run",
            "```rust,memory=1GiB\nif std::env::var_os(\"CHILD\").is_some() {\n    let v = vec![1u8; 400 << 20];\n    std::thread::sleep(std::time::Duration::from_secs(3));\n    println!(\"{}\", v.len());\n    return;\n}\nlet me = std::env::current_exe().unwrap();\nlet children: Vec<_> = (0..4).map(|_| std::process::Command::new(&me).env(\"CHILD\", \"1\").spawn().unwrap()).collect();\nfor mut child in children {\n    assert!(child.wait().unwrap().success());\n}\n```\n\n```rust,disk=64MiB\nfor i in 0..5 {\n    std::fs::write(std::env::temp_dir().join(format!(\"f{i}\")), vec![0u8; 20 << 20]).unwrap();\n}\n```\n",
        ),
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md:7: inline snippet: ran out of memory: its limit is 1 GiB; raise it with `// kiln: memory = 4GiB`",
    );
    assert_says(
        &run,
        "content/a.md:21: inline snippet: ran out of disk space: its limit is 64 MiB for all its files together; raise it with `// kiln: disk = 4GiB`",
    );
}

#[test]
fn host_unix_sockets_are_out_of_reach() {
    use std::os::linux::net::SocketAddrExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let name = format!("kiln-test-{}", std::process::id());
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let abstract_listener = std::os::unix::net::UnixListener::bind_addr(&address).unwrap();
    abstract_listener.set_nonblocking(true).unwrap();
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
            "Sockets",
            &format!(
                "```rust\nuse std::os::linux::net::SocketAddrExt;\nuse std::os::unix::net::{{SocketAddr, UnixStream}};\nprintln!(\"path: {{:?}}\", UnixStream::connect({path:?}).map_err(|e| e.kind()));\nlet a = SocketAddr::from_abstract_name({name:?}.as_bytes()).unwrap();\nprintln!(\"abstract: {{:?}}\", UnixStream::connect_addr(&a).map_err(|e| e.kind()));\nprintln!(\"run: {{}}\", std::path::Path::new(\"/run\").exists());\n```\n"
            ),
        ),
    );
    site.build();
    assert_eq!(
        outputs(&site),
        ["path: Err(NotFound) abstract: Err(ConnectionRefused) run: false"]
    );
    assert!(listener.accept().is_err());
    assert!(abstract_listener.accept().is_err());
}

#[test]
fn stdout_and_stderr_are_shown_in_the_order_they_were_written() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article(
            "Order",
            "```rust\nfor i in 0..200 {\n    if i % 3 == 1 { eprintln!(\"err {i}\"); } else { println!(\"out {i}\"); }\n}\n```\n",
        ),
    );
    site.build();
    let expected: String = (0..200)
        .map(|i| {
            if i % 3 == 1 {
                format!("stderr: err {i}\n")
            } else {
                format!("out {i}\n")
            }
        })
        .collect();
    assert_eq!(site.outputs("a/index.html"), [expected]);
}

#[test]
fn temp_files_go_to_a_private_tmp_of_the_run() {
    let site = Site::new();
    let name = format!("kiln-test-private-{}", std::process::id());
    site.file(
        "content/a.md",
        crate::common::article(
            "Temp",
            &format!(
                "```rust\nlet a = std::env::temp_dir().join(\"{name}-a\");\nprintln!(\"{{:?}} {{:?}}\", std::fs::write(&a, \"x\").map_err(|e| e.kind()), std::fs::read_to_string(&a).ok());\nprintln!(\"{{:?}}\", std::fs::write(\"/tmp/{name}-b\", \"y\").map_err(|e| e.kind()));\nprintln!(\"{{:?}}\", std::env::current_dir().unwrap());\n```\n"
            ),
        ),
    );
    site.build();
    assert_eq!(
        outputs(&site),
        [r#"Ok(()) Some("x") Ok(()) "/tmp/kiln-run""#]
    );
    assert!(!std::path::Path::new(&format!("/tmp/{name}-a")).exists());
    assert!(!std::path::Path::new(&format!("/tmp/{name}-b")).exists());
}

#[test]
fn what_an_interrupted_build_left_is_removed_by_the_next() {
    let site = Site::new();
    site.file(
        "content/a.md",
        crate::common::article("A", "```rust\nprintln!(\"ok\");\n```\n"),
    );
    // A process id that no process has: the largest the kernel hands out.
    let gone: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse::<u32>()
        .unwrap()
        - 1;
    assert!(!std::path::Path::new(&format!("/proc/{gone}")).exists());
    let leftovers = [
        site.path(&format!(".public.staging-{gone}-abc")),
        site.path(&format!(".public.staging-{gone}-abc.old")),
        site.path(&format!(".kiln-cache/tmp/snippets-{gone}-abc")),
        std::env::temp_dir().join(format!("kiln-run-{gone}-abc")),
    ];
    for dir in &leftovers {
        std::fs::create_dir_all(dir.join("inside")).unwrap();
    }
    site.build();
    for dir in &leftovers {
        assert!(!dir.exists(), "{} is still there", dir.display());
    }
    let names: Vec<String> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging"))
        .collect();
    assert_eq!(names, Vec::<String>::new());
}

#[test]
fn a_limit_too_small_to_start_is_an_error_and_cpu_time_is_named() {
    let site = Site::new();
    site.file("kiln.toml", "[snippets]\nmemory = \"1B\"\n");
    site.file(
        "content/a.md",
        crate::common::article("CPU", "```rust\nprintln!(\"hi\");\n```\n"),
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "`snippets.memory` must be at least 16 MiB and `snippets.disk` at least 1 MiB",
    );
    site.file("kiln.toml", "[snippets]\ncpu_time = \"1s\"\n");
    site.file(
        "content/a.md",
        crate::common::article(
            "CPU",
            "```rust,memory=1B\nprintln!(\"hi\");\n```\n\n```rust,timeout=30s\nlet start = std::time::Instant::now();\nlet mut n = 0u64;\nwhile start.elapsed() < std::time::Duration::from_secs(20) { n = n.wrapping_add(1); }\nprintln!(\"{n}\");\n```\n",
        ),
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md:7: inline snippet: fence option `memory`: `1B` is too little; a run needs at least 16 MiB",
    );
    assert_says(
        &run,
        "content/a.md:11: inline snippet: used up its CPU time limit; raise `snippets.cpu_time` in `kiln.toml`",
    );
}
