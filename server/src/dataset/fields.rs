//! Interpreting single field values: ratings, timestamps, dates, votes,
//! prices, sales ranks and spreadsheet-mangled ASINs.
//!
//! Validators return the reason as `Err(String)`, ready for a
//! [`Problem`](super::Problem); lenient parsers of optional fields return `None`.

use std::borrow::Cow;

/// Latest accepted timestamp: 2100-01-01T00:00:00Z. Anything later is most
/// likely milliseconds or garbage.
const MAX_TIMESTAMP: i64 = 4_102_444_800;

/// Length of an ASIN (and of an ISBN-10, which book ASINs are).
const ASIN_LEN: usize = 10;

/// Checks a numeric rating.
pub(crate) fn rating(value: f64) -> Result<f32, String> {
    if !value.is_finite() {
        return Err(format!("rating not a number: {value}"));
    }
    if !(1.0..=5.0).contains(&value) {
        return Err(format!("rating {value} out of range 1..=5"));
    }
    Ok(value as f32)
}

/// Parses a rating written as text (`"5"`, `"4.0"`).
pub(crate) fn parse_rating(text: &str) -> Result<f32, String> {
    let trimmed = text.trim();
    let is_decimal = !trimmed.is_empty()
        && trimmed
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+');
    match trimmed.parse::<f64>() {
        Ok(value) if is_decimal => rating(value),
        _ => Err(format!("rating not a number: {text:?}")),
    }
}

/// Checks a timestamp in unix seconds.
pub(crate) fn timestamp(value: i64) -> Result<i64, String> {
    if value < 0 {
        Err(format!("bad timestamp: {value} is before 1970"))
    } else if value > MAX_TIMESTAMP {
        Err(format!(
            "bad timestamp: {value} is after 2100 (milliseconds instead of seconds?)"
        ))
    } else {
        Ok(value)
    }
}

/// Checks a timestamp given as a JSON float: it must be a whole number.
pub(crate) fn timestamp_from_f64(value: f64) -> Result<i64, String> {
    if value.fract() != 0.0 || !value.is_finite() || value.abs() > 1e17 {
        return Err(format!(
            "bad timestamp: {value} is not a whole number of seconds"
        ));
    }
    timestamp(value as i64)
}

/// Parses a timestamp written as text: digits, optionally followed by `.0`.
///
/// Scientific notation (`1.3697E+09`, as a spreadsheet writes it) is
/// rejected: it has lost digits.
pub(crate) fn parse_timestamp(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let whole = match trimmed.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|c| c == b'0') => whole,
        Some(_) => trimmed, // fails below
        None => trimmed,
    };
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "bad timestamp: {text:?} is not a whole number of seconds"
        ));
    }
    match whole.parse::<i64>() {
        Ok(value) => timestamp(value),
        Err(_) => Err(format!("bad timestamp: {text:?} is out of range")),
    }
}

/// Parses an Amazon `reviewTime` (`"02 28, 2014"`, month first) to unix
/// seconds at midnight UTC.
pub(crate) fn parse_review_date(text: &str) -> Option<i64> {
    let (month_day, year) = text.trim().split_once(',')?;
    let (month, day) = month_day.trim().split_once(' ')?;
    let year: i64 = year.trim().parse().ok()?;
    let month: u32 = month.trim().parse().ok()?;
    let day: u32 = day.trim().parse().ok()?;
    if !(1970..=2099).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses a 2018 `vote` count, written with thousands separators (`"1,341"`).
pub(crate) fn parse_votes(text: &str) -> Option<u32> {
    let digits: String = text.trim().chars().filter(|&c| c != ',').collect();
    digits.parse().ok()
}

/// Parses a 2018 `price`: `"$12.99"`, `"$1,299.00"`, or a range
/// `"$5.99 - $12.99"` (lower bound). Empty values, CSS and HTML give `None`.
pub(crate) fn parse_price(text: &str) -> Option<f64> {
    let first = text.trim().split(" - ").next()?;
    let amount = first.trim().strip_prefix('$')?;
    let digits: String = amount.chars().filter(|&c| c != ',').collect();
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    digits.parse().ok().filter(|price: &f64| price.is_finite())
}

/// Parses one sales-rank entry: `"742 in Magazine Subscriptions ("` or
/// `">#2,893,775 in Toys & Games (See Top 100 in Toys & Games)"`.
pub(crate) fn parse_rank(text: &str) -> Option<(u64, Option<String>)> {
    let text = text.trim_start_matches(|c: char| c == '>' || c == '#' || c.is_whitespace());
    let number_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(text.len());
    let digits: String = text[..number_len].chars().filter(|&c| c != ',').collect();
    let rank = digits.parse().ok()?;
    let category = text[number_len..]
        .trim_start()
        .strip_prefix("in ")
        .map(|rest| rest.split('(').next().unwrap_or(rest))
        .and_then(super::html::clean);
    Some((rank, category))
}

/// Restores the leading zeros a spreadsheet stripped from an all-digit ASIN
/// (`205616461` was `0205616461`). Other ids are returned unchanged.
pub(crate) fn repair_asin(asin: &str) -> Cow<'_, str> {
    if !asin.is_empty() && asin.len() < ASIN_LEN && asin.bytes().all(|c| c.is_ascii_digit()) {
        Cow::Owned(format!("{asin:0>ASIN_LEN$}"))
    } else {
        Cow::Borrowed(asin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_must_be_numbers_from_one_to_five() {
        assert_eq!(parse_rating("5"), Ok(5.0));
        assert_eq!(parse_rating(" 4.0"), Ok(4.0));
        assert_eq!(parse_rating("2.5"), Ok(2.5));
        assert_eq!(parse_rating("7"), Err("rating 7 out of range 1..=5".into()));
        assert_eq!(parse_rating("0"), Err("rating 0 out of range 1..=5".into()));
        assert_eq!(
            parse_rating("five"),
            Err("rating not a number: \"five\"".into())
        );
        assert_eq!(
            parse_rating("NaN"),
            Err("rating not a number: \"NaN\"".into())
        );
        assert_eq!(parse_rating(""), Err("rating not a number: \"\"".into()));
        assert!(rating(f64::NAN).is_err());
    }

    #[test]
    fn timestamps_are_whole_seconds_between_1970_and_2100() {
        assert_eq!(parse_timestamp("1369699200"), Ok(1_369_699_200));
        assert_eq!(parse_timestamp("1369699200.0"), Ok(1_369_699_200));
        assert!(parse_timestamp("1.3697E+09")
            .unwrap_err()
            .starts_with("bad timestamp"));
        assert!(parse_timestamp("1369699200.5").is_err());
        assert!(parse_timestamp("-5").unwrap_err().contains("before 1970"));
        assert!(parse_timestamp("1369699200000")
            .unwrap_err()
            .contains("milliseconds"));
        assert!(parse_timestamp("").is_err());
        assert!(parse_timestamp("99999999999999999999999").is_err());
        assert_eq!(timestamp_from_f64(1e9), Ok(1_000_000_000));
        assert!(timestamp_from_f64(1.5).is_err());
        assert!(timestamp_from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn review_dates_are_month_first() {
        assert_eq!(parse_review_date("02 28, 2014"), Some(1_393_545_600));
        assert_eq!(parse_review_date("03 16, 2013"), Some(1_363_392_000));
        assert_eq!(parse_review_date("6 7, 2018"), Some(1_528_329_600));
        assert_eq!(parse_review_date("01 1, 1970"), Some(0));
        assert_eq!(parse_review_date("02 29, 2016"), Some(1_456_704_000));
        assert_eq!(parse_review_date("02 29, 2015"), None);
        assert_eq!(parse_review_date("13 1, 2015"), None);
        assert_eq!(parse_review_date("yesterday"), None);
    }

    #[test]
    fn votes_have_thousands_separators() {
        assert_eq!(parse_votes("1,341"), Some(1341));
        assert_eq!(parse_votes("3"), Some(3));
        assert_eq!(parse_votes("many"), None);
    }

    #[test]
    fn prices_are_dollars_or_nothing() {
        assert_eq!(parse_price("$12.99"), Some(12.99));
        assert_eq!(parse_price(" $1,299.00 "), Some(1299.0));
        assert_eq!(parse_price("$5.99 - $12.99"), Some(5.99));
        assert_eq!(parse_price(""), None);
        assert_eq!(parse_price("\n\t\t   \n"), None);
        assert_eq!(parse_price(".a-box-inner{background-color:#fff}"), None);
        assert_eq!(parse_price("\n\n\n<script"), None);
        assert_eq!(parse_price("$"), None);
    }

    #[test]
    fn ranks_come_as_two_kinds_of_strings() {
        assert_eq!(
            parse_rank("742 in Magazine Subscriptions ("),
            Some((742, Some("Magazine Subscriptions".into())))
        );
        assert_eq!(
            parse_rank(">#2,893,775 in Toys &amp; Games (See Top 100 in Toys & Games)"),
            Some((2_893_775, Some("Toys & Games".into())))
        );
        assert_eq!(parse_rank("1,360"), Some((1360, None)));
        assert_eq!(parse_rank(""), None);
        assert_eq!(parse_rank("n/a"), None);
    }

    #[test]
    fn all_digit_asins_get_their_zeros_back() {
        assert_eq!(repair_asin("205616461"), "0205616461");
        assert_eq!(repair_asin("0205616461"), "0205616461");
        assert_eq!(repair_asin("B00007M0CP"), "B00007M0CP");
        assert_eq!(repair_asin("158978068X"), "158978068X");
        assert!(matches!(repair_asin("B0001"), Cow::Borrowed(_)));
    }
}
