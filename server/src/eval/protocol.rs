use std::fmt;

use crate::dataset::Interaction;
use crate::{Error, Result};

/// How test items are held out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Protocol {
    /// Per user, the latest interaction (by timestamp, ties broken by input order) is the test
    /// item; users with fewer than 2 interactions only train.
    LeaveLastOut,
    /// Per user with at least 2 interactions, `round(fraction * n)` interactions, at least one
    /// and never all, chosen by a seeded shuffle, are test items.
    RandomHoldout {
        /// Share held out.
        fraction: f64,
        /// Shuffle seed.
        seed: u64,
    },
}

impl Protocol {
    /// Parses `leave-last-out` or `random-holdout`.
    pub fn parse(name: &str, fraction: f64, seed: u64) -> Result<Protocol> {
        match name {
            "leave-last-out" => Ok(Protocol::LeaveLastOut),
            "random-holdout" if fraction > 0.0 && fraction < 1.0 => {
                Ok(Protocol::RandomHoldout { fraction, seed })
            }
            "random-holdout" => Err(Error::Usage(format!(
                "holdout fraction must be between 0 and 1 (exclusive), got {fraction}"
            ))),
            other => Err(Error::Usage(format!(
                "unknown protocol `{other}`; use leave-last-out or random-holdout"
            ))),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::LeaveLastOut => write!(f, "leave-last-out"),
            Protocol::RandomHoldout { fraction, seed } => {
                write!(f, "random-holdout (fraction {fraction}, seed {seed})")
            }
        }
    }
}

/// `interactions` without each user's `n` latest ones, by timestamp with ties broken by input
/// order (the order leave-last-out holds out by): evaluating what remains holds out the
/// interactions before them, a validation split that never reads the set-aside ones.
pub fn without_latest(interactions: &[Interaction], n: usize) -> Vec<Interaction> {
    let mut sorted = interactions.to_vec();
    sorted.sort_unstable_by_key(|i| (i.user, i.timestamp, i.order));
    let mut kept = Vec::with_capacity(sorted.len());
    for user_rows in sorted.chunk_by(|a, b| a.user == b.user) {
        kept.extend_from_slice(&user_rows[..user_rows.len().saturating_sub(n)]);
    }
    kept
}

/// A train/test split of a dataset's interactions.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Training interactions, grouped by user, each user's oldest first.
    pub train: Vec<Interaction>,
    /// Test items per user, for users that have any: `(user, items sorted ascending)`.
    pub test: Vec<(u32, Vec<u32>)>,
}

/// SplitMix64: a small, well-mixed generator for a repeatable shuffle.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Split {
    /// Splits `interactions` (one per (user, item) pair) with `protocol`.
    pub fn new(interactions: &[Interaction], protocol: Protocol) -> Split {
        let mut sorted = interactions.to_vec();
        sorted.sort_unstable_by_key(|i| (i.user, i.timestamp, i.order));
        let mut split = Split::default();
        for user_rows in sorted.chunk_by(|a, b| a.user == b.user) {
            let n = user_rows.len();
            if n < 2 {
                split.train.extend_from_slice(user_rows);
                continue;
            }
            let user = user_rows[0].user;
            let mut test: Vec<u32> = match protocol {
                Protocol::LeaveLastOut => {
                    split.train.extend_from_slice(&user_rows[..n - 1]);
                    vec![user_rows[n - 1].item]
                }
                Protocol::RandomHoldout { fraction, seed } => {
                    let held = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
                    let mut state = seed ^ (user as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
                    let mut order: Vec<usize> = (0..n).collect();
                    for i in (1..n).rev() {
                        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
                        order.swap(i, j);
                    }
                    let mut is_test = vec![false; n];
                    order[..held].iter().for_each(|&i| is_test[i] = true);
                    let (mut test, mut train) = (Vec::new(), Vec::new());
                    for (row, t) in user_rows.iter().zip(is_test) {
                        if t {
                            test.push(row.item)
                        } else {
                            train.push(*row)
                        }
                    }
                    split.train.extend(train);
                    test
                }
            };
            test.sort_unstable();
            split.test.push((user, test));
        }
        split
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix(user: u32, item: u32, timestamp: i64, order: u64) -> Interaction {
        Interaction {
            user,
            item,
            rating: 5.0,
            timestamp,
            order,
        }
    }

    /// Three users: 0 with three times, 1 with one interaction, 2 with two equal times.
    fn rows() -> Vec<Interaction> {
        vec![
            ix(0, 1, 10, 0),
            ix(0, 2, 30, 1),
            ix(0, 3, 20, 2),
            ix(1, 4, 5, 3),
            ix(2, 5, 7, 4),
            ix(2, 6, 7, 5),
        ]
    }

    #[test]
    fn setting_aside_the_latest_moves_leave_last_out_one_step_back() {
        let mut rows = rows();
        rows.push(ix(2, 7, 6, 6));
        let kept = without_latest(&rows, 1);
        // User 0 loses item 2 (time 30), user 1 its only item, user 2 item 6 (the later of
        // two equal times by input order).
        let items: Vec<u32> = kept.iter().map(|i| i.item).collect();
        assert_eq!(items, [1, 3, 7, 5]);
        let split = Split::new(&kept, Protocol::LeaveLastOut);
        assert_eq!(split.test, vec![(0, vec![3]), (2, vec![5])]);
        assert_eq!(without_latest(&rows, 0).len(), rows.len());
        assert!(without_latest(&rows, 3).is_empty());
    }

    #[test]
    fn leave_last_out_takes_the_latest_and_breaks_ties_by_input_order() {
        let split = Split::new(&rows(), Protocol::LeaveLastOut);
        assert_eq!(split.test, vec![(0, vec![2]), (2, vec![6])]);
        let train: Vec<(u32, u32)> = split.train.iter().map(|i| (i.user, i.item)).collect();
        assert_eq!(train, vec![(0, 1), (0, 3), (1, 4), (2, 5)]);
    }

    #[test]
    fn random_holdout_is_repeatable_and_never_takes_everything() {
        let rows: Vec<Interaction> = (0..10).map(|i| ix(0, i, i as i64, i as u64)).collect();
        let p = Protocol::parse("random-holdout", 0.3, 7).unwrap();
        let a = Split::new(&rows, p);
        assert_eq!(a.test[0].1.len(), 3);
        assert_eq!(a.train.len(), 7);
        assert_eq!(Split::new(&rows, p).test, a.test);
        let other = Split::new(&rows, Protocol::parse("random-holdout", 0.3, 8).unwrap());
        assert_ne!(other.test, a.test);
        let two = Split::new(
            &rows[..2],
            Protocol::parse("random-holdout", 0.9, 1).unwrap(),
        );
        assert_eq!((two.train.len(), two.test[0].1.len()), (1, 1));
        assert!(Protocol::parse("random-holdout", 1.0, 1).is_err());
        assert!(Protocol::parse("k-fold", 0.2, 1).is_err());
    }
}
