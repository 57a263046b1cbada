//! Content index build, more-like-this recommendation and full-text search on a generated
//! catalogue of 20k products.

use criterion::{criterion_group, criterion_main, Criterion};
use recsys_content::ContentModel;
use recsys_plugin_api::{CsrView, ItemText, ItemTextTable, Params, Query, Recommender, TrainData};

const WORDS: [&str; 24] = [
    "guitar",
    "strings",
    "nickel",
    "acoustic",
    "drum",
    "sticks",
    "maple",
    "pedal",
    "tuner",
    "capo",
    "piano",
    "keyboard",
    "weighted",
    "cable",
    "amp",
    "tube",
    "stand",
    "case",
    "bag",
    "microphone",
    "condenser",
    "violin",
    "bow",
    "rosin",
];

fn bench(c: &mut Criterion) {
    let items = 20_000usize;
    let texts: Vec<[String; 4]> = (0..items)
        .map(|i| {
            let w = |j: usize| WORDS[(i * 7 + j * 13) % WORDS.len()];
            [
                format!("{} {} {} model {i}", w(0), w(1), w(2)),
                format!("Brand{}", i % 50),
                format!("Musical Instruments\n{}", w(3)),
                format!("A {} {} with {} and {}.", w(4), w(5), w(6), w(7)),
            ]
        })
        .collect();
    let users = 2_000usize;
    let (mut indptr, mut indices) = (vec![0u64], Vec::new());
    for u in 0..users {
        let mut row: Vec<u32> = (0..10)
            .map(|j| ((u * 31 + j * 997) % items) as u32)
            .collect();
        row.sort_unstable();
        row.dedup();
        indices.extend(row);
        indptr.push(indices.len() as u64);
    }
    let values = vec![1.0; indices.len()];
    let table = || {
        ItemTextTable::new(texts.iter().map(|[t, b, c, d]| ItemText {
            title: t,
            brand: b,
            categories: c,
            description: d,
        }))
    };
    let csr = CsrView::new(users, items, &indptr, &indices, &values).unwrap();
    let data = TrainData::new(csr).with_item_text(table()).unwrap();
    let model = ContentModel::train(&data, &Params::new()).unwrap();
    let history = [3u32, 17, 256, 1024, 4096];
    let query = Query {
        exclude: &history,
        ..Query::new(&history, 10)
    };
    assert_eq!(model.recommend(&query).unwrap().len(), 10);
    assert!(!model
        .search("nickel guitar strings", 10)
        .unwrap()
        .is_empty());
    c.bench_function(
        "content more-like-this recommend, 5-item history, 20k items",
        |b| b.iter(|| model.recommend(std::hint::black_box(&query)).unwrap()),
    );
    c.bench_function("content search, 3 words, 20k items", |b| {
        b.iter(|| {
            model
                .search(std::hint::black_box("nickel guitar strings"), 10)
                .unwrap()
        })
    });
    let mut group = c.benchmark_group("content build");
    group.sample_size(10);
    group.bench_function("index 20k items in RAM", |b| {
        b.iter(|| ContentModel::train(&data, &Params::new()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
