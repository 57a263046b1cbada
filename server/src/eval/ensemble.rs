//! The ensemble: weighted reciprocal-rank fusion of the plugins' top lists, with weights and
//! rank constant tuned on a validation split carved out of the training data.
//!
//! Fused score of item i: `sum_p w_p / (c + rank_p(i))` over the plugins p whose top `depth`
//! list holds i (ranks from 1). Rank fusion needs no score calibration between plugins (a
//! BM25 score and a dot product are not comparable) and is robust to one plugin's outliers;
//! the rank constant c sets how much the top of each list dominates.

use rayon::prelude::*;
use recsys_plugin_api::Params;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{Metrics, MetricsAccumulator};

/// Weights tried for each plugin during tuning.
const WEIGHT_GRID: [f64; 7] = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 4.0];
/// Rank constants tried during tuning.
const RANK_CONSTANTS: [f64; 4] = [2.0, 10.0, 30.0, 60.0];

/// A fusion of several ranked lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    /// One weight per member list.
    pub weights: Vec<f64>,
    /// The rank constant c.
    pub rank_constant: f64,
}

impl Fusion {
    /// The fused top `k` of `lists` (one list per member, best first), with fused scores.
    pub fn fuse_scored(&self, lists: &[&[u32]], k: usize) -> Vec<(u32, f64)> {
        let mut scores: FxHashMap<u32, f64> = FxHashMap::default();
        for (list, &w) in lists.iter().zip(&self.weights) {
            if w == 0.0 {
                continue;
            }
            for (rank, &item) in list.iter().enumerate() {
                *scores.entry(item).or_insert(0.0) += w / (self.rank_constant + (rank + 1) as f64);
            }
        }
        let mut fused: Vec<(u32, f64)> = scores.into_iter().collect();
        fused.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        fused.truncate(k);
        fused
    }

    /// The fused top `k` items.
    pub fn fuse(&self, lists: &[&[u32]], k: usize) -> Vec<u32> {
        self.fuse_scored(lists, k)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    /// Metrics of the fused lists against each user's held-out items.
    pub fn score(
        &self,
        input: &FusionInput,
        relevant: &[&[u32]],
        k: usize,
        n_items: usize,
    ) -> Metrics {
        input.check_k(k);
        // Fixed chunks merged in order, so that the sums do not depend on scheduling.
        input
            .users
            .par_chunks(super::runner::METRICS_CHUNK)
            .zip(relevant.par_chunks(super::runner::METRICS_CHUNK))
            .map(|(users, relevant)| {
                let (mut acc, mut scratch) = (MetricsAccumulator::new(n_items), Vec::new());
                for (user, relevant) in users.iter().zip(relevant) {
                    acc.add(k, &user.fuse(self, k, &mut scratch), relevant);
                }
                acc
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(MetricsAccumulator::new(n_items), MetricsAccumulator::merge)
            .finish()
    }

    /// NDCG@k of the fused list of every user.
    pub fn per_user_ndcg(&self, input: &FusionInput, relevant: &[&[u32]], k: usize) -> Vec<f64> {
        input.check_k(k);
        input
            .users
            .par_iter()
            .zip(relevant)
            .map_init(Vec::new, |scratch, (user, relevant)| {
                user.ndcg(self, k, relevant, scratch)
            })
            .collect()
    }

    /// Mean NDCG@k of the fused lists: the `ndcg` of [`Fusion::score`], to the last bit,
    /// without building the lists (each relevant item's rank is counted, not sorted for), which
    /// is what tuning asks hundreds of times.
    pub fn mean_ndcg(&self, input: &FusionInput, relevant: &[&[u32]], k: usize) -> f64 {
        input.check_k(k);
        // The chunks and the order of the sums of `score`.
        let total = input
            .users
            .par_chunks(super::runner::METRICS_CHUNK)
            .zip(relevant.par_chunks(super::runner::METRICS_CHUNK))
            .map(|(users, relevant)| {
                let mut scratch = Vec::new();
                users
                    .iter()
                    .zip(relevant)
                    .fold(0.0, |sum, (user, relevant)| {
                        sum + user.ndcg(self, k, relevant, &mut scratch)
                    })
            })
            .collect::<Vec<f64>>()
            .into_iter()
            .fold(0.0, |a, b| a + b);
        total / input.users.len().max(1) as f64
    }

    /// [`Fusion::tune`], kept only if it beats the best single list on validation by more than
    /// one standard error of the paired per-user difference; otherwise the best single list
    /// (weight 1, the others 0). A blend must earn its complexity: on small validation sets a
    /// tuned blend's edge is often noise.
    pub fn tune_guarded(lists: &[Vec<Vec<u32>>], relevant: &[&[u32]], k: usize) -> (Fusion, f64) {
        let input = FusionInput::new(lists, k);
        let (tuned, tuned_ndcg) = Self::tune(&input, relevant, k);
        let single = |p: usize| Fusion {
            weights: (0..lists.len())
                .map(|q| if q == p { 1.0 } else { 0.0 })
                .collect(),
            rank_constant: tuned.rank_constant,
        };
        let (best, best_ndcg) = (0..lists.len())
            .map(|p| (single(p), single(p).mean_ndcg(&input, relevant, k)))
            .fold((single(0), f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
        let a = tuned.per_user_ndcg(&input, relevant, k);
        let b = best.per_user_ndcg(&input, relevant, k);
        let (mean, standard_error) = super::tune::paired_difference(&a, &b);
        if mean > standard_error {
            (tuned, tuned_ndcg)
        } else {
            (best, best_ndcg)
        }
    }

    /// Tunes weights (coordinate ascent over a grid, from equal weights) and the rank constant
    /// for NDCG@k on indexed validation lists (see [`FusionInput::new`]). Ties keep the
    /// earlier choice.
    pub fn tune(input: &FusionInput, relevant: &[&[u32]], k: usize) -> (Fusion, f64) {
        let n = input.n_lists;
        let mut best = (
            Fusion {
                weights: vec![1.0; n],
                rank_constant: RANK_CONSTANTS[0],
            },
            f64::MIN,
        );
        for &c in &RANK_CONSTANTS {
            let mut current = Fusion {
                weights: vec![1.0; n],
                rank_constant: c,
            };
            let mut current_ndcg = current.mean_ndcg(input, relevant, k);
            for _round in 0..3 {
                let mut improved = false;
                for p in 0..n {
                    for &w in &WEIGHT_GRID {
                        if w == current.weights[p] {
                            continue;
                        }
                        let mut candidate = current.clone();
                        candidate.weights[p] = w;
                        if candidate.weights.iter().all(|&x| x == 0.0) {
                            continue;
                        }
                        let ndcg = candidate.mean_ndcg(input, relevant, k);
                        if ndcg > current_ndcg + 1e-12 {
                            (current, current_ndcg, improved) = (candidate, ndcg, true);
                        }
                    }
                }
                if !improved {
                    break;
                }
            }
            if current_ndcg > best.1 + 1e-12 {
                best = (current, current_ndcg);
            }
        }
        best
    }
}

/// Several plugins' lists per user, indexed once so that many fusions can be scored fast:
/// per user, the union of the listed items and each item's rank in each list.
#[derive(Debug, Clone)]
pub struct FusionInput {
    users: Vec<UserCandidates>,
    n_lists: usize,
    /// The largest k the candidates were kept for.
    k: usize,
}

#[derive(Debug, Clone)]
struct UserCandidates {
    items: Vec<u32>,
    /// `items.len() * n_lists` ranks from 1; 0 where the list does not hold the item.
    ranks: Vec<u32>,
    n_lists: usize,
}

impl UserCandidates {
    /// The fused score of candidate `i`.
    fn score(&self, fusion: &Fusion, i: usize) -> f64 {
        let ranks = &self.ranks[i * self.n_lists..(i + 1) * self.n_lists];
        ranks
            .iter()
            .zip(&fusion.weights)
            .filter(|(&r, _)| r > 0)
            .map(|(&r, &w)| w / (fusion.rank_constant + r as f64))
            .sum()
    }

    fn fuse(&self, fusion: &Fusion, k: usize, scratch: &mut Vec<(f64, u32)>) -> Vec<u32> {
        scratch.clear();
        for (i, &item) in self.items.iter().enumerate() {
            let score = self.score(fusion, i);
            if score > 0.0 {
                scratch.push((score, item));
            }
        }
        let by_score = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scratch.len() > k {
            scratch.select_nth_unstable_by(k, by_score);
            scratch.truncate(k);
        }
        scratch.sort_unstable_by(by_score);
        scratch.iter().map(|&(_, item)| item).collect()
    }
}

impl UserCandidates {
    /// NDCG@k of [`fuse`](Self::fuse)'s list against `relevant` (sorted ascending), computed as
    /// [`MetricsAccumulator::add`] does, from each relevant item's rank: the number of items
    /// before it in the list (higher score, or the same score and a lower index).
    fn ndcg(&self, fusion: &Fusion, k: usize, relevant: &[u32], scores: &mut Vec<f64>) -> f64 {
        if relevant.is_empty() || k == 0 {
            return 0.0;
        }
        // A user none of whose relevant items is listed scores 0 whatever the fusion: most
        // users, on sparse data, so they are not scored at all.
        if !self
            .items
            .iter()
            .any(|item| relevant.binary_search(item).is_ok())
        {
            return 0.0;
        }
        scores.clear();
        scores.extend((0..self.items.len()).map(|i| self.score(fusion, i)));
        let mut ranks: Vec<usize> = self
            .items
            .iter()
            .zip(scores.iter())
            .filter(|&(item, &score)| score > 0.0 && relevant.binary_search(item).is_ok())
            .filter_map(|(&item, &score)| {
                let before = self
                    .items
                    .iter()
                    .zip(scores.iter())
                    .filter(|&(&other, &s)| s > score || (s == score && other < item))
                    .count();
                (before < k).then_some(before)
            })
            .collect();
        ranks.sort_unstable();
        let dcg = ranks
            .iter()
            .fold(0.0, |dcg, &rank| dcg + 1.0 / ((rank + 2) as f64).log2());
        let ideal = relevant.len().min(k);
        let idcg: f64 = (0..ideal).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
        dcg / idcg
    }
}

impl FusionInput {
    /// Indexes `lists[p][u]` (every plugin has one list per user, users in the same order) for
    /// fusions scored at `k` or less.
    ///
    /// A user's candidates leave out the items that at least `k` others outrank under every
    /// fusion (nonnegative weights, rank constant >= 0): `j` outranks `i` whatever the weights
    /// when every list holding `i` holds `j` higher, so `i` scores less than `j` whenever it
    /// scores at all. Such an item is never in a fused top `k`, and it never decides another
    /// item's place in it (an item it passes has its `k` dominators above it too: the first `k`
    /// of them in any order consistent with dominance are kept), so every list, metric and
    /// NDCG below is the one of the full candidate set, to the bit. Deep items of one list
    /// only, most of the union on real data, are dropped at once.
    pub fn new(lists: &[Vec<Vec<u32>>], k: usize) -> FusionInput {
        let n_lists = lists.len();
        let n_users = lists.first().map_or(0, Vec::len);
        let users = (0..n_users)
            .into_par_iter()
            .map(|u| {
                let mut position: FxHashMap<u32, usize> = FxHashMap::default();
                let (mut items, mut ranks) = (Vec::new(), Vec::new());
                for (p, plugin_lists) in lists.iter().enumerate() {
                    for (rank, &item) in plugin_lists[u].iter().enumerate() {
                        let at = *position.entry(item).or_insert_with(|| {
                            items.push(item);
                            ranks.extend(std::iter::repeat_n(0, n_lists));
                            items.len() - 1
                        });
                        ranks[at * n_lists + p] = rank as u32 + 1;
                    }
                }
                let all = UserCandidates {
                    items,
                    ranks,
                    n_lists,
                };
                let user_lists: Vec<&[u32]> = lists.iter().map(|l| l[u].as_slice()).collect();
                all.without_outranked(&user_lists, &position, k)
            })
            .collect();
        FusionInput { users, n_lists, k }
    }

    /// Panics when a fusion is scored at a larger `k` than the input was pruned for.
    fn check_k(&self, k: usize) {
        assert!(
            k <= self.k,
            "fusion input indexed for k <= {}, scored at k = {k}",
            self.k
        );
    }
}

impl UserCandidates {
    fn ranks_of(&self, i: usize) -> &[u32] {
        &self.ranks[i * self.n_lists..(i + 1) * self.n_lists]
    }

    /// The candidates without those that `k` others outrank under every fusion (see
    /// [`FusionInput::new`]); `lists` are this user's lists, `position` each item's index.
    fn without_outranked(
        self,
        lists: &[&[u32]],
        position: &FxHashMap<u32, usize>,
        k: usize,
    ) -> UserCandidates {
        let outranked = |i: usize| {
            let own = self.ranks_of(i);
            // Whoever outranks `i` is above it in its best list, so that list bounds the count.
            let Some((best, &rank)) = own
                .iter()
                .enumerate()
                .filter(|&(_, &r)| r > 0)
                .min_by_key(|&(_, &r)| r)
            else {
                return false;
            };
            if (rank as usize) <= k {
                return false;
            }
            let above = &lists[best][..rank as usize - 1];
            if own.iter().filter(|&&r| r > 0).count() == 1 {
                return true; // in that list only: the `rank - 1 >= k` items above it
            }
            let higher_everywhere = |j: usize| {
                let theirs = self.ranks_of(j);
                own.iter()
                    .zip(theirs)
                    .all(|(&r, &t)| r == 0 || (t > 0 && t < r))
            };
            above
                .iter()
                .filter(|item| higher_everywhere(position[item]))
                .take(k)
                .count()
                == k
        };
        let keep: Vec<usize> = (0..self.items.len()).filter(|&i| !outranked(i)).collect();
        UserCandidates {
            items: keep.iter().map(|&i| self.items[i]).collect(),
            ranks: keep
                .iter()
                .flat_map(|&i| self.ranks_of(i).iter().copied())
                .collect(),
            n_lists: self.n_lists,
        }
    }
}

/// One member of a chosen ensemble.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleMember {
    /// Plugin name.
    pub plugin: String,
    /// The preset the member was selected with (`cf:implicit-bm25`), if any; `params` already
    /// hold its values, so this only names the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Plugin version it was tuned with.
    pub version: String,
    /// Training parameters.
    pub params: Params,
    /// Fusion weight (0 = not used).
    pub weight: f64,
    /// The plugin's own validation NDCG@k.
    pub validation_ndcg: f64,
}

/// The ensemble chosen by `recsys evaluate --ensemble`, as written to the ensemble file that
/// `recsys serve` loads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnsembleSpec {
    /// Always "weighted-reciprocal-rank".
    pub fusion: String,
    /// The rank constant c.
    pub rank_constant: f64,
    /// How many items each member ranks before fusion.
    pub depth: usize,
    /// The members with their weights.
    pub members: Vec<EnsembleMember>,
    /// The k the weights were tuned for.
    pub k: usize,
    /// Validation users used for tuning.
    pub validation_users: usize,
    /// Validation NDCG@k of the fused lists.
    pub validation_ndcg: f64,
    /// The dataset it was tuned on.
    pub dataset: String,
    /// Metrics on the held-out test items.
    pub test_metrics: Option<Metrics>,
}

impl EnsembleMember {
    /// `plugin` or `plugin:preset`, as `--plugins` selects it.
    pub fn label(&self) -> String {
        match &self.preset {
            Some(preset) => format!("{}:{preset}", self.plugin),
            None => self.plugin.clone(),
        }
    }
}

impl EnsembleSpec {
    /// The fusion this spec describes.
    pub fn fusion(&self) -> Fusion {
        Fusion {
            weights: self.members.iter().map(|m| m.weight).collect(),
            rank_constant: self.rank_constant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_by_weighted_reciprocal_rank() {
        let f = Fusion {
            weights: vec![1.0, 1.0],
            rank_constant: 0.0,
        };
        // a: 1/1 + 1/3, b: 1/2, c: 1/1 + 1/2... so c, a, b.
        let fused = f.fuse(&[&[1, 3, 2], &[3, 2]], 3);
        assert_eq!(fused, vec![3, 1, 2]);
        let only_second = Fusion {
            weights: vec![0.0, 1.0],
            rank_constant: 10.0,
        };
        assert_eq!(only_second.fuse(&[&[1, 3, 2], &[2, 3]], 2), vec![2, 3]);
    }

    #[test]
    fn tuning_learns_to_trust_the_better_list() {
        // Plugin 1 always ranks the relevant item first; plugin 0 never has it, and its items
        // have lower indices, so they win ties: equal weights score 0.
        let users = 50;
        let relevant: Vec<Vec<u32>> = (0..users).map(|u| vec![10 + u as u32]).collect();
        let good: Vec<Vec<u32>> = (0..users).map(|u| vec![10 + u as u32, 100, 101]).collect();
        let bad: Vec<Vec<u32>> = (0..users).map(|_| vec![0, 1, 2]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let equal = Fusion {
            weights: vec![1.0, 1.0],
            rank_constant: 10.0,
        };
        let input = FusionInput::new(&[bad.clone(), good.clone()], 1);
        assert_eq!(equal.score(&input, &rel, 1, 300).ndcg, 0.0);
        let (fusion, ndcg) = Fusion::tune(&input, &rel, 1);
        assert!((ndcg - 1.0).abs() < 1e-9, "{ndcg}");
        assert!(fusion.weights[1] > fusion.weights[0], "{fusion:?}");
        // The guard keeps the good list alone: the blend is not better than it.
        let (guarded, ndcg) = Fusion::tune_guarded(&[bad, good], &rel, 1);
        assert_eq!(guarded.weights, vec![0.0, 1.0]);
        assert!((ndcg - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_counted_ndcg_is_the_scored_one_to_the_bit() {
        // 3,000 users (three chunks), three lists of 0-12 items from 40 (so ties, items in one
        // list only, relevant items in no list), 0-3 relevant items, a few users with none.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as u32
        };
        let users = 3000;
        let mut lists = vec![Vec::new(); 3];
        let mut relevant = Vec::new();
        for _ in 0..users {
            for list in lists.iter_mut() {
                let mut l: Vec<u32> = Vec::new();
                for _ in 0..next(13) {
                    let item = next(40);
                    if !l.contains(&item) {
                        l.push(item);
                    }
                }
                list.push(l);
            }
            let mut r: Vec<u32> = (0..next(4)).map(|_| next(40)).collect();
            r.sort_unstable();
            r.dedup();
            relevant.push(r);
        }
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let everything = FusionInput::new(&lists, usize::MAX);
        let candidates = |input: &FusionInput| input.users.iter().map(|u| u.items.len()).sum();
        let all: usize = candidates(&everything);
        let pruned: Vec<FusionInput> = [1, 5, 10, 20]
            .iter()
            .map(|&k| FusionInput::new(&lists, k))
            .collect();
        // Deep items of one list are dropped at k = 1 and 5, and fewer at larger k.
        let kept: Vec<usize> = pruned.iter().map(candidates).collect();
        assert!(kept[0] < kept[1] && kept[1] < all, "{kept:?} of {all}");
        for (weights, c) in [
            (vec![1.0, 1.0, 1.0], 2.0),
            (vec![0.0, 0.25, 4.0], 10.0),
            (vec![1.5, 0.0, 0.0], 60.0),
            // Equal weights and ranks give exact ties.
            (vec![1.0, 1.0, 0.0], 0.0),
        ] {
            let fusion = Fusion {
                weights,
                rank_constant: c,
            };
            for (k, input) in [1, 5, 10, 20].into_iter().zip(&pruned) {
                let scored = fusion.score(input, &rel, k, 40);
                assert_eq!(
                    fusion.mean_ndcg(input, &rel, k),
                    scored.ndcg,
                    "{fusion:?} k {k}"
                );
                // The pruned candidates give what all of them give, every metric.
                assert_eq!(
                    format!("{scored:?}"),
                    format!("{:?}", fusion.score(&everything, &rel, k, 40)),
                    "{fusion:?} k {k}"
                );
                let per_user = fusion.per_user_ndcg(input, &rel, k);
                for (u, value) in per_user.iter().enumerate() {
                    let mut acc = MetricsAccumulator::new(0);
                    let fused = fusion.fuse(&[&lists[0][u], &lists[1][u], &lists[2][u]], k);
                    acc.add(k, &fused, &relevant[u]);
                    assert_eq!(*value, acc.finish().ndcg, "user {u}, {fusion:?} k {k}");
                }
            }
        }
    }

    #[test]
    fn members_are_named_with_their_preset_and_older_files_have_none() {
        let json = r#"{"plugin": "cf", "version": "0.1.0", "params": {"neighbours": 7},
                       "weight": 1.0, "validation_ndcg": 0.1}"#;
        let mut member: EnsembleMember = serde_json::from_str(json).unwrap();
        assert_eq!(
            (member.preset.as_deref(), member.label()),
            (None, "cf".into())
        );
        assert!(!serde_json::to_string(&member).unwrap().contains("preset"));
        member.preset = Some("implicit-bm25".into());
        assert_eq!(member.label(), "cf:implicit-bm25");
        let back: EnsembleMember =
            serde_json::from_str(&serde_json::to_string(&member).unwrap()).unwrap();
        assert_eq!(back.label(), "cf:implicit-bm25");
    }

    #[test]
    fn the_guard_keeps_a_blend_that_is_clearly_better() {
        // Each list has the relevant item for half of the users, at rank 1; at k = 2 the blend
        // holds it for everyone.
        let users = 60u32;
        let relevant: Vec<Vec<u32>> = (0..users).map(|u| vec![1000 + u]).collect();
        let a: Vec<Vec<u32>> = (0..users)
            .map(|u| {
                if u % 2 == 0 {
                    vec![1000 + u, 1]
                } else {
                    vec![1, 2]
                }
            })
            .collect();
        let b: Vec<Vec<u32>> = (0..users)
            .map(|u| {
                if u % 2 == 1 {
                    vec![1000 + u, 3]
                } else {
                    vec![3, 4]
                }
            })
            .collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let (fusion, _) = Fusion::tune_guarded(&[a, b], &rel, 2);
        assert!(fusion.weights.iter().all(|&w| w > 0.0), "{fusion:?}");
    }
}
