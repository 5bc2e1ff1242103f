//! Build benchmark: `cargo bench --bench build`.
//!
//! Generates synthetic sites of N articles (about 7 KB of Markdown each, full
//! front matter, python/rust/bash fences, a table, lists, tags from a pool of
//! 50) and reports the median wall time and peak memory of `kiln build` over
//! several runs, next to the same build on one thread, measured in the same
//! run. Rust fences are marked `ignore` so this measures rendering alone.
//! Like Zola's default, the comparable build has no search index
//! (`search = false`); the last column is the default build with Pagefind's
//! index, measured on the same site.
//!
//! Environment: `KILN_BENCH_SIZES` (default `1000,10000`), `KILN_BENCH_RUNS`
//! (default 5), `KILN_BENCH_KEEP=/tmp/site` to keep each generated site as
//! `/tmp/site-N` for profiling.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::var("KILN_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("KILN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let kiln = env!("CARGO_BIN_EXE_kiln");
    println!("kiln render benchmark: median of {runs} runs, peak RSS is the largest of the runs");
    println!(
        "{:>7}  {:>9}  {:>10}  {:>15}  {:>9}",
        "N", "wall", "peak RSS", "1-thread wall", "speed-up"
    );
    for &n in &sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        generate_site(dir.path(), n);
        if let Ok(keep) = std::env::var("KILN_BENCH_KEEP") {
            // Keep a copy of the generated site for profiling.
            let status = Command::new("cp")
                .arg("-r")
                .arg(dir.path())
                .arg(format!("{keep}-{n}"))
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "cannot copy the site to {keep}-{n}"
            );
        }
        std::fs::write(dir.path().join("kiln.toml"), "search = false\n").unwrap();
        let parallel = measure(kiln, dir.path(), runs, None);
        let single = measure(kiln, dir.path(), runs.min(3), Some("1"));
        std::fs::remove_file(dir.path().join("kiln.toml")).unwrap();
        let searched = measure(kiln, dir.path(), runs.min(3), None);
        println!(
            "{n:>7}  {:>8.2}s  {:>6} MiB  {:>14.2}s  {:>8.2}x  {:>12.2}s  {:>9} MiB",
            parallel.0.as_secs_f64(),
            parallel.1 / 1024,
            single.0.as_secs_f64(),
            single.0.as_secs_f64() / parallel.0.as_secs_f64(),
            searched.0.as_secs_f64(),
            searched.1 / 1024
        );
    }
}

/// Median wall time and largest peak RSS (KiB) of `runs` builds.
fn measure(kiln: &str, root: &Path, runs: usize, threads: Option<&str>) -> (Duration, u64) {
    let mut walls = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let mut command = Command::new(kiln);
        command.arg("build").current_dir(root);
        if let Some(t) = threads {
            command.env("RAYON_NUM_THREADS", t);
        }
        command.stdout(std::process::Stdio::null());
        let started = Instant::now();
        let child = command.spawn().expect("kiln starts");
        let (status, rss) = wait_with_rusage(child);
        walls.push(started.elapsed());
        assert!(status == 0, "kiln build failed in {}", root.display());
        peak = peak.max(rss);
    }
    walls.sort();
    (walls[walls.len() / 2], peak)
}

/// Waits for a child and returns its exit status and peak RSS in KiB.
#[cfg(unix)]
fn wait_with_rusage(child: std::process::Child) -> (i32, u64) {
    let pid = child.id();
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as i32, "wait4 failed");
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64)
}

/// Waits for a child and returns its exit status; the peak memory is not
/// measured here (0).
#[cfg(not(unix))]
fn wait_with_rusage(mut child: std::process::Child) -> (i32, u64) {
    let status = child.wait().expect("waiting for kiln");
    (status.code().unwrap_or(-1), 0)
}

/// A small deterministic generator, so every run builds the same site.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const WORDS: [&str; 24] = [
    "socket",
    "buffer",
    "kernel",
    "thread",
    "latency",
    "stream",
    "close",
    "shutdown",
    "descriptor",
    "connection",
    "peer",
    "handshake",
    "packet",
    "window",
    "queue",
    "timeout",
    "read",
    "write",
    "the",
    "a",
    "of",
    "and",
    "when",
    "returns",
];

fn sentence(rng: &mut Rng) -> String {
    let mut s = String::new();
    for i in 0..(8 + rng.next() % 10) {
        if i > 0 {
            s.push(' ');
        }
        let word = rng.pick(&WORDS);
        match rng.next() % 12 {
            0 => write!(s, "`{word}()`").unwrap(),
            1 => write!(s, "**{word}**").unwrap(),
            2 => write!(s, "[{word}](https://example.org/{word})").unwrap(),
            _ => s.push_str(word),
        }
    }
    s.push('.');
    s
}

fn generate_site(root: &Path, n: usize) {
    let content = root.join("content");
    std::fs::create_dir_all(&content).unwrap();
    let tags: Vec<String> = (0..50).map(|i| format!("topic-{i}")).collect();
    let mut rng = Rng(42);
    for i in 0..n {
        let mut md = String::with_capacity(8 * 1024);
        let t1 = &tags[(rng.next() % 50) as usize];
        let t2 = &tags[(rng.next() % 50) as usize];
        let day = 1 + (i % 28);
        writeln!(
            md,
            "---\ntitle: \"Article {i}: {}\"",
            sentence(&mut rng).replace('"', "")
        )
        .unwrap();
        writeln!(md, "authors:\n- author{}\ntags:\n- {t1}\n- {t2}", i % 17).unwrap();
        writeln!(md, "thumbnail: images/t.png\ncreated_at: 2023-03-{day:02} 00:00:00\nupdated_at: 2023-04-{day:02} 00:00:00").unwrap();
        writeln!(
            md,
            "tldr: '{}'\n---\n\n[TOC]\n",
            sentence(&mut rng).replace('\'', "''")
        )
        .unwrap();
        for section in 0..5 {
            writeln!(md, "## Section {section}: {}\n", rng.pick(&WORDS)).unwrap();
            for _ in 0..3 {
                for _ in 0..3 {
                    md.push_str(&sentence(&mut rng));
                    md.push(' ');
                }
                md.push_str("\n\n");
            }
            match section {
                0 => md.push_str(&format!("```python\n# article {i}\nimport socket\n\ndef serve(port):\n    s = socket.socket()\n    s.bind((\"localhost\", port))\n    s.listen()\n    conn, _ = s.accept()\n    data = conn.recv(1024)\n    conn.shutdown(socket.SHUT_WR)\n    conn.close()\n    return data\n```\n\n")),
                1 => md.push_str(&format!("```rust,ignore\n// article {i}\nuse std::net::{{Shutdown, TcpStream}};\n\nfn main() -> std::io::Result<()> {{\n    let stream = TcpStream::connect(\"127.0.0.1:9999\")?;\n    stream.shutdown(Shutdown::Write)?;\n    let mut buf = Vec::new();\n    std::io::Read::read_to_end(&mut &stream, &mut buf)?;\n    println!(\"{{}} bytes\", buf.len());\n    Ok(())\n}}\n```\n\n")),
                2 => md.push_str(&format!("```bash\n# article {i}\nfor port in 8080 8081; do\n  nc -z localhost \"$port\" && echo \"open $port\"\ndone\nss -tan | grep -c ESTAB\n```\n\n")),
                3 => md.push_str("| call | effect | frees fd |\n|---|---|---|\n| `shutdown(WR)` | sends FIN | no |\n| `shutdown(RD)` | discards input | no |\n| `close()` | drops reference | yes |\n\n"),
                _ => {
                    for k in 0..4 {
                        writeln!(md, "- item {k}: {}", sentence(&mut rng)).unwrap();
                    }
                    md.push('\n');
                    for k in 1..4 {
                        writeln!(md, "{k}. step {}", sentence(&mut rng)).unwrap();
                    }
                    md.push('\n');
                }
            }
        }
        std::fs::write(content.join(format!("article-{i:05}.md")), md).unwrap();
    }
    std::fs::create_dir_all(content.join("images")).unwrap();
    std::fs::write(content.join("images/t.png"), [0x89, b'P', b'N', b'G']).unwrap();
}
