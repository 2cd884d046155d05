//! The pager: one run over every page of a query — requests, retries, the streamed body, and
//! the exactly-once bookkeeping. Generic over [`Transport`], so the same code runs in wasm and
//! in host tests.
//!
//! Exactly once: records are counted as they are taken from the current page. When an attempt
//! fails part-way (a dropped connection, a truncated body, a timeout) the page is requested
//! again and the records already taken are skipped, relying on the API's stable order.
//! A page ends only at the array's closing `]`; a run ends at the first page shorter than the
//! page size asked for.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either};

use serde::Serialize;
use tsify::Tsify;

use crate::error::Error;
use crate::secrets::Secrets;
use crate::json::{json_message, json_quote};
use crate::query::{encode_path_segment, CustomerQuery};
use crate::record::{customer_id, id_key, SeenIds};
use crate::retry::{parse_retry_after, Decision, RetryBudget, RetryPolicy};
use crate::scan::{RecordScanner, DEFAULT_MAX_RECORD_BYTES};
use crate::transport::{HttpRequest, Method, ResponseBody, ResponseHead, Transport, MAX_TIMER_MS};

/// Default number of IDs per POST request in `customersByIds`.
pub const DEFAULT_BATCH_SIZE: usize = 100;

/// Something that happened during a run, for `onEvent` (logging, progress bars, metrics).
/// Never carries a token or key.
/// # Examples
///
/// In JavaScript:
///
/// ```js
/// const client = new AppxiteClient({
///   referer, token,
///   onEvent: (e) => { if (e.type === "retry") console.warn(`page ${e.page}: ${e.reason}, again in ${e.delayMs} ms`); },
/// });
/// ```
///
/// The events of a one-page run, as `onEvent` receives them:
///
/// ```json
/// { "type": "request", "page": 1, "attempt": 1, "method": "GET", "url": "https://api.appxite.com/distis/organizations/details/…?page=1" }
/// { "type": "response", "page": 1, "attempt": 1, "status": 200, "elapsedMs": 84 }
/// { "type": "page", "page": 1, "items": 812, "elapsedMs": 131 }
/// ```
#[derive(Tsify, Serialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum AppxiteEvent {
    /// A request is about to be sent.
    Request {
        /// Page number (1-based).
        page: u32,
        /// 1 for the first attempt of this page.
        attempt: u32,
        /// `GET` or `POST`.
        method: String,
        /// The URL (no credentials are ever in it).
        url: String,
        /// For `customersByIds`: the ID batch (0-based).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[tsify(optional)]
        batch: Option<u32>,
    },
    /// Response headers arrived.
    Response {
        /// Page number.
        page: u32,
        /// Attempt number.
        attempt: u32,
        /// HTTP status.
        status: u16,
        /// Milliseconds from request to headers.
        elapsed_ms: f64,
    },
    /// An attempt failed and will be retried after `delayMs`.
    Retry {
        /// Page number.
        page: u32,
        /// The attempt that failed.
        attempt: u32,
        /// The wait before the next attempt.
        delay_ms: u64,
        /// The error code of the failure (`HTTP`, `NETWORK`, `RATE_LIMITED`, `DECODE`, `TIMEOUT`).
        reason: String,
        /// The HTTP status, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[tsify(optional)]
        status: Option<u16>,
    },
    /// A page was received completely.
    Page {
        /// Page number.
        page: u32,
        /// Customers on it.
        items: u64,
        /// Milliseconds from the page's first request to its last byte, retries included.
        elapsed_ms: f64,
        /// For `customersByIds`: the ID batch (0-based).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[tsify(optional)]
        batch: Option<u32>,
    },
}

/// Receives [`AppxiteEvent`]s.
pub type EventSink = Rc<dyn Fn(&AppxiteEvent)>;

/// Client-wide settings.
#[derive(Clone)]
pub struct ClientConfig {
    /// API root, no trailing slash.
    pub base_url: String,
    /// Sent as `X-Referer`.
    pub referer: String,
    /// Sent as `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Defaults for every run.
    pub run: RunOptions,
    /// Receives events.
    pub on_event: Option<EventSink>,
    /// Every credential of the client: scrubbed from every message.
    pub secrets: Secrets,
}

/// Settings of one run (client defaults, overridable per call).
/// # Examples
///
/// ```
/// use appxite_customers::RunOptions;
/// let options = RunOptions { timeout_ms: Some(10_000), max_pages: Some(50), ..RunOptions::default() };
/// assert!(options.validate().is_ok());
/// assert!(RunOptions { max_pages: Some(0), ..options }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunOptions {
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Per attempt, request to last byte.
    pub timeout_ms: Option<u64>,
    /// For the whole run.
    pub deadline_ms: Option<u64>,
    /// IDs per POST (customersByIds).
    pub batch_size: usize,
    /// The largest customer record accepted, in bytes (`DECODE` beyond it).
    pub max_record_bytes: usize,
    /// The most pages one run may request (`PAGINATION` beyond it); `None`: no cap.
    pub max_pages: Option<u32>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            retry: RetryPolicy::default(),
            timeout_ms: Some(60_000),
            deadline_ms: None,
            batch_size: DEFAULT_BATCH_SIZE,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_pages: None,
        }
    }
}


impl RunOptions {
    /// Check the values a caller can set.
    pub fn validate(&self) -> Result<(), Error> {
        let too_long = |v: Option<u64>| v.is_some_and(|ms| ms == 0 || ms > MAX_TIMER_MS);
        if too_long(self.timeout_ms) || too_long(self.deadline_ms) {
            return Err(Error::InvalidArgument(format!(
                "timeoutMs and deadlineMs must be whole numbers from 1 to {MAX_TIMER_MS} (what JS timers hold)"
            )));
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > MAX_RECORD_BYTES_LIMIT {
            return Err(Error::InvalidArgument(format!("maxRecordBytes must be from 1 to {MAX_RECORD_BYTES_LIMIT}")));
        }
        if self.max_pages == Some(0) {
            return Err(Error::InvalidArgument("maxPages must be at least 1".into()));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(Error::InvalidArgument(format!("batchSize must be a whole number from 1 to {MAX_BATCH_SIZE}")));
        }
        let r = &self.retry;
        let ms_ok = |ms: u64| ms <= MAX_RETRY_DELAY_MS;
        if r.max_retries > MAX_RETRIES || r.budget > MAX_RETRY_BUDGET || !ms_ok(r.base_delay_ms) || !ms_ok(r.max_delay_ms) || !ms_ok(r.max_retry_after_ms) {
            return Err(Error::InvalidArgument(format!(
                "retry: maxRetries must be from 0 to {MAX_RETRIES}, budget from 0 to {MAX_RETRY_BUDGET}, and \
                 baseDelayMs, maxDelayMs and maxRetryAfterMs from 0 to {MAX_RETRY_DELAY_MS}"
            )));
        }
        Ok(())
    }
}

// Every limit a caller's settings are checked against, in one place (both APIs validate here).
/// The most IDs in one POST (`batchSize`): what the API takes.
pub const MAX_BATCH_SIZE: usize = 1000;
/// The most retries of one request (`retry.maxRetries`).
pub const MAX_RETRIES: u32 = 100;
/// The largest run-wide retry budget (`retry.budget`).
pub const MAX_RETRY_BUDGET: u32 = 10_000;
/// The longest backoff or `Retry-After` a caller may allow (`retry.*Ms`): a day.
pub const MAX_RETRY_DELAY_MS: u64 = 86_400_000;
/// The most ID batches `customersByIds` runs at once (`concurrency`).
pub const MAX_CONCURRENCY: usize = 16;

/// The largest `maxRecordBytes` accepted: 1 GiB (a quarter of what wasm32 can address).
pub const MAX_RECORD_BYTES_LIMIT: usize = 1 << 30;

/// What a run fetches.
/// # Examples
///
/// ```
/// use appxite_customers::Target;
/// let ids: Vec<String> = (0..250).map(|i| format!("org-{i}")).collect();
/// let Target::Ids(batches) = Target::batches(ids, 100) else { unreachable!() };
/// assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// `GET …/details/{orgId}`.
    Org(String),
    /// `POST …/details`, one run of pages per batch of IDs, in order.
    Ids(Vec<Vec<String>>),
}

impl Target {
    /// IDs that are already free of repeats, in batches of `batch_size`.
    pub fn batches(unique: Vec<String>, batch_size: usize) -> Target {
        Target::Ids(unique.chunks(batch_size.max(1)).map(<[String]>::to_vec).collect())
    }
}

/// Where a run is, after [`PageRun::advance`].
/// # Examples
///
/// ```
/// use appxite_customers::{transport::Transport, Error, PageRun};
///
/// /// Counts a run's records page by page, without decoding them.
/// async fn count<T: Transport>(mut run: PageRun<T>) -> Result<usize, Error> {
///     let mut records = 0;
///     while let Some(progress) = run.advance().await? {
///         records += run.scanner().take_each().count();
///         if progress.page_complete {
///             println!("page {} (batch {}) complete", progress.page, progress.batch);
///         }
///     }
///     Ok(records)
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The page the ready records belong to.
    pub page: u32,
    /// The ID batch (`customersByIds`), else 0.
    pub batch: usize,
    /// The page has been received completely (its last records may be among `ready`).
    pub page_complete: bool,
}

/// One run over all pages. See the module docs.
/// # Examples
///
/// [`Client`](crate::Client) makes runs over `fetch`; a run over another [`Transport`]
/// (the host tests use a scripted one) is driven the same way:
///
/// ```
/// use appxite_customers::{transport::Transport, Error, PageRun};
///
/// /// Counts a run's records page by page, without decoding them.
/// async fn count<T: Transport>(mut run: PageRun<T>) -> Result<usize, Error> {
///     let mut records = 0;
///     while let Some(progress) = run.advance().await? {
///         records += run.scanner().take_each().count();
///         if progress.page_complete {
///             println!("page {} (batch {}) complete", progress.page, progress.batch);
///         }
///     }
///     Ok(records)
/// }
/// ```
pub struct PageRun<T: Transport> {
    transport: T,
    config: Rc<ClientConfig>,
    options: RunOptions,
    target: Target,
    query: CustomerQuery,
    batch: usize,
    /// Added to `batch` in events and errors (a run over one batch of a longer ID list).
    batch_base: usize,
    page: u32,
    /// Records of the current page taken before the current attempt's body.
    delivered: u64,
    body: Option<T::Body>,
    scanner: RecordScanner,
    /// Retries of the current page.
    retries: u32,
    budget: RetryBudget,
    started_at: f64,
    page_started_at: Option<f64>,
    /// Time this attempt has spent waiting for the server (token, headers, body reads) — not
    /// for the caller to ask for more. `timeoutMs` bounds this.
    attempt_waited_ms: f64,
    /// Pages completed in this run, for `maxPages`.
    pages_done: u32,
    /// The previous page's first record, to notice a server that ignores `page`.
    previous_first: Option<u64>,
    /// An error to give once the records already ready have been taken.
    pending_error: Option<Error>,
    /// The timer `race` keeps armed across waits.
    armed: Option<Armed<T::Timer>>,
    /// Customers handed out in this run (see `drop_repeats`).
    seen: Rc<RefCell<SeenIds>>,
    /// The current page's last customer so far, by [`id_key`].
    page_last_key: Option<u64>,
    finished: bool,
}

/// Which limit ended a wait.
#[derive(Clone, Copy)]
enum Limit {
    Attempt,
    Deadline,
}

/// The run's timer, kept armed across waits: a body is read in hundreds of waits, and one JS
/// timer per wait was measured to raise Node's peak memory by ~15 MB over 100,000 customers.
pub struct Armed<S> {
    timer: S,
    /// When it fires (the transport's clock).
    fires_at: f64,
}

/// `work`, unless the run is cancelled or `limit` (milliseconds left, and which limit that
/// is) runs out first — every wait of a run goes through here, so nothing the pager awaits
/// (a token function, a `fetch` that ignores its signal, a stalled body) can outlive the
/// caller's signal, `timeoutMs` or `deadlineMs`. The loser is dropped, which ends it.
async fn race<T: Transport, R>(
    transport: &T,
    work: impl Future<Output = Result<R, Error>>,
    limit: Option<(f64, Limit)>,
    armed: &mut Option<Armed<T::Timer>>,
) -> Result<R, Result<Error, Limit>> {
    let due = match limit {
        Some((ms, which)) if ms <= 0.0 => return Err(Err(which)),
        Some((ms, which)) => Some((transport.now_ms() + ms, which)),
        None => None,
    };
    let mut work = pin!(work);
    let mut cancelled = pin!(transport.cancelled());
    loop {
        if let Some((due_at, _)) = due {
            // A timer that fires after `due_at` would be late: arm a new one. One that fires
            // before it (armed for a wait that began earlier) is checked when it fires.
            if armed.as_ref().is_none_or(|a| a.fires_at > due_at + 1.0) {
                let now = transport.now_ms();
                let ms = (due_at - now).max(0.0).ceil().min(MAX_TIMER_MS as f64);
                *armed = Some(Armed { timer: transport.timer(ms as u64), fires_at: now + ms });
            }
        }
        let expiry = async {
            match (due, armed.as_mut()) {
                (Some(_), Some(a)) => (&mut a.timer).await,
                _ => futures_util::future::pending().await,
            }
        };
        // The work first: a result that is already there wins over a timer that is due.
        match select(work.as_mut(), select(cancelled.as_mut(), pin!(expiry))).await {
            Either::Left((result, _)) => return result.map_err(Ok),
            Either::Right((Either::Left((aborted, _)), _)) => return Err(Ok(aborted)),
            Either::Right((Either::Right(((), _)), _)) => {
                *armed = None;
                if let Some((due_at, which)) = due {
                    if transport.now_ms() + 1.0 >= due_at {
                        return Err(Err(which));
                    }
                }
                // It fired early: re-armed for the rest on the next turn.
            }
        }
    }
}

impl<T: Transport> PageRun<T> {
    /// A run that has not sent anything yet. Arguments are assumed validated.
    pub fn new(transport: T, config: Rc<ClientConfig>, options: RunOptions, target: Target, query: CustomerQuery) -> Self {
        let finished = matches!(&target, Target::Ids(b) if b.is_empty());
        PageRun {
            config,
            budget: RetryBudget::new(options.retry.budget),
            options,
            target,
            page: query.first_page(),
            query,
            batch: 0,
            batch_base: 0,
            delivered: 0,
            body: None,
            scanner: RecordScanner::with_max_record(options.max_record_bytes),
            retries: 0,
            started_at: transport.now_ms(),
            page_started_at: None,
            attempt_waited_ms: 0.0,
            pages_done: 0,
            previous_first: None,
            pending_error: None,
            armed: None,
            seen: Rc::default(),
            page_last_key: None,
            finished,
            transport,
        }
    }

    /// Share the record of customers already handed out with other runs of the same call
    /// (concurrent ID batches), so a customer two batches return is handed out once.
    pub fn sharing_seen(mut self, seen: Rc<RefCell<SeenIds>>) -> Self {
        self.seen = seen;
        self
    }

    /// A run over batch number `index` of a longer ID list only (for running batches
    /// concurrently): events and errors name the batch by its place in the whole list.
    /// `started_at` is when the whole run began (its `deadlineMs` counts from there).
    pub fn for_batch(
        transport: T,
        config: Rc<ClientConfig>,
        options: RunOptions,
        ids: Vec<String>,
        index: usize,
        query: CustomerQuery,
        started_at: f64,
    ) -> Self {
        let mut run = Self::new(transport, config, options, Target::Ids(vec![ids]), query);
        run.batch_base = index;
        run.started_at = started_at;
        run
    }

    /// When the run began (milliseconds since the epoch, the transport's clock).
    pub fn started_at(&self) -> f64 {
        self.started_at
    }

    /// The records scanned so far; take the ready ones after each [`advance`](Self::advance).
    pub fn scanner(&mut self) -> &mut RecordScanner {
        &mut self.scanner
    }

    /// The transport (for the JS layer's cancellation).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Stop: no further requests; the body (if any), the armed timer and the scanner's memory
    /// are released. (A timer left armed would keep Node's event loop — the caller's process —
    /// alive until it fires.)
    pub fn close(&mut self) {
        self.finished = true;
        self.body = None;
        self.armed = None;
        self.scanner.release();
    }

    /// Move on until records are ready or a page completes. `Ok(None)`: the run is over.
    pub async fn advance(&mut self) -> Result<Option<Progress>, Error> {
        loop {
            if self.scanner.ready_count() > 0 {
                return Ok(Some(self.progress(false)));
            }
            if let Some(e) = self.pending_error.take() {
                self.close();
                return Err(e);
            }
            if self.finished {
                self.close();
                return Ok(None);
            }
            if self.body.is_none() {
                self.open().await?;
            }
            let limit = self.attempt_limit();
            let waiting_since = self.transport.now_ms();
            let body = self.body.as_mut().expect("opened above");
            let chunk = race(&self.transport, body.read_chunk(self.scanner.buffer_for_append()), limit, &mut self.armed).await;
            self.attempt_waited_ms += self.transport.now_ms() - waiting_since;
            let read = match chunk {
                Ok(true) => self.scanner.scan().map(|()| true),
                Ok(false) => self.scanner.finish().map(|()| false),
                Err(e) => Err(self.limit_error(e)),
            };
            match read {
                Ok(more) => {
                    self.check_not_repeated()?;
                    self.scanner.skip_until(self.delivered);
                    self.drop_repeats();
                    if !more {
                        return Ok(Some(self.complete_page()));
                    }
                }
                Err(e) if self.scanner.oversized() => {
                    // The same server would send the same record again: no retry.
                    self.close();
                    return Err(e);
                }
                Err(e) => {
                    // Mid-page failure: remember what was taken, fetch the page again.
                    self.delivered = self.delivered.max(self.taken_of_page());
                    self.body = None;
                    let delay_ms = self.plan_retry(e, None)?;
                    self.pause(delay_ms).await?;
                }
            }
        }
    }

    /// Offset paging over live data: a customer inserted before the current page pushes the
    /// previous page's last customer onto this one. A customer already handed out in this run
    /// (by `customerId`) is dropped here, before anyone sees it. Records are marked as seen
    /// now, which is safe because `advance` returns as soon as records are ready and every
    /// caller takes them all before advancing again. Records without a `customerId` pass.
    fn drop_repeats(&mut self) {
        let mut seen = self.seen.borrow_mut();
        let mut last = self.page_last_key;
        self.scanner.retain_ready(|record| match customer_id(record) {
            Ok(Some(id)) => {
                let key = id_key(&id);
                let first = seen.insert_key(key);
                if first {
                    last = Some(key);
                }
                first
            }
            _ => true,
        });
        self.page_last_key = last;
    }

    /// The [`id_key`] of the current page's last customer handed out so far (what a
    /// continuation token resumes after), reset for the next page.
    pub fn take_page_last_key(&mut self) -> Option<u64> {
        self.page_last_key.take()
    }

    /// A server that ignores `page` sends the page before again: its first record is the
    /// previous page's first record. Checked before any record of the page is handed out.
    fn check_not_repeated(&mut self) -> Result<(), Error> {
        let first = self.scanner.first_record();
        if first.is_some() && first == self.previous_first {
            self.close();
            return Err(Error::Pagination(format!(
                "page {} starts with the same customer as the page before: the server does not seem to honour `page`",
                self.page
            )));
        }
        Ok(())
    }

    /// How long the current wait for the server may take: what is left of `timeoutMs` for
    /// this attempt, or of `deadlineMs` for the run, whichever is less.
    fn attempt_limit(&self) -> Option<(f64, Limit)> {
        let attempt = self.options.timeout_ms.map(|t| (t as f64 - self.attempt_waited_ms, Limit::Attempt));
        match (attempt, self.deadline_limit()) {
            (Some(a), Some(d)) => Some(if d.0 < a.0 { d } else { a }),
            (a, d) => a.or(d),
        }
    }

    fn deadline_limit(&self) -> Option<(f64, Limit)> {
        self.deadline_left().map(|left| (left, Limit::Deadline))
    }

    /// The error for a wait that ended without its result.
    fn limit_error(&self, e: Result<Error, Limit>) -> Error {
        match e {
            Ok(e) => e,
            Err(Limit::Deadline) => self.deadline_error(),
            Err(Limit::Attempt) => Error::Timeout(format!(
                "the server took longer than timeoutMs ({} ms) to answer (time spent waiting for the caller does not count)",
                self.options.timeout_ms.unwrap_or(0)
            )),
        }
    }

    fn taken_of_page(&self) -> u64 {
        self.scanner.complete() - self.scanner.ready_count() as u64
    }

    fn progress(&self, page_complete: bool) -> Progress {
        Progress {
            page: self.page,
            batch: self.batch + self.batch_base,
            page_complete,
        }
    }

    fn complete_page(&mut self) -> Progress {
        let progress = self.progress(true);
        let items = self.scanner.complete();
        self.previous_first = self.scanner.first_record();
        self.body = None;
        self.budget.earn();
        self.retries = 0;
        self.delivered = 0;
        self.pages_done = self.pages_done.saturating_add(1);
        let elapsed = self.page_started_at.take().map_or(0.0, |t| self.transport.now_ms() - t);
        self.emit(AppxiteEvent::Page { page: self.page, items, elapsed_ms: elapsed, batch: self.batch_label() });
        if items < self.query.effective_page_size() as u64 {
            self.batch += 1;
            self.page = self.query.first_page();
            self.previous_first = None;
            self.finished = match &self.target {
                Target::Org(_) => true,
                Target::Ids(batches) => self.batch >= batches.len(),
            };
        } else {
            // The records of this page are still to be handed out: the error comes after them.
            match self.page.checked_add(1) {
                Some(next) => self.page = next,
                None => {
                    self.pending_error = Some(Error::Pagination(format!(
                        "page {} was full and there is no page number after it",
                        self.page
                    )))
                }
            }
        }
        if !self.finished && self.pending_error.is_none() {
            if let Some(max) = self.options.max_pages.filter(|max| self.pages_done >= *max) {
                self.pending_error = Some(Error::Pagination(format!(
                    "the run needs more than maxPages ({max}) pages; raise maxPages or narrow the query"
                )));
            }
        }
        progress
    }

    fn batch_label(&self) -> Option<u32> {
        matches!(self.target, Target::Ids(_)).then_some((self.batch + self.batch_base) as u32)
    }

    fn emit(&self, event: AppxiteEvent) {
        if let Some(sink) = &self.config.on_event {
            sink(&event);
        }
    }

    fn deadline_left(&self) -> Option<f64> {
        let deadline = self.options.deadline_ms? as f64;
        Some(deadline - (self.transport.now_ms() - self.started_at))
    }

    fn deadline_error(&self) -> Error {
        Error::Timeout(format!("the run took longer than deadlineMs ({} ms)", self.options.deadline_ms.unwrap_or(0)))
    }

    /// Send the request for the current page until it gets a 2xx (retrying as the policy says).
    async fn open(&mut self) -> Result<(), Error> {
        self.page_started_at.get_or_insert(self.transport.now_ms());
        let mut refreshed = false;
        let mut refresh = false;
        loop {
            if self.deadline_left().is_some_and(|l| l <= 0.0) {
                return Err(self.deadline_error());
            }
            self.attempt_waited_ms = 0.0;
            let sent_at = self.transport.now_ms();
            let limit = self.attempt_limit();
            let token = match race(&self.transport, self.transport.token(refresh), limit, &mut self.armed).await {
                Ok(token) => token,
                Err(e) => {
                    let delay_ms = self.plan_retry(self.limit_error(e), None)?;
                    self.pause(delay_ms).await?;
                    continue;
                }
            };
            refresh = false;
            let request = self.request(token.as_deref());
            let attempt = self.retries + 1;
            self.emit(AppxiteEvent::Request {
                page: self.page,
                attempt,
                method: request.method.as_str().into(),
                url: request.url.clone(),
                batch: self.batch_label(),
            });
            let limit = self.attempt_limit();
            let sent = race(&self.transport, self.transport.send(&request), limit, &mut self.armed).await;
            self.attempt_waited_ms = self.transport.now_ms() - sent_at;
            let (head, mut body) = match sent {
                Ok(ok) => ok,
                Err(e) => {
                    let delay_ms = self.plan_retry(self.limit_error(e), None)?;
                    self.pause(delay_ms).await?;
                    continue;
                }
            };
            let elapsed_ms = self.transport.now_ms() - sent_at;
            self.emit(AppxiteEvent::Response { page: self.page, attempt, status: head.status, elapsed_ms });
            if (200..300).contains(&head.status) {
                self.scanner.reset();
                self.body = Some(body);
                return Ok(());
            }
            let retry_after = head.retry_after.as_deref().and_then(|v| parse_retry_after(v, self.transport.now_ms()));
            let message = self.error_message(&head, &mut body, token.as_deref()).await;
            drop(body);
            if head.status == 401 && !refreshed && self.transport.can_refresh() {
                refreshed = true;
                refresh = true;
                continue;
            }
            let error = Error::from_status(head.status, message, retry_after);
            let delay_ms = self.plan_retry(error, retry_after)?;
            self.pause(delay_ms).await?;
        }
    }

    /// Wait before the next attempt (the caller's signal still ends the wait at once).
    async fn pause(&mut self, delay_ms: u64) -> Result<(), Error> {
        let wait = async {
            self.transport.timer(delay_ms.min(MAX_TIMER_MS)).await;
            Ok(())
        };
        let limit = self.deadline_limit();
        race(&self.transport, wait, limit, &mut self.armed).await.map_err(|e| self.limit_error(e))?;
        self.retries += 1;
        Ok(())
    }

    /// After a failed attempt: how long to wait before trying again, or the error to give up
    /// with. (Synchronous, so the three places that retry share one small `pause` future
    /// instead of each embedding a copy of this logic in the run's state machine.)
    fn plan_retry(&mut self, error: Error, retry_after: Option<u64>) -> Result<u64, Error> {
        if matches!(error, Error::Aborted(_)) {
            return Err(error);
        }
        if self.deadline_left().is_some_and(|l| l <= 0.0) {
            return Err(self.deadline_error());
        }
        let random = self.transport.random();
        match self.options.retry.decide(&error, retry_after, self.retries, random, &mut self.budget) {
            Decision::RetryAfter(delay_ms) => {
                if self.deadline_left().is_some_and(|l| l <= delay_ms as f64) {
                    return Err(self.deadline_error());
                }
                self.emit(AppxiteEvent::Retry {
                    page: self.page,
                    attempt: self.retries + 1,
                    delay_ms,
                    reason: error.code().into(),
                    status: error.status(),
                });
                Ok(delay_ms)
            }
            Decision::WaitTooLong(ms) => Err(Error::RateLimited {
                status: error.status().unwrap_or(429),
                message: format!("the server asked to wait {ms} ms, longer than maxRetryAfterMs"),
                retry_after_ms: Some(ms),
            }),
            Decision::GiveUp => Err(match error {
                Error::MixedPlatform { status, message, .. } => {
                    Error::MixedPlatform { status, message, batch: Some((self.batch + self.batch_base) as u32) }
                }
                e => e,
            }),
        }
    }

    /// The server's error message (from the JSON error body if it is one), scrubbed.
    async fn error_message(&mut self, head: &ResponseHead, body: &mut T::Body, token: Option<&str>) -> String {
        let mut bytes = Vec::new();
        while bytes.len() < 16 * 1024 {
            let limit = self.attempt_limit();
            match race(&self.transport, body.read_chunk(&mut bytes), limit, &mut self.armed).await {
                Ok(true) => {}
                _ => break,
            }
        }
        // Not valid UTF-8: no usable message (the status still says what happened).
        let text = std::str::from_utf8(&bytes).unwrap_or("");
        let message = json_message(text).unwrap_or_else(|| {
                let t: String = text.chars().take(300).collect();
                if t.trim().is_empty() { format!("HTTP {}", head.status) } else { t }
            });
        self.config.secrets.scrub(&message, token)
    }

    fn request(&self, token: Option<&str>) -> HttpRequest {
        let base = &self.config.base_url;
        let query = self.query.to_query_string(self.page);
        let (method, url, body) = match &self.target {
            Target::Org(id) => {
                (Method::Get, format!("{base}/distis/organizations/details/{}?{query}", encode_path_segment(id)), None)
            }
            Target::Ids(batches) => (
                Method::Post,
                format!("{base}/distis/organizations/details?{query}"),
                Some({
                    let mut body = String::from("[");
                    for (k, id) in batches[self.batch].iter().enumerate() {
                        if k > 0 {
                            body.push(',');
                        }
                        body.push_str(&json_quote(id));
                    }
                    body.push(']');
                    body
                }),
            ),
        };
        let mut headers = self.config.headers.clone();
        headers.push(("Accept".into(), "application/json".into()));
        headers.push(("X-Referer".into(), self.config.referer.clone()));
        if let Some(t) = token {
            headers.push(("Authorization".into(), format!("Bearer {t}")));
        }
        if let Some(k) = &self.config.subscription_key {
            headers.push(("Ocp-Apim-Subscription-Key".into(), k.clone()));
        }
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        HttpRequest { method, url, headers, body }
    }
}

/// One page of a batch collected whole: `[rec,rec,…]` as the server sent the records.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectedPage {
    /// Page number within its batch.
    pub page: u32,
    /// The ID batch.
    pub batch: usize,
    /// A JSON array of the page's records.
    pub json: Vec<u8>,
    /// Records in `json`.
    pub count: usize,
}

/// Run a one-batch [`PageRun`] to its end, keeping each non-empty page's records as one
/// JSON array (for `customersByIds` with `concurrency` > 1: batches run ahead of the one
/// being read and are handed out in input order).
pub async fn collect_batch<T: Transport>(mut run: PageRun<T>) -> Result<Vec<CollectedPage>, Error> {
    let mut pages = Vec::new();
    let mut json = vec![b'['];
    let mut count = 0;
    while let Some(progress) = run.advance().await? {
        if let Some((_, n)) = run.scanner().with_array_bytes(|batch| {
            if count > 0 {
                json.push(b',');
            }
            json.extend_from_slice(&batch[1..batch.len() - 1]);
        }) {
            count += n;
        }
        if progress.page_complete {
            if count > 0 {
                json.push(b']');
                pages.push(CollectedPage { page: progress.page, batch: progress.batch, json: std::mem::replace(&mut json, vec![b'[']), count });
            }
            count = 0;
        }
    }
    Ok(pages)
}
