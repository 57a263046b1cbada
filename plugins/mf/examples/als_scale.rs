//! ALS fit time at the scale of the 10M-interaction peer benchmark (`scripts/bench-peers.sh`:
//! 500k users x 100k items, 9.5M training interactions, 64 factors, 15 sweeps, 2 threads), on
//! a random matrix shaped like `recsys synth`'s: user activity ~ 1 / rank^0.7, item popularity
//! ~ 1 / rank^0.95 capped at 40k users, both shuffled (the share of the interactions on items
//! with more than 256, 1k, 4k, 16k users is about that of the synth data set's). Prints the fit
//! time and a checksum of the factors' bits, so that two builds can be checked for identical
//! results.
//!
//! ```text
//! cargo run --release -p recsys-mf --example als_scale -- [--users 500000] [--items 100000] \
//!     [--interactions 9500000] [--iterations 15] [--threads 2] [--factors 64]
//! ```

use std::time::Instant;

use anyhow::Context;
use recsys_mf::als::{Als, AlsConfig};
use recsys_mf::confidence::Confidence;
use recsys_mf::matrix::ConfidenceMatrix;
use recsys_mf::rng::Rng;
use recsys_plugin_api::CsrView;

/// Counts proportional to `1 / rank^exponent` summing to about `total`, in shuffled order.
fn power_law(n: usize, exponent: f64, total: usize, cap: usize, rng: &mut Rng) -> Vec<usize> {
    let weights: Vec<f64> = (1..=n).map(|r| 1.0 / (r as f64).powf(exponent)).collect();
    let sum: f64 = weights.iter().sum();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((w / sum * total as f64).round() as usize).clamp(1, cap))
        .collect();
    for i in (1..n).rev() {
        counts.swap(i, rng.below(i + 1));
    }
    counts
}

/// A users x items CSR matrix with about `nnz` distinct entries, all 1.
fn synthetic(users: usize, items: usize, nnz: usize) -> (Vec<u64>, Vec<u32>, Vec<f32>) {
    let mut rng = Rng::new(7);
    let activity = power_law(users, 0.7, nnz, items / 2, &mut rng);
    let popularity = power_law(items, 0.95, nnz, 40_000, &mut rng);
    let mut cumulative = Vec::with_capacity(items);
    let mut acc = 0.0f64;
    for &p in &popularity {
        acc += p as f64;
        cumulative.push(acc);
    }
    let (mut indptr, mut indices) = (vec![0u64], Vec::with_capacity(nnz));
    let mut row = Vec::new();
    for &n in &activity {
        row.clear();
        // Draw until the row has `n` distinct items (or give up after 4n draws).
        for _ in 0..4 * n {
            let x = f64::from(rng.next_f32()) * acc;
            row.push(cumulative.partition_point(|&c| c <= x).min(items - 1) as u32);
            if row.len() >= n {
                row.sort_unstable();
                row.dedup();
                if row.len() >= n {
                    break;
                }
            }
        }
        row.sort_unstable();
        row.dedup();
        indices.extend_from_slice(&row);
        indptr.push(indices.len() as u64);
    }
    let values = vec![1.0f32; indices.len()];
    (indptr, indices, values)
}

/// FNV-1a over the bits of the factors.
fn checksum(values: &[f32]) -> u64 {
    values.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
        (h ^ u64::from(v.to_bits())).wrapping_mul(0x100_0000_01b3)
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: usize| -> anyhow::Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(p) => Ok(args.get(p + 1).context("missing value")?.parse()?),
            None => Ok(default),
        }
    };
    let users = arg("--users", 500_000)?;
    let items = arg("--items", 100_000)?;
    let nnz = arg("--interactions", 9_500_000)?;
    let iterations = arg("--iterations", 15)?;
    let threads = arg("--threads", 2)?;
    let factors = arg("--factors", 64)?;

    let t0 = Instant::now();
    let (indptr, indices, values) = synthetic(users, items, nnz);
    let view = CsrView::new(users, items, &indptr, &indices, &values)?;
    let matrix = ConfidenceMatrix::new(
        &view,
        Confidence {
            alpha: 1.0,
            binary: true,
        },
    )?;
    let max_item = (0..items)
        .map(|i| matrix.by_item().outer_view(i).map_or(0, |r| r.nnz()))
        .max()
        .unwrap_or(0);
    println!(
        "synthetic: {users} users x {items} items, nnz {}, most popular item {max_item} users \
         ({:.1}s)",
        indices.len(),
        t0.elapsed().as_secs_f64()
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let config = AlsConfig {
        factors,
        regularization: 0.05,
        cg_steps: 3,
        seed: 42,
    };
    let (users, items, seconds) = pool.install(|| {
        let mut als = Als::new(&matrix, config);
        let t = Instant::now();
        for _ in 0..iterations {
            als.iterate();
        }
        let seconds = t.elapsed().as_secs_f64();
        let (users, items) = als.into_factors();
        (users, items, seconds)
    });
    assert!(users.iter().chain(&items).all(|v| v.is_finite()));
    println!(
        "als fit {seconds:.2}s ({:.3}s/sweep, {factors} factors, {threads} threads), \
         checksum users {:016x} items {:016x}",
        seconds / iterations as f64,
        checksum(&users),
        checksum(&items)
    );
    Ok(())
}
