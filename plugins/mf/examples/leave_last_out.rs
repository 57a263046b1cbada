//! Leave-last-out evaluation of the mf plugin on an Amazon review file, with the protocol of
//! the peer script `implicit_eval.py` (so the numbers compare with implicit's):
//!
//! * (user, item) pairs from the reviews, duplicates collapsed keeping the latest;
//! * per user, the latest interaction (by `unixReviewTime`, ties by file order) is the test
//!   item when the user has at least two; the rest is training data;
//! * every item is ranked, the user's training items excluded; k = 10 by default.
//!
//! ```text
//! cargo run --release -p recsys-mf --example leave_last_out -- FILE.json.gz \
//!     [--params '{"algorithm": "als"}'] [--k 10] [--trained]
//! ```
//!
//! `--trained` scores with the user vectors learnt in training instead of folding in the
//! history (a diagnostic: the plugin always folds in).
//!
//! ```text
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::time::Instant;

use anyhow::{bail, Context};
use recsys_mf::MatrixFactorization;
use recsys_plugin_api::{CsrView, Params, Query, Recommender, TrainData};

fn read(path: &str) -> anyhow::Result<Vec<(String, String, i64, usize)>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
    let reader: Box<dyn BufRead> = if path.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut rows = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
            continue;
        };
        let user = v.get("reviewerID").or_else(|| v.get("user_id"));
        let item = v.get("asin").or_else(|| v.get("parent_asin"));
        let (Some(user), Some(item)) =
            (user.and_then(|u| u.as_str()), item.and_then(|i| i.as_str()))
        else {
            continue;
        };
        let t = v
            .get("unixReviewTime")
            .or_else(|| v.get("timestamp"))
            .and_then(|t| t.as_i64())
            .unwrap_or(0);
        rows.push((user.to_string(), item.to_string(), t, n));
    }
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        bail!("usage: leave_last_out FILE [--params JSON] [--k K]");
    };
    let mut params_json = "{}".to_string();
    let mut k = 10usize;
    let mut trained = false;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--params" => params_json = it.next().context("--params needs a value")?.clone(),
            "--k" => k = it.next().context("--k needs a value")?.parse()?,
            "--trained" => trained = true,
            other => bail!("unknown argument {other}"),
        }
    }
    let rows = read(path)?;
    let mut last: HashMap<(String, String), (i64, usize)> = HashMap::new();
    for (u, a, t, n) in &rows {
        let e = last.entry((u.clone(), a.clone())).or_insert((*t, *n));
        if (*t, *n) >= *e {
            *e = (*t, *n);
        }
    }
    let mut by_user: BTreeMap<String, Vec<(i64, usize, String)>> = BTreeMap::new();
    for ((u, a), (t, n)) in last {
        by_user.entry(u).or_default().push((t, n, a));
    }
    let mut train: Vec<(String, String)> = Vec::new();
    let mut test: HashMap<String, String> = HashMap::new();
    for (u, mut list) in by_user {
        list.sort();
        if list.len() >= 2 {
            test.insert(u.clone(), list.pop().unwrap().2);
        }
        train.extend(list.into_iter().map(|(_, _, a)| (u.clone(), a)));
    }
    let users: Vec<String> = train
        .iter()
        .map(|(u, _)| u.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let items: Vec<String> = train
        .iter()
        .map(|(_, a)| a.clone())
        .chain(test.values().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let uidx: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    let iidx: HashMap<&str, u32> = items
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i as u32))
        .collect();
    let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); users.len()];
    for (u, a) in &train {
        rows_of[uidx[u.as_str()]].push(iidx[a.as_str()]);
    }
    let mut indptr = vec![0u64];
    let mut indices = Vec::new();
    for r in &mut rows_of {
        r.sort_unstable();
        indices.extend_from_slice(r);
        indptr.push(indices.len() as u64);
    }
    let values = vec![1.0f32; indices.len()];
    println!(
        "# {path}: {} rows, {} train pairs, {} test users, {} users x {} items",
        rows.len(),
        train.len(),
        test.len(),
        users.len(),
        items.len()
    );
    let csr = CsrView::new(users.len(), items.len(), &indptr, &indices, &values)?;
    let params = Params::from_json(&params_json)?;
    let t0 = Instant::now();
    let model = <MatrixFactorization as Recommender>::train(&TrainData::new(csr), &params)?;
    let fit = t0.elapsed().as_secs_f64();

    let (mut ndcg, mut hr, mut mrr, mut n) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    let t1 = Instant::now();
    for (u, name) in users.iter().enumerate() {
        let Some(target) = test.get(name) else {
            continue;
        };
        let target = iidx[target.as_str()];
        let history = &rows_of[u];
        let query = Query {
            user: Some(u as u32),
            exclude: history,
            ..Query::new(history, k)
        };
        let recs = match model.user_vector(u).filter(|_| trained) {
            // Diagnostic: the trained user vector instead of the fold-in.
            Some(x) => recsys_plugin_api::top_k(&model.scores(x), k, history),
            None => Recommender::recommend(&model, &query)?,
        };
        n += 1;
        if let Some(rank) = recs.iter().position(|s| s.item == target) {
            hr += 1.0;
            ndcg += 1.0 / (rank as f64 + 2.0).log2();
            mrr += 1.0 / (rank as f64 + 1.0);
        }
    }
    let serve = t1.elapsed().as_secs_f64();
    let n = n.max(1) as f64;
    println!(
        "mf {params_json}: fit {fit:.3}s, NDCG@{k} {:.4}, HR@{k} {:.4}, MRR@{k} {:.4} over {} users; {:.1} us/query",
        ndcg / n,
        hr / n,
        mrr / n,
        n,
        serve / n * 1e6
    );
    Ok(())
}
