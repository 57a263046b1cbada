//! The host side of the boundary: checks a declaration and calls a plugin safely.
//!
//! Hosts (the recsys server, or any program embedding plugins) get a [`Plugin`] from a
//! declaration, either read through a library's entry symbol ([`Plugin::from_raw`]) or
//! linked statically ([`Plugin::from_static`]), and train [`Model`]s with it. Every call returns
//! a [`PluginError`]; a panic inside the plugin arrives as [`ErrorKind::Panic`].
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::fmt;
use std::ptr::NonNull;

use crate::ffi::{
    layout_fingerprint, ByteSink, DeclarationHeader, PluginDeclaration, RSlice, RStr, RawQuery,
    RawTrainData, ScoredBuf, Status, MAGIC,
};
use crate::{
    ErrorKind, Explanation, Params, PluginError, PluginInfo, Query, Scored, TrainData, API_MAJOR,
    API_MINOR,
};

/// Why a declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The entry symbol returned null or something without the recsys magic number.
    NotAPlugin,
    /// Built against another major API version.
    ApiVersion {
        /// The host's API version.
        expected: (u32, u32),
        /// The plugin's API version.
        found: (u32, u32),
    },
    /// The `repr(C)` layouts differ (e.g. another pointer width).
    Layout {
        /// The host's fingerprint.
        expected: u64,
        /// The plugin's fingerprint.
        found: u64,
    },
    /// The declaration is shorter than this API version requires.
    Truncated {
        /// Bytes the host needs.
        expected: usize,
        /// Bytes the plugin declared.
        found: usize,
    },
    /// The plugin's info could not be read.
    Info(String),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::NotAPlugin => {
                write!(
                    f,
                    "the entry symbol does not return a recsys plugin declaration"
                )
            }
            HandshakeError::ApiVersion { expected, found } => write!(
                f,
                "plugin API version mismatch: the host supports {}.x (has {}.{}), the plugin was \
                 built against {}.{}; rebuild the plugin against recsys-plugin-api {}.x",
                expected.0, expected.0, expected.1, found.0, found.1, expected.0
            ),
            HandshakeError::Layout { expected, found } => write!(
                f,
                "plugin ABI layout mismatch (expected fingerprint {expected:#x}, found \
                 {found:#x}): built for another platform or a modified API crate"
            ),
            HandshakeError::Truncated { expected, found } => write!(
                f,
                "plugin declaration is {found} bytes, this API version needs {expected}"
            ),
            HandshakeError::Info(msg) => write!(f, "cannot read plugin info: {msg}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// A checked plugin: its declaration and info. Cheap to copy around; never unloaded.
#[derive(Debug, Clone)]
pub struct Plugin {
    decl: &'static PluginDeclaration,
    info: PluginInfo,
}

fn error_from(status: Status, message: Vec<u8>) -> PluginError {
    let kind = status.kind().unwrap_or(ErrorKind::Internal);
    let mut message = String::from_utf8_lossy(&message).into_owned();
    if message.is_empty() {
        message = format!("failed with status {}", status.0);
    }
    PluginError::new(kind, message)
}

impl Plugin {
    /// Checks a declaration read through a library's entry symbol.
    ///
    /// # Safety
    /// `ptr` must be null or point to memory that stays readable for the rest of the program
    /// (the library is never unloaded) and is at least as large as a [`DeclarationHeader`];
    /// if the header checks pass, to a declaration written by [`crate::export_plugin!`] of a
    /// compatible version.
    pub unsafe fn from_raw(ptr: *const PluginDeclaration) -> Result<Plugin, HandshakeError> {
        if ptr.is_null() {
            return Err(HandshakeError::NotAPlugin);
        }
        // SAFETY: the header is the declaration's first field and readable (caller).
        let header: DeclarationHeader = unsafe { std::ptr::read(ptr as *const DeclarationHeader) };
        if header.magic != MAGIC {
            return Err(HandshakeError::NotAPlugin);
        }
        if header.api_major != API_MAJOR {
            return Err(HandshakeError::ApiVersion {
                expected: (API_MAJOR, API_MINOR),
                found: (header.api_major, header.api_minor),
            });
        }
        if header.layout != layout_fingerprint() {
            return Err(HandshakeError::Layout {
                expected: layout_fingerprint(),
                found: header.layout,
            });
        }
        let needed = std::mem::size_of::<PluginDeclaration>();
        if header.size < needed {
            return Err(HandshakeError::Truncated {
                expected: needed,
                found: header.size,
            });
        }
        // SAFETY: header checked: a declaration of this major version, at least as large as
        // ours, that lives for the rest of the program (caller).
        let decl: &'static PluginDeclaration = unsafe { &*ptr };
        let mut json = Vec::new();
        let mut err = Vec::new();
        // SAFETY: both sinks borrow live vectors for the call.
        let status = unsafe {
            (decl.info)(
                &mut ByteSink::for_vec(&mut json),
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(HandshakeError::Info(error_from(status, err).to_string()));
        }
        let info: PluginInfo =
            serde_json::from_slice(&json).map_err(|e| HandshakeError::Info(e.to_string()))?;
        Ok(Plugin { decl, info })
    }

    /// Checks a declaration linked into this program (see [`crate::export_plugin!`]).
    pub fn from_static(decl: &'static PluginDeclaration) -> Result<Plugin, HandshakeError> {
        // SAFETY: a `'static` reference to a complete declaration satisfies `from_raw`.
        unsafe { Plugin::from_raw(decl) }
    }

    /// The plugin's info.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    fn adopt(
        &self,
        status: Status,
        handle: *mut c_void,
        err: Vec<u8>,
        n_items: Option<usize>,
    ) -> Result<Model, PluginError> {
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        let ptr = NonNull::new(handle)
            .ok_or_else(|| PluginError::internal("plugin returned a null model"))?;
        Ok(Model {
            decl: self.decl,
            ptr,
            n_items,
        })
    }

    /// Trains a model (blocking; call from a worker thread in async programs).
    pub fn train(&self, data: &TrainData<'_>, params: &Params) -> Result<Model, PluginError> {
        self.info.validate_params(params)?;
        let raw = RawTrainData::new(data);
        let json = params.to_json();
        let mut handle: *mut c_void = std::ptr::null_mut();
        let mut err = Vec::new();
        // SAFETY: `raw` borrows `data`, alive for the call; the other pointers are locals.
        let status = unsafe {
            (self.decl.train)(
                &raw,
                RStr::new(&json),
                &mut handle,
                &mut ByteSink::for_vec(&mut err),
            )
        };
        self.adopt(status, handle, err, Some(data.n_items()))
    }

    /// Restores a model from bytes written by [`Model::save`].
    pub fn load(&self, bytes: &[u8], n_items: Option<usize>) -> Result<Model, PluginError> {
        let mut handle: *mut c_void = std::ptr::null_mut();
        let mut err = Vec::new();
        // SAFETY: `bytes` and the locals live for the call.
        let status = unsafe {
            (self.decl.load)(
                RSlice::new(bytes),
                &mut handle,
                &mut ByteSink::for_vec(&mut err),
            )
        };
        self.adopt(status, handle, err, n_items)
    }
}

/// A trained model owned by a plugin. Dropping it frees it on the plugin's side.
#[derive(Debug)]
pub struct Model {
    decl: &'static PluginDeclaration,
    ptr: NonNull<c_void>,
    n_items: Option<usize>,
}

// SAFETY: the handle points to a `Recommender`, which is `Send + Sync` by the trait's bounds.
unsafe impl Send for Model {}
// SAFETY: as above; the plugin only ever gets `&R` through `*const c_void`.
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from this declaration's train/load and is dropped once.
        unsafe { (self.decl.drop_model)(self.ptr.as_ptr()) }
    }
}

impl Model {
    /// Number of items in the model's catalogue, when known.
    pub fn n_items(&self) -> Option<usize> {
        self.n_items
    }

    fn check_items(&self, items: &[Scored], k: usize, exclude: &[u32]) -> Result<(), PluginError> {
        let bad = |m: String| Err(PluginError::internal(format!("plugin returned {m}")));
        if items.len() > k {
            return bad(format!("{} items for k = {k}", items.len()));
        }
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        for s in items {
            if self.n_items.is_some_and(|n| s.item as usize >= n) {
                return bad(format!("item {} outside the catalogue", s.item));
            }
            if !s.score.is_finite() {
                return bad(format!("a non-finite score for item {}", s.item));
            }
            if !seen.insert(s.item) {
                return bad(format!("item {} twice", s.item));
            }
            if exclude.binary_search(&s.item).is_ok() {
                return bad(format!("excluded item {}", s.item));
            }
        }
        Ok(())
    }

    fn scored_call(
        &self,
        k: usize,
        exclude: &[u32],
        call: impl FnOnce(*mut ScoredBuf, *mut ByteSink) -> Status,
    ) -> Result<Vec<Scored>, PluginError> {
        let mut out = Vec::with_capacity(k);
        let mut err = Vec::new();
        let mut buf = ScoredBuf::for_vec(&mut out);
        let status = call(&mut buf, &mut ByteSink::for_vec(&mut err));
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        // SAFETY: `buf` was made from `out` just above and only the plugin wrote to it.
        unsafe { buf.commit(&mut out) };
        self.check_items(&out, k, exclude)?;
        Ok(out)
    }

    /// Recommends for `query`; checks that the result is well-formed (at most `k` distinct,
    /// in-range, non-excluded items with finite scores).
    pub fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        if let Some(n) = self.n_items {
            query.validate(n)?;
        }
        let raw = RawQuery::new(query);
        // SAFETY: `raw` borrows `query`, alive for the call; `ptr` is our live handle.
        self.scored_call(query.k, query.exclude, |out, err| unsafe {
            (self.decl.recommend)(self.ptr.as_ptr(), &raw, out, err)
        })
    }

    /// The `k` items most similar to `item`.
    pub fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        if self.n_items.is_some_and(|n| item as usize >= n) {
            return Err(PluginError::invalid_input(format!(
                "item {item} is out of range"
            )));
        }
        // SAFETY: `ptr` is our live handle; the buffers are locals.
        let items = self.scored_call(k, &[], |out, err| unsafe {
            (self.decl.similar_items)(self.ptr.as_ptr(), item, k, out, err)
        })?;
        if items.iter().any(|s| s.item == item) {
            return Err(PluginError::internal(
                "plugin returned the query item as similar",
            ));
        }
        Ok(items)
    }

    /// Full-text search.
    pub fn search(&self, text: &str, k: usize) -> Result<Vec<Scored>, PluginError> {
        // SAFETY: `text` lives for the call; `ptr` is our live handle.
        self.scored_call(k, &[], |out, err| unsafe {
            (self.decl.search)(self.ptr.as_ptr(), RStr::new(text), k, out, err)
        })
    }

    /// Why `item` is recommended for `query`.
    pub fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        if let Some(n) = self.n_items {
            query.validate(n)?;
        }
        let raw = RawQuery::new(query);
        let (mut json, mut err) = (Vec::new(), Vec::new());
        // SAFETY: `raw` borrows `query`; the sinks borrow locals; `ptr` is our live handle.
        let status = unsafe {
            (self.decl.explain)(
                self.ptr.as_ptr(),
                &raw,
                item,
                &mut ByteSink::for_vec(&mut json),
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        serde_json::from_slice(&json)
            .map_err(|e| PluginError::internal(format!("plugin returned a bad explanation: {e}")))
    }

    /// The model's bytes, for [`Plugin::load`].
    pub fn save(&self) -> Result<Vec<u8>, PluginError> {
        let (mut bytes, mut err) = (Vec::new(), Vec::new());
        // SAFETY: the sinks borrow locals; `ptr` is our live handle.
        let status = unsafe {
            (self.decl.save)(
                self.ptr.as_ptr(),
                &mut ByteSink::for_vec(&mut bytes),
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{top_k, Capability, CsrView, ParamSpec, ParamValue, PluginInfo, Recommender};

    struct Counts(Vec<f32>);

    impl Recommender for Counts {
        fn info() -> PluginInfo {
            PluginInfo::new("counts", "0.0.0")
                .capability(Capability::SaveLoad)
                .param(ParamSpec::int("boost_item", -1, "item to boost"))
        }
        fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
            let mut c = vec![0.0; data.n_items()];
            for &i in data.interactions().indices() {
                c[i as usize] += 1.0;
            }
            if let Ok(i) = usize::try_from(params.i64_or("boost_item", -1)?) {
                c[i] += 100.0;
            }
            Ok(Counts(c))
        }
        fn recommend(&self, q: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
            if q.history.contains(&0) {
                panic!("boom on item 0");
            }
            Ok(top_k(&self.0, q.k, q.exclude))
        }
        fn save(&self) -> Result<Vec<u8>, PluginError> {
            Ok(self.0.iter().flat_map(|v| v.to_le_bytes()).collect())
        }
        fn load(bytes: &[u8]) -> Result<Self, PluginError> {
            Ok(Counts(
                bytes
                    .chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ))
        }
    }

    static DECL: PluginDeclaration = PluginDeclaration::of::<Counts>();

    fn fixture() -> (Vec<u64>, Vec<u32>, Vec<f32>) {
        (vec![0, 2, 3, 5], vec![1, 2, 2, 0, 2], vec![1.0; 5])
    }

    #[test]
    fn trains_recommends_saves_and_survives_a_panic() {
        let plugin = Plugin::from_static(&DECL).unwrap();
        assert_eq!(plugin.name(), "counts");
        assert_eq!(plugin.info().api_major, API_MAJOR);
        let (indptr, indices, values) = fixture();
        let csr = CsrView::new(3, 4, &indptr, &indices, &values).unwrap();
        let model = plugin.train(&TrainData::new(csr), &Params::new()).unwrap();
        let got = model
            .recommend(&Query {
                exclude: &[1],
                ..Query::new(&[3], 2)
            })
            .unwrap();
        assert_eq!(got.iter().map(|s| s.item).collect::<Vec<_>>(), vec![2, 0]);

        let err = model.recommend(&Query::new(&[0], 2)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Panic);
        assert!(err.message.contains("boom on item 0"), "{err}");
        assert!(
            model.recommend(&Query::new(&[3], 2)).is_ok(),
            "model usable after a panic"
        );

        let restored = plugin.load(&model.save().unwrap(), Some(4)).unwrap();
        assert_eq!(
            restored.recommend(&Query::new(&[], 4)).unwrap(),
            model.recommend(&Query::new(&[], 4)).unwrap()
        );
        assert_eq!(
            model.similar_items(1, 3).unwrap_err().kind,
            ErrorKind::Unsupported
        );
        assert_eq!(
            model.recommend(&Query::new(&[9], 2)).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn params_are_checked_against_the_declared_specs() {
        let plugin = Plugin::from_static(&DECL).unwrap();
        let (indptr, indices, values) = fixture();
        let data = TrainData::new(CsrView::new(3, 4, &indptr, &indices, &values).unwrap());
        let unknown = Params::new().with("neighbours", ParamValue::Int(3));
        let err = plugin.train(&data, &unknown).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        assert!(
            err.message.contains("neighbours") && err.message.contains("boost_item"),
            "{err}"
        );
        let boosted = Params::new().with("boost_item", ParamValue::Int(3));
        let model = plugin.train(&data, &boosted).unwrap();
        assert_eq!(model.recommend(&Query::new(&[], 1)).unwrap()[0].item, 3);
    }

    #[test]
    fn refuses_another_major_version_and_foreign_memory() {
        static FUTURE: PluginDeclaration = {
            let mut d = PluginDeclaration::of::<Counts>();
            d.header.api_major = API_MAJOR + 1;
            d
        };
        let err = Plugin::from_static(&FUTURE).unwrap_err();
        assert_eq!(
            err,
            HandshakeError::ApiVersion {
                expected: (API_MAJOR, API_MINOR),
                found: (API_MAJOR + 1, API_MINOR)
            }
        );
        assert!(err.to_string().contains("rebuild the plugin"));
        static GARBAGE: [u64; 16] = [7; 16];
        // SAFETY: GARBAGE is static and larger than a header.
        let err = unsafe { Plugin::from_raw(GARBAGE.as_ptr() as *const PluginDeclaration) };
        assert_eq!(err.unwrap_err(), HandshakeError::NotAPlugin);
    }
}
