use serde::{Deserialize, Serialize};

/// Ranking metrics at k with binary relevance, averaged over evaluated users (coverage is over
/// the catalogue). The formulas are in the README.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// hits / k.
    pub precision: f64,
    /// hits / |relevant|.
    pub recall: f64,
    /// 2PR / (P + R) per user, 0 without hits.
    pub f1: f64,
    /// DCG / IDCG with gains 1 / log2(rank + 1).
    pub ndcg: f64,
    /// Standard error of `ndcg` (of the mean over users): differences of this size between two
    /// results are within what another draw of users could give. NaN (`null` in JSON) with
    /// fewer than two users, where it does not exist.
    #[serde(default, with = "nan_as_null")]
    pub ndcg_se: f64,
    /// Average precision at k, normalised by min(|relevant|, k).
    pub map: f64,
    /// 1 / rank of the first hit, 0 without hits.
    pub mrr: f64,
    /// 1 if any relevant item is in the top k.
    pub hit_rate: f64,
    /// Distinct items recommended to anyone / catalogue size.
    pub coverage: f64,
}

/// Sums per-user metrics; [`MetricsAccumulator::finish`] averages them.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccumulator {
    sum: Metrics,
    /// Sum of the squares of the per-user NDCG.
    ndcg_squares: f64,
    users: usize,
    recommended: Vec<bool>,
}

impl MetricsAccumulator {
    /// An accumulator for a catalogue of `n_items`.
    pub fn new(n_items: usize) -> Self {
        MetricsAccumulator {
            sum: Metrics::default(),
            ndcg_squares: 0.0,
            users: 0,
            recommended: vec![false; n_items],
        }
    }

    /// Adds one user's top-k list against their relevant items (sorted ascending).
    pub fn add(&mut self, k: usize, ranked: &[u32], relevant: &[u32]) {
        self.users += 1;
        for &item in ranked {
            if let Some(seen) = self.recommended.get_mut(item as usize) {
                *seen = true;
            }
        }
        if relevant.is_empty() || k == 0 {
            return;
        }
        let (mut hits, mut dcg, mut ap, mut first_hit) = (0usize, 0.0, 0.0, None);
        for (rank, item) in ranked.iter().take(k).enumerate() {
            if relevant.binary_search(item).is_ok() {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
                ap += hits as f64 / (rank + 1) as f64;
                first_hit.get_or_insert(rank);
            }
        }
        let ideal = relevant.len().min(k);
        let idcg: f64 = (0..ideal).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
        let precision = hits as f64 / k as f64;
        let recall = hits as f64 / relevant.len() as f64;
        let s = &mut self.sum;
        s.precision += precision;
        s.recall += recall;
        if hits > 0 {
            s.f1 += 2.0 * precision * recall / (precision + recall);
        }
        s.ndcg += dcg / idcg;
        self.ndcg_squares += (dcg / idcg).powi(2);
        s.map += ap / ideal as f64;
        s.mrr += first_hit.map_or(0.0, |r| 1.0 / (r + 1) as f64);
        s.hit_rate += (hits > 0) as u8 as f64;
    }

    /// Merges another accumulator over the same catalogue (for parallel evaluation).
    pub fn merge(mut self, other: MetricsAccumulator) -> Self {
        let (a, b) = (&mut self.sum, other.sum);
        a.precision += b.precision;
        a.recall += b.recall;
        a.f1 += b.f1;
        a.ndcg += b.ndcg;
        self.ndcg_squares += other.ndcg_squares;
        a.map += b.map;
        a.mrr += b.mrr;
        a.hit_rate += b.hit_rate;
        self.users += other.users;
        if self.recommended.len() < other.recommended.len() {
            self.recommended.resize(other.recommended.len(), false);
        }
        for (a, b) in self.recommended.iter_mut().zip(other.recommended) {
            *a |= b;
        }
        self
    }

    /// Users added so far.
    pub fn users(&self) -> usize {
        self.users
    }

    /// The averages.
    pub fn finish(&self) -> Metrics {
        let n = self.users.max(1) as f64;
        let s = &self.sum;
        let covered = self.recommended.iter().filter(|&&r| r).count();
        let ndcg = s.ndcg / n;
        // Sample variance of the per-user NDCG, then the standard error of its mean; with one
        // user there is no variance to estimate.
        let variance = if self.users > 1 {
            ((self.ndcg_squares - n * ndcg * ndcg) / (n - 1.0)).max(0.0)
        } else {
            f64::NAN
        };
        Metrics {
            precision: s.precision / n,
            recall: s.recall / n,
            f1: s.f1 / n,
            ndcg,
            ndcg_se: (variance / n).sqrt(),
            map: s.map / n,
            mrr: s.mrr / n,
            hit_rate: s.hit_rate / n,
            coverage: covered as f64 / self.recommended.len().max(1) as f64,
        }
    }
}

/// A standard error as printed: four decimals, or `n/a` where it does not exist (NaN).
pub fn fmt_se(se: f64) -> String {
    if se.is_nan() {
        "n/a".to_string()
    } else {
        format!("{se:.4}")
    }
}

/// Serde for a number that may be undefined: NaN is written as `null` and read back from it
/// (JSON has no NaN).
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// `null` for NaN, the number otherwise.
    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            serializer.serialize_none()
        } else {
            serializer.serialize_f64(*value)
        }
    }

    /// NaN for `null`, the number otherwise.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_user_has_no_standard_error_and_json_says_null() {
        let mut acc = MetricsAccumulator::new(10);
        acc.add(5, &[4, 1, 7, 2, 3], &[7]);
        let m = acc.finish();
        assert!(m.ndcg_se.is_nan());
        assert_eq!(fmt_se(m.ndcg_se), "n/a");
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"ndcg_se\":null"), "{json}");
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert!(back.ndcg_se.is_nan() && back.ndcg == m.ndcg);
        assert_eq!(fmt_se(0.01234), "0.0123");
    }

    #[test]
    fn single_relevant_item_at_rank_three() {
        let mut acc = MetricsAccumulator::new(10);
        acc.add(5, &[4, 1, 7, 2, 3], &[7]);
        let m = acc.finish();
        assert!(close(m.precision, 0.2));
        assert!(close(m.recall, 1.0));
        assert!(close(m.f1, 2.0 * 0.2 / 1.2));
        assert!(close(m.ndcg, 1.0 / 4f64.log2()));
        assert!(close(m.map, 1.0 / 3.0));
        assert!(close(m.mrr, 1.0 / 3.0));
        assert!(close(m.hit_rate, 1.0));
        assert!(close(m.coverage, 0.5));
    }

    #[test]
    fn several_relevant_items_and_averaging_over_users() {
        let mut a = MetricsAccumulator::new(6);
        // Relevant {0, 2, 5}; hits at ranks 1 and 3 of k = 3.
        a.add(3, &[0, 1, 2], &[0, 2, 5]);
        let mut b = MetricsAccumulator::new(6);
        b.add(3, &[3, 4, 1], &[5]); // a miss
        let m = a.merge(b).finish();
        let idcg3 = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(m.ndcg, (1.0 + 0.5) / idcg3 / 2.0));
        assert!(close(m.precision, (2.0 / 3.0) / 2.0));
        assert!(close(m.recall, (2.0 / 3.0) / 2.0));
        assert!(close(m.map, ((1.0 + 2.0 / 3.0) / 3.0) / 2.0));
        assert!(close(m.mrr, 0.5));
        assert!(close(m.hit_rate, 0.5));
        assert!(close(m.coverage, 5.0 / 6.0));
        // Two users with NDCG x and 0: sample standard deviation x / sqrt 2, over sqrt 2.
        let x = (1.0 + 0.5) / idcg3;
        assert!(close(m.ndcg_se, x / 2.0), "{}", m.ndcg_se);
    }
}
