//! Item popularity: the fallback for empty histories and for filling short result lists.

use recsys_plugin_api::Scored;

use crate::matrix::Csr;

/// Interaction counts per item and the items ordered by them.
#[derive(Debug, Clone)]
pub(crate) struct Popularity {
    counts: Vec<f32>,
    /// Items by count descending, then index ascending.
    order: Vec<u32>,
}

impl Popularity {
    /// Popularity from counts per item.
    pub(crate) fn from_counts(counts: Vec<f32>) -> Self {
        let mut order: Vec<u32> = (0..counts.len() as u32).collect();
        order.sort_by(|&a, &b| {
            counts[b as usize]
                .total_cmp(&counts[a as usize])
                .then(a.cmp(&b))
        });
        Popularity { counts, order }
    }

    /// The number of users who interacted with each item of the user x item matrix `x`.
    pub(crate) fn of(x: &Csr) -> Self {
        let mut counts = vec![0.0f32; x.cols()];
        for &item in x.indices() {
            counts[item as usize] += 1.0;
        }
        Self::from_counts(counts)
    }

    /// Counts per item.
    pub(crate) fn counts(&self) -> &[f32] {
        &self.counts
    }

    /// Appends the most popular items that are neither in `exclude` (sorted) nor `taken`
    /// until `out` holds `k` items; each gets `score(item)`.
    pub(crate) fn fill(
        &self,
        out: &mut Vec<Scored>,
        k: usize,
        exclude: &[u32],
        taken: impl Fn(u32) -> bool,
        score: impl Fn(u32) -> f32,
    ) {
        for &item in &self.order {
            if out.len() >= k {
                break;
            }
            if exclude.binary_search(&item).is_err() && !taken(item) {
                out.push(Scored {
                    item,
                    score: score(item),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::tests::dense;

    #[test]
    fn counts_orders_and_fills() {
        let x = dense(&[
            &[1.0, 0.0, 5.0, 0.0],
            &[0.0, 0.0, 2.0, 1.0],
            &[3.0, 0.0, 1.0, 0.0],
        ]);
        let p = Popularity::of(&x);
        assert_eq!(p.counts(), &[2.0, 0.0, 3.0, 1.0]);
        let mut out = Vec::new();
        p.fill(&mut out, 3, &[], |_| false, |i| p.counts()[i as usize]);
        let items: Vec<u32> = out.iter().map(|s| s.item).collect();
        assert_eq!(items, vec![2, 0, 3]);
        let mut out = vec![Scored {
            item: 3,
            score: 9.0,
        }];
        p.fill(&mut out, 3, &[2], |i| i == 3, |_| 0.0);
        let items: Vec<u32> = out.iter().map(|s| s.item).collect();
        assert_eq!(items, vec![3, 0, 1]);
    }
}
