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
use std::rc::Rc;

use serde::Serialize;
use tsify::Tsify;

use crate::error::Error;
use crate::position::Position;
use crate::query::CustomerQuery;
use crate::race::{race, Armed, Clock};
use crate::record::{customer_id, id_key, SeenIds};
use crate::request::{build_request, error_message};
use crate::retry::{parse_retry_after, plan_retry, RetryBudget, RetryPolicy};
use crate::scan::{RecordScanner, DEFAULT_MAX_RECORD_BYTES};
use crate::secrets::Secrets;
use crate::transport::{HttpRequest, ResponseBody, ResponseHead, Transport, MAX_TIMER_MS};

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
        if r.max_retries > MAX_RETRIES
            || r.budget > MAX_RETRY_BUDGET
            || !ms_ok(r.base_delay_ms)
            || !ms_ok(r.max_delay_ms)
            || !ms_ok(r.max_retry_after_ms)
        {
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
    /// Page, batch, pages done: where the run is.
    position: Position,
    /// Added to `batch` in events and errors (a run over one batch of a longer ID list).
    batch_base: usize,
    /// Records of the current page taken before the current attempt's body.
    delivered: u64,
    body: Option<T::Body>,
    scanner: RecordScanner,
    /// Retries of the current page.
    retries: u32,
    budget: RetryBudget,
    /// The run's start, and the time this attempt has waited for the server.
    clock: Clock,
    page_started_at: Option<f64>,
    /// An error to give once the records already ready have been taken.
    pending_error: Option<Error>,
    /// The timer `race` keeps armed across waits.
    armed: Option<Armed<T::Timer>>,
    /// Customers handed out in this run (see `drop_repeats`).
    seen: Rc<RefCell<SeenIds>>,
    /// The current page's last customer so far, by [`id_key`].
    page_last_key: Option<u64>,
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
            position: Position::new(query.first_page(), finished),
            query,
            batch_base: 0,
            delivered: 0,
            body: None,
            scanner: RecordScanner::with_max_record(options.max_record_bytes),
            retries: 0,
            clock: Clock::new(transport.now_ms(), options.timeout_ms, options.deadline_ms),
            page_started_at: None,
            pending_error: None,
            armed: None,
            seen: Rc::default(),
            page_last_key: None,
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
        run.clock.started_at = started_at;
        run
    }

    /// When the run began (milliseconds since the epoch, the transport's clock).
    pub fn started_at(&self) -> f64 {
        self.clock.started_at
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
        self.position.finished = true;
        self.body = None;
        self.armed = None;
        self.scanner.release();
    }

    /// The [`id_key`] of the current page's last customer handed out so far (what a
    /// continuation token resumes after), reset for the next page.
    pub fn take_page_last_key(&mut self) -> Option<u64> {
        self.page_last_key.take()
    }
}

/// The run itself: pages, attempts, retries and waits.
impl<T: Transport> PageRun<T> {
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
            if self.position.finished {
                self.close();
                return Ok(None);
            }
            if self.body.is_none() {
                self.open().await?;
            }
            let limit = self.clock.attempt_limit(self.transport.now_ms());
            let waiting_since = self.transport.now_ms();
            let body = self.body.as_mut().expect("opened above");
            let chunk = race(&self.transport, body.read_chunk(self.scanner.buffer_for_append()), limit, &mut self.armed).await;
            self.clock.attempt_waited_ms += self.transport.now_ms() - waiting_since;
            let read = match chunk {
                Ok(true) => self.scanner.scan().map(|()| true),
                Ok(false) => self.scanner.finish().map(|()| false),
                Err(e) => Err(self.clock.error(e)),
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

    /// A server that ignores `page` sends the page before again: its first record is the
    /// previous page's first record. Checked before any record of the page is handed out.
    fn check_not_repeated(&mut self) -> Result<(), Error> {
        if self.position.repeats_previous(self.scanner.first_record()) {
            self.close();
            return Err(Error::Pagination(format!(
                "page {} starts with the same customer as the page before: the server does not seem to honour `page`",
                self.position.page
            )));
        }
        Ok(())
    }

    fn taken_of_page(&self) -> u64 {
        self.scanner.complete() - self.scanner.ready_count() as u64
    }

    fn progress(&self, page_complete: bool) -> Progress {
        Progress { page: self.position.page, batch: self.position.batch + self.batch_base, page_complete }
    }

    fn complete_page(&mut self) -> Progress {
        let progress = self.progress(true);
        let items = self.scanner.complete();
        self.body = None;
        self.budget.earn();
        self.retries = 0;
        self.delivered = 0;
        let elapsed = self.page_started_at.take().map_or(0.0, |t| self.transport.now_ms() - t);
        self.emit(AppxiteEvent::Page { page: self.position.page, items, elapsed_ms: elapsed, batch: self.batch_label() });
        let batches = match &self.target {
            Target::Ids(batches) => Some(batches.len()),
            Target::Org(_) => None,
        };
        let (page_size, first) = (self.query.effective_page_size(), self.scanner.first_record());
        // The records of this page are still to be handed out: an error comes after them.
        if let Some(e) = self.position.page_ended(items, page_size, batches, self.options.max_pages, first) {
            self.pending_error = Some(e);
        }
        progress
    }

    fn batch_label(&self) -> Option<u32> {
        matches!(self.target, Target::Ids(_)).then_some((self.position.batch + self.batch_base) as u32)
    }

    fn emit(&self, event: AppxiteEvent) {
        if let Some(sink) = &self.config.on_event {
            sink(&event);
        }
    }

    /// Send the request for the current page until it gets a 2xx (retrying as the policy says).
    async fn open(&mut self) -> Result<(), Error> {
        self.page_started_at.get_or_insert(self.transport.now_ms());
        let mut refreshed = false;
        let mut refresh = false;
        loop {
            if self.clock.deadline_left(self.transport.now_ms()).is_some_and(|l| l <= 0.0) {
                return Err(self.clock.deadline_error());
            }
            self.clock.attempt_waited_ms = 0.0;
            let sent_at = self.transport.now_ms();
            let limit = self.clock.attempt_limit(self.transport.now_ms());
            let token = match race(&self.transport, self.transport.token(refresh), limit, &mut self.armed).await {
                Ok(token) => token,
                Err(e) => {
                    let delay_ms = self.plan_retry(self.clock.error(e), None)?;
                    self.pause(delay_ms).await?;
                    continue;
                }
            };
            refresh = false;
            let request = self.request(token.as_deref());
            let attempt = self.retries + 1;
            self.emit(AppxiteEvent::Request {
                page: self.position.page,
                attempt,
                method: request.method.as_str().into(),
                url: request.url.clone(),
                batch: self.batch_label(),
            });
            let limit = self.clock.attempt_limit(self.transport.now_ms());
            let sent = race(&self.transport, self.transport.send(&request), limit, &mut self.armed).await;
            self.clock.attempt_waited_ms = self.transport.now_ms() - sent_at;
            let (head, mut body) = match sent {
                Ok(ok) => ok,
                Err(e) => {
                    let delay_ms = self.plan_retry(self.clock.error(e), None)?;
                    self.pause(delay_ms).await?;
                    continue;
                }
            };
            let elapsed_ms = self.transport.now_ms() - sent_at;
            self.emit(AppxiteEvent::Response { page: self.position.page, attempt, status: head.status, elapsed_ms });
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
        let limit = self.clock.deadline_limit(self.transport.now_ms());
        race(&self.transport, wait, limit, &mut self.armed).await.map_err(|e| self.clock.error(e))?;
        self.retries += 1;
        Ok(())
    }

    /// After a failed attempt: how long to wait before trying again, or the error to give up
    /// with. (Synchronous, so the three places that retry share one small `pause` future
    /// instead of each embedding a copy of this logic in the run's state machine.)
    fn plan_retry(&mut self, error: Error, retry_after: Option<u64>) -> Result<u64, Error> {
        let (reason, status) = (error.code(), error.status());
        let batch = (self.position.batch + self.batch_base) as u32;
        let now = self.transport.now_ms();
        let random = || self.transport.random();
        let delay_ms =
            plan_retry(&self.options.retry, &mut self.budget, error, retry_after, self.retries, random, &self.clock, now, batch)?;
        self.emit(AppxiteEvent::Retry { page: self.position.page, attempt: self.retries + 1, delay_ms, reason: reason.into(), status });
        Ok(delay_ms)
    }

    /// The server's error message (from the JSON error body if it is one), scrubbed.
    async fn error_message(&mut self, head: &ResponseHead, body: &mut T::Body, token: Option<&str>) -> String {
        let mut bytes = Vec::new();
        while bytes.len() < 16 * 1024 {
            let limit = self.clock.attempt_limit(self.transport.now_ms());
            match race(&self.transport, body.read_chunk(&mut bytes), limit, &mut self.armed).await {
                Ok(true) => {}
                _ => break,
            }
        }
        error_message(head.status, &bytes, &self.config.secrets, token)
    }

    fn request(&self, token: Option<&str>) -> HttpRequest {
        let ids = match &self.target {
            Target::Ids(batches) => Some(batches[self.position.batch].as_slice()),
            Target::Org(_) => None,
        };
        build_request(&self.config, &self.target, &self.query, self.position.page, ids, token)
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
                pages.push(CollectedPage {
                    page: progress.page,
                    batch: progress.batch,
                    json: std::mem::replace(&mut json, vec![b'[']),
                    count,
                });
            }
            count = 0;
        }
    }
    Ok(pages)
}
