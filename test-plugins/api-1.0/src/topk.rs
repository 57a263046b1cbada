use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// An item index with its score. Higher scores rank first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Item index in the training data's item space.
    pub item: u32,
    /// Score; only the order matters to the host, except in score blends.
    pub score: f32,
}

/// Heap entry ordered so that the *worst* kept candidate is at the top of a max-heap.
struct Worst(Scored);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        // Better = higher score, then lower item index. The heap top is the worst one.
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.item.cmp(&other.0.item))
    }
}

/// The `k` best `(item, score)` pairs from an iterator, best first; ties go to the lower item
/// index. Non-finite scores are skipped.
pub fn top_k_iter(scores: impl IntoIterator<Item = (u32, f32)>, k: usize) -> Vec<Scored> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k.min(4096) + 1);
    for (item, score) in scores {
        if !score.is_finite() {
            continue;
        }
        let candidate = Worst(Scored { item, score });
        if heap.len() < k {
            heap.push(candidate);
        } else if let Some(mut top) = heap.peek_mut() {
            if candidate < *top {
                *top = candidate;
            }
        }
    }
    let mut out: Vec<Scored> = heap.into_iter().map(|w| w.0).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    out
}

/// The `k` best items of a dense score vector (index = item), best first, skipping the items
/// in `exclude` (sorted ascending, as [`crate::Query::exclude`] is) and non-finite scores.
///
/// Once `k` candidates are held, an item is only looked at further when its score can enter
/// the list, so this costs little more than one pass over `scores`.
pub fn top_k(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<Scored> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k.min(scores.len()) + 1);
    // The worst kept score once the heap is full; below it nothing can enter.
    let mut threshold = f32::NEG_INFINITY;
    for (i, &score) in scores.iter().enumerate() {
        if score < threshold || !score.is_finite() {
            continue;
        }
        let item = i as u32;
        if exclude.binary_search(&item).is_ok() {
            continue;
        }
        let candidate = Worst(Scored { item, score });
        if heap.len() < k {
            heap.push(candidate);
        } else if let Some(mut top) = heap.peek_mut() {
            if candidate < *top {
                *top = candidate;
            }
        }
        if heap.len() == k {
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

    #[test]
    fn picks_best_excludes_and_breaks_ties_by_index() {
        let scores = [0.5, 3.0, f32::NAN, 3.0, 1.0, 2.0];
        let got = top_k(&scores, 3, &[1]);
        let items: Vec<u32> = got.iter().map(|s| s.item).collect();
        assert_eq!(items, vec![3, 5, 4]);
        assert_eq!(top_k(&scores, 10, &[]).len(), 5);
        assert!(top_k(&scores, 0, &[]).is_empty());
        let tie = top_k(&[1.0, 1.0, 1.0], 2, &[]);
        assert_eq!((tie[0].item, tie[1].item), (0, 1));
        let inf = top_k(&[f32::INFINITY, 1.0, f32::NEG_INFINITY], 3, &[]);
        assert_eq!(inf.iter().map(|s| s.item).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn dense_and_iterator_versions_agree() {
        let scores: Vec<f32> = (0..1000u32)
            .map(|i| ((i * 7919) % 101) as f32 / 7.0)
            .collect();
        let exclude: Vec<u32> = (0..1000).step_by(3).collect();
        let candidates = scores
            .iter()
            .enumerate()
            .filter(|(i, _)| exclude.binary_search(&(*i as u32)).is_err())
            .map(|(i, &s)| (i as u32, s));
        assert_eq!(top_k(&scores, 25, &exclude), top_k_iter(candidates, 25));
    }
}
