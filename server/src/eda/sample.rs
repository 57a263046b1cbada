//! A uniform reservoir sample of a stream (Vitter's algorithm R), bounded in size.

use crate::synth::Rng;

/// Keeps a uniform random sample of at most `capacity` of the items offered.
#[derive(Debug, Clone)]
pub(crate) struct Reservoir<T> {
    capacity: usize,
    seen: u64,
    items: Vec<T>,
    rng: Rng,
}

impl<T> Reservoir<T> {
    /// An empty reservoir; `seed` makes the sample repeatable.
    pub(crate) fn new(capacity: usize, seed: u64) -> Self {
        Self {
            capacity,
            seen: 0,
            items: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    /// Offers one item: kept with probability capacity / seen.
    pub(crate) fn offer(&mut self, item: T) {
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(item);
            return;
        }
        let slot = self.rng.next_u64() % self.seen;
        if let Some(kept) = self.items.get_mut(slot as usize) {
            *kept = item;
        }
    }

    /// Items offered so far.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// The most items kept.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The sample.
    pub(crate) fn items(&self) -> &[T] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_capacity() {
        let mut r = Reservoir::new(10, 1);
        (0..7).for_each(|i| r.offer(i));
        assert_eq!(r.items(), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(r.seen(), 7);
    }

    #[test]
    fn the_sample_is_bounded_and_roughly_uniform() {
        let mut r = Reservoir::new(1000, 7);
        (0..100_000u32).for_each(|i| r.offer(i));
        assert_eq!(r.items().len(), 1000);
        // Uniform over 0..100000: the sample mean is near 50000 (sd of the mean ~ 913).
        let mean = r.items().iter().map(|&i| f64::from(i)).sum::<f64>() / 1000.0;
        assert!((mean - 50_000.0).abs() < 4_000.0, "{mean}");
        let late = r.items().iter().filter(|&&i| i >= 50_000).count();
        assert!((400..600).contains(&late), "{late}");
    }
}
