//! Parsing ratings-only CSV rows: the headerless 2018 `item,user,rating,timestamp`
//! files and the Kaggle-style `UserId,ProductId,Rating,Timestamp` files.
//!
//! Rows are split on commas without copying; only a row with a quote goes
//! through the `csv` crate, which handles quoting.

use std::borrow::Cow;

use super::fields;
use super::parse::Rating;

/// Rows with more fields than this are rejected without being split further.
const MAX_FIELDS: usize = 8;

/// The fields of one CSV row.
struct Fields<'a> {
    values: [Cow<'a, str>; MAX_FIELDS],
    len: usize,
}

impl<'a> Fields<'a> {
    /// Splits `line` on commas (honouring quotes if it has any).
    fn split(line: &'a str) -> Result<Self, String> {
        let mut fields = Fields {
            values: Default::default(),
            len: 0,
        };
        if line.contains('"') {
            return Self::split_quoted(line);
        }
        for value in line.split(',') {
            fields.push(Cow::Borrowed(value))?;
        }
        Ok(fields)
    }

    fn split_quoted(line: &str) -> Result<Fields<'a>, String> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        let mut record = ::csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err("empty CSV row".into()),
            Err(e) => return Err(format!("bad CSV row: {e}")),
        }
        let mut fields = Fields {
            values: Default::default(),
            len: 0,
        };
        for value in record.iter() {
            fields.push(Cow::Owned(value.to_owned()))?;
        }
        Ok(fields)
    }

    fn push(&mut self, value: Cow<'a, str>) -> Result<(), String> {
        let slot = self
            .values
            .get_mut(self.len)
            .ok_or_else(|| format!("wrong column count: more than {MAX_FIELDS} fields"))?;
        *slot = value;
        self.len += 1;
        Ok(())
    }

    /// The fields, without one empty trailing field (a row ending in a comma).
    fn values(&self) -> &[Cow<'a, str>] {
        match &self.values[..self.len] {
            [rest @ .., last] if last.trim().is_empty() => rest,
            all => all,
        }
    }

    /// The four fields of a rating row, in file order. With `extra_column`,
    /// a fifth field is allowed whatever it holds (see [`parse_kaggle_row`]).
    fn four(mut self, layout: &str, extra_column: bool) -> Result<[Cow<'a, str>; 4], String> {
        let len = self.values().len();
        if len != 4 && !(extra_column && len == 5) {
            return Err(format!(
                "wrong column count: {len} fields, expected 4 ({layout})"
            ));
        }
        Ok([0, 1, 2, 3].map(|i| std::mem::take(&mut self.values[i])))
    }
}

/// Checks that a row is UTF-8.
fn text(line: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(line).map_err(|e| format!("not valid UTF-8: {e}"))
}

/// A required, non-empty id field.
fn id<'a>(value: Cow<'a, str>, name: &str) -> Result<Cow<'a, str>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(format!("empty field `{name}`"));
    }
    Ok(match value {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.len() == trimmed.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
    })
}

/// Parses a row of a headerless 2018 ratings file: `item,user,rating,timestamp`.
pub(crate) fn parse_ratings_row(line: &[u8]) -> Result<Rating<'_>, String> {
    let [item, user, rating, timestamp] =
        Fields::split(text(line)?)?.four("item,user,rating,timestamp", false)?;
    let item = id(item, "item")?;
    Ok(Rating {
        user: id(user, "user")?,
        item,
        rating: fields::parse_rating(&rating)?,
        timestamp: fields::parse_timestamp(&timestamp)?,
        repaired: false,
    })
}

/// Whether a row names the columns of a ratings file, `item,user,rating,timestamp` (any case,
/// spaces around the names and an empty fifth column allowed).
pub(crate) fn is_ratings_header(line: &[u8]) -> bool {
    let mut columns: Vec<&[u8]> = line.split(|&c| c == b',').map(<[u8]>::trim_ascii).collect();
    if columns.len() == 5 && columns[4].is_empty() {
        columns.pop();
    }
    columns.len() == 4
        && columns
            .iter()
            .zip([&b"item"[..], b"user", b"rating", b"timestamp"])
            .all(|(column, name)| column.eq_ignore_ascii_case(name))
}

/// Whether a row is the Kaggle header `UserId,ProductId,…`.
pub(crate) fn is_kaggle_header(line: &[u8]) -> bool {
    let mut columns = line.split(|&c| c == b',').map(<[u8]>::trim_ascii);
    matches!(
        (columns.next(), columns.next()),
        (Some(user), Some(item)) if user.eq_ignore_ascii_case(b"UserId") && item.eq_ignore_ascii_case(b"ProductId")
    )
}

/// Parses a row of a Kaggle-style file: `UserId,ProductId,Rating,Timestamp`.
/// `Ok(None)` for the header.
///
/// A fifth column is ignored: the header leaves it unnamed
/// (`UserId,ProductId,Rating,Timestamp,`), so it is no part of the data. In
/// the known file it is empty, or holds a spreadsheet note (`Delete`) next to
/// an otherwise intact rating.
///
/// The known spreadsheet damage is repaired: an all-digit ProductId that
/// lost its leading zeros gets them back (the flag in the result says so).
pub(crate) fn parse_kaggle_row(line: &[u8]) -> Result<Option<Rating<'_>>, String> {
    if is_kaggle_header(line) {
        return Ok(None);
    }
    let [user, item, rating, timestamp] =
        Fields::split(text(line)?)?.four("UserId,ProductId,Rating,Timestamp", true)?;
    let user = id(user, "UserId")?;
    let item = id(item, "ProductId")?;
    let padded = match fields::repair_asin(&item) {
        Cow::Owned(padded) => Some(padded),
        Cow::Borrowed(_) => None,
    };
    Ok(Some(Rating {
        user,
        repaired: padded.is_some(),
        item: padded.map_or(item, Cow::Owned),
        rating: fields::parse_rating(&rating)?,
        timestamp: fields::parse_timestamp(&timestamp)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(user: &str, item: &str, rating: f32, timestamp: i64) -> Rating<'static> {
        Rating {
            user: Cow::Owned(user.into()),
            item: Cow::Owned(item.into()),
            rating,
            timestamp,
            repaired: false,
        }
    }

    #[test]
    fn ratings_rows_are_item_first() {
        assert_eq!(
            parse_ratings_row(b"B00005N7P0,AH2IFH762VY5U,5.0,1005177600").unwrap(),
            rating("AH2IFH762VY5U", "B00005N7P0", 5.0, 1_005_177_600)
        );
        let row = parse_ratings_row(b"B1,A1,3,7").unwrap();
        assert!(matches!(row.user, Cow::Borrowed(_)));
    }

    #[test]
    fn quoted_fields_are_unquoted() {
        assert_eq!(
            parse_ratings_row(br#""B1","A,1",4.0,"7""#).unwrap(),
            rating("A,1", "B1", 4.0, 7)
        );
        assert!(parse_ratings_row(br#""B1,A1,4.0,7"#).is_err());
    }

    #[test]
    fn malformed_ratings_rows_say_what_is_wrong() {
        let reason = |line: &str| parse_ratings_row(line.as_bytes()).unwrap_err();
        assert_eq!(
            reason("B1,A1,5.0"),
            "wrong column count: 3 fields, expected 4 (item,user,rating,timestamp)"
        );
        assert_eq!(
            reason("B1,A1,5.0,1,extra"),
            "wrong column count: 5 fields, expected 4 (item,user,rating,timestamp)"
        );
        assert_eq!(
            reason("a,b,c,d,e,f,g,h,i"),
            "wrong column count: more than 8 fields"
        );
        assert_eq!(reason("B1,A1,five,1"), "rating not a number: \"five\"");
        assert_eq!(reason("B1,A1,7,1"), "rating 7 out of range 1..=5");
        assert!(reason("B1,A1,5,yesterday").starts_with("bad timestamp"));
        assert_eq!(reason(",A1,5,1"), "empty field `item`");
        assert_eq!(reason("B1, ,5,1"), "empty field `user`");
        assert!(parse_ratings_row(b"B1,A\xff,5,1")
            .unwrap_err()
            .starts_with("not valid UTF-8"));
    }

    #[test]
    fn the_ratings_header_is_recognised() {
        assert!(is_ratings_header(b"item,user,rating,timestamp"));
        assert!(is_ratings_header(b"Item, User ,RATING,timestamp,"));
        assert!(!is_ratings_header(b"item,user,rating"));
        assert!(!is_ratings_header(b"B1,A1,5.0,1369699200"));
    }

    #[test]
    fn kaggle_rows_skip_the_header_and_a_trailing_column() {
        assert_eq!(
            parse_kaggle_row(b"UserId,ProductId,Rating,Timestamp,"),
            Ok(None)
        );
        assert_eq!(
            parse_kaggle_row(b"A3OYP39J6S4CSF,B00007M0CP,1,1300665600,").unwrap(),
            Some(rating("A3OYP39J6S4CSF", "B00007M0CP", 1.0, 1_300_665_600))
        );
        assert_eq!(
            parse_kaggle_row(b"A1,B1,4.0,5").unwrap(),
            Some(rating("A1", "B1", 4.0, 5))
        );
        assert_eq!(
            parse_kaggle_row(b"A22VW0P4VZHDE3,130414674X,5,1371686400,Delete").unwrap(),
            Some(rating("A22VW0P4VZHDE3", "130414674X", 5.0, 1_371_686_400))
        );
    }

    #[test]
    fn kaggle_asins_get_their_leading_zeros_back() {
        let row = parse_kaggle_row(b"A39HTATAQ9V7YF,205616461,5,1369699200,")
            .unwrap()
            .unwrap();
        assert_eq!(row.item, "0205616461");
        assert!(row.repaired);
    }

    #[test]
    fn malformed_kaggle_rows_say_what_is_wrong() {
        let reason = |line: &str| parse_kaggle_row(line.as_bytes()).unwrap_err();
        assert_eq!(
            reason("A1,B1,5,1,x,y"),
            "wrong column count: 6 fields, expected 4 (UserId,ProductId,Rating,Timestamp)"
        );
        assert_eq!(
            reason("A1,B1,5"),
            "wrong column count: 3 fields, expected 4 (UserId,ProductId,Rating,Timestamp)"
        );
        assert!(reason("A1,B1,5,1.3697E+09,").starts_with("bad timestamp"));
        assert_eq!(reason("A1,B1,five,1,"), "rating not a number: \"five\"");
        assert_eq!(
            reason("A1,B1,#VALUE!,1,"),
            "rating not a number: \"#VALUE!\""
        );
    }
}
