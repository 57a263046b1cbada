//! A tantivy collector that maps hits back to item indices, skips a set of items and keeps
//! the best `limit` (item, score) pairs.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The fast field holding each document's item index.
pub const ITEM_FIELD: &str = "item";

/// Collects the `limit` best-scoring items whose index is not in `skip`.
#[derive(Debug, Clone)]
pub struct TopItems {
    limit: usize,
    /// Sorted ascending, without duplicates.
    skip: Arc<[u32]>,
}

impl TopItems {
    /// The `limit` best items, leaving out `skip` (sorted ascending).
    pub fn new(limit: usize, skip: Arc<[u32]>) -> Self {
        debug_assert!(skip.windows(2).all(|w| w[0] < w[1]));
        TopItems { limit, skip }
    }
}

/// A hit, ordered so that better hits compare greater: higher score, then lower item index.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit {
    item: u32,
    score: f32,
}

impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.item.cmp(&self.item))
    }
}

/// The per-segment half of [`TopItems`].
pub struct TopItemsSegment {
    items: Column<u64>,
    skip: Arc<[u32]>,
    limit: usize,
    /// Min-heap of the best hits so far (the worst kept one on top).
    heap: BinaryHeap<Reverse<Hit>>,
}

impl Collector for TopItems {
    type Fruit = Vec<(u32, f32)>;
    type Child = TopItemsSegment;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<TopItemsSegment> {
        Ok(TopItemsSegment {
            items: segment.fast_fields().u64(ITEM_FIELD)?,
            skip: Arc::clone(&self.skip),
            limit: self.limit,
            heap: BinaryHeap::with_capacity(self.limit.min(1024) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u32, f32)>>) -> tantivy::Result<Vec<(u32, f32)>> {
        let mut all: Vec<Hit> = fruits
            .into_iter()
            .flatten()
            .map(|(item, score)| Hit { item, score })
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.limit);
        Ok(all.into_iter().map(|h| (h.item, h.score)).collect())
    }
}

impl SegmentCollector for TopItemsSegment {
    type Fruit = Vec<(u32, f32)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.limit == 0 || !score.is_finite() {
            return;
        }
        let Some(item) = self.items.first(doc).and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        if self.skip.binary_search(&item).is_ok() {
            return;
        }
        let hit = Hit { item, score };
        if self.heap.len() < self.limit {
            self.heap.push(Reverse(hit));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if hit > worst.0 {
                *worst = Reverse(hit);
            }
        }
    }

    fn harvest(self) -> Vec<(u32, f32)> {
        self.heap
            .into_iter()
            .map(|Reverse(h)| (h.item, h.score))
            .collect()
    }
}
