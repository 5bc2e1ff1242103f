//! Python snippets through the real binary and the real `python3`: linked
//! files and `python,run` blocks, their options, tracebacks that name the
//! article's lines, packages from a requirements file, and the same walls
//! as Rust's.

use crate::common::{Run, Site, assert_says};

fn site_with(body: &str) -> Site {
    let site = Site::new();
    site.file("content/a.md", crate::common::article("A", body));
    site
}

/// The text of each snippet's output panel on the article's page.
fn outputs(site: &Site) -> Vec<String> {
    site.outputs("a/index.html")
}

/// Fails unless the build's summary on stdout contains `expected`.
#[track_caller]
fn assert_sums_up(run: &Run, expected: &str) {
    assert!(
        run.stdout.contains(expected),
        "expected {expected:?} in:\n{}",
        run.stdout
    );
}

fn statuses(site: &Site) -> Vec<String> {
    site.page("a/index.html")
        .texts(".snippet-status > span:first-child")
}

#[test]
fn linked_and_inline_python_run_and_plain_blocks_are_only_shown() {
    let site = site_with(concat!(
        "[hello.py](../snippets/hello.py)\n\n",
        "```python,run\nimport sys\nprint(\"out 1\")\nprint(\"err 1\", file=sys.stderr)\nprint(\"out 2\")\nprint({\"pear\", \"apple\", \"fig\", \"kiwi\"})\n```\n\n",
        "```python\nwhile True: pass\n```\n",
    ));
    site.file(
        "snippets/hello.py",
        "#!/usr/bin/env python3\nprint('hello from', 6 * 7)\n",
    );
    let run = site.build();
    assert_sums_up(&run, "snippets: 2 (0 cached), 3 Python processes, 0 failed");
    let page = site.page("a/index.html");
    assert_eq!(page.select("figure.snippet").len(), 2);
    let out = outputs(&site);
    assert_eq!(out[0], "hello from 42\n");
    // The two streams interleave as written, and a set prints in the
    // same order on every build (hash seed 0).
    let set_order = std::process::Command::new("python3")
        .env("PYTHONHASHSEED", "0")
        .args(["-c", "print({'pear', 'apple', 'fig', 'kiwi'})"])
        .output()
        .unwrap();
    assert_eq!(
        out[1],
        format!(
            "out 1\nstderr: err 1\nout 2\n{}",
            String::from_utf8_lossy(&set_order.stdout)
        )
    );
    assert_eq!(
        page.texts("figure.snippet figcaption > span:first-child"),
        ["hello.py", "Python"]
    );
    // Highlighted as Python; the plain block is a code block, not a snippet.
    assert_eq!(
        page.select("figure.snippet pre code.language-python").len(),
        2
    );
    let provenance = page.texts(".provenance");
    assert!(provenance[0].starts_with("Python 3."), "{provenance:?}");
    assert!(!provenance[0].contains("edition"), "{provenance:?}");
    assert!(provenance[0].contains("sandboxed"), "{provenance:?}");
    assert!(statuses(&site)[0].starts_with("exit status 0"));
}

#[test]
fn the_site_can_run_every_python_block() {
    let site = site_with(
        "```python\nprint('run by the site')\n```\n\n```py,ignore\nnot python at all\n```\n",
    );
    site.file("kiln.toml", "[snippets.python]\ninline = \"run\"\n");
    let run = site.build();
    assert_sums_up(&run, "snippets: 2 (0 cached, 1 ignored)");
    assert_eq!(outputs(&site), ["run by the site\n"]);
    assert_eq!(statuses(&site)[1], "not compiled (ignore)");
}

#[test]
fn should_fail_and_no_run_pass_and_a_timeout_or_a_false_should_fail_fails() {
    let site = site_with(concat!(
        "```python,run,should_fail\nraise KeyError('gone')\n```\n\n",
        "```python,run,no_run\nimport time\nwhile True: time.sleep(1)\n```\n",
    ));
    site.build();
    let statuses = statuses(&site);
    assert!(
        statuses[0].starts_with("failed, as expected (exit status 1, a traceback on stderr)"),
        "{statuses:?}"
    );
    assert_eq!(statuses[1], "compiles (not run)");
    assert!(outputs(&site)[0].ends_with("KeyError: 'gone'\n"));
    assert_eq!(
        site.page("a/index.html").texts(".snippet-mode"),
        ["should_fail", "no_run"]
    );
    site.file(
        "content/a.md",
        crate::common::article(
            "A",
            "```python,run,should_fail\nprint('fine')\n```\n\n[late.py](../snippets/late.py)\n",
        ),
    );
    site.file(
        "snippets/late.py",
        "# kiln: timeout = 1s\nwhile True:\n    pass\n",
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md:7: inline snippet: exited normally, but it is marked `should_fail`",
    );
    assert_says(
        &run,
        "content/a.md:11: snippet `snippets/late.py`: was stopped after 1s, its timeout (set a longer one with a first line `# kiln: timeout = 30s` in the file",
    );
}

#[test]
fn a_traceback_and_a_syntax_error_name_the_articles_lines() {
    let site = site_with(concat!(
        "Text.\n\n",
        "```python,run\ndef f():\n    return {}['key']\n\nf()\n```\n\n",
        "```python,run\nprint('fine')\nprint(\n```\n\n",
        "[broken.py](../snippets/broken.py)\n",
    ));
    site.file(
        "snippets/broken.py",
        "import json\nx = 1\nprint(x / 0)\n\n\ndef later():\n    json.loads('{')\n",
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    // The article's front matter takes 6 lines: the fence is line 9, so
    // `return` is line 11 and the call line 13.
    assert_says(
        &run,
        "content/a.md:9: inline snippet: exited with status 1, a traceback on stderr (if the failure is the point, mark it `should_fail` in the fence: ```` ```python,run,should_fail ````); its output ended with:\nTraceback (most recent call last):\n  File \"content/a.md\", line 13, in <module>\n    f()\n  File \"content/a.md\", line 11, in f\n    return {}['key']",
    );
    assert_says(&run, "KeyError: 'key'");
    assert_says(
        &run,
        "content/a.md:16: inline snippet: is not valid Python:\n  File \"content/a.md\", line 18\n    print(\n         ^\nSyntaxError: '(' was never closed",
    );
    assert_says(
        &run,
        "  File \"snippets/broken.py\", line 3, in <module>\n    print(x / 0)",
    );
    assert_says(&run, "the build failed with 3 errors");
    // The standard library's frames are named by `<python>`, not by where
    // the builder keeps its interpreter.
    site.file("snippets/broken.py", "import json\njson.loads('{')\n");
    let run = site.kiln(&["build"]);
    assert_says(&run, "  File \"<python>/lib/python3.");
    let real = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.base_prefix)"])
        .output()
        .unwrap();
    let prefix = String::from_utf8(real.stdout).unwrap();
    assert!(
        !run.stderr.contains(&format!("\"{}/", prefix.trim())),
        "{}",
        run.stderr
    );
    // `check` shows the traceback in the panel, as rustc's diagnostics are.
    site.kiln(&["check"]).assert_failed();
}

#[test]
fn golden_output_of_a_python_file_and_bless() {
    let site = site_with("[g.py](../snippets/g.py)\n");
    site.file("snippets/g.py", "print('new')\n");
    site.file("snippets/g.stdout", "old\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(&run, "its stdout differs from `snippets/g.stdout`");
    site.kiln(&["build", "--bless"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(site.path("snippets/g.stdout")).unwrap(),
        "new\n"
    );
}

#[test]
fn python_options_of_rust_are_errors_that_say_what_to_write() {
    let site = site_with("```python,run,should_panic\nraise SystemExit(1)\n```\n");
    site.file("snippets/x.py", "# kiln: edition = 2021\n");
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_says(
        &run,
        "content/a.md:7: inline snippet: fence option `should_panic` is an option of Rust snippets, not of Python ones; a Python snippet that is meant to fail takes `should_fail`",
    );
}

/// A wrapper that counts the times the builder starts the interpreter.
#[cfg(unix)]
fn counting_interpreter(site: &Site) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let count = site.path("starts.txt");
    let real = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap();
    let wrapper = site.path("bin/python-counted");
    site.file(
        "bin/python-counted",
        format!(
            "#!/bin/sh\necho started >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            real.trim()
        ),
    );
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    count
}

#[cfg(unix)] // The counting wrapper is a shell script.
#[test]
fn a_warm_rebuild_starts_no_python() {
    let site = site_with("```python,run\nprint('once')\n```\n\n[two.py](../snippets/two.py)\n");
    site.file("snippets/two.py", "print('twice')\n");
    let count = counting_interpreter(&site);
    site.file(
        "kiln.toml",
        "[snippets.python]\ninterpreter = \"bin/python-counted\"\n",
    );
    let starts = || {
        std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let cold = site.build();
    assert_sums_up(&cold, "snippets: 2 (0 cached), 3 Python processes");
    let after_cold = starts();
    assert_eq!(after_cold, 1, "the builder asks the interpreter once");
    let warm = site.build();
    assert_sums_up(&warm, "snippets: 2 (2 cached), 0 Python processes");
    assert_eq!(starts(), after_cold);
    assert_eq!(outputs(&site), ["once\n", "twice\n"]);
}

#[cfg(target_os = "linux")] // The walls are Linux's.
#[test]
fn a_python_snippet_sees_no_secret_and_cannot_reach_the_builders_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let site = site_with(&format!(
        "```python,run\nimport os, socket\nprint(sorted(k for k in os.environ if k.startswith('KILN_TEST')))\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('builder: reached')\nexcept OSError as e:\n    print('builder:', type(e).__name__)\nown = socket.socket()\nown.bind(('127.0.0.1', 0))\nown.listen()\nc = socket.create_connection(own.getsockname())\nprint('own: reached')\n```\n"
    ));
    // A private site folder, as a CI checkout often is: a root builder's
    // snippet runs as nobody, who reaches nothing in it by its path.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(site.root(), std::fs::Permissions::from_mode(0o700)).unwrap();
    site.kiln_with_env(&["build"], &[("KILN_TEST_TOKEN", "s3cret")])
        .assert_ok();
    let out = outputs(&site);
    assert!(out[0].starts_with("[]\nbuilder: "), "{out:?}");
    assert!(!out[0].contains("reached\nown"), "{out:?}");
    assert!(out[0].ends_with("own: reached\n"), "{out:?}");
    assert!(
        listener.accept().is_err(),
        "the builder's listener was reached"
    );
}

/// A pure-Python wheel, `kiln-demo 1.2.3`, in `wheels/` of the site: pip
/// installs it from there, with no index (nothing is downloaded).
fn demo_wheel(site: &Site) -> std::path::PathBuf {
    let wheels = site.path("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    let script = r#"
import base64, hashlib, sys, zipfile
files = {
    "kiln_demo/__init__.py": "def greet():\n    return 'hello from kiln_demo'\n",
    "kiln_demo-1.2.3.dist-info/METADATA": "Metadata-Version: 2.1\nName: kiln-demo\nVersion: 1.2.3\n",
    "kiln_demo-1.2.3.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: kiln-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "kiln_demo-1.2.3.dist-info/top_level.txt": "kiln_demo\n",
}
record = []
with zipfile.ZipFile(sys.argv[1] + "/kiln_demo-1.2.3-py3-none-any.whl", "w") as whl:
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
        whl.writestr(name, data)
    record.append("kiln_demo-1.2.3.dist-info/RECORD,,")
    whl.writestr("kiln_demo-1.2.3.dist-info/RECORD", "\n".join(record) + "\n")
"#;
    let made = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&wheels)
        .status()
        .unwrap();
    assert!(made.success());
    wheels
}

#[test]
fn packages_from_requirements_are_installed_once_and_named_on_the_panel() {
    let site = site_with("[uses.py](../snippets/uses.py)\n");
    site.file(
        "snippets/uses.py",
        "import kiln_demo\nprint(kiln_demo.greet())\ntry:\n    open(kiln_demo.__file__, 'a')\n    print('the package was writable')\nexcept OSError as e:\n    print('read-only:', type(e).__name__)\n",
    );
    site.file("snippets/requirements.txt", "# pinned\nkiln-demo==1.2.3\n");
    let wheels = demo_wheel(&site);
    let links = wheels.to_str().unwrap();
    let pip = [("PIP_NO_INDEX", "1"), ("PIP_FIND_LINKS", links)];
    let cold = site.kiln_with_env(&["build"], &pip);
    cold.assert_ok();
    assert_says(&cold, "installing the Python snippets' packages with pip");
    assert_sums_up(&cold, "(packages installed by pip)");
    let out = outputs(&site);
    assert!(
        out[0].starts_with("hello from kiln_demo\nread-only: "),
        "{out:?}"
    );
    let provenance = site.page("a/index.html").texts(".provenance");
    assert!(provenance[0].contains("kiln-demo 1.2.3"), "{provenance:?}");
    // An edit re-runs the snippet, not pip.
    site.file(
        "snippets/uses.py",
        "import kiln_demo\nprint(kiln_demo.greet().upper())\n",
    );
    let warm = site.kiln_with_env(&["build", "--offline"], &pip);
    warm.assert_ok();
    assert!(!warm.stderr.contains("installing"), "{}", warm.stderr);
    assert_eq!(outputs(&site), ["HELLO FROM KILN_DEMO\n"]);
}

#[test]
fn a_missing_loose_or_offline_package_is_one_error_at_its_line() {
    let site = site_with("[uses.py](../snippets/uses.py)\n");
    site.file("snippets/uses.py", "print(1)\n");
    let wheels = demo_wheel(&site);
    let links = wheels.to_str().unwrap();
    let pip = [("PIP_NO_INDEX", "1"), ("PIP_FIND_LINKS", links)];
    site.file(
        "snippets/requirements.txt",
        "kiln-demo==1.2.3\n\nno_such.pkg==9.9  # not anywhere\n",
    );
    let run = site.kiln_with_env(&["build"], &pip);
    run.assert_failed();
    assert_says(
        &run,
        "snippets/requirements.txt:3: `pip install` failed:\nERROR:",
    );
    assert_says(&run, "No matching distribution found for no_such.pkg==9.9");
    site.file("snippets/requirements.txt", "kiln-demo>=1\n");
    let run = site.kiln_with_env(&["build"], &pip);
    run.assert_failed();
    assert_says(
        &run,
        "snippets/requirements.txt:1: `kiln-demo>=1` is not pinned; pin it with `==` (such as `kiln-demo==1.0.0`), so that every build runs the same code",
    );
    site.file("snippets/requirements.txt", "kiln-demo==1.2.3\n");
    let run = site.kiln_with_env(&["build", "--offline"], &pip);
    run.assert_failed();
    assert_says(
        &run,
        "snippets/requirements.txt: `--offline`, and its packages are not installed yet; build once with the network",
    );
}

#[cfg(target_os = "linux")] // The PID namespace is Linux's.
#[test]
fn nothing_a_python_snippet_starts_outlives_its_run() {
    let site = site_with(
        "```python,run\nimport subprocess\nsubprocess.Popen(['setsid', 'sleep', '302.555'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\nprint('started')\n```\n",
    );
    site.build();
    assert_eq!(outputs(&site), ["started\n"]);
    assert_eq!(
        crate::common::processes_running("302.555"),
        Vec::<String>::new()
    );
}

#[test]
fn a_missing_interpreter_is_one_error_that_says_what_to_do() {
    let site = site_with("```python,run\nprint(1)\n```\n");
    site.file(
        "kiln.toml",
        "[snippets.python]\ninterpreter = \"no-such-python3\"\n",
    );
    let run = site.kiln(&["build"]);
    run.assert_failed();
    assert_eq!(run.code, 1);
    assert_says(
        &run,
        "error: cannot run the Python interpreter `no-such-python3` for Python snippets; install Python 3, or set `snippets.python.interpreter` in `kiln.toml`",
    );
    // A site whose Python blocks are only shown needs no interpreter.
    site.file(
        "content/a.md",
        crate::common::article("A", "```python\nprint(1)\n```\n"),
    );
    site.build();
}

#[test]
fn pyproject_dependencies_are_read_and_must_be_pinned() {
    let site = site_with("[uses.py](../snippets/uses.py)\n");
    site.file(
        "snippets/uses.py",
        "import kiln_demo\nprint(kiln_demo.greet())\n",
    );
    site.file(
        "snippets/pyproject.toml",
        "[project]\nname = \"snippets\"\nversion = \"0\"\ndependencies = [\n  \"kiln-demo~=1.2\",\n]\n",
    );
    let wheels = demo_wheel(&site);
    let pip = [
        ("PIP_NO_INDEX", "1"),
        ("PIP_FIND_LINKS", wheels.to_str().unwrap()),
    ];
    let run = site.kiln_with_env(&["build"], &pip);
    run.assert_failed();
    assert_says(
        &run,
        "snippets/pyproject.toml:5: `kiln-demo~=1.2` is not pinned",
    );
    site.file(
        "snippets/pyproject.toml",
        "[project]\nname = \"snippets\"\nversion = \"0\"\ndependencies = [\"kiln-demo==1.2.3\"]\n",
    );
    site.kiln_with_env(&["build"], &pip).assert_ok();
    assert_eq!(outputs(&site), ["hello from kiln_demo\n"]);
}
