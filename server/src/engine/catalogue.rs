//! The items an engine knows: ASIN <-> index, metadata, popularity, categories.

use serde::Serialize;

use crate::dataset::{Dataset, IdMap, ItemMeta};

/// One product as the engine and the web app show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// The ASIN.
    pub asin: String,
    /// Title (empty when no metadata describes the item).
    pub title: String,
    /// Brand, when known.
    pub brand: Option<String>,
    /// Category path, most general first.
    pub categories: Vec<String>,
    /// Description, HTML stripped.
    pub description: Option<String>,
    /// Price in dollars, when known.
    pub price: Option<f64>,
    /// Number of interactions in the training data.
    pub interactions: u32,
    /// Mean star rating in the training data.
    pub mean_rating: Option<f32>,
}

/// The catalogue of an engine: every item of the training data, with its metadata.
#[derive(Debug, Clone)]
pub struct Catalogue {
    items: IdMap,
    meta: Vec<Option<ItemMeta>>,
    counts: Vec<u32>,
    rating_sums: Vec<f32>,
    /// Item indices, most interactions first (ties by index).
    by_popularity: Vec<u32>,
    /// Top-level categories with their item counts, largest first.
    categories: Vec<(String, usize)>,
}

impl Catalogue {
    /// The catalogue of `dataset`'s items.
    pub fn new(dataset: &Dataset) -> Catalogue {
        let n = dataset.n_items();
        let mut counts = vec![0u32; n];
        let mut rating_sums = vec![0f32; n];
        for i in &dataset.interactions {
            counts[i.item as usize] += 1;
            rating_sums[i.item as usize] += i.rating;
        }
        let mut by_popularity: Vec<u32> = (0..n as u32).collect();
        by_popularity.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
        let mut categories: std::collections::HashMap<&str, usize> = Default::default();
        for meta in dataset.item_meta.iter().flatten() {
            if let Some(top) = Self::top_category(meta) {
                *categories.entry(top).or_default() += 1;
            }
        }
        let mut categories: Vec<(String, usize)> = categories
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect();
        categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Catalogue {
            items: dataset.items.clone(),
            meta: dataset.item_meta.clone(),
            counts,
            rating_sums,
            by_popularity,
            categories,
        }
    }

    /// The category products are filed under: the first one below the dataset-wide root
    /// when the path has more than one level (Amazon paths start with the store name).
    fn top_category(meta: &ItemMeta) -> Option<&str> {
        match meta.categories.as_slice() {
            [] => None,
            [only] => Some(only),
            [_, second, ..] => Some(second),
        }
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The index of `asin`.
    pub fn index(&self, asin: &str) -> Option<u32> {
        self.items.get(asin)
    }

    /// The ASIN of item `index` (panics when out of range).
    pub fn asin(&self, index: u32) -> &str {
        self.items.id(index)
    }

    /// The title of `asin`, when it has one.
    pub fn title(&self, asin: &str) -> Option<&str> {
        let i = self.index(asin)?;
        self.meta[i as usize]
            .as_ref()
            .and_then(|m| m.title.as_deref())
            .filter(|t| !t.is_empty())
    }

    /// The product `asin`.
    pub fn product(&self, asin: &str) -> Option<Product> {
        self.index(asin).map(|i| self.product_at(i))
    }

    /// The product at index `i` (panics when out of range).
    pub fn product_at(&self, i: u32) -> Product {
        let meta = self.meta[i as usize].as_ref();
        let n = self.counts[i as usize];
        Product {
            asin: self.items.id(i).to_string(),
            title: meta
                .and_then(|m| m.title.clone())
                .unwrap_or_else(|| self.items.id(i).to_string()),
            brand: meta.and_then(|m| m.brand.clone()),
            categories: meta.map(|m| m.categories.clone()).unwrap_or_default(),
            description: meta.and_then(|m| m.description.clone()),
            price: meta.and_then(|m| m.price),
            interactions: n,
            mean_rating: (n > 0).then(|| self.rating_sums[i as usize] / n as f32),
        }
    }

    /// Top-level categories with their item counts, largest first.
    pub fn categories(&self) -> &[(String, usize)] {
        &self.categories
    }

    /// Whether item `i` is filed under `category` (anywhere in its path).
    pub fn in_category(&self, i: u32, category: &str) -> bool {
        self.meta[i as usize]
            .as_ref()
            .is_some_and(|m| m.categories.iter().any(|c| c == category))
    }

    /// Items, most popular first, optionally only those in `category`: one page of
    /// `per_page` (pages count from 1) and the total number of matches.
    pub fn browse(
        &self,
        category: Option<&str>,
        page: usize,
        per_page: usize,
    ) -> (Vec<u32>, usize) {
        match category {
            None => Self::page(&self.by_popularity, page, per_page),
            Some(c) => {
                let matches: Vec<u32> = self
                    .by_popularity
                    .iter()
                    .copied()
                    .filter(|&i| self.in_category(i, c))
                    .collect();
                Self::page(&matches, page, per_page)
            }
        }
    }

    /// Page `page` (from 1) of `per_page` items of `matches`, and the number of matches.
    pub fn page(matches: &[u32], page: usize, per_page: usize) -> (Vec<u32>, usize) {
        let total = matches.len();
        let start = page.saturating_sub(1).saturating_mul(per_page).min(total);
        let end = (start + per_page).min(total);
        (matches[start..end].to_vec(), total)
    }
}
