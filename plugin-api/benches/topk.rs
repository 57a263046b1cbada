//! Top-k selection over a dense score vector: the last step of every full-ranking recommend.

use criterion::{criterion_group, criterion_main, Criterion};
use recsys_plugin_api::top_k;

fn scores(n: usize) -> Vec<f32> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let s = scores(100_000);
    let exclude: Vec<u32> = (0..100_000).step_by(5_000).collect();
    let best = s
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5_000 != 0)
        .map(|(_, v)| *v)
        .fold(f32::MIN, f32::max);
    let got = top_k(&s, 10, &exclude);
    assert_eq!(got.len(), 10);
    assert_eq!(got[0].score, best, "top_k must return the best score first");
    c.bench_function("top_k k=10 of 100k items", |b| {
        b.iter(|| top_k(std::hint::black_box(&s), 10, &exclude))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
