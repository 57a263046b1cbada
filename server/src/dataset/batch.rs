//! Reading a file in batches of lines on a separate thread, so that
//! decompression overlaps with parsing.

use std::io::BufRead;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use super::error::Result;
use super::input::LineReader;
use super::parse::is_blank;
use super::problem::Problem;

/// A batch is handed over once it holds this many bytes…
const BATCH_BYTES: usize = 4 << 20;
/// …or this many lines.
const BATCH_LINES: usize = 16 << 10;
/// Batches read ahead of the consumer.
const READ_AHEAD: usize = 2;

/// One entry of a batch.
#[derive(Debug)]
pub(crate) enum Item {
    /// A non-blank line, stored in [`Batch::bytes`].
    Line {
        /// 1-based line number.
        number: u64,
        /// Where the line is in [`Batch::bytes`].
        range: Range<usize>,
    },
    /// A line that could not be read.
    Problem(Problem),
}

/// Consecutive lines of one file.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// The lines' bytes, one after the other.
    pub(crate) bytes: Vec<u8>,
    /// The lines, in file order.
    pub(crate) items: Vec<Item>,
}

impl Batch {
    /// The bytes of a line.
    pub(crate) fn line(&self, range: &Range<usize>) -> &[u8] {
        &self.bytes[range.clone()]
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }

    fn is_full(&self) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.items.len() >= BATCH_LINES
    }
}

/// Reads `input` (the content of `path`) on a reader thread and hands each
/// batch of non-blank lines to `consume`, in order. Stops at the first error
/// of `consume`. Returns the number of lines read.
pub(crate) fn for_each_batch<R: BufRead + Send>(
    path: &Path,
    input: R,
    mut consume: impl FnMut(&Batch) -> Result<()>,
) -> Result<u64> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(READ_AHEAD);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    thread::scope(|scope| {
        let reader = scope.spawn(move || read_batches(path, input, &full_tx, &empty_rx));
        let mut outcome = Ok(());
        for batch in full_rx.iter() {
            outcome = consume(&batch);
            if outcome.is_err() {
                break;
            }
            // The reader may be gone already; the batch is then just dropped.
            let _ = empty_tx.send(batch);
        }
        drop(full_rx); // unblocks the reader if we stopped early
        let lines = reader.join().expect("the batch reader does not panic");
        outcome.map(|()| lines)
    })
}

/// The reader thread: fills batches (reusing those sent back) until the input ends.
fn read_batches<R: BufRead>(
    path: &Path,
    input: R,
    full: &mpsc::SyncSender<Batch>,
    empty: &mpsc::Receiver<Batch>,
) -> u64 {
    let mut lines = LineReader::new(input);
    let mut batch = Batch::default();
    while let Some(event) = lines.next() {
        match event.into_line(path) {
            Ok((_, bytes)) if is_blank(bytes) => continue,
            Ok((number, bytes)) => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(bytes);
                let range = start..batch.bytes.len();
                batch.items.push(Item::Line { number, range });
            }
            Err(problem) => batch.items.push(Item::Problem(problem)),
        }
        if batch.is_full() {
            let mut next = empty.try_recv().unwrap_or_default();
            next.clear();
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                return lines.lines(); // the consumer stopped
            }
        }
    }
    if !batch.items.is_empty() {
        let _ = full.send(batch);
    }
    lines.lines()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn hands_over_every_non_blank_line_in_order() {
        let mut input = Vec::new();
        for i in 0..40_000 {
            input.extend_from_slice(format!("line {i}\n\n").as_bytes());
        }
        let mut seen = Vec::new();
        let lines = for_each_batch(Path::new("x"), Cursor::new(input), |batch| {
            for item in &batch.items {
                if let Item::Line { number, range } = item {
                    seen.push((
                        *number,
                        String::from_utf8_lossy(batch.line(range)).into_owned(),
                    ));
                }
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(lines, 80_000);
        assert_eq!(seen.len(), 40_000);
        assert_eq!(seen[0], (1, "line 0".to_owned()));
        assert_eq!(seen[39_999], (79_999, "line 39999".to_owned()));
    }

    #[test]
    fn stops_at_the_first_error() {
        let input = "a\n".repeat(100_000).into_bytes();
        let mut calls = 0;
        let outcome = for_each_batch(Path::new("x"), Cursor::new(input), |_| {
            calls += 1;
            Err(super::super::DatasetError::NoInput)
        });
        assert!(outcome.is_err());
        assert_eq!(calls, 1);
    }
}
