use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Text a guest wrote to stdout or stderr, up to the function's output cap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedText {
    /// What was kept, decoded as UTF-8 (invalid sequences replaced).
    pub text: String,
    /// How many bytes past the cap were dropped.
    pub dropped_bytes: u64,
}

impl CapturedText {
    /// Whether anything was dropped.
    pub fn is_truncated(&self) -> bool {
        self.dropped_bytes > 0
    }
}

/// A guest's stdout or stderr: keeps the first `capacity` bytes and counts the rest.
///
/// wasmtime's `MemoryOutputPipe` fails the guest's write once full, which turns a chatty
/// function into a failed one (Rust's `println!` panics on a failed write). Dropping the excess
/// keeps logging a diagnostic, not a hazard.
#[derive(Debug, Clone)]
pub(crate) struct CappedPipe {
    shared: Arc<Mutex<CappedBuffer>>,
}

#[derive(Debug)]
struct CappedBuffer {
    kept: Vec<u8>,
    capacity: usize,
    dropped: u64,
}

impl CappedPipe {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { shared: Arc::new(Mutex::new(CappedBuffer { kept: Vec::new(), capacity, dropped: 0 })) }
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let room = buffer.capacity.saturating_sub(buffer.kept.len());
        let (kept, dropped) = bytes.split_at(room.min(bytes.len()));
        buffer.kept.extend_from_slice(kept);
        buffer.dropped += dropped.len() as u64;
    }

    pub(crate) fn take(&self) -> CapturedText {
        let mut buffer = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = std::mem::take(&mut buffer.kept);
        CapturedText { text: String::from_utf8_lossy(&kept).into_owned(), dropped_bytes: buffer.dropped }
    }
}

/// Writes are accepted whole in any size, so the guest never has to wait or retry.
const WRITE_BUDGET: usize = 1 << 20;

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CappedPipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Severity of a guest's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Very detailed tracing.
    Trace,
    /// Diagnostics for developers.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the function handled.
    Warn,
    /// A failure.
    Error,
}

/// One structured log line sent by the guest through the `log` import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// Its severity.
    pub level: LogLevel,
    /// Its text.
    pub message: String,
}

/// The guest's log lines, capped in total bytes like stdout.
#[derive(Debug)]
pub(crate) struct LogSink {
    lines: Vec<LogLine>,
    remaining_bytes: usize,
    dropped_lines: u64,
}

impl LogSink {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { lines: Vec::new(), remaining_bytes: capacity, dropped_lines: 0 }
    }

    pub(crate) fn push(&mut self, level: LogLevel, message: String) {
        if message.len() <= self.remaining_bytes {
            self.remaining_bytes -= message.len();
            self.lines.push(LogLine { level, message });
        } else {
            self.dropped_lines += 1;
        }
    }

    pub(crate) fn finish(self) -> (Vec<LogLine>, u64) {
        (self.lines, self.dropped_lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_keeps_the_first_bytes_and_counts_the_rest() {
        let pipe = CappedPipe::new(5);
        pipe.append(b"hello");
        pipe.append(b" world");
        let captured = pipe.take();
        assert_eq!(captured.text, "hello");
        assert_eq!(captured.dropped_bytes, 6);
        assert!(captured.is_truncated());
    }

    #[test]
    fn log_sink_drops_lines_past_its_budget() {
        let mut sink = LogSink::new(8);
        sink.push(LogLevel::Info, "1234".into());
        sink.push(LogLevel::Warn, "56789".into());
        sink.push(LogLevel::Error, "abcd".into());
        let (lines, dropped) = sink.finish();
        assert_eq!(lines.iter().map(|line| line.message.as_str()).collect::<Vec<_>>(), ["1234", "abcd"]);
        assert_eq!(dropped, 1);
    }
}
