//! The model file format: compact, little-endian, checksummed.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "RECSYSMF"
//!      8     4  format version (u32) = 1
//!     12     4  algorithm (u32): 0 = ALS, 1 = BPR
//!     16     4  factors k (u32)
//!     20     4  flags (u32): bit 0 = binary confidences
//!     24     8  n_users (u64)
//!     32     8  n_items (u64)
//!     40     4  regularization (f32)
//!     44     4  alpha (f32)
//!     48        user factors, n_users * k f32
//!               item factors, n_items * k f32
//!               item biases, n_items f32 (BPR only)
//!               popularity, n_items u32
//!    end−4     4  CRC-32 (IEEE) of every byte before it
//! ```
//!
//! [`load`] checks the magic, version, checksum, every size against the bytes actually there
//! (before allocating) and that nothing trails; it never panics on bad input.

use crate::confidence::Confidence;
use crate::error::{MfError, Result};
use crate::model::{MatrixFactorization, ModelParts};
use crate::params::{Algorithm, MAX_FACTORS};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RECSYSMF";
/// The format version written by [`save`].
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 48;

/// Serialises a model.
pub fn save(model: &MatrixFactorization) -> Vec<u8> {
    let p = model.parts();
    let floats = p.user_factors.len() + p.item_factors.len() + p.item_bias.len();
    let mut out = Vec::with_capacity(HEADER_LEN + 4 * (floats + p.popularity.len()) + 4);
    out.extend_from_slice(MAGIC);
    let algorithm: u32 = match p.algorithm {
        Algorithm::Als => 0,
        Algorithm::Bpr => 1,
    };
    for v in [
        VERSION,
        algorithm,
        p.factors as u32,
        u32::from(p.confidence.binary),
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(model.n_users() as u64).to_le_bytes());
    out.extend_from_slice(&(model.n_items() as u64).to_le_bytes());
    out.extend_from_slice(&p.regularization.to_le_bytes());
    out.extend_from_slice(&p.confidence.alpha.to_le_bytes());
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
}

/// Restores a model written by [`save`].
pub fn load(bytes: &[u8]) -> Result<MatrixFactorization> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not an mf model (bad magic number)"));
    }
    if bytes.len() < HEADER_LEN + 4 {
        return Err(corrupt(format!(
            "truncated: {} bytes, the header alone takes {}",
            bytes.len(),
            HEADER_LEN + 4
        )));
    }
    let (payload, crc) = bytes.split_at(bytes.len() - 4);
    let mut r = Reader {
        bytes: &payload[MAGIC.len()..],
    };
    let version = r.u32("version")?;
    if version != VERSION {
        return Err(corrupt(format!(
            "format version {version}, this plugin reads version {VERSION}"
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
    if flags > 1 {
        return Err(corrupt(format!("unknown flags {flags:#x}")));
    }
    let n_users = r.u64("n_users")?;
    let n_items = r.u64("n_items")?;
    let regularization = r.f32("regularization")?;
    let alpha = r.f32("alpha")?;
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
            binary: flags & 1 == 1,
        },
        user_factors,
        item_factors,
        item_bias,
        popularity,
    })
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
    }

    #[test]
    fn roundtrips_both_algorithms() {
        for a in [Algorithm::Als, Algorithm::Bpr] {
            let m = model(a);
            let bytes = save(&m);
            let back = load(&bytes).unwrap();
            assert_eq!(back.parts(), m.parts());
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
