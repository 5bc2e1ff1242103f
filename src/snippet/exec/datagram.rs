//! A run's output on Linux: each write of the snippet's stdout and stderr is
//! one datagram into one queue, tagged by the stream's socket, so the two
//! keep the order they were written in however close together.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::time::Duration;

use super::{Collector, Stream};

/// The receiving end of a run's output.
pub struct Capture {
    receiver: UnixDatagram,
    /// Readable when the child ends, so that its end wakes a wait at once
    /// (datagram sockets have no end of file to tell it).
    exited: Option<OwnedFd>,
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
    pub fn new(limit: usize) -> std::io::Result<(Capture, Stdio, Stdio)> {
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
            exited: None,
            stdout,
            stderr,
            buffer: std::cell::RefCell::new(vec![
                0;
                limit.clamp(64 << 10, SEND_BUFFER as usize) + 1
            ]),
        };
        Ok((
            capture,
            Stdio::from(OwnedFd::from(out)),
            Stdio::from(OwnedFd::from(err)),
        ))
    }

    /// Watches the process `pid` (the run's child) for its end.
    pub fn watch(&mut self, pid: u32) {
        // SAFETY: pidfd_open of our own child; a negative answer is no fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        // SAFETY: a descriptor pidfd_open just made, owned here alone.
        self.exited = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) });
    }

    /// Waits up to `timeout` for output or for the end of the process it
    /// watches (every 5 ms without a watch).
    pub fn wait(&self, timeout: Duration) {
        let exited = self.exited.as_ref();
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

    /// Once the run has ended: every datagram is already queued.
    pub fn finish(&self, collector: &mut Collector) {
        self.drain(collector);
    }

    /// Takes every datagram queued so far, in order.
    pub fn drain(&self, collector: &mut Collector) {
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
