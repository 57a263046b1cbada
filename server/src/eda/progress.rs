//! Progress of a long analysis on stderr: an updating line on a terminal, a log line every
//! few seconds otherwise, nothing for runs shorter than a second or when turned off.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::numbers::thousands;

/// Nothing is shown for runs shorter than this.
const GRACE: Duration = Duration::from_secs(1);

/// Reports bytes read against the input's total size.
#[derive(Debug)]
pub(crate) struct Progress {
    enabled: bool,
    terminal: bool,
    total_bytes: u64,
    /// Counting documents (of a database) rather than bytes (of files).
    documents: bool,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    /// A progress reporter for `total_bytes` of input (compressed size, as on disk).
    pub(crate) fn new(enabled: bool, total_bytes: u64) -> Self {
        Self {
            enabled,
            terminal: std::io::stderr().is_terminal(),
            total_bytes,
            documents: false,
            start: Instant::now(),
            last: None,
        }
    }

    /// A progress reporter for `total` documents; `bytes` then counts documents.
    #[cfg(feature = "mongodb")]
    pub(crate) fn documents(enabled: bool, total: u64) -> Self {
        Self {
            documents: true,
            ..Self::new(enabled, total)
        }
    }

    /// Reports `bytes` read and `records` seen so far, if it is time to.
    pub(crate) fn update(&mut self, bytes: u64, records: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let every = if self.terminal {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        };
        let due = match self.last {
            None => now.duration_since(self.start) >= GRACE,
            Some(last) => now.duration_since(last) >= every,
        };
        if due {
            self.last = Some(now);
            self.show(bytes, records, false);
        }
    }

    /// Ends the progress line, if one was shown.
    pub(crate) fn finish(&mut self, bytes: u64, records: u64) {
        if self.enabled && self.last.is_some() {
            self.show(bytes, records, true);
        }
    }

    fn show(&self, bytes: u64, records: u64, done: bool) {
        let seconds = self.start.elapsed().as_secs_f64();
        let percent = if self.total_bytes > 0 {
            (bytes as f64 / self.total_bytes as f64 * 100.0).min(100.0)
        } else {
            100.0
        };
        let of = if self.documents {
            format!("{} documents", thousands(self.total_bytes))
        } else {
            format!("{:.1} MiB", self.total_bytes as f64 / f64::from(1 << 20))
        };
        let line = format!(
            "eda: {percent:3.0} % of {of} read, {} records, {seconds:.1} s{}",
            thousands(records),
            if done { ", computing the report" } else { "" }
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r{line}\x1b[K{}", if done { "\n" } else { "" })
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}
