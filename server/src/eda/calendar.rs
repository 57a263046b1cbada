//! Calendar months and dates from unix seconds (proleptic Gregorian, UTC).

/// Months since January 1970 (negative before): `year * 12 + month - 1` shifted to 1970.
pub(crate) fn month_of(unix_seconds: i64) -> i32 {
    let (year, month, _) = civil_from_days(unix_seconds.div_euclid(86_400));
    ((year - 1970) * 12 + i64::from(month) - 1) as i32
}

/// `"2014-03"` for a month number of [`month_of`].
pub(crate) fn month_label(month: i32) -> String {
    let year = 1970 + month.div_euclid(12);
    format!("{year:04}-{:02}", month.rem_euclid(12) + 1)
}

/// `"2014-03-15"` for unix seconds.
pub(crate) fn date_label(unix_seconds: i64) -> String {
    let (year, month, day) = civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Unix seconds as a fractional year (2014.0 is 1 January 2014), for correlations.
pub(crate) fn fractional_year(unix_seconds: i64) -> f64 {
    1970.0 + unix_seconds as f64 / (365.2425 * 86_400.0)
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(date_label(0), "1970-01-01");
        assert_eq!(date_label(1_393_545_600), "2014-02-28");
        assert_eq!(date_label(951_782_400), "2000-02-29");
        assert_eq!(date_label(-86_400), "1969-12-31");
        assert_eq!(month_label(month_of(1_393_545_600)), "2014-02");
        assert_eq!(month_of(0), 0);
        assert_eq!(month_of(-1), -1);
        assert_eq!(month_label(-1), "1969-12");
    }

    #[test]
    fn fractional_years_are_close_to_the_calendar() {
        assert!((fractional_year(1_388_534_400) - 2014.0).abs() < 0.01); // 2014-01-01
    }
}
