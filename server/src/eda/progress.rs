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
            start: Instant::now(),
            last: None,
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
        let line = format!(
            "eda: {percent:3.0} % of {:.1} MiB read, {} records, {seconds:.1} s{}",
            self.total_bytes as f64 / f64::from(1 << 20),
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
