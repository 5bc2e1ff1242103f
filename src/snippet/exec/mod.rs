//! Runs one snippet binary: inside its walls, in its own process group, no
//! stdin, a deadline, and a cap on the output it keeps.
//!
//! On Linux its stdout and stderr are two datagram sockets connected to one
//! receiving socket, so every write lands in one queue in the order it was
//! made, tagged by the socket it came from: output is shown exactly as it
//! happened, however close together the writes of the two streams were.
//! Elsewhere they are two pipes (see `pipes.rs`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process_wrap::std::CommandWrap;
use serde::{Deserialize, Serialize};

use super::sandbox::{self, FAILURE_PREFIX, Limits, Plan, SANDBOX_FAILED, Walls};

// How a run's output is caught: on Linux, one datagram per write into one
// queue, so stdout and stderr keep the order they were written in;
// elsewhere, a pipe per stream, read as the bytes come.
#[cfg(target_os = "linux")]
#[path = "datagram.rs"]
mod capture;
#[cfg(not(target_os = "linux"))]
#[path = "pipes.rs"]
mod capture;
use capture::Capture;
// The pipes are tried on Linux too, in their own tests.
#[cfg(all(test, target_os = "linux"))]
#[path = "pipes.rs"]
mod pipes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A run of output from one stream, in the order it was written.
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

/// A limit of the whole run that the kernel enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitHit {
    Memory,
    Processes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub output: Vec<Chunk>,
    /// Output past the limit was dropped.
    pub truncated: bool,
    pub exit: Exit,
    pub millis: u64,
    /// The run's cgroup limit it ran into, if any.
    #[serde(default)]
    pub limit: Option<LimitHit>,
}

/// How to run one snippet.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec<'a> {
    pub timeout: Duration,
    /// Bytes of output kept.
    pub output_limit: usize,
    /// The walls and limits to run inside, or `None` for none.
    pub sandbox: Option<Sandboxed<'a>>,
}

/// A sandboxed run.
#[derive(Debug, Clone, Copy)]
pub struct Sandboxed<'a> {
    pub plan: &'a Plan,
    pub walls: &'a Walls,
    pub limits: Limits,
}

/// What a run starts: a program with its arguments, the variables it
/// adds to the clean environment, and the files and folders it must read
/// besides the system's (a Python run's interpreter and script).
#[derive(Debug, Clone)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
    pub read: Vec<PathBuf>,
}

impl Program {
    /// A compiled binary, with the argument that picks a merged snippet.
    pub fn binary(path: &Path, arg: Option<&str>) -> Program {
        Program {
            path: path.to_owned(),
            args: arg.map(OsString::from).into_iter().collect(),
            env: vec![("RUST_BACKTRACE".to_owned(), "0".into())],
            read: vec![path.to_owned()],
        }
    }
}

pub fn execute(program: &Program, spec: &RunSpec<'_>) -> Execution {
    let started = Instant::now();
    let fail = |message: String| Execution {
        output: Vec::new(),
        truncated: false,
        exit: Exit::Error(message),
        millis: started.elapsed().as_millis() as u64,
        limit: None,
    };
    let prefix = format!("kiln-run-{}-", std::process::id());
    let folder = match tempfile::Builder::new().prefix(&prefix).tempdir() {
        Ok(dir) => dir,
        Err(e) => return fail(format!("cannot make a working folder: {e}")),
    };
    let cgroup = match spec.sandbox.and_then(|s| s.plan.cgroup(&s.limits)) {
        Some(Ok(cgroup)) => Some(cgroup),
        Some(Err(e)) => return fail(format!("cannot make the run's cgroup: {e}")),
        None => None,
    };
    let mut command = match command(program, spec, (folder.path(), cgroup.as_ref())) {
        Ok(command) => command,
        Err(e) => return fail(format!("cannot find kiln's own binary: {e}")),
    };
    let (mut capture, stdout, stderr) = match Capture::new(spec.output_limit) {
        Ok(parts) => parts,
        Err(e) => return fail(format!("cannot capture the output: {e}")),
    };
    command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .envs(program.env.iter().map(|(k, v)| (k, v)));
    let mut wrapped = CommandWrap::from(command);
    #[cfg(unix)]
    wrapped.wrap(process_wrap::std::ProcessGroup::leader());
    #[cfg(windows)]
    wrapped.wrap(process_wrap::std::JobObject);
    let mut child = match wrapped.spawn() {
        Ok(child) => child,
        Err(e) => return fail(format!("cannot start the snippet: {e}")),
    };
    // Our copies of the sending ends went with `command`.
    drop(wrapped);
    capture.watch(child.id());
    let deadline = started + spec.timeout;
    let mut collector = Collector::new(spec.output_limit);
    let exit = loop {
        capture.drain(&mut collector);
        match child.try_wait() {
            Ok(Some(status)) => break status_exit(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.start_kill();
                let _ = child.wait();
                break Exit::TimedOut;
            }
            Ok(None) => {
                let left = deadline.saturating_duration_since(Instant::now());
                capture.wait(left.min(Duration::from_millis(100)));
            }
            Err(e) => {
                let _ = child.start_kill();
                break Exit::Error(format!("cannot watch the snippet: {e}"));
            }
        }
    };
    // Whatever the snippet left behind in its group goes too (inside the
    // walls, its PID namespace has already ended it).
    let _ = child.start_kill();
    capture.finish(&mut collector);
    let (output, truncated) = collector.finish();
    let limit = cgroup.as_ref().and_then(|c| {
        if c.out_of_memory() {
            Some(LimitHit::Memory)
        } else if c.out_of_processes() {
            Some(LimitHit::Processes)
        } else {
            None
        }
    });
    let mut exit = exit;
    // The sandbox's own failure, not the snippet's.
    if exit == Exit::Code(SANDBOX_FAILED)
        && let [only] = output.as_slice()
        && let Some(message) = only.text.strip_prefix(FAILURE_PREFIX)
    {
        exit = Exit::Error(format!("the sandbox failed: {}", message.trim()));
    }
    Execution {
        output,
        truncated,
        exit,
        millis: started.elapsed().as_millis() as u64,
        limit,
    }
}

/// The command that runs `program` in `folder`: plainly, or through the
/// sandbox's helper with its request and environment.
fn command(
    program: &Program,
    spec: &RunSpec<'_>,
    (folder, cgroup): (&Path, Option<&sandbox::RunCgroup>),
) -> std::io::Result<Command> {
    let Some(sandboxed) = &spec.sandbox else {
        let mut command = Command::new(&program.path);
        command.args(&program.args).current_dir(folder);
        return Ok(command);
    };
    if sandbox::is_root() {
        // A root builder's snippet runs as nobody.
        let _ = sandbox::give_to_nobody(folder);
    }
    let plan = sandboxed.plan;
    let request = plan.run_request(sandboxed.walls, sandboxed.limits, program, folder, cgroup);
    let mut env = plan.env.clone();
    env.push(("HOME".into(), plan.home(folder).into()));
    env.push(("TMPDIR".into(), plan.tmp_dir(folder).into()));
    sandbox::command(&request, &env)
}

fn status_exit(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return Exit::Signal(signal);
    }
    Exit::Error(format!("ended with {status}"))
}

/// Keeps output in order, up to `limit` bytes in all.
struct Collector {
    limit: usize,
    kept: usize,
    truncated: bool,
    /// Raw bytes per chunk, so that a UTF-8 character split between two
    /// writes is decoded whole.
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
