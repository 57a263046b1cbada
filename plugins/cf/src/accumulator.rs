//! A sparse accumulator: a dense vector of sums that remembers which slots it touched.
//!
//! Each slot carries the number of the accumulation that last wrote it, so starting a new
//! accumulation is O(1) (no zeroing of the dense vector), iterating the result only visits the
//! touched slots, and a slot is listed once however its sum evolves. A thread-local pair of
//! accumulators serves the query path, so a query allocates nothing but its result.

use std::cell::RefCell;

/// Sums of contributions to slots `0..n`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Accumulator {
    slots: Vec<Slot>,
    epoch: u32,
    touched: Vec<u32>,
}

/// A slot's sum beside its stamp, so that an add at a random slot touches one cache line, not
/// two.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(8))]
struct Slot {
    sum: f32,
    /// The accumulation that last wrote `sum`.
    stamp: u32,
}

impl Accumulator {
    /// An accumulator over `n` slots, ready for use.
    pub(crate) fn new(n: usize) -> Self {
        let mut acc = Accumulator::default();
        acc.reset(n);
        acc
    }

    /// Starts a new accumulation over `n` slots: every slot reads 0 again.
    pub(crate) fn reset(&mut self, n: usize) {
        self.touched.clear();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // After 2^32 accumulations, old stamps could look current: clear them once.
            self.slots.iter_mut().for_each(|slot| slot.stamp = 0);
            self.epoch = 1;
        }
        if self.slots.len() != n {
            self.slots.resize(n, Slot::default());
        }
    }

    /// Adds `value` to slot `slot`.
    #[inline]
    pub(crate) fn add(&mut self, slot: u32, value: f32) {
        let s = &mut self.slots[slot as usize];
        if s.stamp == self.epoch {
            s.sum += value;
        } else {
            *s = Slot {
                sum: value,
                stamp: self.epoch,
            };
            self.touched.push(slot);
        }
    }

    /// The sum of slot `slot` (0 when untouched or out of range).
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> f32 {
        match self.slots.get(slot as usize) {
            Some(s) if s.stamp == self.epoch => s.sum,
            _ => 0.0,
        }
    }

    /// The touched slots with their sums, in first-touch order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.touched
            .iter()
            .map(|&slot| (slot, self.slots[slot as usize].sum))
    }
}

/// The two accumulators a query needs (user-kNN scores users, then items).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Sums over items.
    pub(crate) items: Accumulator,
    /// Sums over users.
    pub(crate) users: Accumulator,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch accumulators (a fresh pair if they are in use).
/// Callers [`reset`](Accumulator::reset) the accumulators they use.
pub(crate) fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_lists_each_slot_once_and_resets() {
        let mut acc = Accumulator::new(4);
        acc.add(2, 1.0);
        acc.add(0, 0.5);
        acc.add(2, -1.0); // back to zero, then up again: still listed once
        acc.add(2, 3.0);
        assert_eq!(acc.iter().collect::<Vec<_>>(), vec![(2, 3.0), (0, 0.5)]);
        assert_eq!((acc.get(1), acc.get(9)), (0.0, 0.0));
        acc.reset(4);
        assert_eq!(acc.iter().count(), 0);
        assert_eq!(acc.get(2), 0.0);
        acc.reset(6);
        acc.add(5, 2.0);
        assert_eq!(acc.get(5), 2.0);
    }

    #[test]
    fn survives_epoch_wrap_around() {
        let mut acc = Accumulator::new(2);
        acc.add(1, 7.0);
        acc.epoch = u32::MAX;
        acc.slots[0].stamp = 1; // a stamp that would look current after the wrap
        acc.reset(2);
        assert_eq!(acc.epoch, 1);
        assert_eq!(acc.get(0), 0.0);
    }

    #[test]
    fn scratch_is_reentrant() {
        let inner = with_scratch(|outer| {
            outer.items.reset(3);
            outer.items.add(1, 1.0);
            with_scratch(|fresh| {
                fresh.items.reset(3);
                fresh.items.get(1)
            })
        });
        assert_eq!(inner, 0.0);
    }
}
