//! Item text as the model keeps it: four cleaned fields per item.
//!
//! The host promises descriptions without HTML, but product metadata is messy (titles with
//! `&amp;`, descriptions with leftover `<br>` or `<b>`), so every field is cleaned defensively
//! before it is indexed: tags are dropped, character entities decoded, runs of whitespace
//! collapsed.

use recsys_plugin_api::ItemText;

/// A field longer than this (in bytes, after cleaning) is cut at a character boundary: no
/// real title or description is that long, and it bounds the model's memory and file size.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// One of the indexed text fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// Product title.
    Title = 0,
    /// Brand.
    Brand = 1,
    /// Category path, one category per line.
    Categories = 2,
    /// Description.
    Description = 3,
}

impl TextField {
    /// All fields, in index order.
    pub const ALL: [TextField; 4] = [
        TextField::Title,
        TextField::Brand,
        TextField::Categories,
        TextField::Description,
    ];

    /// The field's name in the index schema (and in search queries, e.g. `brand:fender`).
    pub fn name(self) -> &'static str {
        match self {
            TextField::Title => "title",
            TextField::Brand => "brand",
            TextField::Categories => "categories",
            TextField::Description => "description",
        }
    }

    /// The training parameter holding the field's weight.
    pub fn weight_param(self) -> &'static str {
        match self {
            TextField::Title => "title_weight",
            TextField::Brand => "brand_weight",
            TextField::Categories => "categories_weight",
            TextField::Description => "description_weight",
        }
    }
}

/// The cleaned text of one item, owned by the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemDoc {
    /// The fields, in [`TextField::ALL`] order.
    pub fields: [String; 4],
}

impl ItemDoc {
    /// Cleans the host's text of one item.
    pub fn from_item_text(text: &ItemText<'_>) -> ItemDoc {
        ItemDoc {
            fields: [
                clean(text.title),
                clean(text.brand),
                // One category per line; keep the lines apart so that the tokenizer never
                // glues the last word of one category to the first of the next.
                text.categories().map(clean).collect::<Vec<_>>().join("\n"),
                clean(text.description),
            ],
        }
    }

    /// The text of one field.
    pub fn field(&self, field: TextField) -> &str {
        &self.fields[field as usize]
    }

    /// Whether every field is empty.
    pub fn is_empty(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Removes HTML tags, decodes character entities, collapses whitespace and cuts the result
/// to at most [`MAX_FIELD_BYTES`].
pub fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' if looks_like_tag(rest) => {
                // A tag: skip to its end (or drop the rest of an unterminated one).
                rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
                out.push(' ');
            }
            '&' => match decode_entity(rest) {
                Some((decoded, len)) => {
                    out.push(decoded);
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            },
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let mut out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > MAX_FIELD_BYTES {
        let mut end = MAX_FIELD_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// `<` starts a tag when followed by a letter, `/`, `!` or `?` (so "a < b" survives).
fn looks_like_tag(s: &str) -> bool {
    s[1..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
}

/// Decodes the entity at the start of `s` (which begins with `&`): the character and the
/// number of bytes it took.
fn decode_entity(s: &str) -> Option<(char, usize)> {
    let end = s[1..].find(';').filter(|&e| (1..=10).contains(&e))? + 1;
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" | "rsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "hellip" => '…',
        "trade" => '™',
        "reg" => '®',
        "copy" => '©',
        "deg" => '°',
        "eacute" => 'é',
        _ => {
            let digits = name.strip_prefix('#')?;
            let code = match digits.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => digits.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(
            clean("<p>Fender&nbsp;<b>Strings</b></p>&amp; picks<br/>"),
            "Fender Strings & picks"
        );
        assert_eq!(
            clean("5 &lt; 6 &#8211; &#x41;BC &bogus; a < b"),
            "5 < 6 – ABC &bogus; a < b"
        );
        assert_eq!(clean("unterminated <span class=\"x"), "unterminated");
        assert_eq!(clean("  many \n\t spaces  "), "many spaces");
        assert_eq!(clean("&"), "&");
        assert_eq!(clean("&#xFFFFFFFF; ok"), "&#xFFFFFFFF; ok");
        assert_eq!(clean("naïve café"), "naïve café");
        let long = "é".repeat(MAX_FIELD_BYTES);
        let cut = clean(&long);
        assert!(cut.len() <= MAX_FIELD_BYTES && cut.len() > MAX_FIELD_BYTES - 2);
    }

    #[test]
    fn keeps_categories_apart_and_knows_empty_items() {
        let text = ItemText {
            title: "Drum <i>sticks</i>",
            brand: "",
            categories: "Musical Instruments\n\n Drums & Percussion \n",
            description: "",
        };
        let doc = ItemDoc::from_item_text(&text);
        assert_eq!(doc.field(TextField::Title), "Drum sticks");
        assert_eq!(
            doc.field(TextField::Categories),
            "Musical Instruments\nDrums & Percussion"
        );
        assert!(!doc.is_empty());
        assert!(ItemDoc::from_item_text(&ItemText::default()).is_empty());
    }
}
