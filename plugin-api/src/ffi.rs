//! The `repr(C)` contract between host and plugin, and the glue that turns a [`Recommender`]
//! into it. Plugin authors never use this module directly: [`crate::export_plugin!`] does.
//!
//! This module and [`crate::host`] are the only places of the crate with `unsafe` code; every
//! `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::any::Any;
use std::borrow::Cow;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{
    CsrView, ErrorKind, Params, PluginError, Query, Recommender, Scored, TrainData, API_MAJOR,
    API_MINOR,
};

/// First eight bytes of every declaration: `RECSYSPL`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"RECSYSPL");

/// A borrowed UTF-8 string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RStr {
    /// Start of the bytes (may dangle when `len` is 0).
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl RStr {
    /// Borrows `s`; the caller keeps `s` alive while the `RStr` is used.
    pub fn new(s: &str) -> Self {
        RStr {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
    /// # Safety
    /// `ptr..ptr+len` must be readable for `'a` (or `len` 0).
    unsafe fn as_str<'a>(self) -> Result<&'a str, PluginError> {
        if self.len == 0 {
            return Ok("");
        }
        // SAFETY: the caller guarantees the bytes are readable for 'a.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes).map_err(|_| PluginError::invalid_input("string is not UTF-8"))
    }
}

/// A borrowed slice.
#[repr(C)]
#[derive(Debug)]
pub struct RSlice<T> {
    /// Start of the elements (may dangle when `len` is 0).
    pub ptr: *const T,
    /// Number of elements.
    pub len: usize,
}

impl<T> Clone for RSlice<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for RSlice<T> {}

impl<T> RSlice<T> {
    /// Borrows `s`; the caller keeps `s` alive while the `RSlice` is used.
    pub fn new(s: &[T]) -> Self {
        RSlice {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
    /// # Safety
    /// `ptr` must point to `len` initialised `T`s readable for `'a` (or `len` 0).
    unsafe fn as_slice<'a>(self) -> &'a [T] {
        if self.len == 0 || self.ptr.is_null() {
            return &[];
        }
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A host-owned growable byte buffer the plugin appends to (model bytes, JSON, messages).
#[repr(C)]
#[derive(Debug)]
pub struct ByteSink {
    ctx: *mut c_void,
    write: unsafe extern "C" fn(ctx: *mut c_void, ptr: *const u8, len: usize),
}

unsafe extern "C" fn vec_write(ctx: *mut c_void, ptr: *const u8, len: usize) {
    // SAFETY: `ctx` is the `&mut Vec<u8>` given to `ByteSink::for_vec`, alive for the sink's
    // lifetime, and `ptr..ptr+len` is the plugin's readable slice (see `ByteSink::write`).
    let (vec, bytes) = unsafe {
        (
            &mut *(ctx as *mut Vec<u8>),
            std::slice::from_raw_parts(ptr, len),
        )
    };
    vec.extend_from_slice(bytes);
}

impl ByteSink {
    /// A sink appending to `vec`.
    pub fn for_vec(vec: &mut Vec<u8>) -> Self {
        ByteSink {
            ctx: vec as *mut Vec<u8> as *mut c_void,
            write: vec_write,
        }
    }
    /// # Safety
    /// `sink` must be null or point to a live `ByteSink`.
    unsafe fn write(sink: *mut ByteSink, bytes: &[u8]) {
        if sink.is_null() || bytes.is_empty() {
            return;
        }
        // SAFETY: `sink` is live (caller), `bytes` is a valid slice for the call.
        unsafe { ((*sink).write)((*sink).ctx, bytes.as_ptr(), bytes.len()) }
    }
}

/// A host-owned buffer of fixed capacity that the plugin fills with results.
#[repr(C)]
#[derive(Debug)]
pub struct ScoredBuf {
    /// Start of the host's storage for `cap` entries.
    pub ptr: *mut Scored,
    /// Capacity in entries.
    pub cap: usize,
    /// Entries written, set by the plugin.
    pub len: usize,
}

impl ScoredBuf {
    /// A buffer over `vec`'s spare capacity; call [`ScoredBuf::commit`] after the plugin call.
    pub fn for_vec(vec: &mut Vec<Scored>) -> Self {
        vec.clear();
        ScoredBuf {
            ptr: vec.as_mut_ptr(),
            cap: vec.capacity(),
            len: 0,
        }
    }
    /// Sets `vec`'s length to what the plugin wrote.
    ///
    /// # Safety
    /// `self` must come from `ScoredBuf::for_vec(vec)` with no other use of `vec` in between,
    /// and the plugin must have written `self.len <= self.cap` entries.
    pub unsafe fn commit(self, vec: &mut Vec<Scored>) {
        let len = self.len.min(self.cap);
        // SAFETY: the first `len` entries were written by `fill` (plain `Copy` data).
        unsafe { vec.set_len(len) }
    }
    /// # Safety
    /// `buf` must point to a live `ScoredBuf` whose `ptr` has room for `cap` entries.
    /// Fails, writing nothing, when `items` do not fit: a list longer than the host asked for
    /// is the plugin's error, which the host must hear of rather than get a cut list.
    unsafe fn fill(buf: *mut ScoredBuf, items: &[Scored]) -> Result<(), PluginError> {
        // SAFETY: guaranteed by the caller.
        let buf = unsafe { &mut *buf };
        if items.len() > buf.cap {
            return Err(PluginError::internal(format!(
                "returned {} items where at most {} were asked for",
                items.len(),
                buf.cap
            )));
        }
        // SAFETY: `ptr` has room for `cap >= len` entries; the source is a valid slice.
        unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), buf.ptr, items.len()) };
        buf.len = items.len();
        Ok(())
    }
}

/// The text fields of one item, as the host gives them to a plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawItemText {
    /// Product title.
    pub title: RStr,
    /// Brand.
    pub brand: RStr,
    /// Category path, one category per line.
    pub categories: RStr,
    /// Description, HTML already stripped.
    pub description: RStr,
}

// SAFETY: a `RawItemText` only borrows immutable UTF-8 strings (like `&str`, which is `Send +
// Sync`); nothing is ever written through its pointers.
unsafe impl Send for RawItemText {}
// SAFETY: as above.
unsafe impl Sync for RawItemText {}

/// The text fields of one item (empty strings where unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemText<'a> {
    /// Product title.
    pub title: &'a str,
    /// Brand.
    pub brand: &'a str,
    /// Category path, one category per line (see [`ItemText::categories`]).
    pub categories: &'a str,
    /// Description, HTML already stripped.
    pub description: &'a str,
}

impl<'a> ItemText<'a> {
    /// The categories, from the most general.
    pub fn categories(&self) -> impl Iterator<Item = &'a str> {
        self.categories
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}

/// Per-item text for a whole catalogue, borrowed from the host's strings.
#[derive(Debug, Clone)]
pub struct ItemTextTable<'a> {
    raw: Cow<'a, [RawItemText]>,
    _strings: PhantomData<&'a str>,
}

impl<'a> ItemTextTable<'a> {
    /// A table with one entry per item, in item order.
    pub fn new(items: impl IntoIterator<Item = ItemText<'a>>) -> Self {
        let raw = items
            .into_iter()
            .map(|t| RawItemText {
                title: RStr::new(t.title),
                brand: RStr::new(t.brand),
                categories: RStr::new(t.categories),
                description: RStr::new(t.description),
            })
            .collect::<Vec<_>>();
        ItemTextTable {
            raw: Cow::Owned(raw),
            _strings: PhantomData,
        }
    }
    /// Number of items.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// The text of item `i`.
    pub fn get(&self, i: usize) -> Option<ItemText<'_>> {
        let raw = self.raw.get(i)?;
        // SAFETY: every `RStr` in the table borrows strings that live for 'a: those given to
        // `new`, or the host's strings kept alive for the duration of the plugin call.
        let s = |r: RStr| unsafe { r.as_str() }.unwrap_or("");
        Some(ItemText {
            title: s(raw.title),
            brand: s(raw.brand),
            categories: s(raw.categories),
            description: s(raw.description),
        })
    }
    /// All items' text, in item order.
    pub fn iter(&self) -> impl Iterator<Item = ItemText<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Training data as it crosses the boundary.
#[repr(C)]
#[derive(Debug)]
pub struct RawTrainData {
    /// Number of users (matrix rows).
    pub n_users: usize,
    /// Number of items (matrix columns).
    pub n_items: usize,
    /// Row offsets, `n_users + 1` of them.
    pub indptr: RSlice<u64>,
    /// Column indices.
    pub indices: RSlice<u32>,
    /// Values.
    pub values: RSlice<f32>,
    /// Per-interaction timestamps, or empty.
    pub timestamps: RSlice<i64>,
    /// Per-item text, or empty.
    pub item_text: RSlice<RawItemText>,
}

impl RawTrainData {
    /// Borrows `data`; keep `data` alive while this is used.
    pub fn new(data: &TrainData<'_>) -> Self {
        let m = data.interactions();
        RawTrainData {
            n_users: m.n_rows(),
            n_items: m.n_cols(),
            indptr: RSlice::new(m.indptr()),
            indices: RSlice::new(m.indices()),
            values: RSlice::new(m.values()),
            timestamps: RSlice::new(data.timestamps().unwrap_or(&[])),
            item_text: RSlice::new(data.item_text_table().map_or(&[][..], |t| &t.raw[..])),
        }
    }
    /// # Safety
    /// Every slice must be valid for `'a`.
    unsafe fn view<'a>(&self) -> Result<TrainData<'a>, PluginError> {
        // SAFETY: guaranteed by the caller.
        let (indptr, indices, values, timestamps, items) = unsafe {
            (
                self.indptr.as_slice(),
                self.indices.as_slice(),
                self.values.as_slice(),
                self.timestamps.as_slice(),
                self.item_text.as_slice(),
            )
        };
        let csr = CsrView::new(self.n_users, self.n_items, indptr, indices, values)?;
        let mut data = TrainData::new(csr);
        if !timestamps.is_empty() {
            data = data.with_timestamps(timestamps)?;
        }
        if !items.is_empty() {
            let table = ItemTextTable {
                raw: Cow::Borrowed(items),
                _strings: PhantomData,
            };
            data = data.with_item_text(table)?;
        }
        Ok(data)
    }
}

/// A recommendation query as it crosses the boundary.
#[repr(C)]
#[derive(Debug)]
pub struct RawQuery {
    /// The training user row, when `has_user` is 1.
    pub user: u32,
    /// 1 when `user` is set.
    pub has_user: u32,
    /// History items, oldest first.
    pub history: RSlice<u32>,
    /// Weights aligned with `history`, or empty.
    pub weights: RSlice<f32>,
    /// Items not to return, sorted.
    pub exclude: RSlice<u32>,
    /// Number of items wanted.
    pub k: usize,
}

impl RawQuery {
    /// Borrows `q`; keep `q`'s slices alive while this is used.
    pub fn new(q: &Query<'_>) -> Self {
        RawQuery {
            user: q.user.unwrap_or(0),
            has_user: q.user.is_some() as u32,
            history: RSlice::new(q.history),
            weights: RSlice::new(q.weights.unwrap_or(&[])),
            exclude: RSlice::new(q.exclude),
            k: q.k,
        }
    }
    /// # Safety
    /// Every slice must be valid for `'a`.
    unsafe fn view<'a>(&self) -> Query<'a> {
        // SAFETY: guaranteed by the caller.
        let (history, weights, exclude) = unsafe {
            (
                self.history.as_slice(),
                self.weights.as_slice(),
                self.exclude.as_slice(),
            )
        };
        Query {
            user: (self.has_user == 1).then_some(self.user),
            history,
            weights: (!weights.is_empty()).then_some(weights),
            exclude,
            k: self.k,
        }
    }
}

/// Result of every plugin call.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

impl Status {
    /// Success.
    pub const OK: Status = Status(0);
    /// [`ErrorKind::Internal`].
    pub const INTERNAL: Status = Status(1);
    /// [`ErrorKind::InvalidParams`].
    pub const INVALID_PARAMS: Status = Status(2);
    /// [`ErrorKind::InvalidInput`].
    pub const INVALID_INPUT: Status = Status(3);
    /// [`ErrorKind::Unsupported`].
    pub const UNSUPPORTED: Status = Status(4);
    /// [`ErrorKind::Panic`].
    pub const PANIC: Status = Status(5);

    fn of(kind: ErrorKind) -> Status {
        match kind {
            ErrorKind::Internal => Status::INTERNAL,
            ErrorKind::InvalidParams => Status::INVALID_PARAMS,
            ErrorKind::InvalidInput => Status::INVALID_INPUT,
            ErrorKind::Unsupported => Status::UNSUPPORTED,
            ErrorKind::Panic => Status::PANIC,
        }
    }
    /// The error kind of a non-OK status (unknown codes count as internal errors).
    pub fn kind(self) -> Option<ErrorKind> {
        Some(match self {
            Status::OK => return None,
            Status::INVALID_PARAMS => ErrorKind::InvalidParams,
            Status::INVALID_INPUT => ErrorKind::InvalidInput,
            Status::UNSUPPORTED => ErrorKind::Unsupported,
            Status::PANIC => ErrorKind::Panic,
            _ => ErrorKind::Internal,
        })
    }
}

/// The fixed-layout start of every declaration, read and checked before anything else.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DeclarationHeader {
    /// Always [`MAGIC`].
    pub magic: u64,
    /// The API major version the plugin was built against.
    pub api_major: u32,
    /// The API minor version the plugin was built against.
    pub api_minor: u32,
    /// [`layout_fingerprint`] as the plugin computed it.
    pub layout: u64,
    /// `size_of::<PluginDeclaration>()` as the plugin computed it.
    pub size: usize,
}

/// `model`: an opaque model handle; `err`: where a failing call writes its message.
type Err = *mut ByteSink;

/// The table a plugin exports through its entry symbol. Minor API versions only append
/// functions: a plugin built against an older minor version has a shorter table, and hosts read
/// only the fields its `header.size` covers.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDeclaration {
    /// Checked before any function is called.
    pub header: DeclarationHeader,
    /// Writes the [`crate::PluginInfo`] as JSON into `out`.
    pub info: unsafe extern "C" fn(out: *mut ByteSink, err: Err) -> Status,
    /// Trains a model from `data` and JSON `params`; stores the handle in `model`.
    pub train: unsafe extern "C" fn(
        data: *const RawTrainData,
        params: RStr,
        model: *mut *mut c_void,
        err: Err,
    ) -> Status,
    /// Restores a model from bytes written by `save`.
    pub load: unsafe extern "C" fn(bytes: RSlice<u8>, model: *mut *mut c_void, err: Err) -> Status,
    /// Frees a model handle (on the plugin's side).
    pub drop_model: unsafe extern "C" fn(model: *mut c_void),
    /// Recommends for a query into the host buffer `out`.
    pub recommend: unsafe extern "C" fn(
        model: *const c_void,
        query: *const RawQuery,
        out: *mut ScoredBuf,
        err: Err,
    ) -> Status,
    /// Items similar to `item`.
    pub similar_items: unsafe extern "C" fn(
        model: *const c_void,
        item: u32,
        k: usize,
        out: *mut ScoredBuf,
        err: Err,
    ) -> Status,
    /// Writes the [`crate::Explanation`] of `item` for `query` as JSON into `out`.
    pub explain: unsafe extern "C" fn(
        model: *const c_void,
        query: *const RawQuery,
        item: u32,
        out: *mut ByteSink,
        err: Err,
    ) -> Status,
    /// Full-text search.
    pub search: unsafe extern "C" fn(
        model: *const c_void,
        text: RStr,
        k: usize,
        out: *mut ScoredBuf,
        err: Err,
    ) -> Status,
    /// Writes the model's bytes into `out`.
    pub save: unsafe extern "C" fn(model: *const c_void, out: *mut ByteSink, err: Err) -> Status,
    // ---- API 1.1: read by hosts only when `header.size` covers it. ----
    /// Scores the candidate `items` for `query`'s history into `out`: one entry per item, in
    /// the order given.
    pub score_items: ScoreItemsFn,
    // ---- API 1.3 ----
    /// Recommends for every query of `queries`: the lists go into `out` one after another and
    /// the length of each into `lens` (room for `queries.len` entries, host-owned).
    pub recommend_many: RecommendManyFn,
}

/// The type of [`PluginDeclaration::recommend_many`] (API 1.3).
pub type RecommendManyFn = unsafe extern "C" fn(
    model: *const c_void,
    queries: RSlice<RawQuery>,
    out: *mut ScoredBuf,
    lens: *mut usize,
    err: Err,
) -> Status;

/// The type of [`PluginDeclaration::score_items`] (API 1.1).
pub type ScoreItemsFn = unsafe extern "C" fn(
    model: *const c_void,
    query: *const RawQuery,
    items: RSlice<u32>,
    out: *mut ScoredBuf,
    err: Err,
) -> Status;

/// The size of an API 1.0 declaration: the smallest one a 1.x host accepts. The functions
/// after it were added by later minor versions; a host calls one only when the plugin's
/// `header.size` covers it.
pub const DECLARATION_SIZE_1_0: usize = std::mem::offset_of!(PluginDeclaration, score_items);

/// The size of an API 1.1 or 1.2 declaration (1.2 added no function).
pub const DECLARATION_SIZE_1_2: usize = std::mem::offset_of!(PluginDeclaration, recommend_many);

const fn mix(h: u64, v: usize) -> u64 {
    (h ^ v as u64).wrapping_mul(0x0100_0000_01b3)
}

/// A fingerprint of the sizes and alignments of the boundary types of this major version.
pub const fn layout_fingerprint() -> u64 {
    use std::mem::{align_of, size_of};
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    h = mix(h, size_of::<usize>());
    h = mix(h, size_of::<RStr>());
    h = mix(h, size_of::<RSlice<u8>>());
    h = mix(h, size_of::<ByteSink>());
    h = mix(h, size_of::<Scored>());
    h = mix(h, align_of::<Scored>());
    h = mix(h, size_of::<ScoredBuf>());
    h = mix(h, size_of::<RawItemText>());
    h = mix(h, size_of::<RawTrainData>());
    h = mix(h, size_of::<RawQuery>());
    h = mix(h, size_of::<DeclarationHeader>());
    h = mix(h, align_of::<DeclarationHeader>());
    h
}

impl PluginDeclaration {
    /// The declaration of recommender `R` for this API version (used by [`crate::export_plugin!`]).
    pub const fn of<R: Recommender>() -> Self {
        PluginDeclaration {
            header: DeclarationHeader {
                magic: MAGIC,
                api_major: API_MAJOR,
                api_minor: API_MINOR,
                layout: layout_fingerprint(),
                size: std::mem::size_of::<PluginDeclaration>(),
            },
            info: info_shim::<R>,
            train: train_shim::<R>,
            load: load_shim::<R>,
            drop_model: drop_shim::<R>,
            recommend: recommend_shim::<R>,
            similar_items: similar_shim::<R>,
            explain: explain_shim::<R>,
            search: search_shim::<R>,
            save: save_shim::<R>,
            score_items: score_items_shim::<R>,
            recommend_many: recommend_many_shim::<R>,
        }
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    };
    // Dropping a payload can itself panic; never let that unwind across the boundary.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    msg
}

/// Runs plugin code, turning errors and panics into a status and a message in `err`.
///
/// # Safety
/// `err` must be null or a live sink.
unsafe fn guard(err: Err, f: impl FnOnce() -> Result<(), PluginError>) -> Status {
    let (status, message) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return Status::OK,
        Ok(Err(e)) => (Status::of(e.kind), e.message),
        Err(payload) => (Status::PANIC, panic_message(payload)),
    };
    // SAFETY: `err` is null or live (caller).
    unsafe { ByteSink::write(err, message.as_bytes()) };
    status
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|e| PluginError::internal(format!("cannot encode: {e}")))
}

// The shims below are only ever called by a host through the declaration, with pointers that
// the host keeps valid for the call (see `crate::host`): `model` is a handle this plugin
// created from a `Box<R>`, every `RSlice`/`RStr` borrows live host memory, `out` and `err` are
// live host buffers.

unsafe extern "C" fn info_shim<R: Recommender>(out: *mut ByteSink, err: Err) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let mut info = R::info();
            info.api_major = API_MAJOR;
            info.api_minor = API_MINOR;
            // This crate is compiled with the plugin's own panic strategy.
            info.unwinds = cfg!(panic = "unwind");
            ByteSink::write(out, &to_json(&info)?);
            Ok(())
        })
    }
}

unsafe extern "C" fn train_shim<R: Recommender>(
    data: *const RawTrainData,
    params: RStr,
    model: *mut *mut c_void,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let data = (*data).view()?;
            let params = Params::from_json(params.as_str()?)?;
            R::info().validate_params(&params)?;
            let trained = R::train(&data, &params)?;
            *model = Box::into_raw(Box::new(trained)) as *mut c_void;
            Ok(())
        })
    }
}

unsafe extern "C" fn load_shim<R: Recommender>(
    bytes: RSlice<u8>,
    model: *mut *mut c_void,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let loaded = R::load(bytes.as_slice())?;
            *model = Box::into_raw(Box::new(loaded)) as *mut c_void;
            Ok(())
        })
    }
}

unsafe extern "C" fn drop_shim<R: Recommender>(model: *mut c_void) {
    if model.is_null() {
        return;
    }
    // SAFETY: `model` came from `Box::into_raw(Box<R>)` in this plugin and is dropped once.
    let boxed = unsafe { Box::from_raw(model as *mut R) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

unsafe extern "C" fn recommend_shim<R: Recommender>(
    model: *const c_void,
    query: *const RawQuery,
    out: *mut ScoredBuf,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            let items = model.recommend(&(*query).view())?;
            ScoredBuf::fill(out, &items)
        })
    }
}

unsafe extern "C" fn similar_shim<R: Recommender>(
    model: *const c_void,
    item: u32,
    k: usize,
    out: *mut ScoredBuf,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            ScoredBuf::fill(out, &model.similar_items(item, k)?)
        })
    }
}

unsafe extern "C" fn explain_shim<R: Recommender>(
    model: *const c_void,
    query: *const RawQuery,
    item: u32,
    out: *mut ByteSink,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            let explanation = model.explain(&(*query).view(), item)?;
            ByteSink::write(out, &to_json(&explanation)?);
            Ok(())
        })
    }
}

unsafe extern "C" fn search_shim<R: Recommender>(
    model: *const c_void,
    text: RStr,
    k: usize,
    out: *mut ScoredBuf,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            ScoredBuf::fill(out, &model.search(text.as_str()?, k)?)
        })
    }
}

unsafe extern "C" fn save_shim<R: Recommender>(
    model: *const c_void,
    out: *mut ByteSink,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            ByteSink::write(out, &model.save()?);
            Ok(())
        })
    }
}

unsafe extern "C" fn score_items_shim<R: Recommender>(
    model: *const c_void,
    query: *const RawQuery,
    items: RSlice<u32>,
    out: *mut ScoredBuf,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            let items = items.as_slice();
            let scores = model.score_items(&(*query).view(), items)?;
            if scores.len() != items.len() {
                return Err(PluginError::internal(format!(
                    "score_items returned {} scores for {} items",
                    scores.len(),
                    items.len()
                )));
            }
            let scored: Vec<Scored> = items
                .iter()
                .zip(scores)
                .map(|(&item, score)| Scored { item, score })
                .collect();
            ScoredBuf::fill(out, &scored)
        })
    }
}

unsafe extern "C" fn recommend_many_shim<R: Recommender>(
    model: *const c_void,
    queries: RSlice<RawQuery>,
    out: *mut ScoredBuf,
    lens: *mut usize,
    err: Err,
) -> Status {
    // SAFETY: see the comment above the shims; `lens` has room for one entry per query.
    unsafe {
        guard(err, || {
            let model = &*(model as *const R);
            let raw = queries.as_slice();
            let views: Vec<Query<'_>> = raw.iter().map(|q| q.view()).collect();
            let lists = model.recommend_many(&views)?;
            if lists.len() != views.len() {
                return Err(PluginError::internal(format!(
                    "recommend_many returned {} lists for {} queries",
                    lists.len(),
                    views.len()
                )));
            }
            for (i, (list, query)) in lists.iter().zip(raw).enumerate() {
                if list.len() > query.k {
                    return Err(PluginError::internal(format!(
                        "recommend_many returned {} items for query {i}, whose k is {}",
                        list.len(),
                        query.k
                    )));
                }
                lens.add(i).write(list.len());
            }
            ScoredBuf::fill(out, &lists.concat())
        })
    }
}
