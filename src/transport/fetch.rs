//! The wasm transport: the runtime's `fetch` (or the caller's), streamed bodies, timers and
//! cancellation — for browsers, Cloudflare Workers and Node alike (only globals all three
//! have: `fetch`, `setTimeout`, `AbortController`). Requests are built and responses wrapped
//! with gloo-net; web-sys is used for what gloo-net has no API for: reading the body stream
//! chunk by chunk (default and BYOB readers) and the run's abort listener.
//!
//! Cancellation follows reqwest's abort guard: every attempt owns an `AbortController` in an
//! `AttemptGuard` that the `send` future and then the body keep alive; dropping it (end of
//! body, a lost race in the pager, `break` in the caller's loop) aborts the request. The
//! pager races every wait against [`Transport::cancelled`], which one listener per run on
//! the caller's signal wakes ([`RunSignal`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use gloo_net::http::RequestBuilder;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader, RequestRedirect};

use super::{HttpRequest, Method, ResponseBody, ResponseHead, Transport, MAX_TIMER_MS};
use crate::error::Error;
use crate::secrets::Secrets;

#[wasm_bindgen]
extern "C" {
    /// `body.getReader({ mode: "byob" })`: reads into a buffer the SDK hands it.
    type ByobReader;
    #[wasm_bindgen(method, js_name = read)]
    fn read_into(this: &ByobReader, view: &Uint8Array) -> Promise;
    /// workerd's own `readAtLeast(min, view)`: waits until `min` bytes are in (or the end).
    #[wasm_bindgen(method, js_name = readAtLeast)]
    fn read_at_least(this: &ByobReader, min: u32, view: &Uint8Array) -> Promise;
    #[wasm_bindgen(method, getter = readAtLeast)]
    fn read_at_least_fn(this: &ByobReader) -> JsValue;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

thread_local! {
    /// `value` and `done`, the property names of stream read results and iterator results,
    /// made into JS strings once rather than once per read or per customer.
    pub(crate) static RESULT_KEYS: (JsValue, JsValue) = (JsValue::from_str("value"), JsValue::from_str("done"));
}

/// Where the bearer token comes from.
/// # Examples
///
/// ```ignore
/// use appxite_customers::TokenSource;
/// let fixed: TokenSource = "eyJ…".into();
/// // A JS function `(refresh) => string | Promise<string>`, e.g. passed in from JavaScript:
/// let refreshed = TokenSource::Function(get_token);
/// ```
#[derive(Clone, Default)]
pub enum TokenSource {
    /// No Authorization header.
    #[default]
    None,
    /// A fixed token.
    Static(String),
    /// A JS function `(refresh?: boolean) => string | Promise<string>`, called per request.
    Function(Function),
}

impl From<&str> for TokenSource {
    fn from(token: &str) -> Self {
        TokenSource::Static(token.to_string())
    }
}

impl From<String> for TokenSource {
    fn from(token: String) -> Self {
        TokenSource::Static(token)
    }
}

/// Whether a run has been cancelled — by the caller's signal or by `stop` — and the tasks
/// to wake when it is. One "abort" listener on the caller's signal per run, however many
/// requests, waits and batches the run has at once.
pub struct RunSignal {
    caller: Option<AbortSignal>,
    stopped: Cell<bool>,
    /// The waits in progress, each under the number its `Cancelled` got (removed when it is
    /// dropped: every JS call is a task of its own, so wakers must not pile up).
    wakers: RefCell<Vec<(u32, Waker)>>,
    next_id: Cell<u32>,
    /// The listener on `caller`; removed when the run is dropped.
    listener: Option<Closure<dyn FnMut()>>,
}

impl RunSignal {
    fn new(caller: Option<AbortSignal>) -> Rc<RunSignal> {
        Rc::new_cyclic(|me: &Weak<RunSignal>| {
            let listener = caller.as_ref().map(|signal| {
                let me = me.clone();
                let wake = Closure::<dyn FnMut()>::new(move || {
                    if let Some(me) = me.upgrade() {
                        me.wake_all();
                    }
                });
                let _ = signal.add_event_listener_with_callback("abort", wake.as_ref().unchecked_ref());
                wake
            });
            RunSignal { caller, stopped: Cell::new(false), wakers: RefCell::new(Vec::new()), next_id: Cell::new(0), listener }
        })
    }

    fn wake_all(&self) {
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for (_, w) in wakers {
            w.wake();
        }
    }

    /// `ABORTED` once the caller's signal fired or the run was stopped.
    fn error(&self) -> Option<Error> {
        if let Some(s) = self.caller.as_ref().filter(|s| s.aborted()) {
            return Some(Error::Aborted(reason_text(&s.reason(), "the AbortSignal was aborted")));
        }
        self.stopped.get().then(|| Error::Aborted("the iteration was stopped".into()))
    }
}

impl Drop for RunSignal {
    fn drop(&mut self) {
        if let (Some(signal), Some(listener)) = (&self.caller, &self.listener) {
            let _ = signal.remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

/// Resolves with `ABORTED` when the run's [`RunSignal`] fires.
struct Cancelled {
    signal: Rc<RunSignal>,
    id: u32,
}

impl Cancelled {
    fn new(signal: Rc<RunSignal>) -> Cancelled {
        let id = signal.next_id.get();
        signal.next_id.set(id.wrapping_add(1));
        Cancelled { signal, id }
    }
}

impl Future for Cancelled {
    type Output = Error;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Error> {
        if let Some(e) = self.signal.error() {
            return Poll::Ready(e);
        }
        let mut wakers = self.signal.wakers.borrow_mut();
        match wakers.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, w)) if w.will_wake(cx.waker()) => {}
            Some((_, w)) => *w = cx.waker().clone(),
            None => wakers.push((self.id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Ok(mut wakers) = self.signal.wakers.try_borrow_mut() {
            wakers.retain(|(id, _)| *id != self.id);
        }
    }
}

/// `fetch`-based [`Transport`] for one run.
#[derive(Clone)]
pub struct FetchTransport {
    fetch: Function,
    token: TokenSource,
    signal: Rc<RunSignal>,
    /// Values never to show in an error (token, subscription key).
    secrets: Secrets,
}

/// `Object.getOwnPropertyDescriptor(proto, name).get.call(v)`, where `proto` is the prototype
/// of the global class `class` (or the prototype of that prototype, for `%TypedArray%`'s
/// getters): it reads an internal slot, so it works on a real instance only — never on a
/// Proxy — and runs none of the caller's code. `None` when it throws.
pub(crate) fn intrinsic_getter(class: &str, name: &JsValue, v: &JsValue) -> Option<JsValue> {
    let ctor = Reflect::get(&js_sys::global(), &class.into()).ok()?;
    let mut proto = Reflect::get(&ctor, &"prototype".into()).ok()?;
    for _ in 0..2 {
        let desc = Reflect::get_own_property_descriptor(proto.unchecked_ref::<js_sys::Object>(), name).ok()?;
        if !desc.is_undefined() {
            let getter: Function = Reflect::get(&desc, &"get".into()).ok()?.dyn_into().ok()?;
            return getter.call0(v).ok();
        }
        proto = Reflect::get_prototype_of(&proto).ok()?.into();
    }
    None
}

impl FetchTransport {
    /// A transport calling `fetch` (the caller's or `globalThis.fetch`).
    pub fn new(fetch: Function, token: TokenSource, signal: Option<AbortSignal>, secrets: Secrets) -> Self {
        FetchTransport { fetch, token, signal: RunSignal::new(signal), secrets }
    }

    /// `globalThis.fetch`, bound to `globalThis` (browsers throw "Illegal invocation" otherwise).
    pub fn global_fetch() -> Option<Function> {
        let global = js_sys::global();
        let f = Reflect::get(&global, &"fetch".into()).ok()?.dyn_into::<Function>().ok()?;
        Some(f.bind0(&global))
    }

    /// Stop the run: the request in flight and any wait end at once.
    pub fn stop(&self) {
        self.signal.stopped.set(true);
        self.signal.wake_all();
    }

    /// The caller's signal.
    pub fn signal(&self) -> Option<&AbortSignal> {
        self.signal.caller.as_ref()
    }

    /// The caller's signal's reason, if it has fired.
    pub fn caller_abort_reason(&self) -> Option<JsValue> {
        self.signal().filter(|s| s.aborted()).map(|s| s.reason())
    }

    /// `ABORTED` once the caller's signal fired or the run was stopped.
    pub fn cancelled_now(&self) -> Option<Error> {
        self.signal.error()
    }

    /// Turn a rejection from fetch or a body read into an error.
    fn classify(&self, thrown: JsValue) -> Error {
        if let Some(e) = self.cancelled_now() {
            return e;
        }
        Error::Network(self.secrets.scrub(&reason_text(&thrown, "fetch failed"), None))
    }
}

/// A readable text for any thrown value: an Error (with its cause, as undici puts the real
/// reason there), a DOMException, a string, or anything else.
fn reason_text(v: &JsValue, fallback: &str) -> String {
    if let Some(s) = v.as_string() {
        return s;
    }
    let field = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok().and_then(|m| m.as_string());
    match field(v, "message") {
        Some(m) if !m.is_empty() => {
            let cause = Reflect::get(v, &"cause".into()).ok().filter(|c| !c.is_undefined() && !c.is_null());
            match cause.and_then(|c| field(&c, "message").or_else(|| field(&c, "code"))) {
                Some(c) => format!("{m} ({c})"),
                None => m,
            }
        }
        _ => fallback.to_string(),
    }
}

/// A `setTimeout` as a future; cleared when dropped.
pub struct JsTimer {
    fired: JsFuture,
    id: JsValue,
}

impl JsTimer {
    fn new(ms: u64) -> JsTimer {
        let mut resolve: Option<Function> = None;
        let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
        let resolve = resolve.unwrap_or_else(|| unreachable!("the Promise executor runs synchronously"));
        JsTimer { id: set_timeout(&resolve, ms as f64), fired: JsFuture::from(promise) }
    }
}

impl Future for JsTimer {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.fired).poll(cx).map(|_| ())
    }
}

impl Drop for JsTimer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Owns one attempt's controller: dropping it (the body is done, or the pager dropped the
/// `send` future or the body after a lost race) aborts the request and its body stream.
struct AttemptGuard {
    controller: AbortController,
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        self.controller.abort();
    }
}

/// How a body is read: the stream's own chunks, or — when those turn out small — into a
/// buffer of the SDK's (BYOB). workerd's default reader hands out chunks of at most 4 KB, a
/// read each, and a BYOB read takes everything that has arrived instead (measured on a 20 MB
/// page: 5,400 → 900 reads, 83–109 → 30–47 ms; a 100,000-customer sync in workerd 2.10× →
/// 0.98× the time of `res.json()`) — in workerd, at least 64 KB of it (BYOB_AT_LEAST).
/// Node's chunks are already ~64 KB, and its BYOB reads copy into a fresh buffer each time
/// (CPU +4 %, more memory), so it keeps the default reader.
enum BodyReader {
    Default {
        reader: ReadableStreamDefaultReader,
        stream: ReadableStream,
        reads: u32,
        bytes: u32,
    },
    /// The buffer is transferred to each read and comes back with its result; `at_least`:
    /// the reader has workerd's `readAtLeast` (see BYOB_AT_LEAST).
    Byob {
        reader: ByobReader,
        buffer: Option<js_sys::ArrayBuffer>,
        at_least: bool,
    },
}

thread_local! {
    /// Set once a body stream refused a BYOB reader: the engine has none (WebKit).
    static BYOB_MISSING: Cell<bool> = const { Cell::new(false) };
}

/// The buffer a BYOB reader reads into. A `read(view)` returns as soon as any bytes are in
/// (workerd's `readAtLeast` once 64 KB are), so the size only caps how much one read takes
/// when more is waiting: 64 KB → 256 KB measured with `read(view)` in workerd on 100,000
/// customers (5 fresh workerd each) `for await` 1507 → 1377 ms CPU, a sync
/// 858 → 782 ms, peak unchanged; 1 MB gained nothing more for `for await`.
const BYOB_BUFFER: u32 = 256 * 1024;
/// In workerd, each read waits for at least this much (`readAtLeast`; it returns less only at
/// the end): even a BYOB read there takes ~33 KB on average from a fast origin. Measured in
/// workerd reading 100,000 customers' bodies (200 MB, 5 fresh workerd each, nothing parsed):
/// `read(view)` 6,067 reads, 198 ms CPU; `readAtLeast(64 KB)` 3,024 reads, 125 ms; 128 KB
/// 1,516 reads, 98 ms. 64 KB: a customer reaches the caller at most 64 KB of body later
/// (3 ms at 20 MB/s). Other engines have no `readAtLeast` (the standard `read(view, { min })`
/// is not in every engine yet) and keep `read(view)`.
const BYOB_AT_LEAST: u32 = 64 * 1024;
// `readAtLeast` throws (synchronously, through the wasm) if the view is smaller than `min`.
const _: () = assert!(BYOB_AT_LEAST <= BYOB_BUFFER);
/// Reads after which the chunk size is judged, and the average below which BYOB is used.
const SMALL_CHUNK_READS: u32 = 8;
const SMALL_CHUNK_BYTES: u32 = 8 * 1024;

impl BodyReader {
    fn new(stream: ReadableStream) -> BodyReader {
        BodyReader::Default { reader: stream.get_reader().unchecked_into(), stream, reads: 0, bytes: 0 }
    }

    /// Start the next read: a promise of `{ done, value }`.
    fn read(&mut self) -> Promise {
        match self {
            BodyReader::Byob { reader, buffer, at_least } => {
                let view = Uint8Array::new(&buffer.take().unwrap_or_else(|| js_sys::ArrayBuffer::new(BYOB_BUFFER)));
                if *at_least {
                    reader.read_at_least(BYOB_AT_LEAST, &view)
                } else {
                    reader.read_into(&view)
                }
            }
            BodyReader::Default { reader, .. } => reader.read(),
        }
    }

    /// After a read of `value`: keep the BYOB buffer for the next read, or count the chunk and
    /// switch to BYOB if the chunks are small (no read is pending, so the lock can move).
    fn after_read(&mut self, value: &Uint8Array) {
        match self {
            BodyReader::Byob { buffer, .. } => *buffer = Some(value.buffer()),
            BodyReader::Default { reader, stream, reads, bytes } => {
                *reads += 1;
                *bytes = bytes.saturating_add(value.length());
                if *reads != SMALL_CHUNK_READS || *bytes / *reads >= SMALL_CHUNK_BYTES || BYOB_MISSING.get() {
                    return;
                }
                reader.release_lock();
                let options = js_sys::Object::new();
                let _ = Reflect::set(&options, &"mode".into(), &"byob".into());
                let byob = Reflect::get(stream, &"getReader".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .and_then(|f| f.call1(stream, &options).ok())
                    .filter(|r| !r.is_undefined());
                *self = match byob {
                    Some(r) => {
                        let reader: ByobReader = r.unchecked_into();
                        let at_least = reader.read_at_least_fn().is_function();
                        BodyReader::Byob { reader, buffer: None, at_least }
                    }
                    // No BYOB in this engine (WebKit has no byte streams): back to the stream's
                    // own chunks, and never try again in this instance.
                    None => {
                        BYOB_MISSING.set(true);
                        BodyReader::new(stream.clone())
                    }
                };
            }
        }
    }
}

/// A streamed response body.
pub struct FetchBody {
    reader: Option<BodyReader>,
    transport: FetchTransport,
    /// Kept alive with the body: dropping the body ends the request.
    _guard: AttemptGuard,
}

impl ResponseBody for FetchBody {
    async fn read_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, Error> {
        let Some(reader) = &mut self.reader else { return Ok(false) };
        let result = JsFuture::from(reader.read()).await.map_err(|e| self.transport.classify(e))?;
        let (value, done) = RESULT_KEYS.with(|(v, d)| (Reflect::get(&result, v), Reflect::get(&result, d)));
        let done = done.map(|d| d.is_truthy()).unwrap_or(true);
        let value = value.ok().and_then(|v| v.dyn_into::<Uint8Array>().ok());
        // A BYOB read that meets the end may still carry the last bytes (`readAtLeast`, or
        // `read(view)` as some engines do it): they are the body's, so they are kept.
        if done {
            self.reader = None;
        }
        let value = match value {
            Some(v) if !done || v.length() > 0 => v,
            _ if done => return Ok(false),
            _ => return Err(Error::Network("the body stream gave a chunk that is not bytes".into())),
        };
        if let Some(reader) = &mut self.reader {
            reader.after_read(&value);
        }
        let len = value.length() as usize;
        // Fallible: running out of wasm memory is an error of this run, not a trap.
        out.try_reserve(len).map_err(|_| Error::Decode("out of memory for the response body".into()))?;
        // SAFETY: `reserve` made room for `len` more bytes, and `raw_copy_to_ptr` writes
        // exactly `len` bytes there before `set_len` exposes them (no zero-fill pass).
        unsafe {
            value.raw_copy_to_ptr(out.as_mut_ptr().add(out.len()));
            out.set_len(out.len() + len);
        }
        Ok(true)
    }
}

impl Transport for FetchTransport {
    type Body = FetchBody;

    async fn send(&self, request: &HttpRequest) -> Result<(ResponseHead, FetchBody), Error> {
        if let Some(e) = self.cancelled_now() {
            return Err(e);
        }
        let controller = AbortController::new().map_err(|_| Error::Network("AbortController is missing".into()))?;
        let guard = AttemptGuard { controller };
        // Our own Headers, not gloo-net's `header()`: that one throws a JS exception out of
        // the wasm on a value fetch refuses (a token function may return anything).
        let headers = Headers::new().map_err(|_| Error::Network("Headers is missing".into()))?;
        for (k, v) in &request.headers {
            headers.append(k, v).map_err(|_| Error::InvalidArgument(format!("header '{k}' has a value fetch does not accept")))?;
        }
        // Only the fields that are needed: workerd rejects some (mode, credentials). Never
        // follow a redirect: runtimes strip only Authorization from a cross-origin redirect,
        // and would send the subscription key and the POST body on.
        let method = match request.method {
            Method::Get => gloo_net::http::Method::GET,
            Method::Post => gloo_net::http::Method::POST,
        };
        let builder = RequestBuilder::new(&request.url)
            .method(method)
            .headers(gloo_net::http::Headers::from_raw(headers))
            .redirect(RequestRedirect::Manual)
            .abort_signal(Some(&guard.controller.signal()));
        let built = match &request.body {
            Some(body) => builder.body(JsValue::from_str(body)),
            None => builder.build(),
        };
        let built: web_sys::Request = built.map_err(|e| Error::InvalidArgument(format!("the request could not be built: {e}")))?.into();
        // The caller's `fetch` (or the global one) gets the Request gloo-net built.
        let promise = self.fetch.call1(&JsValue::UNDEFINED, &built).map_err(|e| self.classify(e))?;
        let response: web_sys::Response = JsFuture::from(Promise::resolve(&promise))
            .await
            .map_err(|e| self.classify(e))?
            .dyn_into()
            .ok()
            // A real Response, not a Proxy of one (whose getters throw "Illegal invocation").
            .filter(|r: &web_sys::Response| intrinsic_getter("Response", &"status".into(), r).is_some())
            .ok_or_else(|| Error::Network("fetch did not return a Response".into()))?;
        let response = gloo_net::http::Response::from(response);
        let status = response.status();
        let opaque = response.type_() == web_sys::ResponseType::Opaqueredirect;
        if opaque || (300..400).contains(&status) {
            return Err(Error::Redirect {
                status: (!opaque).then_some(status),
                message: "the server answered with a redirect, which is not followed (credentials and request bodies \
                          stay with baseUrl): set baseUrl to where the API really is"
                    .into(),
            });
        }
        let head = ResponseHead { status, retry_after: response.headers().get("retry-after") };
        // gloo-net has no API for reading a body chunk by chunk: the stream is read with web-sys.
        let reader = response.body().map(BodyReader::new);
        Ok((head, FetchBody { reader, transport: self.clone(), _guard: guard }))
    }

    type Timer = JsTimer;

    fn timer(&self, ms: u64) -> JsTimer {
        JsTimer::new(ms.min(MAX_TIMER_MS))
    }

    async fn cancelled(&self) -> Error {
        Cancelled::new(self.signal.clone()).await
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    async fn token(&self, refresh: bool) -> Result<Option<String>, Error> {
        match &self.token {
            TokenSource::None => Ok(None),
            TokenSource::Static(t) => Ok(Some(t.clone())),
            TokenSource::Function(f) => {
                let value = f.call1(&JsValue::UNDEFINED, &JsValue::from_bool(refresh)).map_err(|e| token_error(&e))?;
                let value = JsFuture::from(Promise::resolve(&value)).await.map_err(|e| token_error(&e))?;
                match value.as_string() {
                    Some(t) if !t.is_empty() => Ok(Some(t)),
                    _ => Err(Error::Unauthorized { status: 0, message: "the token function did not return a non-empty string".into() }),
                }
            }
        }
    }

    fn can_refresh(&self) -> bool {
        matches!(self.token, TokenSource::Function(_))
    }
}

fn token_error(e: &JsValue) -> Error {
    // The function's own error text could echo a secret; keep only that it failed.
    let _ = e;
    Error::Unauthorized { status: 0, message: "the token function threw or rejected".into() }
}

/// `globalThis.location.origin` where there is a page (or a browser worker).
pub fn page_origin() -> Option<String> {
    let location = Reflect::get(&js_sys::global(), &"location".into()).ok()?;
    if location.is_undefined() || location.is_null() {
        return None;
    }
    let origin = Reflect::get(&location, &"origin".into()).ok()?.as_string()?;
    (!origin.is_empty() && origin != "null").then_some(origin)
}
