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
    ///
    /// Each row is accumulated on its own, from the places its item takes in the users'
    /// timelines, so no list of all pairs is ever held: the memory is a few arrays of the
    /// interactions' length, and each row's sums are added in one fixed order.
    pub(crate) fn fit(
        indptr: &[u64],
        indices: &[u32],
        timestamps: &[i64],
        n_items: usize,
        window: usize,
        shrinkage: f32,
        neighbours: usize,
    ) -> Self {
        let timeline = Timeline::new(indptr, indices, timestamps, window);
        let into = timeline.column_sums(n_items);
        let (offsets, places) = timeline.places(n_items);
        let rows: Vec<Vec<(u32, f32)>> = (0..n_items)
            .into_par_iter()
            .map_init(
                || Accumulator::new(n_items),
                |acc, i| {
                    acc.reset(n_items);
                    for &place in &places[offsets[i]..offsets[i + 1]] {
                        timeline.pairs_from(place, |j, w| acc.add(j, w));
                    }
                    let out: f32 = acc.iter().map(|(_, w)| w).sum();
                    let mut row: Vec<(u32, f32)> = acc
                        .iter()
                        .map(|(j, w)| (j, w / ((out * into[j as usize]).sqrt() + shrinkage)))
                        .collect();
                    keep_best(&mut row, neighbours);
                    row.sort_unstable_by_key(|&(j, _)| j);
                    row
                },
            )
            .collect();
        let mut indptr = Vec::with_capacity(n_items + 1);
        indptr.push(0usize);
        let nnz = rows.iter().map(Vec::len).sum();
        let (mut cols, mut values) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
        for row in rows {
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

/// Every user's items in time order, one after the other, with each entry's step: the rank of
/// its timestamp among its user's distinct ones, offset per user so that a user's first step is
/// more than `window` steps after the previous user's last (a walk within the window never
/// crosses into another user, and timestamp ties never span two users).
struct Timeline {
    items: Vec<u32>,
    steps: Vec<u64>,
    window: usize,
}

impl Timeline {
    fn new(indptr: &[u64], indices: &[u32], timestamps: &[i64], window: usize) -> Self {
        let mut entries: Vec<(i64, u32)> = timestamps
            .iter()
            .copied()
            .zip(indices.iter().copied())
            .collect();
        let mut users = Vec::with_capacity(indptr.len().saturating_sub(1));
        let mut rest = entries.as_mut_slice();
        for range in indptr.windows(2) {
            let (user, tail) = rest.split_at_mut((range[1] - range[0]) as usize);
            users.push(user);
            rest = tail;
        }
        users.into_par_iter().for_each(|user| user.sort_unstable());
        let mut steps = Vec::with_capacity(entries.len());
        let mut step = 0u64;
        for range in indptr.windows(2) {
            let user = &entries[range[0] as usize..range[1] as usize];
            step += window as u64 + 1;
            for (n, e) in user.iter().enumerate() {
                if n > 0 && e.0 != user[n - 1].0 {
                    step += 1;
                }
                steps.push(step);
            }
        }
        Timeline {
            items: entries.into_iter().map(|e| e.1).collect(),
            steps,
            window,
        }
    }

    /// Calls `add(j, w)` for each ordered pair whose earlier side is the entry at `place`: a
    /// later entry `d` steps on (`1 <= d <= window`) with `1 / d`, an entry with the same
    /// timestamp (before or after it) with `1/2`; at most [`MAX_FOLLOWERS`] entries on each
    /// side, and never the item itself.
    fn pairs_from(&self, place: usize, mut add: impl FnMut(u32, f32)) {
        let (item, step) = (self.items[place], self.steps[place]);
        let after = place + 1..self.items.len().min(place + 1 + MAX_FOLLOWERS);
        for q in after {
            let d = (self.steps[q] - step) as usize;
            if d > self.window {
                break;
            }
            if self.items[q] != item {
                add(self.items[q], if d == 0 { 0.5 } else { 1.0 / d as f32 });
            }
        }
        let before = place.saturating_sub(MAX_FOLLOWERS)..place;
        for q in before.rev() {
            if self.steps[q] != step {
                break;
            }
            if self.items[q] != item {
                add(self.items[q], 0.5);
            }
        }
    }

    /// `in(j)`: the sum of column `j` over all pairs, users taken in fixed blocks whose sums
    /// are added in block order (the same bits on every run and thread count).
    fn column_sums(&self, n_items: usize) -> Vec<f32> {
        let len = self.items.len();
        let block = len.div_ceil(16).max(1);
        let partial: Vec<Vec<f32>> = (0..len)
            .step_by(block)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                let mut sums = vec![0f32; n_items];
                for place in start..(start + block).min(len) {
                    self.pairs_from(place, |j, w| sums[j as usize] += w);
                }
                sums
            })
            .collect();
        let mut into = vec![0f32; n_items];
        for sums in partial {
            into.iter_mut().zip(sums).for_each(|(a, b)| *a += b);
        }
        into
    }

    /// Where each item stands in the timeline: `(offsets, places)`, item `i`'s places being
    /// `places[offsets[i]..offsets[i + 1]]`, ascending.
    fn places(&self, n_items: usize) -> (Vec<usize>, Vec<usize>) {
        let mut offsets = vec![0usize; n_items + 1];
        for &item in &self.items {
            offsets[item as usize + 1] += 1;
        }
        for i in 0..n_items {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut places = vec![0usize; self.items.len()];
        for (place, &item) in self.items.iter().enumerate() {
            places[next[item as usize]] = place;
            next[item as usize] += 1;
        }
        (offsets, places)
    }
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
    fn rows_accumulated_in_place_equal_the_definition_summed_over_all_pairs() {
        // Random timelines with many same-day ties, over a few items so that pairs repeat.
        let mut state = 7u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % m
        };
        let mut rows = Vec::new();
        for user in 0..60 {
            let mut items: Vec<u32> = (0..12).collect();
            let len = 2 + next(9) as usize;
            for n in 0..len {
                let pick = n + next((12 - n) as u64) as usize;
                items.swap(n, pick);
                rows.push((user, items[n], next(6) as i64));
            }
        }
        rows.sort_unstable();
        let (window, shrinkage) = (2, 3.0);
        let users = 60;
        let mut indptr = vec![0u64; users + 1];
        rows.iter().for_each(|r| indptr[r.0 + 1] += 1);
        (0..users).for_each(|u| indptr[u + 1] += indptr[u]);
        let indices: Vec<u32> = rows.iter().map(|r| r.1).collect();
        let timestamps: Vec<i64> = rows.iter().map(|r| r.2).collect();
        let s = Sequence::fit(&indptr, &indices, &timestamps, 12, window, shrinkage, 100);
        // The definition, pair by pair, in f64.
        let mut raw = [[0f64; 12]; 12];
        for user in rows.chunk_by(|a, b| a.0 == b.0) {
            let mut entries: Vec<(i64, u32)> = user.iter().map(|r| (r.2, r.1)).collect();
            entries.sort_unstable();
            let mut distinct: Vec<i64> = entries.iter().map(|e| e.0).collect();
            distinct.dedup();
            let step = |t: i64| distinct.binary_search(&t).unwrap();
            for (p, &(tp, i)) in entries.iter().enumerate() {
                for &(tq, j) in &entries[p + 1..] {
                    let d = step(tq) - step(tp);
                    if d == 0 {
                        raw[i as usize][j as usize] += 0.5;
                        raw[j as usize][i as usize] += 0.5;
                    } else if d <= window {
                        raw[i as usize][j as usize] += 1.0 / d as f64;
                    }
                }
            }
        }
        let out: Vec<f64> = raw.iter().map(|row| row.iter().sum()).collect();
        let into: Vec<f64> = (0..12)
            .map(|j| raw.iter().map(|row| row[j]).sum())
            .collect();
        let mut compared = 0;
        for i in 0..12 {
            for j in 0..12 {
                let want = raw[i][j] / ((out[i] * into[j]).sqrt() + shrinkage as f64);
                let got = s.strength(i as u32, j as u32) as f64;
                assert!(
                    (got - want).abs() < 1e-6,
                    "T[{i}, {j}] = {got}, want {want}"
                );
                compared += (want > 0.0) as usize;
            }
        }
        assert!(compared > 50, "only {compared} pairs");
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
