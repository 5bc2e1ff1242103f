//! Snippet benchmark: `cargo bench --bench snippets`.
//!
//! Generates sites with 20 and 100 distinct std-only snippets (sockets,
//! threads, collections, formatting) and measures, in the same run:
//! - kiln's cold build (empty cache),
//! - the same snippets compiled one `rustc` per snippet, one after another,
//! - one `rustc` of all of them merged by hand into one crate,
//! - kiln's warm rebuild and the rustc invocations it reports.
//!
//! Environment: `KILN_BENCH_SNIPPETS` (default `20,100`), `KILN_BENCH_RUNS`
//! (default 3).

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
        "{:>5}  {:>10}  {:>14}  {:>12}  {:>10}  {:>10}  {:>11}  {:>9}",
        "N",
        "kiln cold",
        "rustc each",
        "one merged",
        "vs each",
        "vs merged",
        "kiln warm",
        "warm rustc"
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
        let each = median(runs, || time(|| rustc_each(root, n)));
        let merged = median(runs, || time(|| rustc_merged(root, n)));
        kiln_build(kiln, root);
        let mut warm_rustc = String::new();
        let warm = median(runs, || {
            let started = Instant::now();
            warm_rustc = kiln_build(kiln, root);
            started.elapsed()
        });
        println!(
            "{n:>5}  {:>9.2}s  {:>13.2}s  {:>11.2}s  {:>9.1}x  {:>9.2}x  {:>10.3}s  {:>9}",
            cold.as_secs_f64(),
            each.as_secs_f64(),
            merged.as_secs_f64(),
            each.as_secs_f64() / cold.as_secs_f64(),
            cold.as_secs_f64() / merged.as_secs_f64(),
            warm.as_secs_f64(),
            warm_rustc
        );
    }
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

fn rustc(dir: &Path, file: &str, out: &str) {
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
            file,
        ])
        .current_dir(dir)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed on {file}");
}

fn rustc_each(root: &Path, n: usize) {
    let out = tempfile::tempdir().unwrap();
    for i in 0..n {
        let file = root.join(format!("snippets/s{i:03}.rs"));
        rustc(out.path(), file.to_str().unwrap(), &format!("s{i:03}"));
    }
}

fn rustc_merged(root: &Path, n: usize) {
    let out = tempfile::tempdir().unwrap();
    let mut merged = String::new();
    for i in 0..n {
        let body = std::fs::read_to_string(root.join(format!("snippets/s{i:03}.rs"))).unwrap();
        writeln!(merged, "mod s{i} {{\n{body}\npub fn run() {{ main() }}\n}}").unwrap();
    }
    merged.push_str("fn main() {\n    match std::env::args().nth(1).as_deref() {\n");
    for i in 0..n {
        writeln!(merged, "        Some(\"s{i}\") => s{i}::run(),").unwrap();
    }
    merged.push_str("        _ => {}\n    }\n}\n");
    std::fs::write(out.path().join("merged.rs"), merged).unwrap();
    rustc(out.path(), "merged.rs", "merged");
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
