//! The async-iterable pager. `for await (const c of pager)` and `pager.byPage()` each start a
//! fresh run from the first page; `break` (the iterator's `return()`) stops the run's request
//! at once. Records are decoded a chunk at a time — one native `JSON.parse` over the records
//! that have arrived, rewritten as ASCII first (`crate::ascii`) — and handed out one per
//! `next()` without re-entering the run.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::errors::to_js;
use super::options;
use crate::ascii::escape_non_ascii;
use crate::call::PreparedCall;
use crate::client::Client;
use crate::cursor::{Cursor, Source};
use crate::error::Error;
use crate::sync::{SyncRun, SyncStats};
use crate::transport::fetch::{FetchTransport, RESULT_KEYS};
use crate::turns::Turns;

/// One step of an iteration as a boxed future: every async method goes through the same
/// `to_promise`, so the promise glue is compiled once rather than once per method (size).
pub(super) type JsStep = std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>>;

pub(super) fn to_promise(step: JsStep) -> Promise {
    future_to_promise(step)
}

/// Everything needed to start a run, already checked (`Client::prepare`).
#[derive(Clone)]
pub struct PagerSpec {
    pub(crate) client: Client,
    pub(crate) call: PreparedCall,
    pub(crate) signal: Option<AbortSignal>,
}

impl PagerSpec {
    /// A fresh run (`Client::start`).
    fn start(&self) -> Run {
        let (cursor, transport) = self.client.start(&self.call, self.signal.clone());
        Run::new(cursor, transport, self.call.checked.query.effective_page_size())
    }
}

/// What `client.sync()` returns: an `AsyncIterable<CustomerChange>` (one sync: iterating it
/// again continues the same run), with `stats` as it goes and `snapshot` once it completed.
/// @example
/// ```js
/// const run = client.sync(orgId, { snapshot: await loadSnapshot() });
/// for await (const change of run) await apply(change); // added, changed, then removed
/// await saveSnapshot(run.snapshot); // undefined unless the sync completed
/// console.log(run.stats);
/// ```
#[wasm_bindgen(js_name = SyncRun)]
pub struct JsSyncRun {
    run: Rc<Run>,
}

impl JsSyncRun {
    pub fn new(sync: SyncRun<FetchTransport>) -> Self {
        let transport = sync.transport().clone();
        JsSyncRun { run: Rc::new(Run::new(Cursor::new(Source::Sync(sync), None), transport, 0)) }
    }
}

#[wasm_bindgen(js_class = SyncRun)]
impl JsSyncRun {
    /// The changes: `added` and `changed` as the pages arrive, then `removed`.
    #[wasm_bindgen(js_name = "[Symbol.asyncIterator]", unchecked_return_type = "AsyncIterator<CustomerChange, undefined>")]
    pub fn iter(&self) -> CustomerIterator {
        CustomerIterator { run: self.run.clone() }
    }

    /// The snapshot to store for the next sync: set once iteration has completed; `undefined`
    /// while it runs, after `break`, or after an error — never a partial snapshot.
    #[wasm_bindgen(getter, unchecked_return_type = "Uint8Array | undefined")]
    pub fn snapshot(&self) -> JsValue {
        self.run.sync_snapshot.borrow().as_deref().map_or(JsValue::UNDEFINED, |b| js_sys::Uint8Array::from(b).into())
    }

    /// How many customers were found added, changed, removed and unchanged so far.
    #[wasm_bindgen(getter, unchecked_return_type = "SyncStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.run.sync_stats.get();
        let o = Object::new();
        for (k, v) in [("added", s.added), ("changed", s.changed), ("removed", s.removed), ("unchanged", s.unchanged)] {
            let _ = Reflect::set(&o, &k.into(), &(v as f64).into());
        }
        o.into()
    }
}

/// The pager `customers()` and `customersByIds()` return: an `AsyncIterable<Customer>`.
/// @example
/// ```js
/// const pager = client.customers(orgId);
/// for await (const customer of pager) console.log(customer.customerId); // every page
/// for await (const page of pager.byPage()) console.log(page.page, page.items.length);
/// const first100 = await pager.toArray({ limit: 100 });
/// ```
#[wasm_bindgen]
pub struct CustomerPager {
    spec: Rc<PagerSpec>,
}

impl CustomerPager {
    pub fn new(spec: PagerSpec) -> Self {
        CustomerPager { spec: Rc::new(spec) }
    }

    /// The first page only (for `customersPage`), even if it is empty.
    pub fn first_page(&self) -> Promise {
        let spec = self.spec.clone();
        to_promise(Box::pin(async move {
            let run = spec.start();
            let page = run.next_page(true).await;
            run.stop();
            Ok(page?.unwrap_or(JsValue::UNDEFINED))
        }))
    }
}

#[wasm_bindgen]
impl CustomerPager {
    /// A fresh iteration over every customer, from the first page.
    #[wasm_bindgen(js_name = "[Symbol.asyncIterator]")]
    pub fn iter(&self) -> Result<CustomerIterator, JsValue> {
        Ok(CustomerIterator { run: Rc::new(self.spec.start()) })
    }

    /// A fresh iteration over pages: `for await (const page of pager.byPage())`.
    /// Empty pages (one past the end) are not yielded.
    #[wasm_bindgen(js_name = byPage)]
    pub fn by_page(&self) -> Result<PageIterator, JsValue> {
        Ok(PageIterator { run: Rc::new(self.spec.start()) })
    }

    /// Collect the customers into an array, stopping after `limit` (no further requests).
    #[wasm_bindgen(js_name = toArray, unchecked_return_type = "Promise<Customer[]>")]
    pub fn to_array(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ limit?: number }")] options: Option<JsValue>,
    ) -> Result<Promise, JsValue> {
        let o = options::object(&options.unwrap_or(JsValue::UNDEFINED), "toArray options", &[&["limit"]])?;
        let limit = options::positive(&o, "limit")?.map(|l| l as u32);
        let run = Rc::new(self.spec.start());
        Ok(to_promise(Box::pin(async move {
            let out = Array::new();
            while limit.is_none_or(|l| out.length() < l) {
                match run.next_item().await? {
                    Some(v) => {
                        out.push(&v);
                    }
                    None => break,
                }
            }
            run.stop();
            Ok(out.into())
        })))
    }
}

/// Iterator over customers (what `for await` uses).
/// @example
/// ```js
/// const it = client.customers(orgId)[Symbol.asyncIterator]();
/// const { value: first, done } = await it.next();
/// await it.return(); // stops: no further requests
/// ```
#[wasm_bindgen]
pub struct CustomerIterator {
    run: Rc<Run>,
}

#[wasm_bindgen]
impl CustomerIterator {
    /// The next customer.
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<Customer, undefined>>")]
    pub fn next(&self) -> Promise {
        // Fast path: a decoded record is waiting, nothing is in flight, not cancelled.
        if self.run.turns.is_idle() && self.run.cancelled().is_none() {
            if let Some(v) = self.run.pop() {
                return Promise::resolve(&iter_result(&v, false));
            }
        }
        let run = self.run.clone();
        self.run.serialized(Box::pin(async move {
            let v = run.next_item().await?;
            Ok(match v {
                Some(v) => iter_result(&v, false),
                None => iter_result(&JsValue::UNDEFINED, true),
            })
        }))
    }

    /// Stop: aborts the request in flight; no further requests. `break` calls this.
    #[wasm_bindgen(js_name = "return", unchecked_return_type = "Promise<IteratorResult<Customer, undefined>>")]
    pub fn return_(&self) -> Promise {
        self.run.stop();
        Promise::resolve(&iter_result(&JsValue::UNDEFINED, true))
    }

    /// The iterator is itself iterable.
    #[wasm_bindgen(js_name = "[Symbol.asyncIterator]")]
    pub fn iter(&self) -> CustomerIterator {
        CustomerIterator { run: self.run.clone() }
    }

    /// For the package's JS fast path (`fast-iterator.js`): every decoded customer not yet
    /// handed out, decoding the next chunk when there is none; `undefined` at the end.
    #[wasm_bindgen(js_name = nextChunk, skip_typescript)]
    pub fn next_chunk(&self) -> Promise {
        let run = self.run.clone();
        self.run.serialized(Box::pin(async move { run.next_chunk().await }))
    }

    /// The caller's AbortSignal, if any (the JS fast path checks it before each customer).
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn signal(&self) -> JsValue {
        self.run.transport.signal().map_or(JsValue::UNDEFINED, |s| s.clone().into())
    }
}

/// Iterator over pages (`byPage()`).
/// @example
/// ```js
/// for await (const page of client.customers(orgId, { pageSize: 1000 }).byPage()) {
///   await save(page.items);
///   checkpoint(page.continuationToken); // resume later with { continuationToken }
/// }
/// ```
#[wasm_bindgen]
pub struct PageIterator {
    run: Rc<Run>,
}

#[wasm_bindgen]
impl PageIterator {
    /// The next non-empty page.
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<CustomerPage, undefined>>")]
    pub fn next(&self) -> Promise {
        let run = self.run.clone();
        self.run.serialized(Box::pin(async move {
            let page = run.next_page(false).await?;
            Ok(match page {
                Some(p) => iter_result(&p, false),
                None => iter_result(&JsValue::UNDEFINED, true),
            })
        }))
    }

    /// Stop: aborts the request in flight; no further requests.
    #[wasm_bindgen(js_name = "return", unchecked_return_type = "Promise<IteratorResult<CustomerPage, undefined>>")]
    pub fn return_(&self) -> Promise {
        self.run.stop();
        Promise::resolve(&iter_result(&JsValue::UNDEFINED, true))
    }

    /// The iterator is itself iterable, so `for await (const p of pager.byPage())` works.
    #[wasm_bindgen(js_name = "[Symbol.asyncIterator]")]
    pub fn iter(&self) -> PageIterator {
        PageIterator { run: self.run.clone() }
    }
}

fn iter_result(value: &JsValue, done: bool) -> JsValue {
    let o = Object::new();
    RESULT_KEYS.with(|(v, d)| {
        let _ = Reflect::set(&o, v, value);
        let _ = Reflect::set(&o, d, &JsValue::from_bool(done));
    });
    o.into()
}

/// One run as the JS iterators see it: the core [`Cursor`] (taken out of its cell while a
/// step is awaited: no `RefCell` borrow is ever held across an `.await`), the decoded
/// customers not yet handed out, and the order of the steps (a `next()` called before the
/// previous one settled waits its turn, `crate::turns`). Nothing here decides what a run
/// does; it converts.
pub struct Run {
    cursor: RefCell<Option<Cursor<FetchTransport>>>,
    transport: FetchTransport,
    page_size: u32,
    /// Decoded customers not yet handed out, and the index of the next one.
    buffer: RefCell<(Array, u32)>,
    /// The page the buffered customers came from, whether it is complete, and the token that
    /// resumes after it.
    buffer_page: RefCell<Option<(u32, bool, Option<String>)>>,
    turns: Turns,
    done: Cell<bool>,
    /// A sync's counts so far, and its snapshot once it has completed.
    sync_stats: Cell<SyncStats>,
    sync_snapshot: RefCell<Option<Vec<u8>>>,
}

impl Run {
    fn new(cursor: Cursor<FetchTransport>, transport: FetchTransport, page_size: u32) -> Self {
        Run {
            cursor: RefCell::new(Some(cursor)),
            transport,
            page_size,
            buffer: RefCell::new((Array::new(), 0)),
            buffer_page: RefCell::new(None),
            turns: Turns::new(),
            done: Cell::new(false),
            sync_stats: Cell::new(SyncStats::default()),
            sync_snapshot: RefCell::new(None),
        }
    }

    fn stop(&self) {
        self.done.set(true);
        self.transport.stop();
        // Taken out while a step awaits it: that step stops it when it returns.
        if let Some(mut cursor) = self.cursor.try_borrow_mut().ok().and_then(|mut c| c.take()) {
            cursor.stop();
        }
        *self.buffer.borrow_mut() = (Array::new(), 0);
    }

    fn pop(&self) -> Option<JsValue> {
        let mut b = self.buffer.borrow_mut();
        if b.1 < b.0.length() {
            let v = b.0.get(b.1);
            b.1 += 1;
            Some(v)
        } else {
            // Used up: let go of it before the next chunk is decoded (held across
            // that allocation, its customers would survive young-generation GCs).
            if b.1 > 0 {
                *b = (Array::new(), 0);
            }
            None
        }
    }

    /// Run `step` after every step started before it.
    fn serialized(self: &Rc<Self>, step: JsStep) -> Promise {
        let turn = self.turns.take();
        to_promise(Box::pin(async move {
            let _turn = turn.await;
            step.await
        }))
    }

    fn error(&self, e: &Error) -> JsValue {
        to_js(e, self.transport.caller_abort_reason())
    }

    /// Decode the cursor's next group into the buffer. `Ok(false)`: the run is over.
    async fn fill(&self) -> Result<bool, JsValue> {
        if self.done.get() {
            return Ok(false);
        }
        let Some(mut cursor) = self.cursor.borrow_mut().take() else { return Ok(false) };
        let step = cursor.next(decode_json_array).await;
        self.sync_stats.set(cursor.stats());
        if self.done.get() {
            // Stopped (`return()`, `break`) while this step waited: nothing more is handed out.
            cursor.stop();
            return Ok(false);
        }
        let more = match step {
            Ok(Some(group)) => {
                *self.buffer.borrow_mut() = (group.decoded.unwrap_or_else(Array::new), 0);
                *self.buffer_page.borrow_mut() = Some((group.page, group.page_complete, group.continuation));
                true
            }
            Ok(None) => {
                *self.sync_snapshot.borrow_mut() = cursor.snapshot().map(<[u8]>::to_vec);
                false
            }
            Err(e) => {
                self.done.set(true);
                return Err(self.error(&e));
            }
        };
        if more {
            *self.cursor.borrow_mut() = Some(cursor);
        } else {
            cursor.stop();
        }
        Ok(more)
    }

    /// After the signal fired, nothing more is handed out, not even decoded records.
    fn cancelled(&self) -> Option<JsValue> {
        self.transport.cancelled_now().filter(|e| matches!(e, Error::Aborted(_)) && !self.done.get()).map(|e| self.error(&e))
    }

    /// The rest of the decoded chunk (decoding the next one if it is used up), or `undefined`.
    async fn next_chunk(&self) -> Result<JsValue, JsValue> {
        if let Some(e) = self.cancelled() {
            self.stop();
            return Err(e);
        }
        loop {
            {
                let mut b = self.buffer.borrow_mut();
                let len = b.0.length();
                if b.1 < len {
                    let rest = if b.1 == 0 { b.0.clone() } else { b.0.slice(b.1, len) };
                    *b = (Array::new(), 0);
                    return Ok(rest.into());
                }
            }
            if !self.fill().await? {
                return Ok(JsValue::UNDEFINED);
            }
        }
    }

    async fn next_item(&self) -> Result<Option<JsValue>, JsValue> {
        if let Some(e) = self.cancelled() {
            self.stop();
            return Err(e);
        }
        loop {
            if let Some(v) = self.pop() {
                return Ok(Some(v));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// The next page's customers as a `CustomerPage`; with `keep_empty`, an empty page too.
    async fn next_page(&self, keep_empty: bool) -> Result<Option<JsValue>, JsValue> {
        let items = Array::new();
        loop {
            while let Some(v) = self.pop() {
                items.push(&v);
            }
            let ended = self.buffer_page.borrow_mut().take_if(|(_, complete, _)| *complete);
            if let Some((page, _, token)) = ended {
                if items.length() > 0 || keep_empty {
                    let page_obj = page_object(page, self.page_size, &items);
                    if let Some(token) = token {
                        let _ = Reflect::set(&page_obj, &"continuationToken".into(), &token.into());
                    }
                    return Ok(Some(page_obj));
                }
                continue;
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }
}

// Bindings that keep the text in JS: js-sys's `JSON.parse` takes a Rust `&str` and web-sys's
// `TextDecoder.decode` returns a Rust `String`, and either would copy every chunk through wasm
// memory once more (profiled: it doubled the decode time).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &js_sys::JsString) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = TextDecoder)]
    type Utf8Decoder;
    #[wasm_bindgen(constructor, js_class = "TextDecoder", catch)]
    fn new(label: &str, options: &JsValue) -> Result<Utf8Decoder, JsValue>;
    /// The bytes are passed as a view of wasm memory, not copied.
    #[wasm_bindgen(method, js_class = "TextDecoder", js_name = decode, catch)]
    fn decode(this: &Utf8Decoder, bytes: &[u8]) -> Result<js_sys::JsString, JsValue>;
}

thread_local! {
    /// `fatal` + `ignoreBOM`: the runtimes' fast UTF-8 path (Node's is several times faster
    /// than its replacement-character path); invalid UTF-8 becomes a `DECODE` error.
    static DECODER: Utf8Decoder = {
        let options = Object::new();
        let _ = Reflect::set(&options, &"fatal".into(), &JsValue::TRUE);
        let _ = Reflect::set(&options, &"ignoreBOM".into(), &JsValue::TRUE);
        Utf8Decoder::new("utf-8", &options).unwrap_or_else(|_| unreachable!("TextDecoder exists in every supported runtime"))
    };

    /// The chunk rewritten as ASCII (see `crate::ascii`), reused from chunk to chunk.
    static ASCII_TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One chunk of records, as bytes in wasm memory, into a JS array: non-ASCII characters
/// become `\uXXXX` escapes (so the text is a one-byte string in JS), then the runtime's
/// native TextDecoder reads the bytes in place and `JSON.parse` does the rest.
/// Not UTF-8 or not JSON: `DECODE`.
fn decode_json_array(bytes: &[u8]) -> Result<Array, Error> {
    ASCII_TEXT.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let text = match escape_non_ascii(bytes, &mut scratch) {
            Ok(false) => DECODER.with(|d| d.decode(bytes)),
            Ok(true) => DECODER.with(|d| d.decode(&scratch)),
            Err(_not_utf8) => Err(JsValue::UNDEFINED),
        };
        // A whole collected page (customersByIds) can be megabytes: give that back.
        if scratch.capacity() > 1 << 20 {
            *scratch = Vec::new();
        }
        text.and_then(|t| json_parse(&t))
            .map(JsCast::unchecked_into)
            .map_err(|_| Error::Decode("a customer record is not valid JSON".into()))
    })
}

fn page_object(page: u32, page_size: u32, items: &Array) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"page".into(), &page.into());
    let _ = Reflect::set(&o, &"pageSize".into(), &page_size.into());
    let _ = Reflect::set(&o, &"items".into(), items);
    o.into()
}
