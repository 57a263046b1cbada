//! Ranking many users at once ([`crate::MatrixFactorization::recommend_many`]): the scores of a
//! block of users for a tile of items are one matrix product, and each user's top `k` is kept
//! across the tiles.
//!
//! Scoring one user streams every item vector from memory for one multiply-add each (100k
//! items x 64 factors is 25.6 MB per user), so per-user scoring is bound by memory bandwidth.
//! Here the catalogue is read one tile at a time, and while a tile is in cache every block of
//! users is multiplied with it ([`gemm_nt`]): the item factors are read once per call instead
//! of once per user. Each product fills a `users x items` score block small enough to stay in
//! cache while it is scanned; a user's running threshold (the worst score kept once `k` are
//! held) rejects most scores with one comparison.

use recsys_plugin_api::{Scored, TopK};

use crate::linalg::gemm_nt;

/// How a batch is cut into matrix products.
#[derive(Debug, Clone, Copy)]
pub struct Blocking {
    /// Users per product (rows of the score block).
    pub users: usize,
    /// Items per tile (columns of the score block).
    pub items: usize,
}

impl Blocking {
    /// 128 users x 512 items: a 256 KiB score block and a 128 KiB item tile at 64 factors,
    /// both within a core's L2 cache. On the `mf` bench (1,024 users, 100k items, 64 factors,
    /// 256 users per call, one thread, on a machine shared with a build) 32 to 256 users x
    /// 256 to 4096 items took 260 to 370 ms: 128 x 256, 128 x 512 and 256 x 512 260 to 280 ms,
    /// 64 x 1024 about 345 ms, 64 x 4096 about 360 ms.
    pub const DEFAULT: Blocking = Blocking {
        users: 128,
        items: 512,
    };
}

/// What one user of a batch asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// How many items to return at most.
    pub k: usize,
    /// Items not to return, sorted ascending.
    pub exclude: &'a [u32],
}

/// The best items of each user, best first: user `u`'s vector is row `u` of the row-major
/// `users` matrix, scored against every row of the row-major `items` matrix (`factors` values
/// per row) plus `bias` (one per item, or empty). Each list holds what
/// [`recsys_plugin_api::top_k`] returns for the user's scores, `requests[u].k` and
/// `requests[u].exclude`.
pub fn top_k_many(
    users: &[f32],
    requests: &[Request<'_>],
    items: &[f32],
    bias: &[f32],
    factors: usize,
    blocking: Blocking,
) -> Vec<Vec<Scored>> {
    let n_items = items.len() / factors;
    let mut tops: Vec<TopK<'_>> = requests
        .iter()
        .map(|r| TopK::new(r.k, r.exclude, n_items))
        .collect();
    let (block_users, tile_items) = (blocking.users.max(1), blocking.items.max(1));
    let mut block = vec![0.0f32; block_users.min(requests.len()) * tile_items.min(n_items)];
    for first in (0..n_items).step_by(tile_items) {
        let tile = tile_items.min(n_items - first);
        let ys = &items[first * factors..(first + tile) * factors];
        let users = users.chunks(block_users * factors);
        for (xs, tops) in users.zip(tops.chunks_mut(block_users)) {
            let scores = &mut block[..tops.len() * tile];
            // The bias enters as the product's initial value: `scores = X Yᵀ + 1 · bias`.
            let beta = match bias.get(first..first + tile) {
                Some(b) => {
                    scores
                        .chunks_exact_mut(tile)
                        .for_each(|row| row.copy_from_slice(b));
                    1.0
                }
                None => 0.0,
            };
            gemm_nt(xs, ys, factors, beta, scores);
            for (top, row) in tops.iter_mut().zip(scores.chunks_exact(tile)) {
                top.scan(first as u32, row);
            }
        }
    }
    tops.into_iter().map(TopK::into_sorted).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::dots;
    use crate::rng::Rng;
    use recsys_plugin_api::top_k;

    #[test]
    fn matches_top_k_over_every_blocking() {
        let (n_users, n_items, factors) = (11, 53, 8);
        let mut rng = Rng::new(17);
        let mut values = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.next_f32() - 0.5).collect() };
        let users = values(n_users * factors);
        let items = values(n_items * factors);
        let bias = values(n_items);
        // Integral values: every sum is exact in any order, so the lists must be identical,
        // ties included.
        let round = |v: Vec<f32>| -> Vec<f32> { v.iter().map(|x| (x * 8.0).round()).collect() };
        let (users, items, bias) = (round(users), round(items), round(bias));
        let excludes: Vec<Vec<u32>> = (0..n_users as u32)
            .map(|u| (0..n_items as u32).filter(|i| (i + u) % 4 == 0).collect())
            .collect();
        let requests: Vec<Request<'_>> = excludes
            .iter()
            .enumerate()
            .map(|(u, exclude)| Request {
                k: [0, 1, 5, 20, 100][u % 5],
                exclude,
            })
            .collect();
        for bias in [&bias[..], &[]] {
            let want: Vec<Vec<Scored>> = (0..n_users)
                .map(|u| {
                    let mut s = vec![0.0; n_items];
                    dots(&items, &users[u * factors..(u + 1) * factors], &mut s);
                    s.iter_mut().zip(bias).for_each(|(s, b)| *s += b);
                    top_k(&s, requests[u].k, requests[u].exclude)
                })
                .collect();
            for (users_per_block, items_per_tile) in [(1, 1), (3, 7), (4, 53), (64, 1024)] {
                let blocking = Blocking {
                    users: users_per_block,
                    items: items_per_tile,
                };
                let got = top_k_many(&users, &requests, &items, bias, factors, blocking);
                assert_eq!(got, want, "{blocking:?}, bias: {}", !bias.is_empty());
            }
        }
        assert!(top_k_many(&[], &[], &items, &bias, factors, Blocking::DEFAULT).is_empty());
    }

    #[test]
    fn skips_non_finite_scores() {
        let items = [1.0, f32::INFINITY, 2.0, 0.5];
        let request = Request { k: 4, exclude: &[] };
        let got = top_k_many(&[1.0], &[request], &items, &[], 1, Blocking::DEFAULT);
        let order: Vec<u32> = got[0].iter().map(|s| s.item).collect();
        assert_eq!(order, vec![2, 0, 3]);
    }
}
