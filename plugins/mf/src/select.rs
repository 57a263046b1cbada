//! Top-k selection over a dense score vector, faster than a heap push per item.
//!
//! Same contract and result as [`recsys_plugin_api::top_k`] (best first, ties to the lower
//! item index, excluded and non-finite scores skipped), but an item is compared with the
//! current k-th best score first, a single float comparison, and only the few that beat it
//! touch the heap or the exclusion list. Over 100k items that is several times faster.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use recsys_plugin_api::{top_k, Scored};

/// Above this `k` the plain heap of the plugin API is as good.
const MAX_FAST_K: usize = 1024;

/// Heap entry whose maximum is the worst kept candidate.
struct Worst(Scored);

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.item.cmp(&other.0.item))
    }
}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}

/// The `k` best items of `scores` (index = item), best first, skipping `exclude` (sorted).
pub fn top_k_scores(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<Scored> {
    if k == 0 {
        return Vec::new();
    }
    if k > MAX_FAST_K {
        return top_k(scores, k, exclude);
    }
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
    // Items are visited in increasing order, so an item that only ties the k-th best loses the
    // tie (it has the higher index): strictly greater is needed to enter a full heap.
    let mut threshold = f32::NEG_INFINITY;
    let mut full = false;
    for (i, &score) in scores.iter().enumerate() {
        if full && score <= threshold {
            continue;
        }
        let item = i as u32;
        if !score.is_finite() || exclude.binary_search(&item).is_ok() {
            continue;
        }
        heap.push(Worst(Scored { item, score }));
        if heap.len() > k {
            heap.pop();
        }
        if heap.len() == k {
            full = true;
            threshold = heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
        }
    }
    let mut out: Vec<Scored> = heap.into_iter().map(|w| w.0).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn agrees_with_the_plugin_api() {
        let mut rng = Rng::new(11);
        for n in [0usize, 1, 5, 100, 3000] {
            // Few distinct values, so that there are many ties; some non-finite ones.
            let mut scores: Vec<f32> = (0..n).map(|_| rng.below(20) as f32 - 5.0).collect();
            if n > 10 {
                scores[3] = f32::NAN;
                scores[7] = f32::INFINITY;
            }
            let exclude: Vec<u32> = (0..n as u32).filter(|i| i % 7 == 2).collect();
            for k in [0, 1, 3, 10, 64, n, n + 5, 2000] {
                assert_eq!(
                    top_k_scores(&scores, k, &exclude),
                    top_k(&scores, k, &exclude),
                    "n = {n}, k = {k}"
                );
            }
        }
    }
}
