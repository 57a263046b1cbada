//! Progress of a run on stderr: a bar with rate and ETA on a terminal, plain log lines
//! otherwise (CI logs, pipes), nothing when quiet.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::FileCounts;

/// How a run reports progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar when stderr is a terminal, a log line every few seconds otherwise.
    #[default]
    Auto,
    /// Log lines on stderr, even on a terminal.
    Log,
    /// Nothing on stderr (for embedding and tests).
    Quiet,
}

/// Seconds between two log lines.
const LOG_EVERY: Duration = Duration::from_secs(5);

enum Output {
    Bar(ProgressBar),
    Log { last: Instant },
    Quiet,
}

pub(crate) struct Progress {
    output: Output,
    bytes: Arc<AtomicU64>,
    total_bytes: u64,
    records: u64,
    start: Instant,
}

impl Progress {
    pub(crate) fn new(mode: ProgressMode, bytes: Arc<AtomicU64>, total_bytes: u64) -> Self {
        let output = match mode {
            ProgressMode::Quiet => Output::Quiet,
            ProgressMode::Auto if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::with_draw_target(
                    Some(total_bytes),
                    ProgressDrawTarget::stderr_with_hz(4),
                );
                let style = ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style.progress_chars("=> "));
                Output::Bar(bar)
            }
            ProgressMode::Auto | ProgressMode::Log => Output::Log {
                last: Instant::now(),
            },
        };
        Self {
            output,
            bytes,
            total_bytes,
            records: 0,
            start: Instant::now(),
        }
    }

    /// A line said before the bar starts.
    pub(crate) fn say(&self, line: &str) {
        match &self.output {
            Output::Bar(bar) => bar.println(line),
            Output::Log { .. } => eprintln!("{line}"),
            Output::Quiet => {}
        }
    }

    pub(crate) fn records(&mut self, read: u64) {
        self.records += read;
        let bytes = self.bytes.load(Ordering::Relaxed).min(self.total_bytes);
        let elapsed = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = self.records as f64 / elapsed;
        match &mut self.output {
            Output::Bar(bar) => {
                bar.set_position(bytes);
                bar.set_message(format!("{} records, {rate:.0}/s", self.records));
            }
            Output::Log { last } if last.elapsed() >= LOG_EVERY => {
                *last = Instant::now();
                let share = bytes as f64 / self.total_bytes.max(1) as f64;
                let eta = if share > 0.0 {
                    format!("{:.0} s", elapsed * (1.0 - share) / share)
                } else {
                    "unknown".to_owned()
                };
                eprintln!(
                    "ingest: {:.0}% of {:.1} MB read, {} records ({rate:.0}/s), ETA {eta}",
                    share * 100.0,
                    self.total_bytes as f64 / 1e6,
                    self.records
                );
            }
            Output::Log { .. } | Output::Quiet => {}
        }
    }

    pub(crate) fn file_done(&self, file: &FileCounts, dry_run: bool) {
        let c = file.counts;
        let line = if dry_run {
            format!(
                "ingest: {} ({}): read {} = built {} + duplicates {} + quarantined {}{}",
                file.path.display(),
                file.format,
                c.read,
                c.inserted,
                c.duplicates,
                c.quarantined,
                c.repaired_note()
            )
        } else {
            format!("ingest: {} ({}): {c}", file.path.display(), file.format)
        };
        self.say(&line);
    }

    pub(crate) fn finish(&self) {
        if let Output::Bar(bar) = &self.output {
            bar.finish_and_clear();
        }
    }
}
