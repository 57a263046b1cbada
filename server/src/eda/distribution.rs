//! Summaries of count distributions: shares, the Gini coefficient, quantiles of a histogram,
//! and the frequency table of interactions per user or item.

use super::report::Degrees;

/// part / whole, 0 when whole is 0.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The Gini coefficient of counts sorted ascending: Σ (2i − n − 1) x_i / (n Σ x), i = 1..n.
pub(crate) fn gini(sorted: &[u64]) -> Option<f64> {
    let n = sorted.len() as f64;
    let total: u64 = sorted.iter().sum();
    if sorted.is_empty() || total == 0 {
        return None;
    }
    let weighted: f64 = sorted
        .iter()
        .zip(1u64..)
        .map(|(&x, i)| (2.0 * i as f64 - n - 1.0) * x as f64)
        .sum();
    Some(weighted / (n * total as f64))
}

/// The nearest-rank `p` quantile of a histogram holding `n` values (bin = value).
pub(crate) fn quantile(histogram: &[u64], n: u64, p: f64) -> u32 {
    if n == 0 {
        return 0;
    }
    let rank = ((p * n as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (value, &count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= rank {
            return value as u32;
        }
    }
    histogram.len() as u32 - 1
}

/// Summary and frequency table of interaction counts.
pub(crate) fn degrees(mut counts: Vec<u32>) -> Degrees {
    counts.sort_unstable();
    let n = counts.len();
    let at = |p: f64| {
        if n == 0 {
            0
        } else {
            u64::from(counts[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
        }
    };
    let mut frequency: Vec<[u64; 2]> = Vec::new();
    for &c in &counts {
        match frequency.last_mut() {
            Some(last) if last[0] == u64::from(c) => last[1] += 1,
            _ => frequency.push([u64::from(c), 1]),
        }
    }
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    Degrees {
        count: n as u64,
        mean: if n > 0 { total as f64 / n as f64 } else { 0.0 },
        median: at(0.5),
        p90: at(0.9),
        max: counts.last().map_or(0, |&c| u64::from(c)),
        share_single: share(counts.iter().filter(|&&c| c == 1).count() as u64, n as u64),
        frequency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_hand_made_counts() {
        assert_eq!(gini(&[5, 5, 5, 5]), Some(0.0));
        // One item of four has everything: G = (n - 1) / n = 0.75.
        assert!((gini(&[0, 0, 0, 8]).unwrap() - 0.75).abs() < 1e-12);
        // [1, 2, 3, 4]: mean absolute difference / (2 mean) = 1.25 / 5 = 0.25.
        assert!((gini(&[1, 2, 3, 4]).unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(gini(&[]), None);
    }

    #[test]
    fn quantiles_of_a_histogram() {
        let histogram = [0, 2, 0, 1, 1]; // values 1, 1, 3, 4
        assert_eq!(quantile(&histogram, 4, 0.25), 1);
        assert_eq!(quantile(&histogram, 4, 0.5), 1);
        assert_eq!(quantile(&histogram, 4, 0.75), 3);
        assert_eq!(quantile(&histogram, 4, 1.0), 4);
    }

    #[test]
    fn degrees_of_counts() {
        let d = degrees(vec![3, 1, 1, 10]);
        assert_eq!((d.count, d.median, d.p90, d.max), (4, 1, 10, 10));
        assert_eq!(d.frequency, [[1, 2], [3, 1], [10, 1]]);
        assert!((d.share_single - 0.5).abs() < 1e-12 && (d.mean - 3.75).abs() < 1e-12);
        assert_eq!(degrees(Vec::new()).median, 0);
    }
}
