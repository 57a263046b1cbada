//! Times the item-kNN model build (cosine, 100 neighbours, no shrinkage) on a power-law random
//! users x items matrix, on a 2-thread rayon pool, and prints a checksum of the saved model so
//! that two builds can be compared for identical output.
//!
//! `cargo run --release -p recsys-cf --example knn_scale -- [USERS ITEMS]` (default 500000
//! 100000: about 9.5M interactions, the shape of a 10M data set's training split).

use std::time::Instant;

use recsys_cf::Cf;
use recsys_plugin_api::{CsrView, Params, Recommender, TrainData};

/// xorshift64: deterministic and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Users x items: item popularity Zipf (exponent 0.95, at most `items / 2.5` users per item),
/// user activity Pareto (mean about 19, at most 2000 items).
fn matrix(users: usize, items: usize) -> (Vec<u64>, Vec<u32>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cdf = Vec::with_capacity(items);
    let mut total = 0.0;
    for i in 0..items {
        total += 1.0 / ((i + 1) as f64).powf(0.95);
        cdf.push(total);
    }
    let cap = (items as f64 / 2.5) as u32;
    let mut count = vec![0u32; items];
    let (mut indptr, mut indices) = (vec![0u64], Vec::new());
    let mut row = Vec::new();
    for _ in 0..users {
        // Pareto with alpha 1.5 and scale 7 (mean 21, about 19 after the caps and duplicates).
        let u = rng.next_f64().max(1e-12);
        let n = (7.0 * u.powf(-1.0 / 1.5)) as usize;
        let n = n.clamp(1, 2000);
        row.clear();
        for _ in 0..n {
            for _ in 0..8 {
                let i = cdf.partition_point(|&c| c < rng.next_f64() * total);
                let i = i.min(items - 1);
                if count[i] < cap {
                    row.push(i as u32);
                    break;
                }
            }
        }
        row.sort_unstable();
        row.dedup();
        for &i in &row {
            count[i as usize] += 1;
        }
        indices.extend_from_slice(&row);
        indptr.push(indices.len() as u64);
    }
    (indptr, indices)
}

/// FNV-1a.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let (users, items) = match args[..] {
        [u, i] => (u, i),
        [] => (500_000, 100_000),
        _ => return Err("arguments: [USERS ITEMS]".into()),
    };
    let (indptr, indices) = matrix(users, items);
    let values = vec![1.0; indices.len()];
    let x = CsrView::new(users, items, &indptr, &indices, &values)?;
    let data = TrainData::new(x);
    let params = Params::from_json(r#"{"neighbours": 100, "shrinkage": 0.0}"#)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
    let start = Instant::now();
    let model = pool.install(|| Cf::train(&data, &params))?;
    let secs = start.elapsed().as_secs_f64();
    let checksum = fnv(&model.save()?);
    println!(
        "{users} x {items}, {} interactions: build {secs:.2} s, checksum {checksum:016x}",
        indices.len()
    );
    Ok(())
}
