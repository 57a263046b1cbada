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
#[derive(Debug)]
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
    let mut top = TopK::new(k, exclude, scores.len());
    top.scan(0, scores);
    top.into_sorted()
}

/// [`top_k`] over scores that arrive in pieces: tiles of consecutive items, in item order
/// (a plugin that scores a block of users one tile of the catalogue at a time keeps one per
/// user). The result is what [`top_k`] gives for the whole vector.
#[derive(Debug)]
pub struct TopK<'a> {
    k: usize,
    exclude: &'a [u32],
    heap: BinaryHeap<Worst>,
    /// The worst kept score once `k` are held; below it nothing can enter.
    threshold: f32,
}

impl<'a> TopK<'a> {
    /// An empty list for at most `k` items out of `n_items`, none of `exclude` (sorted).
    pub fn new(k: usize, exclude: &'a [u32], n_items: usize) -> Self {
        TopK {
            k,
            exclude,
            heap: BinaryHeap::with_capacity(k.min(n_items) + 1),
            threshold: f32::NEG_INFINITY,
        }
    }

    /// Offers the scores of items `first..first + scores.len()`. Tiles must come in item
    /// order: a score equal to a kept one loses to the kept item of lower index.
    pub fn scan(&mut self, first: u32, scores: &[f32]) {
        if self.k == 0 {
            return;
        }
        let mut threshold = self.threshold;
        for (j, &score) in scores.iter().enumerate() {
            if score < threshold || !score.is_finite() {
                continue;
            }
            let item = first + j as u32;
            if self.exclude.binary_search(&item).is_ok() {
                continue;
            }
            let candidate = Worst(Scored { item, score });
            if self.heap.len() < self.k {
                self.heap.push(candidate);
            } else if let Some(mut top) = self.heap.peek_mut() {
                if candidate < *top {
                    *top = candidate;
                }
            }
            if self.heap.len() == self.k {
                threshold = self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
            }
        }
        self.threshold = threshold;
    }

    /// The kept items, best first (ties to the lower item index).
    pub fn into_sorted(self) -> Vec<Scored> {
        let mut out: Vec<Scored> = self.heap.into_iter().map(|w| w.0).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        out
    }
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
        for tile in [1, 7, 64, 1000] {
            let mut top = TopK::new(25, &exclude, scores.len());
            for (t, chunk) in scores.chunks(tile).enumerate() {
                top.scan((t * tile) as u32, chunk);
            }
            assert_eq!(
                top.into_sorted(),
                top_k(&scores, 25, &exclude),
                "tiles of {tile}"
            );
        }
    }
}
