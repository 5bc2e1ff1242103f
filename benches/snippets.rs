//! Snippet benchmark: `cargo bench --bench snippets`.
//!
//! Generates sites with 20 and 100 distinct std-only snippets (sockets,
//! threads, collections, formatting) and measures, in the same run:
//! - kiln's cold build (empty cache),
//! - the same snippets compiled one `rustc` per snippet, one after another,
//! - one `rustc` of all of them merged by hand into one crate,
//! - kiln's warm rebuild and the rustc invocations it reports,
//! - kiln's cold build with `snippets.sandbox = "off"`, for what the
//!   sandbox's walls cost.
//!
//! Then a site of 20 snippets that use crates (serde + serde_json, regex,
//! itoa, from crates.io, through `snippets/Cargo.toml`):
//! - the first build, which has cargo build the dependencies,
//! - a cold snippet build with the dependencies already built,
//! - one merged `rustc` and one `rustc` per snippet with the same `--extern`s,
//! - the warm rebuild: cargo and rustc runs (both must be 0).
//!
//! Environment: `KILN_BENCH_SNIPPETS` (default `20,100`), `KILN_BENCH_RUNS`
//! (default 3), `KILN_BENCH_CRATES=0` skips the crates part (it needs
//! crates.io the first time).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::var("KILN_BENCH_SNIPPETS")
        .unwrap_or_else(|_| "20,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("KILN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let kiln = env!("CARGO_BIN_EXE_kiln");
    println!("kiln snippet benchmark: medians of {runs} runs");
    println!(
        "{:>5}  {:>10}  {:>14}  {:>12}  {:>10}  {:>10}  {:>11}  {:>9}  {:>12}  {:>10}",
        "N",
        "kiln cold",
        "rustc each",
        "one merged",
        "vs each",
        "vs merged",
        "kiln warm",
        "warm rustc",
        "sandbox off",
        "walls cost"
    );
    for &n in &sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        generate_site(dir.path(), n);
        let root = dir.path();
        let cold = median(runs, || {
            let _ = std::fs::remove_dir_all(root.join(".kiln-cache"));
            time(|| {
                kiln_build(kiln, root);
            })
        });
        let off = median(runs, || {
            let _ = std::fs::remove_dir_all(root.join(".kiln-cache"));
            std::fs::write(root.join("kiln.toml"), "[snippets]\nsandbox = \"off\"\n").unwrap();
            let took = time(|| {
                kiln_build(kiln, root);
            });
            std::fs::remove_file(root.join("kiln.toml")).unwrap();
            took
        });
        let each = median(runs, || time(|| rustc_each_with(root, ("s", n), &[])));
        let merged = median(runs, || time(|| rustc_merged_with(root, ("s", n), &[])));
        kiln_build(kiln, root);
        let mut warm_rustc = String::new();
        let warm = median(runs, || {
            let started = Instant::now();
            warm_rustc = kiln_build(kiln, root);
            started.elapsed()
        });
        println!(
            "{n:>5}  {:>9.2}s  {:>13.2}s  {:>11.2}s  {:>9.1}x  {:>9.2}x  {:>10.3}s  {:>9}  {:>11.2}s  {:>+9.1}%",
            cold.as_secs_f64(),
            each.as_secs_f64(),
            merged.as_secs_f64(),
            each.as_secs_f64() / cold.as_secs_f64(),
            cold.as_secs_f64() / merged.as_secs_f64(),
            warm.as_secs_f64(),
            warm_rustc,
            off.as_secs_f64(),
            (cold.as_secs_f64() / off.as_secs_f64() - 1.0) * 100.0
        );
    }
    if std::env::var("KILN_BENCH_CRATES").as_deref() != Ok("0") {
        crates_bench(kiln, runs);
    }
}

/// The snippets-with-crates part: see the module comment.
fn crates_bench(kiln: &str, runs: usize) {
    let n = 20;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    generate_crates_site(root, n);
    let first = time(|| {
        kiln_build(kiln, root);
    });
    let cold = median(runs, || {
        let _ = std::fs::remove_dir_all(root.join(".kiln-cache/runs"));
        time(|| {
            kiln_build(kiln, root);
        })
    });
    let args = extern_args(root);
    let each = median(runs, || time(|| rustc_each_with(root, ("c", n), &args)));
    let merged = median(runs, || time(|| rustc_merged_with(root, ("c", n), &args)));
    let output = Command::new(kiln)
        .arg("build")
        .current_dir(root)
        .output()
        .expect("kiln runs");
    let summary = String::from_utf8_lossy(&output.stdout).into_owned();
    let warm_rustc = summary
        .split("compiled in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?");
    let warm_cargo = if summary.contains("built by cargo") {
        1
    } else {
        0
    };
    println!();
    println!("snippets using crates (serde, serde_json, regex, itoa): medians of {runs} runs");
    println!(
        "{:>5}  {:>12}  {:>10}  {:>11}  {:>11}  {:>8}  {:>10}  {:>10}  {:>10}",
        "N",
        "first build",
        "kiln cold",
        "rustc each",
        "one merged",
        "vs each",
        "vs merged",
        "warm cargo",
        "warm rustc"
    );
    println!(
        "{n:>5}  {:>11.2}s  {:>9.2}s  {:>10.2}s  {:>10.2}s  {:>7.1}x  {:>9.2}x  {:>10}  {:>10}",
        first.as_secs_f64(),
        cold.as_secs_f64(),
        each.as_secs_f64(),
        merged.as_secs_f64(),
        each.as_secs_f64() / cold.as_secs_f64(),
        cold.as_secs_f64() / merged.as_secs_f64(),
        warm_cargo,
        warm_rustc
    );
}

/// The `--extern` and `-L` arguments of the dependencies kiln built.
fn extern_args(root: &Path) -> Vec<String> {
    let deps = std::fs::read_dir(root.join(".kiln-cache/deps"))
        .expect("kiln built the dependencies")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .expect("a dependencies record");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(deps.path()).unwrap()).unwrap();
    let mut args = Vec::new();
    for e in record["externs"].as_array().unwrap() {
        args.push("--extern".to_owned());
        args.push(format!(
            "{}={}",
            e["name"].as_str().unwrap(),
            e["path"].as_str().unwrap()
        ));
    }
    args.push("-L".to_owned());
    args.push(format!(
        "dependency={}",
        record["search_dir"].as_str().unwrap()
    ));
    args
}

fn rustc_with(dir: &Path, file: &str, out: &str, args: &[String]) {
    let status = Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "-A",
            "warnings",
            "-o",
            out,
        ])
        .args(args)
        .arg(file)
        .current_dir(dir)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed on {file}");
}

/// The `n` snippets `snippets/{prefix}000.rs`… compiled one `rustc` each.
fn rustc_each_with(root: &Path, (prefix, n): (&str, usize), args: &[String]) {
    let out = tempfile::tempdir().unwrap();
    for i in 0..n {
        let file = root.join(format!("snippets/{prefix}{i:03}.rs"));
        rustc_with(
            out.path(),
            file.to_str().unwrap(),
            &format!("{prefix}{i:03}"),
            args,
        );
    }
}

/// The same snippets merged by hand into one crate, one `rustc`.
fn rustc_merged_with(root: &Path, (prefix, n): (&str, usize), args: &[String]) {
    let out = tempfile::tempdir().unwrap();
    let mut merged = String::new();
    for i in 0..n {
        let body =
            std::fs::read_to_string(root.join(format!("snippets/{prefix}{i:03}.rs"))).unwrap();
        writeln!(merged, "mod m{i} {{\n{body}\npub fn run() {{ main() }}\n}}").unwrap();
    }
    merged.push_str("fn main() {\n    match std::env::args().nth(1).as_deref() {\n");
    for i in 0..n {
        writeln!(merged, "        Some(\"m{i}\") => m{i}::run(),").unwrap();
    }
    merged.push_str("        _ => {}\n    }\n}\n");
    std::fs::write(out.path().join("merged.rs"), merged).unwrap();
    rustc_with(out.path(), "merged.rs", "merged", args);
}

/// One of four kinds of small program using a crate, made distinct by `i`.
fn crate_snippet(i: usize) -> String {
    match i % 4 {
        0 => format!(
            r#"use serde::{{Deserialize, Serialize}};

#[derive(Serialize, Deserialize, Debug)]
struct Note {{
    id: u32,
    title: String,
    tags: Vec<String>,
}}

fn main() {{
    let note = Note {{ id: {i}, title: "note {i}".into(), tags: vec!["rust".into()] }};
    let json = serde_json::to_string(&note).unwrap();
    let back: Note = serde_json::from_str(&json).unwrap();
    println!("{{json}} -> {{back:?}}");
}}
"#
        ),
        1 => format!(
            r#"fn main() {{
    let re = regex::Regex::new(r"(\d{{4}})-(\d{{2}})-(\d{{2}})").unwrap();
    let text = "released 2023-03-{day:02} and 2024-01-{day:02}";
    for caps in re.captures_iter(text) {{
        println!("year {{}} month {{}} day {{}}", &caps[1], &caps[2], &caps[3]);
    }}
}}
"#,
            day = 1 + i % 28
        ),
        2 => format!(
            r#"fn main() {{
    let mut buffer = itoa::Buffer::new();
    let mut total = 0;
    for n in 0..{limit}u64 {{
        total += buffer.format(n * {i}).len();
    }}
    println!("{{total}} digits");
}}
"#,
            limit = 1000 + i
        ),
        _ => format!(
            r##"fn main() {{
    let v: serde_json::Value = serde_json::from_str(r#"{{"n": {i}, "list": [1, 2, 3]}}"#).unwrap();
    let sum: i64 = v["list"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).sum();
    println!("n = {{}}, sum = {{sum}}", v["n"]);
}}
"##
        ),
    }
}

fn generate_crates_site(root: &Path, n: usize) {
    std::fs::create_dir_all(root.join("content")).unwrap();
    std::fs::create_dir_all(root.join("snippets")).unwrap();
    std::fs::write(
        root.join("snippets/Cargo.toml"),
        "[package]\nname = \"bench-snippets\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\nregex = \"1\"\nitoa = \"1\"\n",
    )
    .unwrap();
    for i in 0..n {
        std::fs::write(root.join(format!("snippets/c{i:03}.rs")), crate_snippet(i)).unwrap();
    }
    let mut md = "---\ntitle: Crates\n---\n\n".to_owned();
    for i in 0..n {
        writeln!(md, "[c{i:03}.rs](../snippets/c{i:03}.rs)\n").unwrap();
    }
    std::fs::write(root.join("content/crates.md"), md).unwrap();
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs.max(1)).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

fn time(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

/// Runs `kiln build` and returns the rustc count from its summary.
fn kiln_build(kiln: &str, root: &Path) -> String {
    let output = Command::new(kiln)
        .arg("build")
        .current_dir(root)
        .output()
        .expect("kiln runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kiln build failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .split("compiled in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_owned()
}

/// One of four kinds of small std program, made distinct by `i`.
fn snippet(i: usize) -> String {
    match i % 4 {
        0 => format!(
            r#"use std::io::{{Read, Write}};
use std::net::{{TcpListener, TcpStream}};
use std::thread;

fn main() {{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {{
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        conn.read_to_end(&mut buf).unwrap();
        buf.len()
    }});
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(&[{i}u8 % 251; {len}]).unwrap();
    drop(client);
    println!("snippet {i}: server read {{}} bytes", server.join().unwrap());
}}
"#,
            len = 100 + i
        ),
        1 => format!(
            r#"use std::sync::{{Arc, Mutex}};
use std::thread;

fn main() {{
    let total = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..4)
        .map(|t| {{
            let total = Arc::clone(&total);
            thread::spawn(move || {{
                let part: u64 = (0..{limit}u64).filter(|x| x % 4 == t).sum();
                *total.lock().unwrap() += part;
            }})
        }})
        .collect();
    for h in handles {{
        h.join().unwrap();
    }}
    println!("snippet {i}: sum = {{}}", total.lock().unwrap());
}}
"#,
            limit = 1000 + i
        ),
        2 => format!(
            r#"use std::collections::{{BTreeMap, HashMap, HashSet}};

fn main() {{
    let words = "the quick brown fox jumps over the lazy dog number {i}";
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in words.split_whitespace() {{
        *counts.entry(w).or_default() += 1;
    }}
    let sorted: BTreeMap<_, _> = counts.iter().collect();
    let unique: HashSet<char> = words.chars().filter(|c| c.is_alphabetic()).collect();
    println!("snippet {i}: {{}} words, {{}} letters, first {{:?}}", sorted.len(), unique.len(), sorted.iter().next());
}}
"#
        ),
        _ => format!(
            r#"use std::fmt;

struct Point {{
    x: f64,
    y: f64,
}}

impl fmt::Display for Point {{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{
        write!(f, "({{:.2}}, {{:.2}})", self.x, self.y)
    }}
}}

fn main() {{
    let p = Point {{ x: {i}.5, y: -{i}.25 }};
    println!("snippet {i}: {{p}} {{:>8}} {{:<8}}|{{:^9}}|{{:#x}}", "right", "left", "mid", {i});
}}
"#
        ),
    }
}

fn generate_site(root: &Path, n: usize) {
    std::fs::create_dir_all(root.join("content")).unwrap();
    std::fs::create_dir_all(root.join("snippets")).unwrap();
    for i in 0..n {
        std::fs::write(root.join(format!("snippets/s{i:03}.rs")), snippet(i)).unwrap();
    }
    for article in 0..n.div_ceil(10) {
        let mut md = format!("---\ntitle: Snippets {article}\ntags: [bench]\n---\n\n");
        for i in (article * 10)..((article + 1) * 10).min(n) {
            writeln!(md, "Snippet {i}:\n\n[s{i:03}.rs](../snippets/s{i:03}.rs)\n").unwrap();
        }
        std::fs::write(root.join(format!("content/snippets-{article}.md")), md).unwrap();
    }
}
