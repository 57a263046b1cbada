//! Parsing the lines of sequence files: S3-Rec / P5 `user item item …` and
//! SASRec `user item`.
//!
//! Ids are non-negative decimal integers separated by any ASCII whitespace;
//! they are kept as numbers, so `007` and `7` are the same id.

use super::format::Format;
use super::parse::Parsed;
use super::record::Sequence;

/// Parses a decimal id: ASCII digits only (no sign), fitting a `u64`.
pub(crate) fn parse_id(token: &[u8]) -> Option<u64> {
    if token.is_empty() {
        return None;
    }
    token.iter().try_fold(0u64, |id, &byte| {
        let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
        id.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// The whitespace-separated tokens of a line.
fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    line.split(u8::is_ascii_whitespace)
        .filter(|token| !token.is_empty())
}

/// The number of tokens of a line made only of integer ids, or `None` if a
/// token is not one (or the line is blank). Used by format detection.
pub(crate) fn integer_tokens(line: &[u8]) -> Option<usize> {
    let mut count = 0;
    for token in tokens(line) {
        parse_id(token)?;
        count += 1;
    }
    (count > 0).then_some(count)
}

/// Parses a line of a [`Format::Sequence`] file (`user item item …`, at least
/// one item) or of a [`Format::Pairs`] file (exactly `user item`).
///
/// A pairs line gives a sequence of one item. A malformed line (a token that
/// is not an id, a user without items, a pairs line without exactly two
/// fields) is rejected whole, with the reason.
///
/// # Panics
///
/// If `format` is neither [`Format::Sequence`] nor [`Format::Pairs`].
pub(crate) fn parse_line(format: Format, line: &[u8]) -> Parsed<Sequence> {
    assert!(
        matches!(format, Format::Sequence | Format::Pairs),
        "{format} files are not sequence files"
    );
    let mut fields = tokens(line);
    let Some(user) = fields.next() else {
        return Ok(None); // blank
    };
    if format == Format::Pairs {
        let count = 1 + fields.clone().count();
        if count != 2 {
            let plural = if count == 1 { "" } else { "s" };
            return Err(format!("{count} field{plural}, expected 2 (user item)"));
        }
    }
    let user = parse_id(user).ok_or_else(|| {
        format!(
            "user id {:?} is not a non-negative integer",
            String::from_utf8_lossy(user)
        )
    })?;
    let items = fields
        .enumerate()
        .map(|(i, token)| {
            parse_id(token).ok_or_else(|| {
                format!(
                    "item {} ({:?}) is not a non-negative integer id",
                    i + 1,
                    String::from_utf8_lossy(token)
                )
            })
        })
        .collect::<Result<Vec<u64>, String>>()?;
    if items.is_empty() {
        return Err(format!("user {user} has no items"));
    }
    Ok(Some(Sequence { user, items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(line: &str) -> Parsed<Sequence> {
        parse_line(Format::Sequence, line.as_bytes())
    }

    fn pair(line: &str) -> Parsed<Sequence> {
        parse_line(Format::Pairs, line.as_bytes())
    }

    fn sequence(user: u64, items: &[u64]) -> Option<Sequence> {
        Some(Sequence {
            user,
            items: items.to_vec(),
        })
    }

    #[test]
    fn ids_are_plain_decimal_integers() {
        assert_eq!(parse_id(b"0"), Some(0));
        assert_eq!(parse_id(b"007"), Some(7));
        assert_eq!(parse_id(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"-1",
            b"+1",
            b"1.0",
            b"1e3",
            b"x",
        ] {
            assert_eq!(parse_id(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn reads_sequence_lines_with_any_whitespace() {
        assert_eq!(seq("1 1 2 3 4 5"), Ok(sequence(1, &[1, 2, 3, 4, 5])));
        assert_eq!(seq("  22\t7  9 "), Ok(sequence(22, &[7, 9])));
        assert_eq!(seq("3 4"), Ok(sequence(3, &[4])));
        assert_eq!(seq(" \t "), Ok(None));
    }

    #[test]
    fn reads_pairs_lines() {
        assert_eq!(pair("1 6393"), Ok(sequence(1, &[6393])));
        assert_eq!(pair("\t31013   1\t"), Ok(sequence(31013, &[1])));
        assert_eq!(pair(""), Ok(None));
    }

    #[test]
    fn malformed_sequence_lines_say_what_is_wrong() {
        assert_eq!(
            seq("1 2 x3 4"),
            Err(r#"item 2 ("x3") is not a non-negative integer id"#.into())
        );
        assert_eq!(
            seq("u1 2 3"),
            Err(r#"user id "u1" is not a non-negative integer"#.into())
        );
        assert_eq!(seq("17"), Err("user 17 has no items".into()));
        assert_eq!(
            seq("1 -2"),
            Err(r#"item 1 ("-2") is not a non-negative integer id"#.into())
        );
        assert_eq!(
            seq("1 2,3"),
            Err(r#"item 1 ("2,3") is not a non-negative integer id"#.into())
        );
    }

    #[test]
    fn malformed_pairs_lines_say_what_is_wrong() {
        assert_eq!(
            pair("1 2 3"),
            Err("3 fields, expected 2 (user item)".into())
        );
        assert_eq!(pair("1"), Err("1 field, expected 2 (user item)".into()));
        assert_eq!(
            pair("1 B00005N7P0"),
            Err(r#"item 1 ("B00005N7P0") is not a non-negative integer id"#.into())
        );
    }

    #[test]
    fn counts_integer_tokens_for_detection() {
        assert_eq!(integer_tokens(b"1 2 3"), Some(3));
        assert_eq!(integer_tokens(b"1\t6393"), Some(2));
        assert_eq!(integer_tokens(b"1 2 x"), None);
        assert_eq!(integer_tokens(b"1,2,5.0,3"), None);
        assert_eq!(integer_tokens(b"  "), None);
    }
}
