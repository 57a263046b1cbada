//! The model's binary format.
//!
//! All numbers little-endian:
//!
//! ```text
//! magic      4 bytes  "RSCF"
//! version    u8       4 (version 1 lacks recency_decay and reads as 1.0; versions 1 and 2
//!                     lack similarity and read as cosine; versions 1 to 3 lack the
//!                     sequence fields and read as sequence_weight 0)
//! mode       u8       0 = item, 1 = user
//! weighting  u8       0 = none, 1 = tfidf, 2 = bm25
//! binary     u8       0 or 1
//! neighbours u64
//! shrinkage  f32
//! bm25_k1    f32      (0 unless weighting = bm25)
//! bm25_b     f32      (0 unless weighting = bm25)
//! recency    f32      recency_decay (version >= 2)
//! similarity u8       0 = cosine, 1 = dot, 2 = rp3beta (version >= 3)
//! rp3_alpha  f32      only when similarity = 2
//! rp3_beta   f32      only when similarity = 2
//! seq_weight f32      sequence_weight (version >= 4)
//! seq_shrink f32      sequence_shrinkage (version >= 4)
//! seq_window u64      sequence_window (version >= 4)
//! n_users    u64
//! n_items    u64
//! item mode: popularity  f32 x n_items
//!            similarity  matrix, n_items x n_items (row i = the neighbours of item i)
//! user mode: interactions matrix, n_users x n_items (user mode keeps the data and rebuilds its
//!            indexes on load)
//! sequence   u8       1 when the model has the ordered co-occurrence matrix, then that
//!                     matrix, n_items x n_items (version >= 4)
//! checksum   u64      FNV-1a 64 of every byte before it
//!
//! matrix:    nnz u64, indptr u64 x (rows + 1), indices u32 x nnz, values f32 x nnz (CSR)
//! ```
//!
//! Loading checks the magic, version and checksum, bounds every read by the bytes actually
//! present (a corrupt length cannot make it allocate), and validates the matrices and the
//! parameters, so bad bytes are an error, never a panic.

use recsys_plugin_api::PluginError;

use crate::item_knn::ItemKnn;
use crate::matrix::Csr;
use crate::model::{Cf, Kind};
use crate::popularity::Popularity;
use crate::sequence::Sequence;
use crate::{Config, Mode, Similarity, Weighting};

const MAGIC: &[u8; 4] = b"RSCF";
const VERSION: u8 = 4;
const CHECKSUM_LEN: usize = 8;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Serializes a model.
pub(crate) fn encode(model: &Cf) -> Vec<u8> {
    let c = &model.config;
    let mut w = Vec::new();
    w.extend_from_slice(MAGIC);
    w.push(VERSION);
    w.push(match c.mode {
        Mode::Item => 0,
        Mode::User => 1,
    });
    let (weighting, k1, b) = match c.weighting {
        Weighting::None => (0, 0.0, 0.0),
        Weighting::TfIdf => (1, 0.0, 0.0),
        Weighting::Bm25 { k1, b } => (2, k1, b),
    };
    w.push(weighting);
    w.push(u8::from(c.binary));
    put_u64(&mut w, c.neighbours as u64);
    for v in [c.shrinkage, k1, b, c.recency_decay] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    match c.similarity {
        Similarity::Cosine => w.push(0),
        Similarity::Dot => w.push(1),
        Similarity::Rp3Beta { alpha, beta } => {
            w.push(2);
            for v in [alpha, beta] {
                w.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    for v in [c.sequence_weight, c.sequence_shrinkage] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    put_u64(&mut w, c.sequence_window as u64);
    put_u64(&mut w, model.n_users as u64);
    put_u64(&mut w, model.n_items as u64);
    match &model.kind {
        Kind::Item(m) => {
            put_f32s(&mut w, model.popularity.counts());
            put_matrix(&mut w, m.similarities());
        }
        Kind::User(m) => put_matrix(&mut w, m.interactions()),
    }
    match &model.sequence {
        Some(sequence) => {
            w.push(1);
            put_matrix(&mut w, sequence.matrix());
        }
        None => w.push(0),
    }
    let checksum = fnv1a(&w);
    put_u64(&mut w, checksum);
    w
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_f32s(w: &mut Vec<u8>, vs: &[f32]) {
    w.reserve(vs.len() * 4);
    for v in vs {
        w.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_matrix(w: &mut Vec<u8>, m: &Csr) {
    put_u64(w, m.nnz() as u64);
    for &p in m.indptr().to_proper().iter() {
        put_u64(w, p as u64);
    }
    w.reserve(m.nnz() * 8);
    for &i in m.indices() {
        w.extend_from_slice(&i.to_le_bytes());
    }
    put_f32s(w, m.data());
}

fn corrupt(what: impl std::fmt::Display) -> PluginError {
    PluginError::invalid_input(format!("cannot load cf model: {what}"))
}

/// Reads fixed-size values, failing when the bytes run out.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], PluginError> {
        if n > self.bytes.len() {
            return Err(corrupt(format!("truncated in {what}")));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], PluginError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u8(&mut self, what: &str) -> Result<u8, PluginError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u64(&mut self, what: &str) -> Result<u64, PluginError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn f32(&mut self, what: &str) -> Result<f32, PluginError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    fn usize(&mut self, what: &str) -> Result<usize, PluginError> {
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| corrupt(format!("{what} {v} is too large")))
    }

    /// `count` elements of `size` bytes each, decoded by `f`.
    fn many<T>(
        &mut self,
        count: usize,
        size: usize,
        what: &str,
        f: impl Fn(&[u8]) -> T,
    ) -> Result<Vec<T>, PluginError> {
        let n = count
            .checked_mul(size)
            .ok_or_else(|| corrupt(format!("{what}: impossible length {count}")))?;
        Ok(self.take(n, what)?.chunks_exact(size).map(f).collect())
    }

    fn f32s(&mut self, count: usize, what: &str) -> Result<Vec<f32>, PluginError> {
        let vs = self.many(count, 4, what, |c| {
            f32::from_le_bytes(c.try_into().expect("chunks of 4"))
        })?;
        if vs.iter().any(|v| !v.is_finite()) {
            return Err(corrupt(format!("{what} holds a non-finite value")));
        }
        Ok(vs)
    }

    fn matrix(&mut self, rows: usize, cols: usize, what: &str) -> Result<Csr, PluginError> {
        let nnz = self.usize(what)?;
        let rows_plus_one = rows
            .checked_add(1)
            .ok_or_else(|| corrupt(format!("{what}: too many rows")))?;
        let indptr = self.many(rows_plus_one, 8, what, |c| {
            u64::from_le_bytes(c.try_into().expect("chunks of 8"))
        })?;
        let indptr: Vec<usize> = indptr
            .into_iter()
            .map(usize::try_from)
            .collect::<Result<_, _>>()
            .map_err(|_| corrupt(format!("{what}: offset too large")))?;
        if indptr.first() != Some(&0) || indptr.last() != Some(&nnz) {
            return Err(corrupt(format!("{what}: offsets must run from 0 to {nnz}")));
        }
        let indices = self.many(nnz, 4, what, |c| {
            u32::from_le_bytes(c.try_into().expect("chunks of 4"))
        })?;
        let values = self.f32s(nnz, what)?;
        Csr::try_new((rows, cols), indptr, indices, values)
            .map_err(|(.., e)| corrupt(format!("{what}: {e}")))
    }
}

/// Restores a model written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<Cf, PluginError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("these bytes are not a cf model (bad magic number)"));
    }
    let version = match bytes.get(MAGIC.len()) {
        Some(&v @ 1..=VERSION) => v,
        Some(v) => {
            return Err(corrupt(format!(
                "format version {v} is not supported (this plugin reads version {VERSION})"
            )))
        }
        None => return Err(corrupt("truncated after the magic number")),
    };
    let Some(body_len) = bytes.len().checked_sub(CHECKSUM_LEN) else {
        return Err(corrupt("truncated"));
    };
    let (body, checksum) = bytes.split_at(body_len);
    if body.len() <= MAGIC.len() || fnv1a(body).to_le_bytes() != checksum {
        return Err(corrupt(
            "checksum mismatch: the bytes were truncated or altered",
        ));
    }
    let mut r = Reader {
        bytes: &body[MAGIC.len() + 1..],
    };
    let mode = match r.u8("mode")? {
        0 => Mode::Item,
        1 => Mode::User,
        v => return Err(corrupt(format!("unknown mode {v}"))),
    };
    let weighting = r.u8("weighting")?;
    let binary = match r.u8("binary flag")? {
        0 => false,
        1 => true,
        v => return Err(corrupt(format!("binary flag {v} is not 0 or 1"))),
    };
    let neighbours = r.usize("neighbours")?;
    let shrinkage = r.f32("shrinkage")?;
    let (k1, b) = (r.f32("bm25_k1")?, r.f32("bm25_b")?);
    let recency_decay = if version >= 2 {
        r.f32("recency_decay")?
    } else {
        1.0
    };
    let similarity = if version >= 3 {
        match r.u8("similarity")? {
            0 => Similarity::Cosine,
            1 => Similarity::Dot,
            2 => Similarity::Rp3Beta {
                alpha: r.f32("rp3_alpha")?,
                beta: r.f32("rp3_beta")?,
            },
            v => return Err(corrupt(format!("unknown similarity {v}"))),
        }
    } else {
        Similarity::Cosine
    };
    let defaults = Config::default();
    let (sequence_weight, sequence_shrinkage, sequence_window) = if version >= 4 {
        (
            r.f32("sequence_weight")?,
            r.f32("sequence_shrinkage")?,
            r.usize("sequence_window")?,
        )
    } else {
        (0.0, defaults.sequence_shrinkage, defaults.sequence_window)
    };
    let weighting = match weighting {
        0 => Weighting::None,
        1 => Weighting::TfIdf,
        2 => Weighting::Bm25 { k1, b },
        v => return Err(corrupt(format!("unknown weighting {v}"))),
    };
    let config = Config {
        mode,
        neighbours,
        shrinkage,
        weighting,
        binary,
        recency_decay,
        similarity,
        sequence_weight,
        sequence_window,
        sequence_shrinkage,
    };
    config
        .validate()
        .map_err(|e| corrupt(format!("bad parameters: {}", e.message)))?;
    let n_users = r.usize("n_users")?;
    let n_items = r.usize("n_items")?;
    let mut model = match mode {
        Mode::Item => {
            let counts = r.f32s(n_items, "popularity")?;
            if counts.iter().any(|&c| c < 0.0) {
                return Err(corrupt("popularity holds a negative count"));
            }
            let sims = r.matrix(n_items, n_items, "similarity matrix")?;
            Cf {
                config,
                n_users,
                n_items,
                popularity: Popularity::from_counts(counts),
                kind: Kind::Item(ItemKnn::from_similarities(sims)),
                sequence: None,
            }
        }
        Mode::User => {
            let x = r.matrix(n_users, n_items, "interaction matrix")?;
            Cf::from_interactions(&x, config)
        }
    };
    if version >= 4 {
        model.sequence = match r.u8("sequence flag")? {
            0 => None,
            1 => Some(Sequence::from_matrix(r.matrix(
                n_items,
                n_items,
                "sequence matrix",
            )?)),
            v => return Err(corrupt(format!("sequence flag {v} is not 0 or 1"))),
        };
    }
    if !r.bytes.is_empty() {
        return Err(corrupt(format!(
            "{} unexpected bytes after the model",
            r.bytes.len()
        )));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use recsys_plugin_api::{CsrView, ErrorKind, Query, Recommender, TrainData};

    use super::*;

    fn model(json: &str) -> Cf {
        let x = CsrView::new(3, 4, &[0, 2, 5, 6], &[0, 1, 0, 1, 3, 2], &[1.0; 6]).unwrap();
        Cf::train(&TrainData::new(x), &crate::recommender::tests::plain(json)).unwrap()
    }

    /// A model trained with timestamps (user 0 took item 0, then 1; user 1 took 0, 1, then 3),
    /// so that `sequence_weight` > 0 gives it the ordered co-occurrence matrix.
    fn timed_model(json: &str) -> Cf {
        let x = CsrView::new(3, 4, &[0, 2, 5, 6], &[0, 1, 0, 1, 3, 2], &[1.0; 6]).unwrap();
        let data = TrainData::new(x)
            .with_timestamps(&[1, 2, 1, 2, 3, 1])
            .unwrap();
        Cf::train(&data, &crate::recommender::tests::plain(json)).unwrap()
    }

    fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
        let body = bytes.len() - CHECKSUM_LEN;
        let sum = fnv1a(&bytes[..body]);
        bytes[body..].copy_from_slice(&sum.to_le_bytes());
        bytes
    }

    fn message(bytes: &[u8]) -> String {
        let err = Cf::load(bytes).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        err.message
    }

    #[test]
    fn round_trips_exactly() {
        for json in [
            "{}",
            r#"{"mode": "user", "weighting": "tfidf"}"#,
            r#"{"weighting": "bm25", "similarity": "dot"}"#,
            r#"{"similarity": "rp3beta", "rp3_alpha": 1.5, "rp3_beta": 0.25}"#,
        ] {
            let bytes = model(json).save().unwrap();
            assert_eq!(&bytes[..4], b"RSCF");
            let loaded = decode(&bytes).unwrap();
            assert_eq!(encode(&loaded), bytes);
            let q = Query::new(&[0], 3);
            assert_eq!(
                loaded.recommend(&q).unwrap(),
                model(json).recommend(&q).unwrap()
            );
        }
        for json in [
            r#"{"sequence_weight": 2}"#,
            r#"{"mode": "user", "sequence_weight": 0.5, "sequence_window": 2}"#,
        ] {
            let original = timed_model(json);
            assert!(original.sequence.is_some(), "{json}");
            let bytes = original.save().unwrap();
            let loaded = decode(&bytes).unwrap();
            assert!(loaded.sequence.is_some());
            assert_eq!(encode(&loaded), bytes);
            let (q, item) = (Query::new(&[1], 3), 3);
            assert_eq!(
                loaded.recommend(&q).unwrap(),
                original.recommend(&q).unwrap()
            );
            assert_eq!(
                loaded.explain(&q, item).unwrap(),
                original.explain(&q, item).unwrap()
            );
        }
    }

    #[test]
    fn rejects_every_truncation_and_every_flipped_byte() {
        for json in [
            "{}",
            r#"{"mode": "user"}"#,
            r#"{"similarity": "rp3beta"}"#,
            r#"{"sequence_weight": 1}"#,
        ] {
            let bytes = timed_model(json).save().unwrap();
            for len in 0..bytes.len() {
                assert!(Cf::load(&bytes[..len]).is_err(), "{json}: prefix of {len}");
            }
            for i in 0..bytes.len() {
                let mut bad = bytes.clone();
                bad[i] ^= 0x10;
                assert!(Cf::load(&bad).is_err(), "{json}: byte {i} flipped");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Cf::load(&longer).is_err());
        }
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(message(b"PK\x03\x04").contains("not a cf model"));
        let bytes = model("{}").save().unwrap();
        let mut v5 = bytes.clone();
        v5[4] = 5;
        assert!(message(&v5).contains("format version 5 is not supported"));
        let mut altered = bytes.clone();
        let last_value = bytes.len() - CHECKSUM_LEN - 1;
        altered[last_value] ^= 1;
        assert!(message(&altered).contains("checksum mismatch"));
    }

    #[test]
    fn reads_versions_1_to_3_without_recency_decay_similarity_or_sequence() {
        // What a version 3 file reads as: no sequence part, the other sequence defaults.
        let d = Config::default();
        let original = model(&format!(
            r#"{{"sequence_weight": 0, "sequence_shrinkage": {}, "sequence_window": {}}}"#,
            d.sequence_shrinkage, d.sequence_window
        ));
        let v4 = original.save().unwrap();
        let checksum = v4.len() - CHECKSUM_LEN;
        // Version 3 is version 4 without the sequence fields at offset 33 (two f32 and a u64)
        // and the sequence flag before the checksum.
        let mut v3 = [&v4[..33], &v4[49..checksum - 1], &v4[checksum..]].concat();
        v3[4] = 3;
        let restored = Cf::load(&reseal(v3.clone())).unwrap();
        assert_eq!(restored.config().sequence_weight, 0.0);
        assert!(restored.sequence.is_none());
        assert_eq!(restored.save().unwrap(), v4);
        // Version 2 also lacks the similarity byte at offset 32.
        let mut v2 = [&v3[..32], &v3[33..]].concat();
        v2[4] = 2;
        let restored = Cf::load(&reseal(v2)).unwrap();
        assert_eq!(restored.config().similarity, Similarity::Cosine);
        assert_eq!(restored.save().unwrap(), v4);
        // Version 1 also lacks the recency_decay f32 at offset 28.
        let mut v1 = [&v3[..28], &v3[33..]].concat();
        v1[4] = 1;
        let restored = Cf::load(&reseal(v1)).unwrap();
        assert_eq!(restored.config().recency_decay, 1.0);
        assert_eq!(restored.save().unwrap(), v4);
    }

    #[test]
    fn stores_rp3beta_parameters_after_the_similarity_byte() {
        let cosine = model("{}").save().unwrap();
        let bytes = model(r#"{"similarity": "rp3beta", "rp3_alpha": 1.5, "rp3_beta": 0.25}"#)
            .save()
            .unwrap();
        // Similarity 2, then alpha and beta; the rest shifts by 8 bytes.
        assert_eq!(bytes[..32], cosine[..32]);
        assert_eq!(bytes[32], 2);
        assert_eq!(bytes[33..37], 1.5f32.to_le_bytes());
        assert_eq!(bytes[37..41], 0.25f32.to_le_bytes());
        // The sequence fields, n_users, n_items.
        assert_eq!(bytes[41..73], cosine[33..65]);
        let loaded = Cf::load(&bytes).unwrap();
        assert_eq!(
            loaded.config().similarity,
            Similarity::Rp3Beta {
                alpha: 1.5,
                beta: 0.25
            }
        );
        // Out-of-range parameters behind a valid checksum are refused.
        let mut zero_alpha = bytes.clone();
        zero_alpha[33..37].copy_from_slice(&0f32.to_le_bytes());
        assert!(message(&reseal(zero_alpha)).contains("`rp3_alpha` must be"));
        let mut user_mode = bytes.clone();
        user_mode[5] = 1;
        assert!(message(&reseal(user_mode)).contains("needs `mode` = \"item\""));
        // Cut before beta.
        let short = reseal([&bytes[..37], &bytes[bytes.len() - CHECKSUM_LEN..]].concat());
        assert!(message(&short).contains("truncated"));
    }

    #[test]
    fn validates_content_behind_a_valid_checksum() {
        let bytes = model("{}").save().unwrap();
        // Header: magic 4, version, mode, weighting, binary, neighbours u64 at offset 8.
        let mut zero_neighbours = bytes.clone();
        zero_neighbours[8..16].copy_from_slice(&0u64.to_le_bytes());
        assert!(message(&reseal(zero_neighbours)).contains("`neighbours` must be at least 1"));
        let mut bad_mode = bytes.clone();
        bad_mode[5] = 9;
        assert!(message(&reseal(bad_mode)).contains("unknown mode 9"));
        let mut bad_similarity = bytes.clone();
        bad_similarity[32] = 7;
        assert!(message(&reseal(bad_similarity)).contains("unknown similarity 7"));
        // sequence_weight (offset 33), sequence_shrinkage (37) and sequence_window (41).
        for (range, value, needle) in [
            (
                33..37,
                (-1f32).to_le_bytes().to_vec(),
                "`sequence_weight` must be",
            ),
            (
                37..41,
                f32::NAN.to_le_bytes().to_vec(),
                "`sequence_shrinkage` must be",
            ),
            (
                41..49,
                0u64.to_le_bytes().to_vec(),
                "`sequence_window` must be",
            ),
        ] {
            let mut bad = bytes.clone();
            bad[range].copy_from_slice(&value);
            assert!(message(&reseal(bad)).contains(needle), "{needle}");
        }
        // n_items (offset 57) so large that the popularity array cannot be there.
        let mut huge = bytes.clone();
        huge[57..65].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert!(message(&reseal(huge)).contains("popularity"));
        // A similarity matrix whose column index is out of range.
        let mut out_of_range = bytes.clone();
        let first_index = 65 + 4 * 4 + 8 + 8 * 5;
        out_of_range[first_index..first_index + 4].copy_from_slice(&77u32.to_le_bytes());
        assert!(message(&reseal(out_of_range)).contains("similarity matrix"));
        // A non-finite similarity (the last value before the sequence flag).
        let mut nan = bytes.clone();
        let values = bytes.len() - CHECKSUM_LEN - 1 - 4;
        nan[values..values + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(message(&reseal(nan)).contains("non-finite"));
        // The sequence flag.
        let mut bad_flag = bytes.clone();
        bad_flag[bytes.len() - CHECKSUM_LEN - 1] = 7;
        assert!(message(&reseal(bad_flag)).contains("sequence flag 7"));
    }
}
