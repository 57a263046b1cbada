//! Reading a file that is one JSON object (an `item2attributes` file, a P5
//! `datamaps.json`) entry by entry, knowing the line each entry is on.
//!
//! The document is read whole and parsed in place: keys without escapes
//! borrow from the text, and where they are gives their line. A syntax error
//! keeps the entries read before it. A wrong value in one entry is the
//! handler's business: it records a problem and the walk goes on. Detection
//! parses from the stream instead, and stops after the first entries.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;
use std::rc::Rc;

use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::Value;

use super::format::Format;
use super::problem::Problem;
use super::sequence::parse_id;

/// The lines of a document's text, for the keys that borrow from it.
#[derive(Debug, Clone)]
pub(crate) struct Position<'t> {
    text: &'t [u8],
    /// The offset last asked about, and its line: keys come in text order,
    /// so counting goes on from there.
    last: Rc<Cell<(usize, u64)>>,
}

impl<'t> Position<'t> {
    fn new(text: &'t [u8]) -> Self {
        Self {
            text,
            last: Rc::new(Cell::new((0, 1))),
        }
    }

    /// The 1-based line of `key`, if it is a slice of the text; otherwise (a
    /// key with escapes, or a streamed document) the line of the key before.
    fn line_of(&self, key: &str) -> u64 {
        let (last_offset, last_line) = self.last.get();
        let start = self.text.as_ptr() as usize;
        let Some(offset) = (key.as_ptr() as usize)
            .checked_sub(start)
            .filter(|&offset| offset <= self.text.len())
        else {
            return last_line;
        };
        let line = if offset >= last_offset {
            last_line + newlines(&self.text[last_offset..offset])
        } else {
            1 + newlines(&self.text[..offset])
        };
        self.last.set((offset, line));
        line
    }
}

/// The number of line ends in `text`.
fn newlines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// Receives the entries of a JSON object.
pub(crate) trait Entries {
    /// Reads (or skips) the value of the entry `key`, on line `line`, from `map`.
    ///
    /// An error stops the whole document: only syntax errors, or a deliberate stop, should be one.
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        line: u64,
        map: &mut A,
        position: &Position<'_>,
    ) -> Result<(), A::Error>;
}

/// What a JSON value turned out to be when an object was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An object: its entries went to the handler.
    Object,
    /// Another kind of value ("an array").
    Other(&'static str),
}

/// Deserializes an object by handing its entries to `handler`; any other
/// value is consumed and described by a [`Shape`].
pub(crate) struct ObjectSeed<'h, 't, H> {
    pub(crate) handler: &'h mut H,
    pub(crate) position: Position<'t>,
}

impl<'de, H: Entries> DeserializeSeed<'de> for ObjectSeed<'_, '_, H> {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, H: Entries> Visitor<'de> for ObjectSeed<'_, '_, H> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let line = self.position.line_of(&key);
            self.handler
                .entry(key.into_owned(), line, &mut map, &self.position)?;
        }
        Ok(Shape::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Other("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Other("a string"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Other("null"))
    }
}

/// The outcome of reading a document, besides what the handler collected.
#[derive(Debug)]
pub(crate) struct Document {
    /// Lines in the file, a last line without a line end included.
    pub(crate) lines: u64,
    /// Why the document could not be read to its end, if it could not.
    pub(crate) problem: Option<Problem>,
}

/// Reads `input` (the content of `path`) whole, as one JSON object, handing
/// each entry to `handler`.
pub(crate) fn read_object<H: Entries>(
    path: &Path,
    mut input: impl Read,
    handler: &mut H,
) -> Document {
    let mut text = Vec::new();
    // What was read before a failure is kept in `text`.
    let unreadable = input.read_to_end(&mut text).err();
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
    let outcome = {
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        let seed = ObjectSeed {
            handler,
            position: Position::new(text),
        };
        seed.deserialize(&mut deserializer)
            .and_then(|shape| deserializer.end().map(|()| shape))
    };
    let line_ends = newlines(text);
    let problem = |line: u64, reason: String| Some(Problem::new(path, line.max(1), reason, b"", 0));
    let problem = match (unreadable, outcome) {
        (Some(error), _) => problem(
            line_ends + 1,
            format!("input unreadable from this line on (truncated or corrupt file?): {error}"),
        ),
        (None, Ok(Shape::Object)) => None,
        (None, Ok(Shape::Other(kind))) => {
            let start = text.iter().position(|b| !b.is_ascii_whitespace());
            let line = 1 + newlines(&text[..start.unwrap_or(0)]);
            problem(line, format!("JSON but not an object ({kind})"))
        }
        (None, Err(error)) => problem(error.line() as u64, format!("not valid JSON: {error}")),
    };
    Document {
        lines: line_ends + u64::from(text.last().is_some_and(|&b| b != b'\n')),
        problem,
    }
}

/// Skips a UTF-8 byte-order mark, which JSON parsers reject.
fn skip_byte_order_mark(input: &mut impl BufRead) {
    if input
        .fill_buf()
        .is_ok_and(|head| head.starts_with(b"\xef\xbb\xbf"))
    {
        input.consume(3);
    }
}

/// An entry as text, for [`Problem::raw`].
pub(crate) fn entry_text(key: &str, value: &Value) -> String {
    format!("{}: {value}", Value::from(key))
}

/// The JSON type of a value, for messages ("an array").
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How many entries with integer keys and integer-list values make a file an `item2attributes`.
const SNIFF_ENTRIES: usize = 16;

/// The message of the error that stops detection early.
const STOP: &str = "format recognised";

/// The keys of the tables of a P5 `datamaps.json`.
pub(crate) const DATAMAPS_KEYS: [&str; 7] = [
    "id2item",
    "id2user",
    "item2id",
    "user2id",
    "id2attribute",
    "attribute2id",
    "attributeid2num",
];

/// Detection: looks for a `datamaps.json` key, and at the first entries' shapes.
#[derive(Debug, Default)]
struct Sniffer {
    found: Option<Format>,
    /// Entries so far with an integer key and a list of integer ids.
    attribute_like: usize,
    /// Entries so far of another kind.
    other: usize,
}

impl Sniffer {
    /// Whether most of the first entries may still be attribute-like.
    fn may_be_attributes(&self) -> bool {
        self.other * 2 < SNIFF_ENTRIES && self.attribute_like + self.other < SNIFF_ENTRIES
    }
}

impl Entries for Sniffer {
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        _line: u64,
        map: &mut A,
        _position: &Position<'_>,
    ) -> Result<(), A::Error> {
        if DATAMAPS_KEYS.contains(&key.as_str()) {
            self.found = Some(Format::Datamaps);
            return Err(A::Error::custom(STOP));
        }
        if !self.may_be_attributes() {
            // Only `id2item` can still decide: skip values without building them.
            map.next_value::<IgnoredAny>()?;
            return Ok(());
        }
        let IdList(ids) = map.next_value()?;
        if ids && parse_id(key.as_bytes()).is_some() {
            self.attribute_like += 1;
        } else {
            self.other += 1;
        }
        if self.attribute_like + self.other == SNIFF_ENTRIES && self.attribute_like > self.other {
            self.found = Some(Format::Item2Attributes);
            return Err(A::Error::custom(STOP));
        }
        Ok(())
    }
}

/// Whether a value is a list of integer ids; other values are skipped without being built.
struct IdList(bool);

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdListVisitor)
    }
}

struct IdListVisitor;

impl<'de> Visitor<'de> for IdListVisitor {
    type Value = IdList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
        let mut ids = true;
        while let Some(value) = seq.next_element::<Value>()? {
            ids &= value.as_u64().is_some();
        }
        Ok(IdList(ids))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdList, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(IdList(false))
    }
    fn visit_str<E>(self, _: &str) -> Result<IdList, E> {
        Ok(IdList(false))
    }
    fn visit_i64<E>(self, _: i64) -> Result<IdList, E> {
        Ok(IdList(false))
    }
    fn visit_u64<E>(self, _: u64) -> Result<IdList, E> {
        Ok(IdList(false))
    }
    fn visit_f64<E>(self, _: f64) -> Result<IdList, E> {
        Ok(IdList(false))
    }
    fn visit_bool<E>(self, _: bool) -> Result<IdList, E> {
        Ok(IdList(false))
    }
    fn visit_unit<E>(self) -> Result<IdList, E> {
        Ok(IdList(false))
    }
}

/// Recognises an `item2attributes` file (an object most of whose first
/// entries map integer ids to lists of integers) or a P5 `datamaps.json` (an
/// object with an `id2item` key, or one of the other table keys such as the
/// `user2id` that comes first in the P5 files), reading no further than the
/// first object, and stopping as soon as it knows.
pub(crate) fn sniff(mut input: impl BufRead) -> Option<Format> {
    skip_byte_order_mark(&mut input);
    let mut sniffer = Sniffer::default();
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let seed = ObjectSeed {
        handler: &mut sniffer,
        position: Position::new(&[]),
    };
    let outcome = seed.deserialize(&mut deserializer);
    if sniffer.found.is_some() {
        return sniffer.found;
    }
    match outcome {
        // A small file: most of its entries looked like item attributes.
        Ok(Shape::Object) if sniffer.attribute_like > sniffer.other => {
            Some(Format::Item2Attributes)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Collects `(key, line, value)` of every entry.
    #[derive(Default)]
    struct Collect(Vec<(String, u64, Value)>);

    impl Entries for Collect {
        fn entry<'de, A: MapAccess<'de>>(
            &mut self,
            key: String,
            line: u64,
            map: &mut A,
            _position: &Position<'_>,
        ) -> Result<(), A::Error> {
            let value = map.next_value()?;
            self.0.push((key, line, value));
            Ok(())
        }
    }

    fn read(text: &str) -> (Vec<(String, u64, Value)>, Document) {
        let mut collect = Collect::default();
        let document = read_object(
            Path::new("doc.json"),
            Cursor::new(text.to_owned()),
            &mut collect,
        );
        (collect.0, document)
    }

    #[test]
    fn entries_come_with_their_lines() {
        let (entries, document) =
            read("{\n  \"1\": \"a\",\n\n  \"2\": [1,\n 2],\n  \"3\": {}\n}\n");
        let lines: Vec<(&str, u64)> = entries.iter().map(|(k, l, _)| (k.as_str(), *l)).collect();
        assert_eq!(lines, [("1", 2), ("2", 4), ("3", 6)]);
        assert_eq!(document.lines, 7);
        assert!(document.problem.is_none());

        // A key with escapes is not a slice of the text: it gets the line of the key before.
        let (entries, _) = read("{\"1\": 1,\n\"\\u0032\": 2,\n\"3\": 3}");
        let lines: Vec<(&str, u64)> = entries.iter().map(|(k, l, _)| (k.as_str(), *l)).collect();
        assert_eq!(lines, [("1", 1), ("2", 1), ("3", 3)]);

        let (entries, document) = read(r#"{"4": [1, 2, 3], "83": [4]}"#);
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[1].1, document.lines), (1, 1));
    }

    #[test]
    fn a_syntax_error_keeps_the_entries_before_it() {
        let (entries, document) = read("{\"1\": [1],\n\"2\": [2],\n\"3\": [3 oops\n\"4\": [4]}\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(document.lines, 4);
        let problem = document.problem.unwrap();
        assert_eq!(problem.line, 3);
        assert!(
            problem.reason.starts_with("not valid JSON: "),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn other_documents_are_problems() {
        let (_, document) = read("\n[1, 2]\n");
        let problem = document.problem.unwrap();
        assert_eq!(
            (problem.line, problem.reason.as_str()),
            (2, "JSON but not an object (an array)")
        );
        let (_, document) = read("");
        assert!(document.problem.unwrap().reason.contains("EOF"));
        let (entries, document) = read("{\"1\": 2}\n{\"3\": 4}\n");
        assert_eq!(entries.len(), 1);
        let problem = document.problem.unwrap();
        assert_eq!(problem.line, 2);
        assert!(
            problem.reason.contains("trailing characters"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn sniffs_item2attributes_and_datamaps() {
        let sniff_text = |text: &str| sniff(Cursor::new(text.to_owned()));
        assert_eq!(
            sniff_text(r#"{"4": [1, 2, 3], "83": [4, 5, 6]}"#),
            Some(Format::Item2Attributes)
        );
        let many: Vec<String> = (1..100).map(|i| format!("\"{i}\": [{i}]")).collect();
        let cut = format!("{{{}, \"100\": [1, ", many.join(", "));
        assert_eq!(sniff_text(&cut), Some(Format::Item2Attributes));
        // A malformed entry among the first does not hide the format.
        let bad_first = format!("{{\"x\": 3, {}}}", many.join(", "));
        assert_eq!(sniff_text(&bad_first), Some(Format::Item2Attributes));
        let datamaps = r#"{"user2id": {"A1": "1"}, "item2id": {"B1": "1"}, "id2user": {"1": "A1"}, "id2item": {"1": "B1"}"#;
        assert_eq!(sniff_text(datamaps), Some(Format::Datamaps));
        assert_eq!(
            sniff_text(
                "{\n    \"id2user\": {\n        \"1\": \"A\"\n    },\n    \"id2item\": {}\n}"
            ),
            Some(Format::Datamaps)
        );
        for other in [
            r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0}"#,
            r#"{"4": [1, 2], "x": [3], "y": {"1": [2]}}"#,
            r#"{"4": [1, "2"]}"#,
            r#"{"4": 1}"#,
            "{}",
            "[1, 2]",
            "1 2 3",
            "",
        ] {
            assert_eq!(sniff_text(other), None, "{other}");
        }
    }
}
