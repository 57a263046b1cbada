//! Item-kNN model build (sparse X^T X, or the RP3beta walk, with top-k neighbour truncation)
//! and recommendation.

use criterion::{criterion_group, criterion_main, Criterion};
use recsys_cf::Cf;
use recsys_plugin_api::{CsrView, Params, Query, Recommender, TrainData};

fn matrix(users: usize, items: usize, per_user: usize) -> (Vec<u64>, Vec<u32>, Vec<f32>) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let (mut indptr, mut indices) = (vec![0u64], Vec::new());
    for _ in 0..users {
        let mut row: Vec<u32> = (0..per_user)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
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

fn bench(c: &mut Criterion) {
    let (users, items) = (50_000, 10_000);
    let (indptr, indices, values) = matrix(users, items, 20);
    let csr = CsrView::new(users, items, &indptr, &indices, &values).unwrap();
    let data = TrainData::new(csr);
    let model = Cf::train(&data, &Params::new()).unwrap();
    let history: Vec<u32> = (0..20).map(|i| i * 41).collect();
    let query = Query {
        exclude: &history,
        ..Query::new(&history, 10)
    };
    let got = model.recommend(&query).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|s| !history.contains(&s.item)));
    c.bench_function("cf item-kNN recommend, 20-item history, 10k items", |b| {
        b.iter(|| model.recommend(std::hint::black_box(&query)).unwrap())
    });
    let mut group = c.benchmark_group("cf build");
    group.sample_size(10);
    group.bench_function(
        format!(
            "item-kNN cosine, 100 neighbours, {} interactions",
            indices.len()
        ),
        |b| b.iter(|| Cf::train(&data, &Params::new()).unwrap()),
    );
    let rp3 = Params::new().with("similarity", "rp3beta".into());
    let rp3_model = Cf::train(&data, &rp3).unwrap();
    let got = rp3_model.recommend(&query).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|s| !history.contains(&s.item)));
    group.bench_function(
        format!(
            "item-kNN rp3beta, 100 neighbours, {} interactions",
            indices.len()
        ),
        |b| b.iter(|| Cf::train(&data, &rp3).unwrap()),
    );
    // The same matrix with timestamps (each user's items in a scrambled order), so that the
    // default sequence part (window 5) is built too.
    let timestamps: Vec<i64> = (0..indices.len())
        .map(|k| (k as i64 * 7919) % 1000)
        .collect();
    let timed = TrainData::new(csr).with_timestamps(&timestamps).unwrap();
    group.bench_function(
        format!(
            "item-kNN cosine + sequence part, 100 neighbours, {} interactions",
            indices.len()
        ),
        |b| b.iter(|| Cf::train(&timed, &Params::new()).unwrap()),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
