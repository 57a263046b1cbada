//! Pearson's chi-square test of independence on a contingency table (`statrs` for the
//! chi-square distribution).

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The outcome of a chi-square test of independence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareTest {
    /// The statistic, Σ (observed − expected)² / expected.
    pub statistic: f64,
    /// Degrees of freedom, (rows − 1)(columns − 1) over the non-empty rows and columns.
    pub df: u32,
    /// P-value of independence.
    pub p_value: f64,
    /// Cramér's V, the strength of the association in `0..=1` (the p-value of a large table
    /// is tiny even for a negligible association).
    pub cramers_v: f64,
    /// Observations in the table.
    pub n: u64,
    /// The smallest expected count (the test is unreliable below 5).
    pub min_expected: f64,
}

/// Tests `table[row][column]` counts for independence; empty rows and columns are left out.
/// `None` unless at least two rows and two columns hold observations.
pub fn chi_square(table: &[Vec<u64>]) -> Option<ChiSquareTest> {
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let cell = |r: usize, c: usize| table[r].get(c).copied().unwrap_or(0) as f64;
    let row_sums: Vec<f64> = (0..table.len())
        .map(|r| (0..columns).map(|c| cell(r, c)).sum())
        .collect();
    let column_sums: Vec<f64> = (0..columns)
        .map(|c| (0..table.len()).map(|r| cell(r, c)).sum())
        .collect();
    let rows: Vec<usize> = (0..table.len()).filter(|&r| row_sums[r] > 0.0).collect();
    let cols: Vec<usize> = (0..columns).filter(|&c| column_sums[c] > 0.0).collect();
    if rows.len() < 2 || cols.len() < 2 {
        return None;
    }
    let n: f64 = row_sums.iter().sum();
    let (mut statistic, mut min_expected) = (0.0, f64::INFINITY);
    for &r in &rows {
        for &c in &cols {
            let expected = row_sums[r] * column_sums[c] / n;
            min_expected = min_expected.min(expected);
            statistic += (cell(r, c) - expected).powi(2) / expected;
        }
    }
    let df = ((rows.len() - 1) * (cols.len() - 1)) as u32;
    let p_value = ChiSquared::new(f64::from(df)).ok()?.sf(statistic);
    let smaller = rows.len().min(cols.len()) as f64 - 1.0;
    Some(ChiSquareTest {
        statistic,
        df,
        p_value,
        cramers_v: (statistic / (n * smaller)).sqrt(),
        n: n as u64,
        min_expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_textbook_table() {
        // 2x2: [[10, 20], [30, 40]]: chi2 = 0.7937 (no continuity correction), p = 0.3730.
        let test = chi_square(&[vec![10, 20], vec![30, 40]]).unwrap();
        assert!((test.statistic - 0.793_65).abs() < 1e-4, "{test:?}");
        assert_eq!((test.df, test.n), (1, 100));
        assert!((test.p_value - 0.3730).abs() < 1e-3, "{test:?}");
        assert!((test.cramers_v - (0.793_65f64 / 100.0).sqrt()).abs() < 1e-4);
        assert!((test.min_expected - 12.0).abs() < 1e-9);
    }

    #[test]
    fn empty_rows_are_dropped_and_degenerate_tables_have_no_test() {
        let with_empty = chi_square(&[vec![10, 20], vec![0, 0], vec![30, 40]]).unwrap();
        assert_eq!(with_empty.df, 1);
        assert!(chi_square(&[vec![10, 0], vec![30, 0]]).is_none());
        assert!(chi_square(&[]).is_none());
        let independent = chi_square(&[vec![10, 20], vec![20, 40]]).unwrap();
        assert!(independent.statistic.abs() < 1e-12 && (independent.p_value - 1.0).abs() < 1e-9);
    }
}
