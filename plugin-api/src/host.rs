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
    RawTrainData, RecommendManyFn, ScoreItemsFn, ScoredBuf, Status, DECLARATION_SIZE_1_0, MAGIC,
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
    /// The declaration is shorter than an API 1.0 declaration, the smallest a 1.x host accepts.
    Truncated {
        /// Bytes the host needs.
        expected: usize,
        /// Bytes the plugin declared.
        found: usize,
    },
    /// The plugin's info could not be read, or names it in a way hosts refuse, or says it aborts
    /// on panics.
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
                "plugin declaration is {found} bytes, API {API_MAJOR}.x needs at least {expected}"
            ),
            HandshakeError::Info(msg) => write!(f, "plugin info refused: {msg}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// A checked plugin: its functions and info. Cheap to copy around; never unloaded.
#[derive(Debug, Clone)]
pub struct Plugin {
    table: Table,
    info: PluginInfo,
}

type Sink = *mut ByteSink;

/// The functions of a checked declaration, copied out of it: those of API 1.0, which every 1.x
/// declaration has, and each one added by a later minor version when the declaration's size
/// covers it (a plugin built against an older minor version has a shorter declaration).
#[derive(Debug, Clone, Copy)]
struct Table {
    info: unsafe extern "C" fn(Sink, Sink) -> Status,
    train: unsafe extern "C" fn(*const RawTrainData, RStr, *mut *mut c_void, Sink) -> Status,
    load: unsafe extern "C" fn(RSlice<u8>, *mut *mut c_void, Sink) -> Status,
    drop_model: unsafe extern "C" fn(*mut c_void),
    recommend: unsafe extern "C" fn(*const c_void, *const RawQuery, *mut ScoredBuf, Sink) -> Status,
    similar_items: unsafe extern "C" fn(*const c_void, u32, usize, *mut ScoredBuf, Sink) -> Status,
    explain: unsafe extern "C" fn(*const c_void, *const RawQuery, u32, Sink, Sink) -> Status,
    search: unsafe extern "C" fn(*const c_void, RStr, usize, *mut ScoredBuf, Sink) -> Status,
    save: unsafe extern "C" fn(*const c_void, Sink, Sink) -> Status,
    /// API 1.1.
    score_items: Option<ScoreItemsFn>,
    /// API 1.3.
    recommend_many: Option<RecommendManyFn>,
}

impl Table {
    /// Copies the functions out of a declaration of `size` bytes (its `header.size`).
    ///
    /// # Safety
    /// `ptr` must point to a declaration of this major version, readable for `size >=
    /// DECLARATION_SIZE_1_0` bytes, whose function pointers stay valid for the rest of the
    /// program.
    unsafe fn read(ptr: *const PluginDeclaration, size: usize) -> Table {
        let covers = |offset: usize, len: usize| size >= offset + len;
        let score_items = covers(
            std::mem::offset_of!(PluginDeclaration, score_items),
            std::mem::size_of::<ScoreItemsFn>(),
        );
        let recommend_many = covers(
            std::mem::offset_of!(PluginDeclaration, recommend_many),
            std::mem::size_of::<RecommendManyFn>(),
        );
        // SAFETY: every field read lies within the first `size` bytes (the 1.0 fields within
        // `DECLARATION_SIZE_1_0 <= size`, later ones checked by `covers`), which are readable
        // (caller). Reading a field through the raw pointer reads only that field: no
        // reference to the whole, possibly shorter, declaration is ever made.
        unsafe {
            Table {
                info: (*ptr).info,
                train: (*ptr).train,
                load: (*ptr).load,
                drop_model: (*ptr).drop_model,
                recommend: (*ptr).recommend,
                similar_items: (*ptr).similar_items,
                explain: (*ptr).explain,
                search: (*ptr).search,
                save: (*ptr).save,
                score_items: if score_items {
                    Some((*ptr).score_items)
                } else {
                    None
                },
                recommend_many: if recommend_many {
                    Some((*ptr).recommend_many)
                } else {
                    None
                },
            }
        }
    }
}

/// Refuses info a host cannot use: a name `--plugins` cannot select, or a plugin built with
/// `panic = "abort"` (its first panic would abort the host too).
fn accept(info: &PluginInfo) -> Result<(), HandshakeError> {
    info.check_name().map_err(HandshakeError::Info)?;
    if !info.unwinds {
        return Err(HandshakeError::Info(format!(
            "plugin `{}` was built with panic = \"abort\": its first panic would abort the host \
             too; build it with panic = \"unwind\" (the default)",
            info.name
        )));
    }
    Ok(())
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
    /// compatible version, readable for the `size` its header states.
    ///
    /// A declaration of any 1.x minor version is accepted: functions added after the plugin's
    /// minor version are reported as unsupported without being looked up, and functions of a
    /// newer minor version than the host's are ignored.
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
        if header.size < DECLARATION_SIZE_1_0 {
            return Err(HandshakeError::Truncated {
                expected: DECLARATION_SIZE_1_0,
                found: header.size,
            });
        }
        // SAFETY: header checked: a declaration of this major version, at least as large as a
        // 1.0 one, readable for `header.size` bytes for the rest of the program (caller).
        let table = unsafe { Table::read(ptr, header.size) };
        let mut json = Vec::new();
        let mut err = Vec::new();
        // SAFETY: both sinks borrow live vectors for the call.
        let status = unsafe {
            (table.info)(
                &mut ByteSink::for_vec(&mut json),
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(HandshakeError::Info(error_from(status, err).to_string()));
        }
        let info: PluginInfo =
            serde_json::from_slice(&json).map_err(|e| HandshakeError::Info(e.to_string()))?;
        accept(&info)?;
        Ok(Plugin { table, info })
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
            table: self.table,
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
            (self.table.train)(
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
            (self.table.load)(
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
    table: Table,
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
        unsafe { (self.table.drop_model)(self.ptr.as_ptr()) }
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
        for pair in items.windows(2) {
            if pair[1].score > pair[0].score {
                return bad(format!(
                    "items not best first: item {} (score {}) after item {} (score {})",
                    pair[1].item, pair[1].score, pair[0].item, pair[0].score
                ));
            }
        }
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
            (self.table.recommend)(self.ptr.as_ptr(), &raw, out, err)
        })
    }

    /// One list per query, in order, each checked as [`Model::recommend`] checks it (see
    /// [`crate::Recommender::recommend_many`]). Plugins built before API 1.3 are asked one query
    /// at a time.
    pub fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>, PluginError> {
        let Some(recommend_many) = self.table.recommend_many else {
            return queries.iter().map(|q| self.recommend(q)).collect();
        };
        if let Some(n) = self.n_items {
            for q in queries {
                q.validate(n)?;
            }
        }
        let raw: Vec<RawQuery> = queries.iter().map(RawQuery::new).collect();
        let room = |k: usize| self.n_items.map_or(k, |n| k.min(n));
        let mut out = Vec::with_capacity(queries.iter().map(|q| room(q.k)).sum());
        let mut lens = vec![usize::MAX; queries.len()];
        let mut err = Vec::new();
        let mut buf = ScoredBuf::for_vec(&mut out);
        // SAFETY: `raw` borrows `queries`, alive for the call; `lens` has one slot per query;
        // `ptr` is our live handle; the buffers are locals.
        let status = unsafe {
            recommend_many(
                self.ptr.as_ptr(),
                RSlice::new(&raw),
                &mut buf,
                lens.as_mut_ptr(),
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        // SAFETY: `buf` was made from `out` just above and only the plugin wrote to it.
        unsafe { buf.commit(&mut out) };
        if lens
            .iter()
            .try_fold(0usize, |sum, &len| sum.checked_add(len))
            != Some(out.len())
        {
            return Err(PluginError::internal(format!(
                "plugin returned {} results for {} queries but list lengths that do not add \
                 up to that",
                out.len(),
                queries.len()
            )));
        }
        let mut rest = out.as_slice();
        let mut lists = Vec::with_capacity(queries.len());
        for (q, &len) in queries.iter().zip(&lens) {
            let (list, tail) = rest.split_at(len);
            self.check_items(list, q.k, q.exclude)?;
            lists.push(list.to_vec());
            rest = tail;
        }
        Ok(lists)
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
            (self.table.similar_items)(self.ptr.as_ptr(), item, k, out, err)
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
            (self.table.search)(self.ptr.as_ptr(), RStr::new(text), k, out, err)
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
            (self.table.explain)(
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

    /// Scores the candidate `items` for `query`'s history: one finite score per item, in the
    /// order given (API 1.1; see [`crate::Recommender::score_items`]). A plugin built against
    /// API 1.0 does not have the function: the call fails with [`ErrorKind::Unsupported`]
    /// without reaching the plugin.
    pub fn score_items(&self, query: &Query<'_>, items: &[u32]) -> Result<Vec<f32>, PluginError> {
        let Some(score_items) = self.table.score_items else {
            return Err(PluginError::new(
                ErrorKind::Unsupported,
                "`score_items` is not supported by this plugin (it was added in API 1.1, the \
                 plugin was built against an older minor version)",
            ));
        };
        if let Some(n) = self.n_items {
            query.validate(n)?;
            if let Some(i) = items.iter().find(|&&i| i as usize >= n) {
                return Err(PluginError::invalid_input(format!(
                    "candidate item {i} is out of range (catalogue has {n} items)"
                )));
            }
        }
        let raw = RawQuery::new(query);
        let mut out = Vec::with_capacity(items.len());
        let mut err = Vec::new();
        let mut buf = ScoredBuf::for_vec(&mut out);
        // SAFETY: `raw` borrows `query` and `items` lives for the call; `ptr` is our live
        // handle; the buffers are locals.
        let status = unsafe {
            score_items(
                self.ptr.as_ptr(),
                &raw,
                RSlice::new(items),
                &mut buf,
                &mut ByteSink::for_vec(&mut err),
            )
        };
        if status != Status::OK {
            return Err(error_from(status, err));
        }
        // SAFETY: `buf` was made from `out` just above and only the plugin wrote to it.
        unsafe { buf.commit(&mut out) };
        let well_formed = out.len() == items.len()
            && out
                .iter()
                .zip(items)
                .all(|(s, &i)| s.item == i && s.score.is_finite());
        if !well_formed {
            return Err(PluginError::internal(format!(
                "plugin returned {} scores for {} candidate items, not one finite score per \
                 item in order",
                out.len(),
                items.len()
            )));
        }
        Ok(out.into_iter().map(|s| s.score).collect())
    }

    /// The model's bytes, for [`Plugin::load`].
    pub fn save(&self) -> Result<Vec<u8>, PluginError> {
        let (mut bytes, mut err) = (Vec::new(), Vec::new());
        // SAFETY: the sinks borrow locals; `ptr` is our live handle.
        let status = unsafe {
            (self.table.save)(
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
    use crate::ffi::DECLARATION_SIZE_1_2;
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
        fn score_items(&self, _q: &Query<'_>, items: &[u32]) -> Result<Vec<f32>, PluginError> {
            Ok(items.iter().map(|&i| self.0[i as usize]).collect())
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

    /// A plugin whose `recommend_many` loses the last list.
    struct DropsOne;

    impl Recommender for DropsOne {
        fn info() -> PluginInfo {
            PluginInfo::new("drops-one", "0.0.0")
        }
        fn train(_: &TrainData<'_>, _: &Params) -> Result<Self, PluginError> {
            Ok(DropsOne)
        }
        fn recommend(&self, _: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
            Ok(Vec::new())
        }
        fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>, PluginError> {
            Ok(vec![Vec::new(); queries.len().saturating_sub(1)])
        }
    }

    static DROPS_ONE: PluginDeclaration = PluginDeclaration::of::<DropsOne>();

    /// A plugin that breaks the list rules as its history says: [1] too many items, [2] worst
    /// first; `recommend_many` too many for its first query when it has history [1].
    struct Unruly;

    impl Unruly {
        fn list(q: &Query<'_>) -> Vec<Scored> {
            let scored = |item, score| Scored { item, score };
            match q.history {
                [1] => (0..q.k as u32 + 5).map(|i| scored(i, 1.0)).collect(),
                [2] => vec![scored(0, 1.0), scored(3, 2.0)],
                _ => vec![scored(0, 2.0), scored(3, 2.0), scored(1, 1.0)],
            }
        }
    }

    impl Recommender for Unruly {
        fn info() -> PluginInfo {
            PluginInfo::new("unruly", "0.0.0")
        }
        fn train(_: &TrainData<'_>, _: &Params) -> Result<Self, PluginError> {
            Ok(Unruly)
        }
        fn recommend(&self, q: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
            Ok(Self::list(q))
        }
        fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>, PluginError> {
            Ok(queries.iter().map(Self::list).collect())
        }
    }

    static UNRULY: PluginDeclaration = PluginDeclaration::of::<Unruly>();

    #[test]
    fn a_list_too_long_or_not_best_first_is_the_plugin_s_error() {
        let plugin = Plugin::from_static(&UNRULY).unwrap();
        let (indptr, indices, values) = fixture();
        let csr = CsrView::new(3, 30, &indptr, &indices, &values).unwrap();
        let model = plugin.train(&TrainData::new(csr), &Params::new()).unwrap();
        // Ties in score are fine; a longer list than k is not cut but refused.
        assert_eq!(model.recommend(&Query::new(&[0], 3)).unwrap().len(), 3);
        let err = model.recommend(&Query::new(&[1], 3)).unwrap_err();
        assert!(
            err.message
                .contains("returned 8 items where at most 3 were asked for"),
            "{err}"
        );
        let err = model.recommend(&Query::new(&[2], 3)).unwrap_err();
        assert!(
            err.message
                .contains("not best first: item 3 (score 2) after item 0 (score 1)"),
            "{err}"
        );
        let err = model
            .recommend_many(&[Query::new(&[1], 2), Query::new(&[0], 3)])
            .unwrap_err();
        assert!(
            err.message
                .contains("recommend_many returned 7 items for query 0, whose k is 2"),
            "{err}"
        );
    }

    #[test]
    fn hosts_refuse_a_name_they_cannot_select_and_a_plugin_that_aborts_on_panics() {
        let mut info = PluginInfo::new("ok-name_2", "0.0.0");
        assert!(accept(&info).is_ok());
        for name in ["", "a:b", "x,y", "My Plugin", "Cf"] {
            info.name = name.into();
            let err = accept(&info).unwrap_err().to_string();
            assert!(
                err.contains("must be non-empty and use only a-z"),
                "{name:?}: {err}"
            );
        }
        info.name = "aborts".into();
        info.unwinds = false;
        let err = accept(&info).unwrap_err().to_string();
        assert!(
            err.contains("plugin `aborts` was built with panic = \"abort\""),
            "{err}"
        );
        // The info of plugins built before the flag existed has none: assumed to unwind.
        let old: PluginInfo = serde_json::from_str(r#"{"name": "old", "version": "1"}"#).unwrap();
        assert!(old.unwinds);
        // The glue fills it from this build, whose tests unwind.
        assert!(Plugin::from_static(&UNRULY).unwrap().info().unwinds);
    }

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

    /// A copy of `DECL` cut to its first `size` bytes, as a plugin built against an older
    /// minor version (with a shorter table) would export it; leaked, like a loaded library.
    fn truncated(size: usize) -> *const PluginDeclaration {
        let words: &'static mut [u64] = Box::leak(vec![0u64; size.div_ceil(8)].into_boxed_slice());
        let ptr = words.as_mut_ptr() as *mut u8;
        // SAFETY: `words` has room for `size` bytes and `DECL` is larger than `size`; the copy
        // is untyped, so the function pointers keep their provenance. The header is the first
        // field, inside the first `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                &DECL as *const PluginDeclaration as *const u8,
                ptr,
                size,
            );
            (*(ptr as *mut DeclarationHeader)).size = size;
            (*(ptr as *mut DeclarationHeader)).api_minor = 0;
        }
        ptr as *const PluginDeclaration
    }

    #[test]
    fn a_declaration_of_an_older_minor_version_loads_without_the_newer_functions() {
        let (indptr, indices, values) = fixture();
        let data = TrainData::new(CsrView::new(3, 4, &indptr, &indices, &values).unwrap());

        let current = Plugin::from_static(&DECL).unwrap();
        let model = current.train(&data, &Params::new()).unwrap();
        assert_eq!(
            model.score_items(&Query::new(&[], 0), &[2, 0]).unwrap(),
            vec![3.0, 1.0]
        );
        let err = model.score_items(&Query::new(&[], 0), &[7]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);

        // SAFETY: `truncated` returns a leaked, readable declaration of exactly its header size.
        let old = unsafe { Plugin::from_raw(truncated(DECLARATION_SIZE_1_0)) }.unwrap();
        let model = old.train(&data, &Params::new()).unwrap();
        assert_eq!(model.recommend(&Query::new(&[], 1)).unwrap()[0].item, 2);
        let err = model.score_items(&Query::new(&[], 0), &[2]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(err.message.contains("1.1"), "{err}");

        let short = DECLARATION_SIZE_1_0 - 8;
        // SAFETY: as above.
        let err = unsafe { Plugin::from_raw(truncated(short)) }.unwrap_err();
        assert_eq!(
            err,
            HandshakeError::Truncated {
                expected: DECLARATION_SIZE_1_0,
                found: short
            }
        );
    }

    #[test]
    fn recommend_many_returns_what_recommend_returns_for_each_query_in_order() {
        let (indptr, indices, values) = fixture();
        let data = TrainData::new(CsrView::new(3, 4, &indptr, &indices, &values).unwrap());
        let queries = [
            Query {
                exclude: &[1],
                ..Query::new(&[3], 2)
            },
            Query::new(&[], 4),
            Query::new(&[2], 1),
            Query::new(&[1], 0),
        ];
        let one_by_one = |model: &Model| -> Vec<Vec<Scored>> {
            queries
                .iter()
                .map(|q| model.recommend(q).unwrap())
                .collect()
        };

        let model = Plugin::from_static(&DECL)
            .unwrap()
            .train(&data, &Params::new())
            .unwrap();
        let expected = one_by_one(&model);
        assert_eq!(expected[0].len(), 2, "{expected:?}");
        assert_eq!(model.recommend_many(&queries).unwrap(), expected);
        assert!(model.recommend_many(&[]).unwrap().is_empty());
        let err = model
            .recommend_many(&[Query::new(&[], 1), Query::new(&[9], 1)])
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        let err = model
            .recommend_many(&[Query::new(&[], 1), Query::new(&[0], 1)])
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Panic);
        assert!(err.message.contains("boom on item 0"), "{err}");

        // A 1.2 plugin has no `recommend_many`: the host asks it one query at a time.
        // SAFETY: `truncated` returns a leaked, readable declaration of exactly its header size.
        let old = unsafe { Plugin::from_raw(truncated(DECLARATION_SIZE_1_2)) }.unwrap();
        let model = old.train(&data, &Params::new()).unwrap();
        assert_eq!(model.recommend_many(&queries).unwrap(), expected);

        let liar = Plugin::from_static(&DROPS_ONE)
            .unwrap()
            .train(&data, &Params::new())
            .unwrap();
        let err = liar.recommend_many(&queries).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(err.message.contains("3 lists for 4 queries"), "{err}");
    }
}
