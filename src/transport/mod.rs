//! What the pager needs from its runtime — send a request and stream the body, sleep,
//! the clock, randomness, the token — as a trait, so the paging, retry and exactly-once logic
//! runs unchanged on the host (tests, with a scripted transport) and in wasm (`fetch`).

#[cfg(target_arch = "wasm32")]
pub mod fetch;

use crate::error::Error;

/// The longest wait the runtimes' timers hold (2^31 − 1 ms, about 24.8 days): a longer
/// `setTimeout` fires at once. Longer `timeoutMs` / `deadlineMs` are refused.
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// HTTP method of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET /distis/organizations/details/{orgId}`
    Get,
    /// `POST /distis/organizations/details` with the IDs as the body.
    Post,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request, ready to send.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// GET or POST.
    pub method: Method,
    /// Full URL (never carries credentials).
    pub url: String,
    /// Headers, credentials included.
    pub headers: Vec<(String, String)>,
    /// JSON body for POST.
    pub body: Option<String>,
}

/// Status line and the headers the pager reads.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// The raw `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

/// A response body being streamed.
#[allow(async_fn_in_trait)] // single-threaded wasm: no Send bound wanted
pub trait ResponseBody {
    /// Append the next chunk to `out`. `Ok(false)` at the end of the body.
    async fn read_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, Error>;
}

/// The runtime services of one pager run.
///
/// None of these waits bounds itself: the pager races every one of them against
/// [`cancelled`](Transport::cancelled), the attempt timer and the deadline, and drops the
/// loser. Dropping a `send` future or a body must therefore end the request (the wasm
/// transport aborts it in `Drop`).
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// The streamed body type.
    type Body: ResponseBody;
    /// Send a request. Fails with `NETWORK` (or `REDIRECT`: redirects are never followed).
    async fn send(&self, request: &HttpRequest) -> Result<(ResponseHead, Self::Body), Error>;
    /// A timer: starts counting at once, resolves after `ms` milliseconds (at most
    /// [`MAX_TIMER_MS`]), and is cancelled when dropped. Owned, so the pager can keep one armed
    /// across many waits instead of making a JS timer per body read.
    fn timer(&self, ms: u64) -> Self::Timer;
    /// The timer type.
    type Timer: std::future::Future<Output = ()> + Unpin;
    /// Resolve with `ABORTED` once the caller's signal fires or the run is stopped; never
    /// otherwise.
    async fn cancelled(&self) -> Error;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Uniform in `[0, 1)`, for backoff jitter.
    fn random(&self) -> f64;
    /// The bearer token for the next request; `refresh` after a 401. `None`: send none.
    async fn token(&self, refresh: bool) -> Result<Option<String>, Error>;
    /// Whether asking again after a 401 could give a different token.
    fn can_refresh(&self) -> bool;
}
