//! Opening a dataset file and cutting it into lines.
//!
//! Compression is recognised by magic bytes, never by file name. Lines are
//! read into one reused buffer; a line longer than [`MAX_LINE`] is skipped
//! without being held in memory, so memory stays bounded whatever the input.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::error::{DatasetError, Result};
use super::problem::{Problem, MAX_RAW};

/// Lines longer than this many bytes are rejected instead of parsed.
///
/// Real review lines are a few KiB; the longest metadata lines are a few
/// hundred KiB. 64 MiB leaves room for anything legitimate.
pub(crate) const MAX_LINE: usize = 64 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const BZIP2_MAGIC: [u8; 3] = *b"BZh";
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
const ZIP_MAGIC: [u8; 4] = [b'P', b'K', 0x03, 0x04];

const BUFFER_SIZE: usize = 256 << 10;

/// Opens `path` for reading, decompressing it if it starts with the gzip magic.
///
/// Other compressions are recognised only to give a clear error.
pub(crate) fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let io_error = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut reader = BufReader::with_capacity(BUFFER_SIZE, file);
    let head = peek(&mut reader, 6).map_err(io_error)?;
    if head.starts_with(&GZIP_MAGIC) {
        let decoder = MultiGzDecoder::new(reader);
        return Ok(Box::new(BufReader::with_capacity(BUFFER_SIZE, decoder)));
    }
    let other = [
        (&ZSTD_MAGIC[..], "zstd"),
        (&BZIP2_MAGIC[..], "bzip2"),
        (&XZ_MAGIC[..], "xz"),
        (&ZIP_MAGIC[..], "zip"),
    ];
    if let Some((_, name)) = other.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(DatasetError::UnknownFormat {
            path: path.to_path_buf(),
            reason: format!("{name}-compressed files are not supported (only gzip is)"),
        });
    }
    Ok(Box::new(reader))
}

/// Returns up to `n` first bytes of `reader` without consuming them.
fn peek(reader: &mut BufReader<File>, n: usize) -> io::Result<Vec<u8>> {
    // A regular file fills the buffer in one read unless it is shorter than `n`.
    let buf = loop {
        match reader.fill_buf() {
            Ok(buf) => break buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(buf[..buf.len().min(n)].to_vec())
}

/// One step of a [`LineReader`].
#[derive(Debug)]
pub(crate) enum LineEvent<'a> {
    /// A complete line, without its line ending (LF or CRLF) and, on the first
    /// line, without a UTF-8 byte-order mark.
    Line {
        /// 1-based line number.
        number: u64,
        /// The line's bytes.
        bytes: &'a [u8],
    },
    /// A line longer than the limit: skipped, only its start is kept.
    TooLong {
        /// 1-based line number.
        number: u64,
        /// The first bytes of the line.
        head: &'a [u8],
        /// The line's full length in bytes.
        len: u64,
    },
    /// The input could not be read any further (for example a truncated
    /// gzip stream). This is the last event.
    Failed {
        /// 1-based number of the line that could not be read completely.
        number: u64,
        /// The bytes of that line read before the failure.
        partial: &'a [u8],
        /// The I/O error.
        error: io::Error,
    },
}

impl<'a> LineEvent<'a> {
    /// The line number and bytes of a line; the [`Problem`] that any other
    /// event stands for, as met in file `path`.
    pub(crate) fn into_line(self, path: &Path) -> std::result::Result<(u64, &'a [u8]), Problem> {
        match self {
            LineEvent::Line { number, bytes } => Ok((number, bytes)),
            LineEvent::TooLong { number, head, len } => {
                let reason =
                    format!("line of {len} bytes is longer than the limit of {MAX_LINE} bytes");
                Err(Problem::new(path, number, reason, head, len))
            }
            LineEvent::Failed {
                number,
                partial,
                error,
            } => {
                let reason = format!(
                    "input unreadable from this line on (truncated or corrupt file?): {error}"
                );
                Err(Problem::new(
                    path,
                    number,
                    reason,
                    partial,
                    partial.len() as u64,
                ))
            }
        }
    }
}

/// Reads lines from a [`BufRead`] into a reused buffer.
///
/// It is a lending iterator: each event borrows the reader's buffer, so a
/// line must be used before the next call to [`LineReader::next`].
pub(crate) struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    max_line: usize,
    line: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps `input`, rejecting lines longer than [`MAX_LINE`] bytes.
    pub(crate) fn new(input: R) -> Self {
        Self::with_max_line(input, MAX_LINE)
    }

    /// Wraps `input`, rejecting lines longer than `max_line` bytes.
    pub(crate) fn with_max_line(input: R, max_line: usize) -> Self {
        Self {
            input,
            buf: Vec::new(),
            max_line,
            line: 0,
            done: false,
        }
    }

    /// The number of lines started so far.
    pub(crate) fn lines(&self) -> u64 {
        self.line
    }

    /// Reads the next line; `None` at the end of the input or after a failure.
    pub(crate) fn next(&mut self) -> Option<LineEvent<'_>> {
        if self.done {
            return None;
        }
        self.buf.clear();
        let mut len: u64 = 0;
        let mut saw_newline = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.done = true;
                    self.line += 1;
                    let keep = self.buf.len().min(MAX_RAW);
                    return Some(LineEvent::Failed {
                        number: self.line,
                        partial: &self.buf[..keep],
                        error,
                    });
                }
            };
            if available.is_empty() {
                break;
            }
            let (chunk, used) = match memchr::memchr(b'\n', available) {
                Some(i) => {
                    saw_newline = true;
                    (&available[..i], i + 1)
                }
                None => (available, available.len()),
            };
            len += chunk.len() as u64;
            // Past the limit only a bounded head of the line is kept.
            let room = (self.max_line + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.input.consume(used);
            if saw_newline {
                break;
            }
        }
        if len == 0 && !saw_newline {
            self.done = true;
            return None;
        }
        self.line += 1;
        if self.buf.len() > self.max_line {
            let keep = MAX_RAW.min(self.buf.len());
            return Some(LineEvent::TooLong {
                number: self.line,
                head: &self.buf[..keep],
                len,
            });
        }
        let mut bytes = &self.buf[..];
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if self.line == 1 {
            if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
                bytes = rest;
            }
        }
        Some(LineEvent::Line {
            number: self.line,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read, Write};

    fn read_all(mut input: impl Read) -> Vec<u8> {
        let mut out = Vec::new();
        input.read_to_end(&mut out).unwrap();
        out
    }

    fn collect(input: &[u8], max_line: usize) -> Vec<String> {
        let mut reader = LineReader::with_max_line(Cursor::new(input.to_vec()), max_line);
        let mut out = Vec::new();
        while let Some(event) = reader.next() {
            out.push(match event {
                LineEvent::Line { number, bytes } => {
                    format!("{number}:{}", String::from_utf8_lossy(bytes))
                }
                LineEvent::TooLong { number, len, .. } => format!("{number}:too long {len}"),
                LineEvent::Failed { number, .. } => format!("{number}:failed"),
            });
        }
        out
    }

    #[test]
    fn splits_lf_and_crlf_and_strips_bom() {
        let lines = collect(b"\xef\xbb\xbfa,b\r\nc\n\nd", 100);
        assert_eq!(lines, ["1:a,b", "2:c", "3:", "4:d"]);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(collect(b"", 100).is_empty());
        assert_eq!(collect(b"\n", 100), ["1:"]);
    }

    #[test]
    fn long_line_is_reported_and_skipped() {
        let mut input = vec![b'x'; 1000];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(collect(&input, 999), ["1:too long 1000", "2:ok"]);
        assert_eq!(collect(&input, 1000)[1], "2:ok");
    }

    #[test]
    fn open_detects_gzip_by_magic_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.csv"); // gzip content, misleading name
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"hello\n").unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        assert_eq!(read_all(open(&path).unwrap()), b"hello\n");

        let path = dir.path().join("data.gz"); // plain content, misleading name
        std::fs::write(&path, b"plain\n").unwrap();
        assert_eq!(read_all(open(&path).unwrap()), b"plain\n");
    }

    #[test]
    fn other_compressions_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, [0x28, 0xb5, 0x2f, 0xfd, 0, 0]).unwrap();
        let error = open(&path).err().unwrap().to_string();
        assert!(error.contains("zstd"), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let error = open(Path::new("/no/such/file.json")).err().unwrap();
        assert!(matches!(error, DatasetError::Io { .. }));
        assert!(error.to_string().contains("/no/such/file.json"));
    }
}
