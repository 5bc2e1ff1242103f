//! A run's output where there are no datagram queues to keep it in order
//! (macOS, Windows): a pipe per stream, each read by a thread of its own,
//! the chunks kept in the order they arrived. Within a stream the order is
//! exact; between stdout and stderr it is as close as the reads came.

use std::io::Read;
use std::process::Stdio;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use super::{Collector, Stream};

pub struct Capture {
    chunks: Receiver<(Stream, Vec<u8>)>,
    /// A chunk `wait` received, for `drain` to take first.
    early: std::cell::RefCell<Vec<(Stream, Vec<u8>)>>,
}

/// How long the last bytes may take to arrive once the run has ended (a
/// process it left behind may hold a pipe open for longer).
const LAST_BYTES: Duration = Duration::from_millis(200);

/// Reads `pipe` to its end, sending each read as one chunk.
fn read_all(mut pipe: std::io::PipeReader, stream: Stream, to: Sender<(Stream, Vec<u8>)>) {
    let mut buffer = vec![0; 64 << 10];
    while let Ok(n @ 1..) = pipe.read(&mut buffer) {
        if to.send((stream, buffer[..n].to_vec())).is_err() {
            return;
        }
    }
}

impl Capture {
    /// The receiver, and the snippet's stdout and stderr (the collector
    /// keeps the limit).
    pub fn new(_limit: usize) -> std::io::Result<(Capture, Stdio, Stdio)> {
        let (send, chunks) = channel();
        let (out_reader, stdout) = std::io::pipe()?;
        let (err_reader, stderr) = std::io::pipe()?;
        for (reader, stream) in [(out_reader, Stream::Stdout), (err_reader, Stream::Stderr)] {
            let send = send.clone();
            std::thread::spawn(move || read_all(reader, stream, send));
        }
        let capture = Capture {
            chunks,
            early: std::cell::RefCell::new(Vec::new()),
        };
        Ok((capture, Stdio::from(stdout), Stdio::from(stderr)))
    }

    /// Nothing to watch: a wait wakes at least every 5 ms to look.
    pub fn watch(&mut self, _pid: u32) {}

    /// Waits up to `timeout` (5 ms at most) for output.
    pub fn wait(&self, timeout: Duration) {
        match self
            .chunks
            .recv_timeout(timeout.min(Duration::from_millis(5)))
        {
            Ok(chunk) => self.early.borrow_mut().push(chunk),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
    }

    /// Takes every chunk read so far, in the order they came.
    pub fn drain(&self, collector: &mut Collector) {
        let early = std::mem::take(&mut *self.early.borrow_mut());
        for (stream, bytes) in early.into_iter().chain(self.chunks.try_iter()) {
            collector.push(stream, &bytes);
        }
    }

    /// Once the run has ended: takes the rest, until both pipes are closed
    /// or the last bytes are overdue.
    pub fn finish(&self, collector: &mut Collector) {
        self.drain(collector);
        let deadline = std::time::Instant::now() + LAST_BYTES;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok((stream, bytes)) => collector.push(stream, &bytes),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_streams_are_caught_whole_and_each_in_order() {
        let (mut capture, stdout, stderr) = Capture::new(1 << 20).unwrap();
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "echo one; echo two >&2; head -c 300000 /dev/zero; echo three",
            ])
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        capture.watch(child.id());
        let mut collector = Collector::new(1 << 20);
        while child.try_wait().unwrap().is_none() {
            capture.wait(Duration::from_millis(50));
            capture.drain(&mut collector);
        }
        capture.finish(&mut collector);
        let (chunks, truncated) = collector.finish();
        assert!(!truncated);
        let text = |stream: Stream| -> String {
            chunks
                .iter()
                .filter(|c| c.stream == stream)
                .map(|c| c.text.as_str())
                .collect()
        };
        let out = text(Stream::Stdout);
        assert!(
            out.starts_with("one\n") && out.ends_with("\0three\n"),
            "{:?}",
            &out[..8]
        );
        assert_eq!(out.len(), "one\n".len() + 300_000 + "three\n".len());
        assert_eq!(text(Stream::Stderr), "two\n");
    }

    #[test]
    fn output_past_the_limit_is_marked_truncated() {
        let (capture, stdout, stderr) = Capture::new(100).unwrap();
        let mut child = std::process::Command::new("sh")
            .args(["-c", "head -c 5000 /dev/zero"])
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        child.wait().unwrap();
        let mut collector = Collector::new(100);
        capture.finish(&mut collector);
        let (chunks, truncated) = collector.finish();
        assert!(truncated);
        assert_eq!(chunks.iter().map(|c| c.text.len()).sum::<usize>(), 100);
    }
}
