//! Turning scraped HTML fragments into plain text.
//!
//! Amazon metadata holds titles and descriptions with markup
//! (`<div class="aplus"> <br>…`), entities (`P.F. Chang&#39;s`), and broken
//! fragments left by the scraper: an unterminated `<span class="…"` or the
//! tail of a tag, ` Magazines" />`. [`clean`] removes all of these.

use std::borrow::Cow;

/// Strips tags, decodes entities and collapses whitespace; `None` if nothing
/// readable is left.
pub(crate) fn clean(text: &str) -> Option<String> {
    let stripped = strip_tags(text);
    let decoded = decode_entities(&stripped);
    let collapsed = collapse_whitespace(&decoded);
    (!collapsed.is_empty()).then_some(collapsed)
}

/// Like [`clean`], but an image-only value such as
/// `<img src="…" alt="AMAZON FASHION"/>` gives its `alt` text.
pub(crate) fn clean_label(text: &str) -> Option<String> {
    clean(text).or_else(|| {
        let start = text.find("alt=\"")? + "alt=\"".len();
        let len = text[start..].find('"')?;
        clean(&text[start..start + len])
    })
}

/// Decodes entities and nothing else: for plain text such as review bodies,
/// where `a < b` is not markup and line breaks matter. `None` if blank.
pub(crate) fn clean_plain(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    Some(decode_entities(text).into_owned())
}

/// Removes HTML tags, comments and the content of `<script>` and `<style>`.
///
/// Block-level tags become a space so that words on either side stay apart;
/// inline ones (`<b>`, `<span>`…) vanish.
/// A `<` that does not open a tag (`a < b`) is kept. An unterminated tag at
/// the end is dropped, and so is a leading tag tail (`…" />`) left by a
/// fragment that was cut inside a tag.
fn strip_tags(text: &str) -> Cow<'_, str> {
    let text = drop_leading_tag_tail(text);
    if !text.contains('<') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[pos..]) {
        let start = pos + offset;
        out.push_str(&text[pos..start]);
        let rest = &text[start..];
        if !opens_tag(rest) {
            out.push('<');
            pos = start + 1;
            continue;
        }
        if let Some(body) = rest.strip_prefix("<!--") {
            pos = match body.find("-->") {
                Some(end) => start + 4 + end + 3,
                None => text.len(),
            };
            continue;
        }
        let Some(end) = tag_end(rest) else {
            pos = text.len(); // unterminated tag: the rest is markup
            break;
        };
        let name = tag_name(&rest[1..end]);
        pos = start + end + 1;
        if name.eq_ignore_ascii_case("script") || name.eq_ignore_ascii_case("style") {
            pos = skip_element_body(text, pos, name);
        }
        if !is_inline(name) {
            out.push(' ');
        }
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// Drops a leading `…">` or `… />` fragment: the end of a tag whose start was cut off.
fn drop_leading_tag_tail(text: &str) -> &str {
    let Some(gt) = text.find('>') else {
        return text;
    };
    match text.find('<') {
        Some(lt) if lt < gt => text,
        _ => {
            let head = &text[..gt];
            if head.ends_with('/') || head.contains('"') || head.contains('=') {
                &text[gt + 1..]
            } else {
                text
            }
        }
    }
}

/// Whether `rest`, which starts with `<`, opens a tag, a closing tag, a comment or a declaration.
fn opens_tag(rest: &str) -> bool {
    matches!(rest.as_bytes().get(1), Some(c) if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!' || *c == b'?')
}

/// Whether `name` is an inline element, whose tags join the text around them.
fn is_inline(name: &str) -> bool {
    const INLINE: [&str; 12] = [
        "a", "b", "i", "u", "em", "strong", "span", "font", "sup", "sub", "small", "big",
    ];
    INLINE
        .iter()
        .any(|inline| name.eq_ignore_ascii_case(inline))
}

/// Index of the `>` closing the tag at the start of `rest`, skipping quoted attribute values.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.bytes().enumerate().skip(1) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The element name of a tag body such as `/div class="x"`.
fn tag_name(body: &str) -> &str {
    let body = body.trim_start_matches('/');
    let end = body
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(body.len());
    &body[..end]
}

/// Position just after the `</name>` closing the element opened before `pos`.
fn skip_element_body(text: &str, pos: usize, name: &str) -> usize {
    let lower = text[pos..].to_ascii_lowercase();
    let closing = format!("</{}", name.to_ascii_lowercase());
    match lower.find(&closing) {
        Some(at) => {
            let after = pos + at;
            text[after..]
                .find('>')
                .map_or(text.len(), |gt| after + gt + 1)
        }
        None => text.len(),
    }
}

/// Decodes `&amp;`, `&#39;`, `&#x27;` and the common named entities; leaves unknown ones as they are.
fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match decode_one(rest) {
            Some((decoded, used)) => {
                out.push(decoded);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the entity at the start of `text` (which starts with `&`): the
/// character and the number of bytes it took.
fn decode_one(text: &str) -> Option<(char, usize)> {
    let semi = text[..text.len().min(12)].find(';')?;
    let name = &text[1..semi];
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        named_entity(name)?
    };
    Some((decoded, semi + 1))
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "frac12" => '½',
        "times" => '×',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "agrave" => 'à',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "ntilde" => 'ñ',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "ccedil" => 'ç',
        "szlig" => 'ß',
        "euro" => '€',
        "pound" => '£',
        _ => return None,
    })
}

/// Replaces each run of whitespace (including no-break spaces) by one space and trims the ends.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_numeric_and_named_entities() {
        assert_eq!(
            clean("P.F. Chang&#39;s Gift Cards").unwrap(),
            "P.F. Chang's Gift Cards"
        );
        assert_eq!(clean("Disney &amp; Me").unwrap(), "Disney & Me");
        assert_eq!(clean("&#x27;a&#X27; &quot;b&quot;").unwrap(), "'a' \"b\"");
        assert_eq!(
            clean("Warranty &gt;&gt;&gt; THT").unwrap(),
            "Warranty >>> THT"
        );
    }

    #[test]
    fn leaves_unknown_or_broken_entities() {
        assert_eq!(
            clean("AT&T &bogus; &#xZZ; & done").unwrap(),
            "AT&T &bogus; &#xZZ; & done"
        );
        assert_eq!(clean("a &#1114112; b").unwrap(), "a &#1114112; b");
    }

    #[test]
    fn strips_tags_and_keeps_words_apart() {
        let html = r#"<div class="aplus"> <br>Gift Cards<br /><br />Box of <b>50</b>.</div>"#;
        assert_eq!(clean(html).unwrap(), "Gift Cards Box of 50.");
        assert_eq!(
            clean("Designed for <i>Maximum PC</i> fans").unwrap(),
            "Designed for Maximum PC fans"
        );
        assert_eq!(clean(r#"<img alt="a > b" src="x">ok"#).unwrap(), "ok");
    }

    #[test]
    fn drops_script_style_and_comments() {
        let html = "a<script type=\"x\">var s = '<b>';</script> b<style>p{}</style> c<!-- x -->d e";
        assert_eq!(clean(html).unwrap(), "a b cd e");
    }

    #[test]
    fn entity_encoded_markup_stays_text() {
        assert_eq!(clean("&lt;b&gt;bold&lt;/b&gt;").unwrap(), "<b>bold</b>");
    }

    #[test]
    fn keeps_a_lone_less_than() {
        assert_eq!(clean("a < b and 3<4").unwrap(), "a < b and 3<4");
    }

    #[test]
    fn broken_scraped_titles_become_none() {
        assert_eq!(
            clean(r#"<span class="a-size-medium a-color-secondary""#),
            None
        );
        assert_eq!(clean(r#" Magazines" />"#), None);
        assert_eq!(clean("  \n\t "), None);
        assert_eq!(clean(""), None);
    }

    #[test]
    fn a_plain_greater_than_is_not_a_tag_tail() {
        assert_eq!(clean("5 > 3 always").unwrap(), "5 > 3 always");
    }

    #[test]
    fn image_label_gives_its_alt_text() {
        let main_cat =
            r#"<img src="https://x/y.png" class="nav-categ-image" alt="AMAZON FASHION"/>"#;
        assert_eq!(clean_label(main_cat).unwrap(), "AMAZON FASHION");
        assert_eq!(clean_label("Toys &amp; Games").unwrap(), "Toys & Games");
        assert_eq!(clean_label(r#"<img src="x">"#), None);
    }

    #[test]
    fn plain_cleaning_keeps_angle_brackets() {
        assert_eq!(
            clean_plain("I &#34;love&#34; <b>it</b>\n").unwrap(),
            "I \"love\" <b>it</b>\n"
        );
        assert_eq!(clean_plain(" "), None);
    }
}
