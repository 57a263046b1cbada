//! ALS training sweeps and fold-in recommendation (issue target: a 20-item history, 64
//! factors, 100k items, under 1 ms median), for ALS (ridge fold-in) and BPR (SGD fold-in).

use criterion::{criterion_group, criterion_main, Criterion};
use recsys_mf::MatrixFactorization as Mf;
use recsys_plugin_api::{CsrView, ParamValue, Params, Query, Recommender, TrainData};

/// A random sparse users x items matrix with `per_user` distinct items per user.
fn matrix(users: usize, items: usize, per_user: usize) -> (Vec<u64>, Vec<u32>, Vec<f32>) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let (mut indptr, mut indices) = (vec![0u64], Vec::new());
    for _ in 0..users {
        let mut row: Vec<u32> = (0..per_user)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Skewed towards low item indices: a popular head and a long tail.
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                ((u * u * items as f64) as u32).min(items as u32 - 1)
            })
            .collect();
        row.sort_unstable();
        row.dedup();
        indices.extend(row);
        indptr.push(indices.len() as u64);
    }
    let values = vec![1.0; indices.len()];
    (indptr, indices, values)
}

fn params(iterations: i64) -> Params {
    Params::new()
        .with("factors", ParamValue::Int(64))
        .with("iterations", ParamValue::Int(iterations))
}

fn bench(c: &mut Criterion) {
    let (users, items) = (20_000, 100_000);
    let (indptr, indices, values) = matrix(users, items, 10);
    let csr = CsrView::new(users, items, &indptr, &indices, &values).unwrap();
    let data = TrainData::new(csr);
    let model = Mf::train(&data, &params(1)).unwrap();
    let history: Vec<u32> = (0..20).map(|i| i * 37).collect();
    let mut exclude = history.clone();
    exclude.sort_unstable();
    let query = Query {
        exclude: &exclude,
        ..Query::new(&history, 10)
    };
    let got = model.recommend(&query).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|s| !exclude.contains(&s.item)));
    c.bench_function(
        "mf fold-in recommend, 20-item history, 64 factors, 100k items",
        |b| b.iter(|| model.recommend(std::hint::black_box(&query)).unwrap()),
    );

    // BPR: one epoch is enough to get factors of the right shape; the fold-in runs its own
    // 100 passes whatever the training did.
    let bpr = Mf::train(
        &data,
        &params(1)
            .with("algorithm", ParamValue::Str("bpr".into()))
            .with("epochs", ParamValue::Int(1)),
    )
    .unwrap();
    let got = bpr.recommend(&query).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|s| !exclude.contains(&s.item)));
    c.bench_function(
        "mf BPR fold-in recommend, 20-item history, 64 factors, 100k items",
        |b| b.iter(|| bpr.recommend(std::hint::black_box(&query)).unwrap()),
    );
    // The fold-in alone (2,000 SGD steps), without scoring the catalogue.
    let user = bpr.fold_in_bpr(&history, None, false).unwrap().unwrap();
    assert_eq!(user.vector.len(), 64);
    c.bench_function("mf BPR fold-in alone, 20-item history, 64 factors", |b| {
        b.iter(|| bpr.fold_in_bpr(std::hint::black_box(&history), None, false))
    });
    c.bench_function("mf ALS fold-in alone, 20-item history, 64 factors", |b| {
        b.iter(|| model.fold_in(std::hint::black_box(&history), None))
    });

    let (indptr, indices, values) = matrix(20_000, 5_000, 25);
    let csr = CsrView::new(20_000, 5_000, &indptr, &indices, &values).unwrap();
    let data = TrainData::new(csr);
    let mut group = c.benchmark_group("mf ALS");
    group.sample_size(10);
    group.bench_function(
        format!(
            "one ALS iteration, 64 factors, {} interactions",
            indices.len()
        ),
        |b| b.iter(|| Mf::train(&data, &params(1)).unwrap()),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
