//! How numbers are written in the report: thousands separators, percentages, p-values.

/// `10261` as `"10,261"`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share in `0..=1` as a percentage with sensible precision: `"68 %"`, `"4.6 %"`, `"0.04 %"`.
pub(crate) fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "–".to_owned()
    } else if p == 0.0 || p >= 10.0 {
        format!("{p:.0} %")
    } else if p >= 0.1 {
        format!("{p:.1} %")
    } else {
        format!("{p:.2} %")
    }
}

/// A p-value: `"p < 0.0001"` or `"p = 0.0342"`.
pub(crate) fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "p < 0.0001".to_owned()
    } else {
        format!("p = {}", significant(p, 3))
    }
}

/// `x` with `digits` significant digits, without exponent for ordinary magnitudes.
pub(crate) fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            "–".into()
        };
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// A mean rating or similar: two decimals, `–` when not a number.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_261), "10,261");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(percent(0.6762), "68 %");
        assert_eq!(percent(0.046), "4.6 %");
        assert_eq!(percent(0.0004), "0.04 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(p_value(0.004_899), "p = 0.00490");
        assert_eq!(p_value(1e-9), "p < 0.0001");
        assert_eq!(significant(1234.5, 3), "1234");
        assert_eq!(fixed(f64::NAN, 2), "–");
    }
}
