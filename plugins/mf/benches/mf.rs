//! ALS training sweeps and fold-in recommendation (issue target: a 20-item history, 64
//! factors, 100k items, under 1 ms median), for ALS (ridge fold-in) and BPR (SGD fold-in); and
//! ranking 1,024 users one `recommend` at a time against `recommend_many` in blocks.

use criterion::{criterion_group, criterion_main, Criterion};
use recsys_mf::MatrixFactorization as Mf;
use recsys_plugin_api::{CsrView, ParamValue, Params, Query, Recommender, Scored, TrainData};

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
    ranking(c, &bpr, &indptr, &indices);

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

/// Users ranked per call of `recommend_many`, as the host's evaluation sends them.
const USERS_PER_CALL: usize = 256;

/// Ranks the first 1,024 training users (stored BPR vectors: the time is the scoring, not the
/// fold-in), top 100 without their training items, over 100k items at 64 factors: one
/// `recommend` per user against `recommend_many` on blocks of users. Both run on a one-thread
/// rayon pool (`recommend` scores large catalogues in parallel otherwise), as each of the
/// host's parallel calls does.
fn ranking(c: &mut Criterion, model: &Mf, indptr: &[u64], indices: &[u32]) {
    let rows: Vec<&[u32]> = indptr
        .windows(2)
        .take(1024)
        .map(|w| &indices[w[0] as usize..w[1] as usize])
        .collect();
    let queries: Vec<Query<'_>> = rows
        .iter()
        .enumerate()
        .map(|(u, row)| Query {
            user: Some(u as u32),
            exclude: row,
            ..Query::new(row, 100)
        })
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one_by_one = || -> Vec<Vec<Scored>> {
        queries
            .iter()
            .map(|q| model.recommend(q).unwrap())
            .collect()
    };
    let in_blocks = || -> Vec<Vec<Scored>> {
        queries
            .chunks(USERS_PER_CALL)
            .flat_map(|block| model.recommend_many(block).unwrap())
            .collect()
    };
    let (want, got) = pool.install(|| (one_by_one(), in_blocks()));
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w.len(), 100);
        assert_eq!(g.len(), 100);
        for (w, g) in w.iter().zip(g) {
            assert!((w.score - g.score).abs() <= 1e-5 * w.score.abs().max(1.0));
        }
    }
    let same = want.iter().zip(&got).filter(|(w, g)| w == g).count();
    assert!(
        same * 10 >= want.len() * 9,
        "{same} of 1024 lists identical"
    );

    let mut group = c.benchmark_group("mf rank 1,024 users, top 100, 64 factors, 100k items");
    group.sample_size(10);
    group.bench_function("recommend per user", |b| {
        b.iter(|| pool.install(one_by_one))
    });
    group.bench_function(
        format!("recommend_many, {USERS_PER_CALL} users per call"),
        |b| b.iter(|| pool.install(in_blocks)),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
