//! S3-Rec `item2attributes` files (`{"item_id": [attr_id, …]}`), and names
//! for their attribute ids.
//!
//! The files hold ids only. A P5 `datamaps.json` names attributes, but in its
//! own numbering: for Beauty, S3-Rec attribute *k* is the *k*-th P5 attribute
//! (in id order) among those on at least 5 items; for Sports the two sets
//! differ. So names are used only when such an alignment is found and every
//! per-attribute item count agrees; otherwise attribute *k* is `attr_<k>`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use rustc_hash::FxHashSet;
use serde::de::MapAccess;
use serde_json::Value;

use super::datamaps::Datamaps;
use super::jsondoc::{self, Entries, Position};
use super::problem::Problem;
use super::record::ItemAttributes;
use super::report::AttributeNaming;
use super::sequence::parse_id;

/// What reading an `item2attributes` file gave.
#[derive(Debug, Default)]
pub(crate) struct AttributesFile {
    /// Entries and malformed entries, with their lines, in file order; an
    /// unreadable end of the file is the last problem.
    pub(crate) entries: Vec<Result<(u64, ItemAttributes), Problem>>,
    /// Lines in the file.
    pub(crate) lines: u64,
}

struct Handler<'p> {
    path: &'p Path,
    entries: Vec<Result<(u64, ItemAttributes), Problem>>,
}

impl Entries for Handler<'_> {
    fn entry<'de, A: MapAccess<'de>>(
        &mut self,
        key: String,
        line: u64,
        map: &mut A,
        _position: &Position<'_>,
    ) -> Result<(), A::Error> {
        let value: Value = map.next_value()?;
        self.entries.push(match parse_entry(&key, &value) {
            Ok(attributes) => Ok((line, attributes)),
            Err(reason) => {
                let raw = jsondoc::entry_text(&key, &value);
                Err(Problem::new(
                    self.path,
                    line,
                    reason,
                    raw.as_bytes(),
                    raw.len() as u64,
                ))
            }
        });
        Ok(())
    }
}

fn parse_entry(key: &str, value: &Value) -> Result<ItemAttributes, String> {
    let item = parse_id(key.as_bytes())
        .ok_or_else(|| format!("item id {key:?} is not a non-negative integer"))?;
    let list = value.as_array().ok_or_else(|| {
        format!(
            "attributes are {}, expected a list of integer ids",
            jsondoc::kind(value)
        )
    })?;
    let attributes = list
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.as_u64()
                .ok_or_else(|| format!("attribute {} is {id}, expected an integer id", i + 1))
        })
        .collect::<Result<Vec<u64>, String>>()?;
    Ok(ItemAttributes { item, attributes })
}

/// Reads an `item2attributes` file (the content of `path`) whole.
pub(crate) fn read(path: &Path, input: impl Read) -> AttributesFile {
    let mut handler = Handler {
        path,
        entries: Vec::new(),
    };
    let document = jsondoc::read_object(path, input, &mut handler);
    handler.entries.extend(document.problem.map(Err));
    AttributesFile {
        entries: handler.entries,
        lines: document.lines,
    }
}

/// Text for the attribute ids of one `item2attributes` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeNames {
    /// How ids are named.
    pub(crate) naming: AttributeNaming,
    /// For aligned names, the name of id `k` at `k - 1` (`None` when blank).
    names: Vec<Option<String>>,
}

impl AttributeNames {
    /// Names the attribute ids of `entries`, with the attribute tables of `maps` if they align.
    pub(crate) fn new(entries: &[ItemAttributes], maps: Option<&Datamaps>) -> Self {
        let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
        for id in entries.iter().flat_map(|entry| &entry.attributes) {
            *counts.entry(*id).or_default() += 1;
        }
        let ids_only = Self {
            naming: AttributeNaming::Ids,
            names: Vec::new(),
        };
        let Some(maps) = maps.filter(|maps| !maps.attributes.is_empty()) else {
            return ids_only;
        };
        if counts.is_empty() {
            return ids_only;
        }
        match align(&counts, &maps.attribute_items) {
            Ok((min_items, selected)) => Self {
                naming: AttributeNaming::Names { min_items },
                names: selected
                    .iter()
                    .map(|id| maps.attributes.get(id).cloned())
                    .map(|name| name.filter(|name| !name.trim().is_empty()))
                    .collect(),
            },
            Err(reason) => Self {
                naming: AttributeNaming::Unaligned { reason },
                names: Vec::new(),
            },
        }
    }

    /// The text of attribute `id`; `None` for an attribute named by a blank string.
    fn name(&self, id: u64) -> Option<String> {
        if matches!(self.naming, AttributeNaming::Names { .. }) {
            let index = usize::try_from(id.wrapping_sub(1)).unwrap_or(usize::MAX);
            if let Some(name) = self.names.get(index) {
                return name.clone();
            }
        }
        Some(format!("attr_{id}"))
    }

    /// The texts of an item's attribute ids, in order, each once; and how
    /// many ids were left out as repeats of an earlier one.
    pub(crate) fn texts(&self, ids: &[u64]) -> (Vec<String>, u64) {
        let mut seen = FxHashSet::default();
        let mut texts: Vec<String> = Vec::with_capacity(ids.len());
        let mut repeats = 0;
        for &id in ids {
            if !seen.insert(id) {
                repeats += 1;
            } else if let Some(text) = self.name(id) {
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
        }
        (texts, repeats)
    }
}

/// Finds the datamaps attributes that the file's ids `1..=n` stand for: the
/// `n` attributes on at least `t` items, in id order, for the `t` that selects
/// exactly `n`, if each has as many items as the file's id of the same rank.
/// Returns `t` and the selected datamaps ids.
fn align(
    counts: &BTreeMap<u64, u64>,
    items: &BTreeMap<u64, u64>,
) -> Result<(u64, Vec<u64>), String> {
    let n = counts.len();
    if items.is_empty() {
        return Err("the datamaps has no `attributeid2num` to check the ids against".into());
    }
    if !counts.keys().copied().eq(1..=n as u64) {
        return Err(format!("the file's attribute ids are not 1..={n}"));
    }
    let mut sizes: Vec<u64> = items.values().copied().collect();
    sizes.sort_unstable();
    sizes.dedup();
    let at_least = |t: u64| items.values().filter(|&&count| count >= t).count();
    let Some(&min_items) = sizes.iter().find(|&&t| at_least(t) == n) else {
        return Err(format!(
            "no minimum item count selects {n} of the datamaps' {} attributes",
            items.len()
        ));
    };
    let selected: Vec<(u64, u64)> = items
        .iter()
        .filter(|(_, &count)| count >= min_items)
        .map(|(&id, &count)| (id, count))
        .collect();
    match counts
        .values()
        .zip(&selected)
        .position(|(file, (_, maps))| file != maps)
    {
        None => Ok((min_items, selected.into_iter().map(|(id, _)| id).collect())),
        Some(rank) => Err(format!(
            "the {n} datamaps attributes on at least {min_items} items do not match the file's \
             ids: attribute {} is on {} items, datamaps attribute {} on {}",
            rank + 1,
            counts[&(rank as u64 + 1)],
            selected[rank].0,
            selected[rank].1
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(text: &str) -> AttributesFile {
        read(
            Path::new("item2attributes.json"),
            Cursor::new(text.to_owned()),
        )
    }

    fn attributes(item: u64, ids: &[u64]) -> ItemAttributes {
        ItemAttributes {
            item,
            attributes: ids.to_vec(),
        }
    }

    #[test]
    fn reads_entries_with_their_lines() {
        let file = parse(r#"{"4": [1, 2, 3], "83": [4, 5, 6], "7": []}"#);
        let entries: Vec<_> = file.entries.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            entries,
            [
                (1, attributes(4, &[1, 2, 3])),
                (1, attributes(83, &[4, 5, 6])),
                (1, attributes(7, &[]))
            ]
        );
        assert_eq!(file.lines, 1);
    }

    #[test]
    fn malformed_entries_are_problems_and_reading_goes_on() {
        let file =
            parse("{\"x\": [1],\n\"2\": [1, \"b\"],\n\"3\": 4,\n\"5\": [1.5],\n\"6\": [6]}\n");
        let outcomes: Vec<Result<u64, (u64, String)>> = file
            .entries
            .iter()
            .map(|entry| match entry {
                Ok((_, attributes)) => Ok(attributes.item),
                Err(problem) => Err((problem.line, problem.reason.clone())),
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                Err((1, r#"item id "x" is not a non-negative integer"#.into())),
                Err((2, r#"attribute 2 is "b", expected an integer id"#.into())),
                Err((
                    3,
                    "attributes are a number, expected a list of integer ids".into()
                )),
                Err((4, "attribute 1 is 1.5, expected an integer id".into())),
                Ok(6),
            ]
        );
        assert_eq!(file.entries[1].as_ref().unwrap_err().raw, r#""2": [1,"b"]"#);
        assert_eq!(file.lines, 5);
    }

    #[test]
    fn a_cut_file_keeps_what_came_before() {
        let file = parse(r#"{"4": [1, 2], "5": [3"#);
        assert_eq!(file.entries.len(), 2);
        assert!(file.entries[0].is_ok());
        let problem = file.entries[1].as_ref().unwrap_err();
        assert!(
            problem.reason.starts_with("not valid JSON"),
            "{}",
            problem.reason
        );
    }

    fn maps(attributes: &[(u64, &str, u64)]) -> Datamaps {
        Datamaps {
            attributes: attributes
                .iter()
                .map(|&(id, name, _)| (id, name.to_owned()))
                .collect(),
            attribute_items: attributes
                .iter()
                .map(|&(id, _, count)| (id, count))
                .collect(),
            ..Datamaps::default()
        }
    }

    /// Beauty in small: file ids are the datamaps attributes on at least 2 items.
    fn beauty_like() -> (Vec<ItemAttributes>, Datamaps) {
        let entries = vec![
            attributes(1, &[1, 2, 3]),
            attributes(2, &[1, 2, 2]),
            attributes(3, &[1, 3]),
        ];
        let maps = maps(&[
            (1, "COKA", 1),
            (2, "Makeup", 3),
            (3, "", 1),
            (4, "Face", 3),
            (5, "", 2),
        ]);
        (entries, maps)
    }

    #[test]
    fn names_come_from_aligned_datamaps_attributes() {
        let (entries, maps) = beauty_like();
        let names = AttributeNames::new(&entries, Some(&maps));
        assert_eq!(names.naming, AttributeNaming::Names { min_items: 2 });
        assert_eq!(
            names.texts(&[1, 2, 3]),
            (vec!["Makeup".into(), "Face".into()], 0)
        );
        // Repeated ids are dropped; an id past the table falls back to its number.
        assert_eq!(
            names.texts(&[2, 2, 9]),
            (vec!["Face".into(), "attr_9".into()], 1)
        );
    }

    #[test]
    fn ids_stand_in_without_aligned_names() {
        let (entries, maps) = beauty_like();
        let names = AttributeNames::new(&entries, None);
        assert_eq!(names.naming, AttributeNaming::Ids);
        assert_eq!(
            names.texts(&[3, 1, 3]),
            (vec!["attr_3".into(), "attr_1".into()], 1)
        );

        let mut other_counts = maps.clone();
        other_counts.attribute_items.insert(4, 2);
        let names = AttributeNames::new(&entries, Some(&other_counts));
        let AttributeNaming::Unaligned { reason } = &names.naming else {
            panic!("{:?}", names.naming);
        };
        assert!(
            reason.contains("attribute 2 is on 3 items, datamaps attribute 4 on 2"),
            "{reason}"
        );
        assert_eq!(names.texts(&[1]).0, ["attr_1"]);

        let mut no_counts = maps.clone();
        no_counts.attribute_items.clear();
        let names = AttributeNames::new(&entries, Some(&no_counts));
        assert!(matches!(names.naming, AttributeNaming::Unaligned { .. }));

        let gap = [attributes(1, &[1, 3])];
        let names = AttributeNames::new(&gap, Some(&maps));
        assert_eq!(
            names.naming,
            AttributeNaming::Unaligned {
                reason: "the file's attribute ids are not 1..=2".into()
            }
        );

        let names = AttributeNames::new(&entries, Some(&Datamaps::default()));
        assert_eq!(names.naming, AttributeNaming::Ids);
    }
}
