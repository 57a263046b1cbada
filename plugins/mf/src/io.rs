//! The model file format: compact, little-endian, checksummed.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "RECSYSMF"
//!      8     4  format version (u32) = 2
//!     12     4  algorithm (u32): 0 = ALS, 1 = BPR
//!     16     4  factors k (u32)
//!     20     4  flags (u32): bit 0 = binary confidences, bit 1 = user keys stored
//!     24     8  n_users (u64)
//!     32     8  n_items (u64)
//!     40     4  regularization (f32)
//!     44     4  alpha (f32)
//!     48     4  BPR fold-in learning rate (f32)
//!     52     4  BPR fold-in epochs (u32)
//!     56     4  BPR fold-in popular_negatives (f32)
//!     60        user factors, n_users * k f32
//!               item factors, n_items * k f32
//!               item biases, n_items f32 (BPR only)
//!               popularity, n_items u32
//!               user keys, n_users u64 (flag bit 1 only)
//!    end−4     4  CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Version 1 files (no fold-in schedule, no user keys, a 48-byte header) still load: their
//! BPR fold-ins use the default schedule and every query is folded in.
//!
//! [`load`] checks the magic, version, checksum, every size against the bytes actually there
//! (before allocating) and that nothing trails; it never panics on bad input.

use crate::confidence::Confidence;
use crate::error::{MfError, Result};
use crate::foldin_bpr::BprSchedule;
use crate::model::{MatrixFactorization, ModelParts};
use crate::params::{Algorithm, MfParams, MAX_FACTORS};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RECSYSMF";
/// The format version written by [`save`].
pub const VERSION: u32 = 2;
/// The header length of version 1, the shortest.
const HEADER_LEN_V1: usize = 48;
const HEADER_LEN: usize = 60;
/// Flag bits.
const BINARY: u32 = 1;
const USER_KEYS: u32 = 2;

/// Serialises a model.
pub fn save(model: &MatrixFactorization) -> Vec<u8> {
    let p = model.parts();
    let floats = p.user_factors.len() + p.item_factors.len() + p.item_bias.len();
    let keys = model.user_keys();
    let mut out =
        Vec::with_capacity(HEADER_LEN + 4 * (floats + p.popularity.len()) + 8 * keys.len() + 4);
    let mut flags = 0;
    if p.confidence.binary {
        flags |= BINARY;
    }
    if !keys.is_empty() {
        flags |= USER_KEYS;
    }
    out.extend_from_slice(MAGIC);
    let algorithm: u32 = match p.algorithm {
        Algorithm::Als => 0,
        Algorithm::Bpr => 1,
    };
    for v in [VERSION, algorithm, p.factors as u32, flags] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(model.n_users() as u64).to_le_bytes());
    out.extend_from_slice(&(model.n_items() as u64).to_le_bytes());
    out.extend_from_slice(&p.regularization.to_le_bytes());
    out.extend_from_slice(&p.confidence.alpha.to_le_bytes());
    let schedule = model.bpr_schedule();
    out.extend_from_slice(&schedule.learning_rate.to_le_bytes());
    // Validated models have at most u32::MAX epochs in practice; saturate rather than wrap.
    out.extend_from_slice(
        &u32::try_from(schedule.epochs)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&schedule.popular_negatives.to_le_bytes());
    for v in p
        .user_factors
        .iter()
        .chain(&p.item_factors)
        .chain(&p.item_bias)
    {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in &p.popularity {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in keys {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn corrupt(message: impl Into<String>) -> MfError {
    MfError::Corrupt(message.into())
}

/// A cursor over the payload that fails, instead of panicking, past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(corrupt(format!(
                "truncated: {what} needs {n} bytes, {} left",
                self.bytes.len()
            )));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    /// `count` little-endian 4-byte values, after checking that they are all there.
    fn words<T>(&mut self, count: u64, what: &str, f: fn([u8; 4]) -> T) -> Result<Vec<T>> {
        let len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(4))
            .ok_or_else(|| corrupt(format!("{what}: {count} values cannot fit in memory")))?;
        let bytes = self.take(len, what)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// `count` little-endian u64 values, after checking that they are all there.
    fn u64s(&mut self, count: u64, what: &str) -> Result<Vec<u64>> {
        let len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(8))
            .ok_or_else(|| corrupt(format!("{what}: {count} values cannot fit in memory")))?;
        let bytes = self.take(len, what)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8 bytes")))
            .collect())
    }
}

/// Restores a model written by [`save`].
pub fn load(bytes: &[u8]) -> Result<MatrixFactorization> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not an mf model (bad magic number)"));
    }
    if bytes.len() < HEADER_LEN_V1 + 4 {
        return Err(corrupt(format!(
            "truncated: {} bytes, the header alone takes {}",
            bytes.len(),
            HEADER_LEN_V1 + 4
        )));
    }
    let (payload, crc) = bytes.split_at(bytes.len() - 4);
    let mut r = Reader {
        bytes: &payload[MAGIC.len()..],
    };
    let version = r.u32("version")?;
    if !(1..=VERSION).contains(&version) {
        return Err(corrupt(format!(
            "format version {version}, this plugin reads versions 1 to {VERSION}"
        )));
    }
    let stored_crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(payload) != stored_crc {
        return Err(corrupt(
            "checksum mismatch: the bytes are truncated or damaged",
        ));
    }
    let algorithm = match r.u32("algorithm")? {
        0 => Algorithm::Als,
        1 => Algorithm::Bpr,
        other => return Err(corrupt(format!("unknown algorithm code {other}"))),
    };
    let factors = r.u32("factors")? as usize;
    if !(1..=MAX_FACTORS).contains(&factors) {
        return Err(corrupt(format!("{factors} factors")));
    }
    let flags = r.u32("flags")?;
    let known = if version == 1 {
        BINARY
    } else {
        BINARY | USER_KEYS
    };
    if flags & !known != 0 {
        return Err(corrupt(format!("unknown flags {flags:#x}")));
    }
    let n_users = r.u64("n_users")?;
    let n_items = r.u64("n_items")?;
    let regularization = r.f32("regularization")?;
    let alpha = r.f32("alpha")?;
    let schedule = if version == 1 {
        MfParams::default().bpr_schedule()
    } else {
        BprSchedule {
            learning_rate: r.f32("fold-in learning rate")?,
            epochs: r.u32("fold-in epochs")? as usize,
            popular_negatives: r.f32("fold-in popular_negatives")?,
        }
    };
    let k = factors as u64;
    let count = |n: u64, what: &str| {
        n.checked_mul(k)
            .ok_or_else(|| corrupt(format!("{what}: {n} x {k} overflows")))
    };
    let user_factors = r.words(
        count(n_users, "user factors")?,
        "user factors",
        f32::from_le_bytes,
    )?;
    let item_factors = r.words(
        count(n_items, "item factors")?,
        "item factors",
        f32::from_le_bytes,
    )?;
    let n_bias = match algorithm {
        Algorithm::Als => 0,
        Algorithm::Bpr => n_items,
    };
    let item_bias = r.words(n_bias, "item biases", f32::from_le_bytes)?;
    let popularity = r.words(n_items, "popularity", u32::from_le_bytes)?;
    let user_keys = if flags & USER_KEYS != 0 {
        r.u64s(n_users, "user keys")?
    } else {
        Vec::new()
    };
    if !r.bytes.is_empty() {
        return Err(corrupt(format!(
            "{} unexpected trailing bytes",
            r.bytes.len()
        )));
    }
    MatrixFactorization::from_parts(ModelParts {
        algorithm,
        factors,
        regularization,
        confidence: Confidence {
            alpha,
            binary: flags & BINARY != 0,
        },
        user_factors,
        item_factors,
        item_bias,
        popularity,
    })
    .and_then(|m| m.with_user_keys(user_keys))
    .and_then(|m| m.with_bpr_schedule(schedule))
    .map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(algorithm: Algorithm) -> MatrixFactorization {
        let bias = match algorithm {
            Algorithm::Als => vec![],
            Algorithm::Bpr => vec![0.5, -0.25, 0.0],
        };
        MatrixFactorization::from_parts(ModelParts {
            algorithm,
            factors: 2,
            regularization: 0.05,
            confidence: Confidence {
                alpha: 3.0,
                binary: false,
            },
            user_factors: vec![0.1, 0.2, 0.3, 0.4],
            item_factors: vec![1.0, -1.0, 0.5, 0.25, 0.0, 2.0],
            item_bias: bias,
            popularity: vec![4, 0, 9],
        })
        .unwrap()
        .with_user_keys(vec![11, u64::MAX])
        .unwrap()
        .with_bpr_schedule(BprSchedule {
            learning_rate: 0.5,
            epochs: 7,
            popular_negatives: 0.25,
        })
        .unwrap()
    }

    /// The version 1 file of `m` (no schedule, no keys), as the previous release wrote it.
    fn save_v1(m: &MatrixFactorization) -> Vec<u8> {
        let v2 = save(m);
        let keys = 8 * m.user_keys().len();
        let mut out = v2[..HEADER_LEN_V1].to_vec();
        out[8..12].copy_from_slice(&1u32.to_le_bytes());
        out[20..24].copy_from_slice(&u32::from(m.parts().confidence.binary).to_le_bytes());
        out.extend_from_slice(&v2[HEADER_LEN..v2.len() - 4 - keys]);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn reads_version_1_files() {
        for a in [Algorithm::Als, Algorithm::Bpr] {
            let m = model(a);
            let old = load(&save_v1(&m)).unwrap();
            assert_eq!(old.parts(), m.parts());
            assert!(old.user_keys().is_empty());
            assert_eq!(old.bpr_schedule(), MfParams::default().bpr_schedule());
            // Re-saved, it becomes a version 2 file without keys.
            let again = load(&save(&old)).unwrap();
            assert!(again.user_keys().is_empty());
            assert_eq!(again.parts(), m.parts());
        }
        let mut future = save(&model(Algorithm::Als));
        future[8..12].copy_from_slice(&3u32.to_le_bytes());
        let err = load(&future).unwrap_err().to_string();
        assert!(err.contains("version 3"), "{err}");
    }

    #[test]
    fn roundtrips_both_algorithms() {
        for a in [Algorithm::Als, Algorithm::Bpr] {
            let m = model(a);
            let bytes = save(&m);
            let back = load(&bytes).unwrap();
            assert_eq!(back.parts(), m.parts());
            assert_eq!(back.user_keys(), m.user_keys());
            assert_eq!(back.bpr_schedule(), m.bpr_schedule());
            assert_eq!(save(&back), bytes);
        }
    }

    #[test]
    fn rejects_every_truncation_and_any_flipped_byte() {
        let bytes = save(&model(Algorithm::Bpr));
        for len in 0..bytes.len() {
            let err = load(&bytes[..len]).unwrap_err();
            assert!(matches!(err, MfError::Corrupt(_)), "len {len}: {err}");
        }
        for pos in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 0x10;
            assert!(load(&damaged).is_err(), "flipped byte {pos} accepted");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(load(&longer).is_err());
        assert!(load(b"hello")
            .unwrap_err()
            .to_string()
            .contains("bad magic"));
    }

    #[test]
    fn huge_sizes_with_a_valid_checksum_fail_cleanly() {
        // A forged header that claims 2^60 items: rejected before any allocation.
        let mut bytes = save(&model(Algorithm::Als));
        bytes.truncate(bytes.len() - 4);
        bytes[32..40].copy_from_slice(&(1u64 << 60).to_le_bytes());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let err = load(&bytes).unwrap_err().to_string();
        assert!(err.contains("item factors"), "{err}");
    }
}
