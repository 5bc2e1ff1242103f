//! Runs one snippet binary: inside its walls, in its own process group, no
//! stdin, a deadline, and a cap on the output it keeps.
//!
//! Its stdout and stderr are two datagram sockets connected to one
//! receiving socket, so every write lands in one queue in the order it was
//! made, tagged by the socket it came from: output is shown exactly as it
//! happened, however close together the writes of the two streams were.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process_wrap::std::{CommandWrap, ProcessGroup};
use serde::{Deserialize, Serialize};

use super::sandbox::{self, FAILURE_PREFIX, Limits, Plan, SANDBOX_FAILED, Walls};

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

pub fn execute(binary: &Path, arg: Option<&str>, spec: &RunSpec<'_>) -> Execution {
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
    let mut command = match command(binary, arg, spec, (folder.path(), cgroup.as_ref())) {
        Ok(command) => command,
        Err(e) => return fail(format!("cannot find kiln's own binary: {e}")),
    };
    let (capture, stdout, stderr) = match Capture::new(spec.output_limit) {
        Ok(parts) => parts,
        Err(e) => return fail(format!("cannot capture the output: {e}")),
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .env("RUST_BACKTRACE", "0");
    let mut wrapped = CommandWrap::from(command);
    wrapped.wrap(ProcessGroup::leader());
    let mut child = match wrapped.spawn() {
        Ok(child) => child,
        Err(e) => return fail(format!("cannot start the snippet: {e}")),
    };
    // Our copies of the sending ends went with `command`.
    drop(wrapped);
    // Readable when the child ends, so that its end wakes the wait below
    // at once (datagram sockets have no end of file to tell it).
    // SAFETY: pidfd_open of our own child; a negative answer is no fd.
    let exited = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    // SAFETY: a descriptor pidfd_open just made, owned here alone.
    let exited = (exited >= 0).then(|| unsafe { OwnedFd::from_raw_fd(exited as i32) });
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
                capture.wait(exited.as_ref(), left.min(Duration::from_millis(100)));
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
    capture.drain(&mut collector);
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

/// The command that runs `binary` in `folder`: plainly, or through the
/// sandbox's helper with its request and environment.
fn command(
    binary: &Path,
    arg: Option<&str>,
    spec: &RunSpec<'_>,
    (folder, cgroup): (&Path, Option<&sandbox::RunCgroup>),
) -> std::io::Result<Command> {
    let Some(sandboxed) = &spec.sandbox else {
        let mut command = Command::new(binary);
        command.args(arg).current_dir(folder);
        return Ok(command);
    };
    if rustix::process::geteuid().is_root() {
        // A root builder's snippet runs as nobody.
        let _ = sandbox::give_to_nobody(folder);
    }
    let plan = sandboxed.plan;
    let request = plan.run_request(
        sandboxed.walls,
        sandboxed.limits,
        (binary, arg),
        folder,
        cgroup,
    );
    let mut env = plan.env.clone();
    env.push(("HOME".into(), plan.home(folder).into()));
    env.push(("TMPDIR".into(), plan.tmp_dir(folder).into()));
    sandbox::command(&request, &env)
}

fn status_exit(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    match status.signal() {
        Some(signal) => Exit::Signal(signal),
        None => Exit::Error(format!("ended with {status}")),
    }
}

/// The receiving end of a run's output.
struct Capture {
    receiver: UnixDatagram,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    buffer: std::cell::RefCell<Vec<u8>>,
}

/// Binds `socket` to a fresh abstract address chosen by the kernel.
fn autobind(socket: &UnixDatagram) -> std::io::Result<Vec<u8>> {
    // SAFETY: a zeroed `sockaddr_un` of which only the family is passed,
    // which asks the kernel for a unique abstract name.
    let result = unsafe {
        let mut address: libc::sockaddr_un = std::mem::zeroed();
        address.sun_family = libc::AF_UNIX as libc::sa_family_t;
        libc::bind(
            socket.as_raw_fd(),
            (&address as *const libc::sockaddr_un).cast(),
            std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t,
        )
    };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let address = socket.local_addr()?;
    Ok(address.as_abstract_name().unwrap_or_default().to_vec())
}

/// A sending socket's buffer: one write of up to this size is one
/// datagram. Root may raise it past the system's maximum.
const SEND_BUFFER: libc::c_int = 64 << 20;

impl Capture {
    /// The receiver, and the snippet's stdout and stderr; one write of up
    /// to `limit` bytes is read whole.
    fn new(limit: usize) -> std::io::Result<(Capture, OwnedFd, OwnedFd)> {
        let receiver = UnixDatagram::unbound()?;
        autobind(&receiver)?;
        let address = receiver.local_addr()?;
        let sender = || -> std::io::Result<(UnixDatagram, Vec<u8>)> {
            let socket = UnixDatagram::unbound()?;
            let name = autobind(&socket)?;
            for option in [libc::SO_SNDBUFFORCE, libc::SO_SNDBUF] {
                // SAFETY: setsockopt with a correctly sized int.
                let set = unsafe {
                    libc::setsockopt(
                        socket.as_raw_fd(),
                        libc::SOL_SOCKET,
                        option,
                        (&SEND_BUFFER as *const libc::c_int).cast(),
                        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                    )
                };
                if set == 0 {
                    break;
                }
            }
            socket.connect_addr(&address)?;
            Ok((socket, name))
        };
        let (out, stdout) = sender()?;
        let (err, stderr) = sender()?;
        receiver.set_nonblocking(true)?;
        let capture = Capture {
            receiver,
            stdout,
            stderr,
            buffer: std::cell::RefCell::new(vec![
                0;
                limit.clamp(64 << 10, SEND_BUFFER as usize) + 1
            ]),
        };
        Ok((capture, OwnedFd::from(out), OwnedFd::from(err)))
    }

    /// Waits up to `timeout` for output or for the end of the process
    /// `exited` watches (every 5 ms without one).
    fn wait(&self, exited: Option<&OwnedFd>, timeout: Duration) {
        let watch = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut polls = vec![watch(self.receiver.as_raw_fd())];
        polls.extend(exited.map(|fd| watch(fd.as_raw_fd())));
        let timeout = if exited.is_some() {
            timeout
        } else {
            timeout.min(Duration::from_millis(5))
        };
        // SAFETY: valid pollfds, as many as given.
        unsafe {
            libc::poll(
                polls.as_mut_ptr(),
                polls.len() as libc::nfds_t,
                timeout.as_millis().max(1) as libc::c_int,
            )
        };
    }

    /// Takes every datagram queued so far, in order.
    fn drain(&self, collector: &mut Collector) {
        let mut buffer = self.buffer.borrow_mut();
        loop {
            // SAFETY: `recvfrom` into our buffer and a zeroed address of
            // the size given; MSG_TRUNC returns a datagram's whole length.
            let (length, name) = unsafe {
                let mut address: libc::sockaddr_un = std::mem::zeroed();
                let mut size = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
                let length = libc::recvfrom(
                    self.receiver.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    (&mut address as *mut libc::sockaddr_un).cast(),
                    &mut size,
                );
                let path_len =
                    (size as usize).saturating_sub(std::mem::size_of::<libc::sa_family_t>());
                let name: Vec<u8> = address.sun_path[..path_len.min(108)]
                    .iter()
                    .map(|&c| c as u8)
                    .collect();
                (length, name)
            };
            if length < 0 {
                return;
            }
            // Abstract names start with a NUL byte.
            let name = name.get(1..).unwrap_or_default();
            let stream = if name == self.stdout.as_slice() {
                Stream::Stdout
            } else if name == self.stderr.as_slice() {
                Stream::Stderr
            } else {
                continue;
            };
            let length = length as usize;
            collector.push(stream, &buffer[..length.min(buffer.len())]);
            if length > buffer.len() {
                collector.truncated = true;
            }
        }
    }
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
