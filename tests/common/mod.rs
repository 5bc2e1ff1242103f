//! Fixture sites in temp dirs, driven through the real `kiln` binary.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scraper::{Html, Selector};

pub struct Site {
    dir: tempfile::TempDir,
}

/// What one run of `kiln` did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Run {
        assert_eq!(
            self.code, 0,
            "kiln failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_failed(&self) -> &Run {
        assert_eq!(
            self.code, 1,
            "kiln should have failed with 1:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Fails unless kiln's stderr contains `expected`.
#[track_caller]
pub fn assert_says(run: &Run, expected: &str) {
    assert!(
        run.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        run.stderr
    );
}

/// Fails if kiln's stderr contains `unexpected`.
#[track_caller]
pub fn assert_not_says(run: &Run, unexpected: &str) {
    assert!(
        !run.stderr.contains(unexpected),
        "did not expect {unexpected:?} in:\n{}",
        run.stderr
    );
}

/// A minimal valid article.
pub fn article(title: &str, body: &str) -> String {
    format!(
        "---\ntitle: {title}\nauthors: [tester]\ntags: [testing]\ncreated_at: 2024-01-02\n---\n{body}"
    )
}

impl Site {
    pub fn new() -> Site {
        let site = Site {
            dir: tempfile::tempdir().expect("a temp dir"),
        };
        fs::create_dir_all(site.path("content")).unwrap();
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn file(&self, rel: &str, text: impl AsRef<[u8]>) -> &Site {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    /// Runs `kiln <args>` in the site root.
    pub fn kiln(&self, args: &[&str]) -> Run {
        kiln_in(self.root(), args)
    }

    /// `kiln <args>` with extra environment variables.
    pub fn kiln_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = kiln_command(self.root(), args);
        command.envs(env.iter().copied());
        Run::from(command.output().expect("kiln runs"))
    }

    /// `kiln build`, which must succeed.
    pub fn build(&self) -> Run {
        let run = self.kiln(&["build"]);
        run.assert_ok();
        run
    }

    /// A page of `public/`, parsed.
    pub fn page(&self, rel: &str) -> Page {
        let path = self.path("public").join(rel);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Page(Html::parse_document(&text))
    }

    /// The text of each snippet's output panel on `page`, as written.
    pub fn outputs(&self, page: &str) -> Vec<String> {
        self.page(page)
            .select(".snippet-output samp")
            .iter()
            .map(|e| e.text().collect())
            .collect()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }
}

/// `kiln <args>` in `dir`, ready to spawn: every test runs kiln this way,
/// without the caller's `RUSTC_WRAPPER`, so snippet compiles are real.
pub fn kiln_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("RUSTC_WRAPPER");
    command
}

pub fn kiln_in(dir: &Path, args: &[&str]) -> Run {
    let output = kiln_command(dir, args).output().expect("kiln runs");
    Run::from(output)
}

/// Builds this repository's own site into `<dir>/public` (with `extra`
/// arguments) and returns that path.
pub fn build_repo_site(dir: &Path, extra: &[&str]) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let public = dir.join("public");
    let mut args = vec![
        "build",
        "--root",
        root,
        "--output",
        public.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kiln_in(Path::new(root), &args).assert_ok();
    public
}

/// Every file under `dir` with its bytes, by path relative to `dir`,
/// sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub struct Page(pub Html);

impl Page {
    pub fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.0.select(&selector).collect()
    }

    pub fn one(&self, css: &str) -> scraper::ElementRef<'_> {
        let found = self.select(css);
        assert_eq!(
            found.len(),
            1,
            "expected one `{css}`, found {}",
            found.len()
        );
        found[0]
    }

    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).iter().map(|e| text(e)).collect()
    }

    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        self.select(css)
            .iter()
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.attrs("[id]", "id")
    }

    /// The URLs of `attr` of the elements `css` as site paths, resolved
    /// from the page at `page` (such as `a/index.html`) the way a browser
    /// resolves them, without a final `index.html`: `../tags/t/index.html`
    /// in `a/index.html` is `/tags/t/`. Absolute URLs stay as they are.
    pub fn urls(&self, page: &str, css: &str, attr: &str) -> Vec<String> {
        self.attrs(css, attr)
            .iter()
            .map(|url| site_path(page, url))
            .collect()
    }
}

/// `url`, written in the page at `page`, as a site path (see
/// [`Page::urls`]).
pub fn site_path(page: &str, url: &str) -> String {
    if url.contains("://") || url.starts_with('/') || url.starts_with("data:") {
        return url.to_owned();
    }
    let (path, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    if path.is_empty() {
        return url.to_owned();
    }
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            part => parts.push(part),
        }
    }
    let joined = format!("/{}", parts.join("/"));
    let joined = joined.strip_suffix("index.html").unwrap_or(&joined);
    format!("{joined}{fragment}")
}

/// An element's text with whitespace collapsed.
pub fn text(element: &scraper::ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A named pipe that counts the lines programs write to it during a
/// build. A compile inside the sandbox sees the site read-only, but a pipe
/// is no file: writing to it stays possible, so a counting `RUSTC` wrapper
/// still reports every start.
pub struct LineCounter {
    file: fs::File,
}

impl LineCounter {
    /// Opens (or first makes) the pipe at `path`; it must stay open while
    /// the programs write, or their writes would wait for a reader.
    #[cfg(unix)]
    pub fn open(path: &Path) -> LineCounter {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::OpenOptionsExt;
        if !path.exists() {
            let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
            // SAFETY: a NUL-terminated path alive for the call.
            assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o666) }, 0);
            // SAFETY: as above; the umask must not narrow its mode.
            unsafe { libc::chmod(name.as_ptr(), 0o666) };
        }
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .unwrap();
        LineCounter { file }
    }

    /// Without named pipes, a file the programs append to.
    #[cfg(not(unix))]
    pub fn open(path: &Path) -> LineCounter {
        let file = fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        LineCounter { file }
    }

    /// The lines written since it was opened.
    pub fn lines(mut self) -> Vec<String> {
        use std::io::Read;
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.file.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// The process ids of this machine whose command line contains `needle`
/// (the test process itself aside).
pub fn processes_running(needle: &str) -> Vec<String> {
    let own = std::process::id().to_string();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.chars().all(|c| c.is_ascii_digit()) || pid == own {
                return None;
            }
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then_some(pid)
        })
        .collect()
}
