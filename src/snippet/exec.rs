//! Runs one snippet binary: its own process group, a fresh working folder,
//! no stdin, a deadline, and a cap on the output it keeps.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use process_wrap::std::{CommandWrap, ProcessGroup};
use serde::{Deserialize, Serialize};

use super::sandbox::{self, Limits, Walls};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A run of output from one stream, in the order it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub stream: Stream,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
    /// The binary could not be started or watched.
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub output: Vec<Chunk>,
    /// Output past the limit was dropped.
    pub truncated: bool,
    pub exit: Exit,
    pub millis: u64,
}

/// How long to keep reading after the program exits, for output still in
/// flight from its pipes.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// How to run one snippet.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec<'a> {
    pub timeout: Duration,
    /// Bytes of output kept.
    pub output_limit: usize,
    /// The walls and limits to run inside, or `None` for none.
    pub sandbox: Option<Sandboxed<'a>>,
}

/// A sandboxed run: kiln runs itself as `run-sandboxed`, which raises
/// `walls` and then becomes the snippet.
#[derive(Debug, Clone, Copy)]
pub struct Sandboxed<'a> {
    pub walls: &'a Walls,
    pub limits: Limits,
    /// The variables the snippet may see.
    pub env: &'a [(String, std::ffi::OsString)],
}

/// The exit code of `kiln run-sandboxed` when a wall could not be raised.
pub const SANDBOX_FAILED: i32 = 125;

pub fn execute(binary: &Path, arg: Option<&str>, spec: &RunSpec<'_>) -> Execution {
    let started = Instant::now();
    let run_dir = match tempfile::Builder::new().prefix("kiln-run-").tempdir() {
        Ok(dir) => dir,
        Err(e) => return failed(format!("cannot make a working folder: {e}"), started),
    };
    let mut command = match &spec.sandbox {
        None => {
            let mut command = Command::new(binary);
            command.args(arg);
            command
        }
        Some(sandboxed) => match sandbox::command(sandboxed, run_dir.path(), binary, arg) {
            Ok(command) => command,
            Err(e) => return failed(format!("cannot find kiln's own binary: {e}"), started),
        },
    };
    command
        .current_dir(run_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0");
    let (timeout, limit) = (spec.timeout, spec.output_limit);
    let mut wrapped = CommandWrap::from(command);
    wrapped.wrap(ProcessGroup::leader());
    let mut child = match wrapped.spawn() {
        Ok(child) => child,
        Err(e) => return failed(format!("cannot start the snippet: {e}"), started),
    };
    let (sender, receiver) = mpsc::channel::<Option<(Stream, Vec<u8>)>>();
    let mut readers = 0;
    if let Some(stdout) = child.stdout().take() {
        spawn_reader(stdout, Stream::Stdout, sender.clone());
        readers += 1;
    }
    if let Some(stderr) = child.stderr().take() {
        spawn_reader(stderr, Stream::Stderr, sender.clone());
        readers += 1;
    }
    drop(sender);

    let deadline = started + timeout;
    let mut collector = Collector::new(limit);
    let mut exit = None;
    let mut drain_until: Option<Instant> = None;
    loop {
        let wait = match drain_until {
            Some(until) => until.saturating_duration_since(Instant::now()),
            None => Duration::from_millis(5),
        };
        match receiver.recv_timeout(wait.max(Duration::from_millis(1))) {
            Ok(Some((stream, bytes))) => collector.push(stream, &bytes),
            Ok(None) => {
                readers -= 1;
                if readers == 0 && exit.is_some() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if exit.is_some() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if exit.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => {
                    exit = Some(status_exit(status));
                    // Children the snippet left behind would hold the pipes
                    // open forever: end the whole group.
                    let _ = child.start_kill();
                    drain_until = Some(Instant::now() + DRAIN_GRACE);
                    if readers == 0 {
                        break;
                    }
                }
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.start_kill();
                    let _ = child.wait();
                    exit = Some(Exit::TimedOut);
                    drain_until = Some(Instant::now() + DRAIN_GRACE);
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = child.start_kill();
                    exit = Some(Exit::Error(format!("cannot watch the snippet: {e}")));
                    drain_until = Some(Instant::now() + DRAIN_GRACE);
                }
            }
        } else if drain_until.is_some_and(|until| Instant::now() >= until) {
            break;
        }
    }
    let (output, truncated) = collector.finish();
    let mut exit = exit.unwrap_or(Exit::Error("lost track of the snippet".into()));
    // The sandbox's own failure, not the snippet's.
    if exit == Exit::Code(SANDBOX_FAILED)
        && let [only] = output.as_slice()
        && let Some(message) = only.text.strip_prefix(sandbox::FAILURE_PREFIX)
    {
        exit = Exit::Error(format!("the sandbox failed: {}", message.trim()));
    }
    Execution {
        output,
        truncated,
        exit,
        millis: started.elapsed().as_millis() as u64,
    }
}

fn failed(message: String, started: Instant) -> Execution {
    Execution {
        output: Vec::new(),
        truncated: false,
        exit: Exit::Error(message),
        millis: started.elapsed().as_millis() as u64,
    }
}

fn status_exit(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Exit::Signal(signal);
        }
    }
    Exit::Error(format!("ended with {status}"))
}

fn spawn_reader(
    mut pipe: impl Read + Send + 'static,
    stream: Stream,
    sender: mpsc::Sender<Option<(Stream, Vec<u8>)>>,
) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sender.send(Some((stream, buf[..n].to_vec()))).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = sender.send(None);
    });
}

/// Keeps output in order, up to `limit` bytes in all.
struct Collector {
    limit: usize,
    kept: usize,
    truncated: bool,
    /// Raw bytes per chunk, so that a UTF-8 character split between two
    /// reads is decoded whole.
    raw: Vec<(Stream, Vec<u8>)>,
}

impl Collector {
    fn new(limit: usize) -> Collector {
        Collector {
            limit,
            kept: 0,
            truncated: false,
            raw: Vec::new(),
        }
    }

    fn push(&mut self, stream: Stream, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.kept);
        if bytes.len() > room {
            self.truncated = true;
        }
        let take = &bytes[..bytes.len().min(room)];
        if take.is_empty() {
            return;
        }
        self.kept += take.len();
        match self.raw.last_mut() {
            Some((last, data)) if *last == stream => data.extend_from_slice(take),
            _ => self.raw.push((stream, take.to_vec())),
        }
    }

    /// The chunks as text; invalid UTF-8 becomes U+FFFD.
    fn finish(self) -> (Vec<Chunk>, bool) {
        let chunks = self
            .raw
            .into_iter()
            .map(|(stream, data)| Chunk {
                stream,
                text: String::from_utf8_lossy(&data).into_owned(),
            })
            .collect();
        (chunks, self.truncated)
    }
}
