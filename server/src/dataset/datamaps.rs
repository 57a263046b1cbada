//! [`Datamaps`]: the P5 `datamaps.json` id maps, which give the real ASIN and
//! reviewer id behind the numeric ids of a sequence file, and attribute names.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::de::{IgnoredAny, MapAccess};
use serde_json::Value;

use super::jsondoc::{self, Entries, ObjectSeed, Position, Shape};
use super::problem::Problem;
use super::sequence::parse_id;

/// The id maps of a P5 `datamaps.json` file.
///
/// The file holds `user2id`, `item2id`, `id2user`, `id2item`, `attribute2id`,
/// `id2attribute` and `attributeid2num` (some versions only `id2user` and
/// `id2item`). The `id2…` tables are used; an `…2id` table stands in, inverted,
/// for a missing one. Numeric ids are kept as numbers, names as strings (some
/// ASINs are all digits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Datamaps {
    /// Reviewer id by numeric user id.
    pub users: BTreeMap<u64, String>,
    /// ASIN by numeric item id.
    pub items: BTreeMap<u64, String>,
    /// Attribute name (a brand or a category, possibly empty) by attribute id.
    pub attributes: BTreeMap<u64, String>,
    /// How many items carry each attribute id (`attributeid2num`).
    pub attribute_items: BTreeMap<u64, u64>,
}

impl Datamaps {
    /// Whether no table has an entry.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.items.is_empty()
            && self.attributes.is_empty()
            && self.attribute_items.is_empty()
    }

    /// Adds the entries of `other` whose ids `self` does not have yet.
    pub fn merge(&mut self, other: Datamaps) {
        fn add<V>(into: &mut BTreeMap<u64, V>, from: BTreeMap<u64, V>) {
            for (id, value) in from {
                into.entry(id).or_insert(value);
            }
        }
        add(&mut self.users, other.users);
        add(&mut self.items, other.items);
        add(&mut self.attributes, other.attributes);
        add(&mut self.attribute_items, other.attribute_items);
    }
}

/// A table of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    IdToUser,
    IdToItem,
    IdToAttribute,
    UserToId,
    ItemToId,
    AttributeToId,
    AttributeCounts,
}

impl Table {
    const ALL: [Table; 7] = [
        Table::IdToUser,
        Table::IdToItem,
        Table::IdToAttribute,
        Table::UserToId,
        Table::ItemToId,
        Table::AttributeToId,
        Table::AttributeCounts,
    ];

    fn key(self) -> &'static str {
        match self {
            Table::IdToUser => "id2user",
            Table::IdToItem => "id2item",
            Table::IdToAttribute => "id2attribute",
            Table::UserToId => "user2id",
            Table::ItemToId => "item2id",
            Table::AttributeToId => "attribute2id",
            Table::AttributeCounts => "attributeid2num",
        }
    }
}

/// What reading a `datamaps.json` gave.
#[derive(Debug, Default)]
pub(crate) struct DatamapsFile {
    /// The maps.
    pub(crate) maps: Datamaps,
    /// Malformed entries, then why the file could not be read to its end.
    pub(crate) problems: Vec<Problem>,
    /// Table entries read.
    pub(crate) entries: u64,
    /// Lines in the file.
    pub(crate) lines: u64,
}

/// The state of a read.
struct State<'p> {
    path: &'p Path,
    maps: Datamaps,
    /// `…2id` tables, inverted.
    inverted: Datamaps,
    problems: Vec<Problem>,
    entries: u64,
    tables: usize,
}

impl State<'_> {
    fn problem(&mut self, line: u64, reason: String, raw: &str) {
        self.problems.push(Problem::new(
            self.path,
            line,
            reason,
            raw.as_bytes(),
            raw.len() as u64,
        ));
    }
}

impl Entries for State<'_> {
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        line: u64,
        map: &mut A,
        position: &Position<'_>,
    ) -> Result<(), A::Error> {
        let Some(table) = Table::ALL.into_iter().find(|t| t.key() == key) else {
            map.next_value::<IgnoredAny>()?;
            return Ok(());
        };
        self.tables += 1;
        let seed = ObjectSeed {
            handler: &mut TableEntries { table, state: self },
            position: position.clone(),
        };
        if let Shape::Other(kind) = map.next_value_seed(seed)? {
            let reason = format!("`{key}` is {kind}, expected an object");
            self.problem(line, reason, &key);
        }
        Ok(())
    }
}

/// Reads the entries of one table.
struct TableEntries<'s, 'p> {
    table: Table,
    state: &'s mut State<'p>,
}

impl Entries for TableEntries<'_, '_> {
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        line: u64,
        map: &mut A,
        _position: &Position<'_>,
    ) -> Result<(), A::Error> {
        let value: Value = map.next_value()?;
        match self.add(&key, &value) {
            Ok(()) => self.state.entries += 1,
            Err(why) => {
                let reason = format!("`{}` entry: {why}", self.table.key());
                self.state
                    .problem(line, reason, &jsondoc::entry_text(&key, &value));
            }
        }
        Ok(())
    }
}

impl TableEntries<'_, '_> {
    fn add(&mut self, key: &str, value: &Value) -> Result<(), String> {
        let id_key =
            || parse_id(key.as_bytes()).ok_or_else(|| format!("key {key:?} is not an integer id"));
        let name = |what: &str| match value {
            Value::String(name) if what == "attribute" || !name.trim().is_empty() => {
                Ok(name.clone())
            }
            Value::String(_) => Err(format!("empty {what} id")),
            other => Err(format!(
                "value is {}, expected a string",
                jsondoc::kind(other)
            )),
        };
        let id_value = || {
            let id = match value {
                Value::String(text) => parse_id(text.as_bytes()),
                other => other.as_u64(),
            };
            id.ok_or_else(|| format!("value {value} is not an integer id"))
        };
        let (maps, inverted) = (&mut self.state.maps, &mut self.state.inverted);
        let (into, id, name) = match self.table {
            Table::IdToUser => (&mut maps.users, id_key()?, name("user")?),
            Table::IdToItem => (&mut maps.items, id_key()?, name("item")?),
            Table::IdToAttribute => (&mut maps.attributes, id_key()?, name("attribute")?),
            Table::UserToId if key.trim().is_empty() => return Err("empty user id".into()),
            Table::UserToId => (&mut inverted.users, id_value()?, key.to_owned()),
            Table::ItemToId if key.trim().is_empty() => return Err("empty item id".into()),
            Table::ItemToId => (&mut inverted.items, id_value()?, key.to_owned()),
            Table::AttributeToId => (&mut inverted.attributes, id_value()?, key.to_owned()),
            Table::AttributeCounts => {
                let id = id_key()?;
                let count = value
                    .as_u64()
                    .ok_or_else(|| format!("value {value} is not a count"))?;
                maps.attribute_items.entry(id).or_insert(count);
                return Ok(());
            }
        };
        into.entry(id).or_insert(name);
        Ok(())
    }
}

/// Reads a `datamaps.json` (the content of `path`) whole.
pub(crate) fn read(path: &Path, input: impl Read) -> DatamapsFile {
    let mut state = State {
        path,
        maps: Datamaps::default(),
        inverted: Datamaps::default(),
        problems: Vec::new(),
        entries: 0,
        tables: 0,
    };
    let document = jsondoc::read_object(path, input, &mut state);
    let State {
        mut maps,
        inverted,
        mut problems,
        entries,
        tables,
        ..
    } = state;
    if maps.users.is_empty() {
        maps.users = inverted.users;
    }
    if maps.items.is_empty() {
        maps.items = inverted.items;
    }
    if maps.attributes.is_empty() {
        maps.attributes = inverted.attributes;
    }
    if tables == 0 && document.problem.is_none() {
        let names = Table::ALL.map(Table::key).join(", ");
        let reason = format!("no id map: none of the keys {names}");
        problems.push(Problem::new(path, 1, reason, b"", 0));
    }
    problems.extend(document.problem);
    DatamapsFile {
        maps,
        problems,
        entries,
        lines: document.lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(text: &str) -> DatamapsFile {
        read(Path::new("datamaps.json"), Cursor::new(text.to_owned()))
    }

    #[test]
    fn reads_the_p5_tables() {
        let file = parse(concat!(
            r#"{"user2id": {"A1YJEY40YUW4SE": "1"}, "item2id": {"B004756YJA": "1"}, "#,
            r#""id2user": {"1": "A1YJEY40YUW4SE", "2": "A60XNB876KYML"}, "#,
            r#""id2item": {"1": "B004756YJA", "2": "1881509818"}, "#,
            r#""attribute2id": {"COKA": 1, "Makeup": 2, "": 3}, "#,
            r#""id2attribute": {"1": "COKA", "2": "Makeup", "3": ""}, "#,
            r#""attributeid2num": {"1": 1, "2": 2627, "3": 18}}"#
        ));
        assert!(file.problems.is_empty(), "{:?}", file.problems);
        let maps = file.maps;
        assert_eq!(maps.users[&2], "A60XNB876KYML");
        assert_eq!(maps.items[&2], "1881509818");
        assert_eq!(maps.attributes[&3], "");
        assert_eq!(maps.attribute_items[&2], 2_627);
        assert_eq!((file.entries, file.lines), (15, 1));
    }

    #[test]
    fn inverted_tables_stand_in_for_missing_ones() {
        let file =
            parse(r#"{"user2id": {"A1": "1", "A2": 2}, "item2id": {"B1": "7"}, "id2user": {}}"#);
        assert!(file.problems.is_empty());
        assert_eq!(
            file.maps.users.into_iter().collect::<Vec<_>>(),
            [(1, "A1".into()), (2, "A2".into())]
        );
        assert_eq!(file.maps.items[&7], "B1");
    }

    #[test]
    fn pretty_printed_entries_have_their_own_lines() {
        let file = parse("{\n    \"id2user\": {\n        \"1\": \"AQW172A5SG5OC\",\n        \"x\": \"A3E9UK6ANIX73Q\"\n    },\n    \"id2item\": {\n        \"1\": 1\n    }\n}");
        assert_eq!(file.maps.users.len(), 1);
        assert!(file.maps.items.is_empty());
        let problems: Vec<(u64, &str, &str)> = file
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str(), p.raw.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (
                    4,
                    r#"`id2user` entry: key "x" is not an integer id"#,
                    r#""x": "A3E9UK6ANIX73Q""#
                ),
                (
                    7,
                    "`id2item` entry: value is a number, expected a string",
                    r#""1": 1"#
                ),
            ]
        );
        assert_eq!(file.lines, 9);
    }

    #[test]
    fn malformed_tables_and_files_are_problems() {
        let file =
            parse(r#"{"id2item": ["B1"], "id2user": {"1": " "}, "attributeid2num": {"1": -3}}"#);
        let reasons: Vec<&str> = file.problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "`id2item` is an array, expected an object",
                "`id2user` entry: empty user id",
                "`attributeid2num` entry: value -3 is not a count",
            ]
        );

        let file = parse(r#"{"users": {}}"#);
        assert!(file.problems[0].reason.starts_with("no id map"));
        let file = parse(r#"{"id2item": {"1": "B1", "2": "#);
        assert_eq!(file.maps.items.len(), 1);
        assert!(file.problems[0].reason.starts_with("not valid JSON"));
    }

    #[test]
    fn merging_keeps_the_first_name() {
        let mut first = parse(r#"{"id2item": {"1": "B1"}}"#).maps;
        first.merge(parse(r#"{"id2item": {"1": "X", "2": "B2"}}"#).maps);
        assert_eq!(first.items.values().collect::<Vec<_>>(), ["B1", "B2"]);
        assert!(!first.is_empty() && Datamaps::default().is_empty());
    }
}
