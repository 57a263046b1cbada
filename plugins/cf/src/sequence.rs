//! Ordered co-occurrence: which items users took after which, from the training timestamps.
//!
//! Each user's training items are put in time order; an item `j` taken `d` steps after an item
//! `i` (steps count distinct timestamps, `1 <= d <= window`) adds `1 / d` to `T[i, j]`, and two
//! items with the same timestamp, whose order is unknown, add `1/2` in each direction. The
//! counts are then normalised like a cosine with shrinkage, `T[i, j] / (sqrt(out(i) · in(j)) +
//! shrinkage)` with `out(i)` the sum of row `i` and `in(j)` that of column `j` (the shrinkage
//! damps pairs that rest on a few users), and each row keeps its `neighbours` best entries.
//! Unlike the kNN similarities, `T` is directional: it answers "what comes next".

use rayon::prelude::*;

use crate::accumulator::Accumulator;
use crate::history::HistoryVector;
use crate::item_knn::ItemKnn;
use crate::matrix::Csr;
use crate::similarity::keep_best;

/// At most this many later entries of a user's time-ordered history are paired with each
/// entry: it bounds the work on histories whose timestamps are all equal (every pair a tie).
pub(crate) const MAX_FOLLOWERS: usize = 100;

/// The item x item matrix of normalised ordered co-occurrences (row `i`: what follows `i`),
/// kept and walked as item-kNN keeps its neighbourhoods.
#[derive(Debug, Clone)]
pub(crate) struct Sequence {
    next: ItemKnn,
}

impl Sequence {
    /// Counts the ordered pairs of each user's history (`indptr`, `indices`: the users x items
    /// interaction matrix; `timestamps` aligned with `indices`), then normalises (with
    /// `shrinkage`) and keeps the `neighbours` best followers of each of the `n_items` items.
    pub(crate) fn fit(
        indptr: &[u64],
        indices: &[u32],
        timestamps: &[i64],
        n_items: usize,
        window: usize,
        shrinkage: f32,
        neighbours: usize,
    ) -> Self {
        let users = indptr.len().saturating_sub(1);
        let mut pairs: Vec<(u32, u32, f32)> = (0..users)
            .into_par_iter()
            .flat_map_iter(|u| {
                let (start, end) = (indptr[u] as usize, indptr[u + 1] as usize);
                user_pairs(&indices[start..end], &timestamps[start..end], window)
            })
            .collect();
        // The weight is part of the key: the duplicates of a pair are then summed in one order
        // whatever the parallel sort did, so the float sums (and rankings) repeat exactly.
        pairs.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        // Sum the duplicates of each (i, j) and the rows and columns.
        let mut merged: Vec<(u32, u32, f32)> = Vec::with_capacity(pairs.len());
        for (i, j, w) in pairs {
            match merged.last_mut() {
                Some(last) if (last.0, last.1) == (i, j) => last.2 += w,
                _ => merged.push((i, j, w)),
            }
        }
        let (mut out, mut into) = (vec![0f32; n_items], vec![0f32; n_items]);
        for &(i, j, w) in &merged {
            out[i as usize] += w;
            into[j as usize] += w;
        }
        let mut indptr = Vec::with_capacity(n_items + 1);
        let (mut cols, mut values) = (Vec::new(), Vec::new());
        indptr.push(0usize);
        let mut rest = merged.as_slice();
        for i in 0..n_items as u32 {
            let len = rest.iter().take_while(|p| p.0 == i).count();
            let (this, tail) = rest.split_at(len);
            rest = tail;
            let mut row: Vec<(u32, f32)> = this
                .iter()
                .map(|&(_, j, w)| {
                    (
                        j,
                        w / ((out[i as usize] * into[j as usize]).sqrt() + shrinkage),
                    )
                })
                .collect();
            keep_best(&mut row, neighbours);
            row.sort_unstable_by_key(|&(j, _)| j);
            for (j, v) in row {
                cols.push(j);
                values.push(v);
            }
            indptr.push(cols.len());
        }
        let next = Csr::try_new((n_items, n_items), indptr, cols, values)
            .unwrap_or_else(|_| unreachable!("rows are built sorted and in range"));
        Sequence::from_matrix(next)
    }

    /// Wraps a loaded matrix (square, rows = the followers of each item).
    pub(crate) fn from_matrix(next: Csr) -> Self {
        Sequence {
            next: ItemKnn::from_similarities(next),
        }
    }

    /// The item x item matrix.
    pub(crate) fn matrix(&self) -> &Csr {
        self.next.similarities()
    }

    /// Adds `weight · w_h · T[h, j]` to `acc[j]` for every history item `h` and follower `j`.
    pub(crate) fn score(&self, history: &HistoryVector, weight: f32, acc: &mut Accumulator) {
        self.next.score(history, weight, acc);
    }

    /// `T[from, to]`: 0 unless `to` is one of `from`'s stored followers.
    pub(crate) fn strength(&self, from: u32, to: u32) -> f32 {
        self.next.similarity(from, to)
    }

    /// The `k` strongest followers of `item`, best first.
    #[cfg(test)]
    pub(crate) fn followers(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        self.next.similar(item, k)
    }
}

/// The weighted ordered pairs `(earlier, later, weight)` of one user's history.
fn user_pairs(items: &[u32], timestamps: &[i64], window: usize) -> Vec<(u32, u32, f32)> {
    let mut entries: Vec<(i64, u32)> = timestamps
        .iter()
        .copied()
        .zip(items.iter().copied())
        .collect();
    entries.sort_unstable();
    // Steps: the rank of each entry's timestamp among the user's distinct timestamps.
    let mut steps = Vec::with_capacity(entries.len());
    let mut step = 0usize;
    for (n, e) in entries.iter().enumerate() {
        if n > 0 && e.0 != entries[n - 1].0 {
            step += 1;
        }
        steps.push(step);
    }
    let mut pairs = Vec::new();
    for p in 0..entries.len() {
        for q in p + 1..entries.len().min(p + 1 + MAX_FOLLOWERS) {
            let d = steps[q] - steps[p];
            if d > window {
                break;
            }
            let (i, j) = (entries[p].1, entries[q].1);
            if i == j {
                continue;
            }
            if d == 0 {
                pairs.push((i, j, 0.5));
                pairs.push((j, i, 0.5));
            } else {
                pairs.push((i, j, 1.0 / d as f32));
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fits on `(user, item, timestamp)` triples (sorted by user, then item, as a CSR).
    fn fit(n_items: usize, rows: &[(usize, u32, i64)], window: usize, k: usize) -> Sequence {
        let users = rows.iter().map(|r| r.0 + 1).max().unwrap_or(0);
        let mut indptr = vec![0u64; users + 1];
        for r in rows {
            indptr[r.0 + 1] += 1;
        }
        for u in 0..users {
            indptr[u + 1] += indptr[u];
        }
        let indices: Vec<u32> = rows.iter().map(|r| r.1).collect();
        let timestamps: Vec<i64> = rows.iter().map(|r| r.2).collect();
        Sequence::fit(&indptr, &indices, &timestamps, n_items, window, 0.0, k)
    }

    #[test]
    fn counts_what_follows_within_the_window_and_normalises_like_a_cosine() {
        // User 0: 0 then 1 then 2 (timestamps out of item order); user 1: 0 then 2.
        let s = fit(
            3,
            &[(0, 0, 10), (0, 1, 20), (0, 2, 30), (1, 0, 5), (1, 2, 9)],
            2,
            10,
        );
        // Raw: T[0,1] = 1, T[0,2] = 1/2 + 1, T[1,2] = 1; out = (2.5, 1, 0), in = (0, 1, 2.5).
        let expect = |raw: f32, out: f32, into: f32| raw / (out * into).sqrt();
        assert!((s.strength(0, 1) - expect(1.0, 2.5, 1.0)).abs() < 1e-6);
        assert!((s.strength(0, 2) - expect(1.5, 2.5, 2.5)).abs() < 1e-6);
        assert!((s.strength(1, 2) - expect(1.0, 1.0, 2.5)).abs() < 1e-6);
        // Directional: nothing comes before 0 or after 2.
        for (from, to) in [(1, 0), (2, 0), (2, 1)] {
            assert_eq!(s.strength(from, to), 0.0, "{from} -> {to}");
        }
        // A window of 1 drops the two-step pair 0 -> 2 of user 0.
        let s = fit(3, &[(0, 0, 10), (0, 1, 20), (0, 2, 30)], 1, 10);
        assert_eq!(s.strength(0, 2), 0.0);
        assert!(s.strength(0, 1) > 0.0 && s.strength(1, 2) > 0.0);
    }

    #[test]
    fn ties_count_half_in_each_direction_and_steps_count_distinct_times() {
        // 0 and 1 on the same day, then 2: one step after both.
        let s = fit(3, &[(0, 0, 7), (0, 1, 7), (0, 2, 8)], 1, 10);
        // Raw: T[0,1] = T[1,0] = 1/2, T[0,2] = T[1,2] = 1; out = (1.5, 1.5, 0), in = (.5, .5, 2).
        assert!((s.strength(0, 1) - 0.5 / (1.5f32 * 0.5).sqrt()).abs() < 1e-6);
        assert_eq!(s.strength(0, 1), s.strength(1, 0));
        assert!((s.strength(0, 2) - 1.0 / (1.5f32 * 2.0).sqrt()).abs() < 1e-6);
        assert_eq!(s.strength(0, 2), s.strength(1, 2));
    }

    #[test]
    fn rows_keep_their_best_followers() {
        // 0 is followed by 1 (by three users), 2 (two) and 3 (one).
        let mut rows = Vec::new();
        for (user, later) in [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3)] {
            rows.push((user, 0, 1));
            rows.push((user, later, 2));
        }
        let s = fit(4, &rows, 3, 2);
        let followers: Vec<u32> = s.followers(0, 10).into_iter().map(|p| p.0).collect();
        assert_eq!(followers, [1, 2]);
        assert_eq!(s.strength(0, 3), 0.0);
    }

    #[test]
    fn equal_timestamps_everywhere_stay_bounded_and_symmetric() {
        let rows: Vec<(usize, u32, i64)> = (0..300).map(|i| (0, i, 0)).collect();
        let s = fit(300, &rows, 3, 1000);
        // Each entry is paired with at most MAX_FOLLOWERS later ones, in both directions.
        assert!(s.matrix().nnz() <= 2 * 300 * MAX_FOLLOWERS);
        assert_eq!(s.strength(5, 6), s.strength(6, 5));
        assert!(s.strength(5, 6) > 0.0);
    }
}
