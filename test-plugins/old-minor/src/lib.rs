//! Test plugin: an item co-occurrence recommender built against the frozen
//! `recsys-plugin-api` **1.0** (`test-plugins/api-1.0`), the previous API minor version. Its
//! declaration is the shorter 1.0 table; a current 1.x host must load it, report API 1.0, run
//! every 1.0 capability, and treat the functions added since as unsupported.
#![warn(missing_docs)]

use recsys_plugin_api::{
    export_plugin, top_k, Capability, Contribution, Explanation, Params, PluginError, PluginInfo,
    Query, Recommender, Scored, TrainData,
};

/// Users' items as a CSR matrix, and its transpose.
#[derive(Debug)]
pub struct CoOccurrence {
    n_items: usize,
    user_ptr: Vec<usize>,
    user_items: Vec<u32>,
    item_ptr: Vec<usize>,
    item_users: Vec<u32>,
}

impl CoOccurrence {
    fn from_rows(n_items: usize, user_ptr: Vec<usize>, user_items: Vec<u32>) -> Self {
        let mut item_ptr = vec![0usize; n_items + 1];
        for &i in &user_items {
            item_ptr[i as usize + 1] += 1;
        }
        for i in 0..n_items {
            item_ptr[i + 1] += item_ptr[i];
        }
        let mut fill = item_ptr.clone();
        let mut item_users = vec![0u32; user_items.len()];
        for u in 0..user_ptr.len() - 1 {
            for &i in &user_items[user_ptr[u]..user_ptr[u + 1]] {
                item_users[fill[i as usize]] = u as u32;
                fill[i as usize] += 1;
            }
        }
        CoOccurrence {
            n_items,
            user_ptr,
            user_items,
            item_ptr,
            item_users,
        }
    }

    /// How often each item was chosen by a user who also chose `item`.
    fn co_counts(&self, item: u32, scores: &mut [f32], weight: f32) {
        let users =
            &self.item_users[self.item_ptr[item as usize]..self.item_ptr[item as usize + 1]];
        for &u in users {
            let u = u as usize;
            for &j in &self.user_items[self.user_ptr[u]..self.user_ptr[u + 1]] {
                scores[j as usize] += weight;
            }
        }
    }

    /// Co-occurrence with the history, plus a small popularity term (which alone ranks items
    /// for an empty history).
    fn scores(&self, query: &Query<'_>) -> Vec<f32> {
        let mut scores: Vec<f32> = (0..self.n_items)
            .map(|i| 1e-3 * (self.item_ptr[i + 1] - self.item_ptr[i]) as f32)
            .collect();
        for (n, &h) in query.history.iter().enumerate() {
            let w = query.weights.map_or(1.0, |w| w[n]);
            self.co_counts(h, &mut scores, w);
        }
        scores
    }
}

impl Recommender for CoOccurrence {
    fn info() -> PluginInfo {
        PluginInfo::new("old-minor", env!("CARGO_PKG_VERSION"))
            .description("Item co-occurrence, built against recsys-plugin-api 1.0.")
            .capability(Capability::SimilarItems)
            .capability(Capability::Explain)
            .capability(Capability::SaveLoad)
            .capability(Capability::FoldIn)
    }

    fn train(data: &TrainData<'_>, _params: &Params) -> Result<Self, PluginError> {
        let m = data.interactions();
        let user_ptr = m.indptr().iter().map(|&p| p as usize).collect();
        Ok(CoOccurrence::from_rows(
            data.n_items(),
            user_ptr,
            m.indices().to_vec(),
        ))
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Ok(top_k(&self.scores(query), query.k, query.exclude))
    }

    fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        if item as usize >= self.n_items {
            return Err(PluginError::invalid_input(format!(
                "item {item} out of range"
            )));
        }
        let mut scores = vec![0.0; self.n_items];
        self.co_counts(item, &mut scores, 1.0);
        let similar = top_k(&scores, k, &[item])
            .into_iter()
            .filter(|s| s.score > 0.0)
            .collect();
        Ok(similar)
    }

    fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        let mut contributions: Vec<Contribution> = query
            .history
            .iter()
            .map(|&h| {
                let mut scores = vec![0.0; self.n_items];
                self.co_counts(h, &mut scores, 1.0);
                Contribution {
                    item: Some(h),
                    term: None,
                    weight: scores[item as usize],
                }
            })
            .filter(|c| c.weight > 0.0)
            .collect();
        contributions.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let text = match contributions.first() {
            Some(c) => format!("chosen together with item {}", c.item.unwrap_or_default()),
            None => "popular".to_string(),
        };
        Ok(Explanation {
            text,
            contributions,
        })
    }

    fn save(&self) -> Result<Vec<u8>, PluginError> {
        let n_users = self.user_ptr.len() - 1;
        let words = [self.n_items as u32, n_users as u32]
            .into_iter()
            .chain(self.user_ptr[1..].iter().map(|&p| p as u32))
            .chain(self.user_items.iter().copied());
        Ok(words.flat_map(u32::to_le_bytes).collect())
    }

    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        let bad = || PluginError::invalid_input("not an old-minor model");
        if bytes.len() % 4 != 0 || bytes.len() < 8 {
            return Err(bad());
        }
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let (n_items, n_users) = (words[0] as usize, words[1] as usize);
        let ends = words.get(2..2 + n_users).ok_or_else(bad)?;
        let user_ptr: Vec<usize> = std::iter::once(0)
            .chain(ends.iter().map(|&p| p as usize))
            .collect();
        let user_items = words[2 + n_users..].to_vec();
        let consistent = user_ptr.windows(2).all(|w| w[0] <= w[1])
            && user_ptr.last() == Some(&user_items.len())
            && user_items.iter().all(|&i| (i as usize) < n_items);
        if !consistent {
            return Err(bad());
        }
        Ok(CoOccurrence::from_rows(n_items, user_ptr, user_items))
    }
}

export_plugin!(CoOccurrence);
