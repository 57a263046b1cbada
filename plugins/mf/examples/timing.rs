//! Rough timings until the criterion benches exist: ALS and BPR fits on a synthetic power-law
//! matrix (shaped like the peer script `scale_bench.py`: users = nnz / 20, items = nnz / 50),
//! and the latency of `recommend` (fold-in of a 20-item history, scoring, top-10) on a
//! 100k-item, 64-factor model.
//!
//! ```text
//! cargo run --release -p recsys-mf --example timing -- [--interactions 1000000] [--threads 2] \
//!     [--items 100000] [--als-only]
//! ```

use std::time::Instant;

use anyhow::Context;
use recsys_mf::rng::Rng;
use recsys_mf::{Algorithm, MatrixFactorization, MfParams, ModelParts};
use recsys_plugin_api::{CsrView, Query, TrainData};

/// Index drawn with probability proportional to `weights` (given as a cumulative sum).
fn draw(cumulative: &[f64], rng: &mut Rng) -> usize {
    let total = *cumulative.last().unwrap();
    let x = f64::from(rng.next_f32()) * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len() - 1)
}

fn power_law(n: usize, exponent: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (1..=n)
        .map(|r| {
            acc += 1.0 / (r as f64).powf(exponent);
            acc
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: usize| -> anyhow::Result<usize> {
        match args.iter().position(|a| a == name) {
            Some(p) => Ok(args.get(p + 1).context("missing value")?.parse()?),
            None => Ok(default),
        }
    };
    let nnz = arg("--interactions", 1_000_000)?;
    let threads = arg("--threads", 0)?;
    let (users, items) = ((nnz / 20).max(1000), (nnz / 50).max(500));

    let mut rng = Rng::new(7);
    let (upop, ipop) = (power_law(users, 0.6), power_law(items, 0.9));
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); users];
    for _ in 0..nnz * 108 / 100 {
        rows[draw(&upop, &mut rng)].push(draw(&ipop, &mut rng) as u32);
    }
    let mut indptr = vec![0u64];
    let mut indices = Vec::new();
    for r in &mut rows {
        r.sort_unstable();
        r.dedup();
        indices.extend_from_slice(r);
        indptr.push(indices.len() as u64);
    }
    let values = vec![1.0f32; indices.len()];
    let csr = CsrView::new(users, items, &indptr, &indices, &values)?;
    println!(
        "synthetic: {users} users x {items} items, nnz {}",
        indices.len()
    );
    let algorithms = if args.iter().any(|a| a == "--als-only") {
        vec![Algorithm::Als]
    } else {
        vec![Algorithm::Als, Algorithm::Bpr]
    };
    for algorithm in algorithms {
        let params = MfParams {
            algorithm,
            threads,
            ..MfParams::default()
        };
        let t0 = Instant::now();
        recsys_mf::train(&TrainData::new(csr), &params)?;
        let s = t0.elapsed().as_secs_f64();
        let per = match algorithm {
            Algorithm::Als => format!("{:.3}s/iteration", s / params.iterations as f64),
            Algorithm::Bpr => format!("{:.3}s/epoch", s / params.epochs as f64),
        };
        println!("mf {} fit {s:.2}s ({per}, 64 factors)", algorithm.as_str());
    }

    // Serving latency on a large random model.
    let n_items = arg("--items", 100_000)?;
    let k = 64usize;
    let model = MatrixFactorization::from_parts(ModelParts {
        algorithm: Algorithm::Als,
        factors: k,
        regularization: 0.05,
        confidence: recsys_mf::confidence::Confidence {
            alpha: 1.0,
            binary: true,
        },
        user_factors: Vec::new(),
        item_factors: (0..n_items * k).map(|_| rng.next_f32() * 0.1).collect(),
        item_bias: Vec::new(),
        popularity: vec![1; n_items],
    })?;
    let mut times = Vec::new();
    for _ in 0..300 {
        let mut history: Vec<u32> = (0..20).map(|_| rng.below(n_items) as u32).collect();
        history.sort_unstable();
        history.dedup();
        let query = Query {
            exclude: &history,
            ..Query::new(&history, 10)
        };
        let t0 = Instant::now();
        let got = model.recommend(&query)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        assert_eq!(got.len(), 10);
    }
    // The parts of one query, for a 20-item history.
    let history: Vec<u32> = (0..20).map(|n| (n * (n_items / 20)) as u32).collect();
    let (mut t_fold, mut t_score, mut t_top, mut t_api) =
        ([0.0; 200], [0.0; 200], [0.0; 200], [0.0; 200]);
    for r in 0..200 {
        let t0 = Instant::now();
        let user = model.fold_in(&history, None)?.context("fold-in")?;
        let t1 = Instant::now();
        let scores = model.scores(&user.vector);
        let t2 = Instant::now();
        let top = recsys_plugin_api::top_k(&scores, 10, &history);
        let t3 = Instant::now();
        let api = recsys_plugin_api::top_k(&scores, 10, &history);
        t_api[r] = t3.elapsed().as_secs_f64() * 1e3;
        assert_eq!(top, api);
        t_fold[r] = (t1 - t0).as_secs_f64() * 1e3;
        t_score[r] = (t2 - t1).as_secs_f64() * 1e3;
        t_top[r] = (t3 - t2).as_secs_f64() * 1e3;
    }
    let median = |t: &mut [f64]| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    println!(
        "  medians: fold-in {:.3} ms, scoring {:.3} ms, top-k {:.3} ms (plugin API's top_k: {:.3} ms)",
        median(&mut t_fold),
        median(&mut t_score),
        median(&mut t_top),
        median(&mut t_api)
    );
    times.sort_by(f64::total_cmp);
    println!(
        "recommend, 20-item history, {k} factors, {n_items} items: median {:.3} ms, p90 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 9 / 10]
    );
    Ok(())
}
