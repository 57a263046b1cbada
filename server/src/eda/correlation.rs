//! Correlation: streaming co-moments for Pearson's r, ranks for Spearman's ρ, and their
//! p-values and confidence intervals (Student's t and normal distributions from `statrs`).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The level of every confidence interval in the report.
pub const CONFIDENCE: f64 = 0.95;

/// Sums over rows of two variables, enough for Pearson's r.
///
/// Rows can be added one at a time ([`Moments::add`]) or as a group that shares its `y`
/// ([`Moments::add_group`]): that is how an item's price is joined to all of its reviews
/// without keeping the reviews. Sums are plain `f64`; callers keep values near zero (years,
/// not seconds) so that the variance does not cancel away.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Moments {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl Moments {
    /// Adds the row `(x, y)`.
    pub(crate) fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
    }

    /// Adds `n` rows whose `x` values sum to `sx` (squares to `sxx`) and whose `y` is `y`.
    pub(crate) fn add_group(&mut self, n: f64, sx: f64, sxx: f64, y: f64) {
        self.n += n;
        self.sx += sx;
        self.sxx += sxx;
        self.sy += n * y;
        self.syy += n * y * y;
        self.sxy += y * sx;
    }

    /// The number of rows.
    pub(crate) fn n(&self) -> u64 {
        self.n as u64
    }

    /// Pearson's r, or `None` with fewer than 3 rows or a constant variable.
    pub(crate) fn pearson(&self) -> Option<f64> {
        if self.n < 3.0 {
            return None;
        }
        let (mx, my) = (self.sx / self.n, self.sy / self.n);
        let vx = self.sxx / self.n - mx * mx;
        let vy = self.syy / self.n - my * my;
        // Relative to the raw second moment, what is left of a constant variable is rounding.
        let constant = |v: f64, raw: f64| v <= 1e-12 * raw.abs().max(f64::MIN_POSITIVE);
        if constant(vx, self.sxx / self.n) || constant(vy, self.syy / self.n) {
            return None;
        }
        let cov = self.sxy / self.n - mx * my;
        Some((cov / (vx * vy).sqrt()).clamp(-1.0, 1.0))
    }
}

/// A correlation coefficient with its significance and confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// The coefficient, in `-1..=1`.
    pub r: f64,
    /// Rows it was computed on.
    pub n: u64,
    /// Two-sided p-value of "no correlation" (t test with n − 2 degrees of freedom).
    pub p_value: f64,
    /// Lower end of the [`CONFIDENCE`] interval (Fisher z transform).
    pub ci_low: f64,
    /// Upper end of the [`CONFIDENCE`] interval.
    pub ci_high: f64,
}

impl Correlation {
    /// Tests Pearson's `r` over `n` rows: the t test, and the Fisher z interval with standard
    /// error `1 / sqrt(n − 3)`. `None` when `n < 4`.
    pub fn pearson(r: f64, n: u64) -> Option<Correlation> {
        Self::test(r, n, 1.0)
    }

    /// Tests Spearman's `rho` over `n` rows: the t approximation for the p-value, and the
    /// Fisher z interval with the Fieller–Hartley–Pearson standard error `sqrt(1.06 / (n − 3))`.
    /// `None` when `n < 4`.
    pub fn spearman(rho: f64, n: u64) -> Option<Correlation> {
        Self::test(rho, n, 1.06)
    }

    fn test(r: f64, n: u64, variance_factor: f64) -> Option<Correlation> {
        if n < 4 || !r.is_finite() {
            return None;
        }
        let df = n as f64 - 2.0;
        let p_value = if r.abs() >= 1.0 {
            0.0
        } else {
            let t = r * (df / (1.0 - r * r)).sqrt();
            let student = StudentsT::new(0.0, 1.0, df).ok()?;
            (2.0 * student.sf(t.abs())).min(1.0)
        };
        let normal = Normal::new(0.0, 1.0).ok()?;
        let z_crit = normal.inverse_cdf(0.5 + CONFIDENCE / 2.0);
        let se = (variance_factor / (n as f64 - 3.0)).sqrt();
        // atanh(±1) is infinite: a perfect correlation has the degenerate interval [r, r].
        let (ci_low, ci_high) = if r.abs() >= 1.0 {
            (r, r)
        } else {
            let z = r.atanh();
            ((z - z_crit * se).tanh(), (z + z_crit * se).tanh())
        };
        Some(Correlation {
            r,
            n,
            p_value,
            ci_low,
            ci_high,
        })
    }
}

/// Ranks of `values` (1-based), ties given the mean of the ranks they span.
pub(crate) fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold equal values: ranks start+1..=end, mean (start+1+end)/2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson's r of two equally long slices.
pub(crate) fn pearson_of(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let mut moments = Moments::default();
    for (&x, &y) in xs.iter().zip(ys) {
        moments.add(x, y);
    }
    moments.pearson()
}

/// Spearman's ρ of two equally long slices: Pearson's r of their ranks.
pub(crate) fn spearman_of(xs: &[f64], ys: &[f64]) -> Option<f64> {
    pearson_of(&ranks(xs), &ranks(ys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_a_known_line_and_of_known_data() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let up: Vec<f64> = xs.iter().map(|x| 3.0 * x + 1.0).collect();
        let down: Vec<f64> = xs.iter().map(|x| -x).collect();
        assert!((pearson_of(&xs, &up).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson_of(&xs, &down).unwrap() + 1.0).abs() < 1e-12);
        // Anscombe's first quartet: r = 0.81642.
        let x = [10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0];
        let y = [
            8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68,
        ];
        assert!((pearson_of(&x, &y).unwrap() - 0.816_42).abs() < 1e-4);
        assert_eq!(pearson_of(&x, &[1.0; 11]), None);
        assert_eq!(pearson_of(&[1.0, 2.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn groups_give_the_same_sums_as_rows() {
        let mut rows = Moments::default();
        let mut groups = Moments::default();
        // Item A (price 10) has reviews rated 5, 4; item B (price 20) one rated 1.
        for (x, y) in [(5.0, 10.0), (4.0, 10.0), (1.0, 20.0)] {
            rows.add(x, y);
        }
        groups.add_group(2.0, 9.0, 41.0, 10.0);
        groups.add_group(1.0, 1.0, 1.0, 20.0);
        assert_eq!(rows, groups);
    }

    #[test]
    fn large_offsets_do_not_cancel_the_variance() {
        let mut m = Moments::default();
        for i in 0..1000 {
            let year = 2014.0 + f64::from(i % 7) / 7.0;
            m.add(year, f64::from(i % 7));
        }
        assert!((m.pearson().unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), [1.5, 3.0, 1.5, 4.0]);
        assert_eq!(ranks(&[]), Vec::<f64>::new());
    }

    #[test]
    fn spearman_of_monotone_data_is_one() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let ys: Vec<f64> = xs.iter().map(|x: &f64| x.powi(3)).collect();
        assert!((spearman_of(&xs, &ys).unwrap() - 1.0).abs() < 1e-12);
        // Known: x = 1..5, y = [2, 1, 4, 3, 5] gives rho = 0.8.
        let rho = spearman_of(&xs[..5], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((rho - 0.8).abs() < 1e-12);
    }

    #[test]
    fn p_values_and_intervals_match_reference_values() {
        // r = 0.5, n = 30: t = 3.055 with 28 df, p = 0.004900; Fisher z CI 0.1704..0.7290
        // (the values R's cor.test gives).
        let c = Correlation::pearson(0.5, 30).unwrap();
        assert!((c.p_value - 0.004_900).abs() < 1e-6, "{c:?}");
        assert!((c.ci_low - 0.1704).abs() < 1e-4, "{c:?}");
        assert!((c.ci_high - 0.7290).abs() < 1e-4, "{c:?}");
        let none = Correlation::pearson(0.0, 100).unwrap();
        assert!((none.p_value - 1.0).abs() < 1e-12);
        assert!(none.ci_low < 0.0 && none.ci_high > 0.0);
        let perfect = Correlation::spearman(1.0, 10).unwrap();
        assert_eq!((perfect.p_value, perfect.ci_high), (0.0, 1.0));
        assert!(Correlation::pearson(0.9, 3).is_none());
        let rho = Correlation::spearman(0.5, 30).unwrap();
        assert!(rho.ci_low < c.ci_low && rho.ci_high > c.ci_high);
    }
}
