//! The model file format: what is needed to rebuild the model, compact and checksummed.
//!
//! The index itself is not saved: it is rebuilt from the item texts on load (in RAM, or in
//! `index_dir` when the model was trained with one), which keeps the format independent of
//! tantivy's on-disk format and version.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "RECSYSCT"
//!      8     4  format version (u32) = 1
//!     12     8  n_items (u64)
//!     20     4  max_history (u32)
//!     24     4  recency_decay (f32)
//!     28     4  max_terms (u32)
//!     32     8  min_doc_freq (u64)
//!     40     4  popularity_weight (f32)
//!     44    16  field weights: title, brand, categories, description (4 x f32)
//!     60        index_dir: length (u32) + UTF-8 bytes
//!               popularity: n_items x f32
//!               item texts: n_items x 4 fields x (length (u32) + UTF-8 bytes)
//!    end−4     4  CRC-32 (IEEE) of every byte before it
//! ```
//!
//! All integers and floats are little-endian. [`load`] checks the magic, version, checksum,
//! every length against the bytes actually left (before allocating), UTF-8, the parameters'
//! ranges and that nothing trails; it returns an error, never panics, on bad input.

use crate::error::{ContentError, Result};
use crate::model::ContentModel;
use crate::params::Config;
use crate::text::{ItemDoc, TextField};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RECSYSCT";
/// The format version written by [`save`].
pub const VERSION: u32 = 1;

/// Serializes a model.
pub fn save(model: &ContentModel) -> Vec<u8> {
    let c = model.config();
    let text_len: usize = model
        .docs()
        .iter()
        .flat_map(|d| d.fields.iter().map(|f| 4 + f.len()))
        .sum();
    let mut out = Vec::with_capacity(64 + c.index_dir.len() + 4 * model.n_items() + text_len + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(model.n_items() as u64).to_le_bytes());
    out.extend_from_slice(&(c.max_history as u32).to_le_bytes());
    out.extend_from_slice(&c.recency_decay.to_le_bytes());
    out.extend_from_slice(&(c.max_terms as u32).to_le_bytes());
    out.extend_from_slice(&c.min_doc_freq.to_le_bytes());
    out.extend_from_slice(&c.popularity_weight.to_le_bytes());
    for w in c.field_weights {
        out.extend_from_slice(&w.to_le_bytes());
    }
    put_str(&mut out, &c.index_dir);
    for p in model.popularity() {
        out.extend_from_slice(&p.to_le_bytes());
    }
    for doc in model.docs() {
        for field in &doc.fields {
            put_str(&mut out, field);
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Item fields are cut to `MAX_FIELD_BYTES` when cleaned; paths are short.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..len as usize]);
}

fn corrupt(message: impl Into<String>) -> ContentError {
    ContentError::Corrupt(message.into())
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
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        self.array(what).map(u32::from_le_bytes)
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        self.array(what).map(u64::from_le_bytes)
    }
    fn f32(&mut self, what: &str) -> Result<f32> {
        self.array(what).map(f32::from_le_bytes)
    }
    fn string(&mut self, what: &str) -> Result<String> {
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt(format!("{what} is not UTF-8")))
    }
}

/// Restores a model written by [`save`], rebuilding its index.
pub fn load(bytes: &[u8]) -> Result<ContentModel> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not a content model (bad magic number)"));
    }
    let Some(split) = bytes.len().checked_sub(4).filter(|&s| s >= MAGIC.len() + 4) else {
        return Err(corrupt("truncated: no room for the header and checksum"));
    };
    let (body, crc) = bytes.split_at(split);
    let version = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(corrupt(format!(
            "format version {version}, this plugin reads version {VERSION}"
        )));
    }
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(corrupt("checksum mismatch (truncated or damaged)"));
    }
    let mut r = Reader { bytes: &body[12..] };
    let n_items = r.u64("n_items")?;
    let max_history = r.u32("max_history")? as usize;
    let recency_decay = r.f32("recency_decay")?;
    let max_terms = r.u32("max_terms")? as usize;
    let min_doc_freq = r.u64("min_doc_freq")?;
    let popularity_weight = r.f32("popularity_weight")?;
    let mut field_weights = [0f32; 4];
    for w in &mut field_weights {
        *w = r.f32("field weights")?;
    }
    let index_dir = r.string("index_dir")?;
    let config = Config {
        index_dir,
        max_history,
        recency_decay,
        max_terms,
        min_doc_freq,
        popularity_weight,
        field_weights,
    };
    config
        .validate()
        .map_err(|e| corrupt(format!("parameters: {e}")))?;
    // Every item needs at least 4 popularity bytes and 4 x 4 length bytes.
    let n = usize::try_from(n_items)
        .ok()
        .filter(|&n| n.checked_mul(20).is_some_and(|b| b <= r.bytes.len()))
        .ok_or_else(|| corrupt(format!("{n_items} items do not fit in the bytes given")))?;
    let popularity = (0..n)
        .map(|_| r.f32("popularity"))
        .collect::<Result<Vec<f32>>>()?;
    if popularity.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return Err(corrupt("popularity holds a negative or non-finite count"));
    }
    let mut docs = Vec::with_capacity(n);
    for _ in 0..n {
        let mut doc = ItemDoc::default();
        for field in TextField::ALL {
            doc.fields[field as usize] = r.string(field.name())?;
        }
        docs.push(doc);
    }
    if !r.bytes.is_empty() {
        return Err(corrupt(format!("{} trailing bytes", r.bytes.len())));
    }
    ContentModel::from_parts(config, docs, popularity)
}
