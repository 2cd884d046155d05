//! The pager: one run over every page of a query — requests, retries, the streamed body, and
//! the exactly-once bookkeeping. Generic over [`Transport`], so the same code runs in wasm and
//! in host tests.
//!
//! Exactly once: records are counted as they are taken from the current page. When an attempt
//! fails part-way (a dropped connection, a truncated body, a timeout) the page is requested
//! again and the records already taken are skipped, relying on the API's stable order.
//! A page ends only at the array's closing `]`; a run ends at the first page shorter than the
//! page size asked for.

use std::rc::Rc;

use serde::Serialize;
use tsify::Tsify;

use crate::error::{json_message, json_quote, scrub, Error};
use crate::query::{encode_path_segment, CustomerQuery};
use crate::retry::{parse_retry_after, Decision, RetryBudget, RetryPolicy};
use crate::scan::RecordScanner;
use crate::transport::{HttpRequest, Method, ResponseBody, ResponseHead, Transport};

/// Default number of IDs per POST request in `customersByIds`.
pub const DEFAULT_BATCH_SIZE: usize = 100;

/// Something that happened during a run, for `onEvent` (logging, progress bars, metrics).
/// Never carries a token or key.
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
}

/// Settings of one run (client defaults, overridable per call).
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { retry: RetryPolicy::default(), timeout_ms: Some(60_000), deadline_ms: None, batch_size: DEFAULT_BATCH_SIZE }
    }
}

/// What a run fetches.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// `GET …/details/{orgId}`.
    Org(String),
    /// `POST …/details`, one run of pages per batch of IDs, in order.
    Ids(Vec<Vec<String>>),
}

impl Target {
    /// Split IDs into batches of `batch_size`, sending a repeated ID (ignoring ASCII case)
    /// only once; the first occurrence keeps its place.
    pub fn ids(ids: &[String], batch_size: usize) -> Target {
        let mut seen = std::collections::HashSet::new();
        let unique = ids.iter().filter(|id| seen.insert(id.to_ascii_lowercase())).cloned().collect();
        Target::batches(unique, batch_size)
    }

    /// IDs that are already free of repeats, in batches of `batch_size`. (The JS layer
    /// removes repeats with a JS `Set` while reading the array: a hash set or a sort in the
    /// wasm would cost ~2 KB gzip.)
    pub fn batches(unique: Vec<String>, batch_size: usize) -> Target {
        Target::Ids(unique.chunks(batch_size.max(1)).map(<[String]>::to_vec).collect())
    }
}

/// Where a run is, after [`PageRun::advance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The page the ready records belong to.
    pub page: u32,
    /// The ID batch (`customersByIds`), else 0.
    pub batch: usize,
    /// Records ready to be taken from [`PageRun::scanner`].
    pub ready: usize,
    /// The page has been received completely (its last records may be among `ready`).
    pub page_complete: bool,
    /// Records on the page so far (all of it when `page_complete`).
    pub page_items: u64,
}

/// One run over all pages. See the module docs.
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
    started_at: Option<f64>,
    page_started_at: Option<f64>,
    finished: bool,
}

impl<T: Transport> PageRun<T> {
    /// A run that has not sent anything yet. Arguments are assumed validated.
    pub fn new(transport: T, config: Rc<ClientConfig>, options: RunOptions, target: Target, query: CustomerQuery) -> Self {
        let finished = matches!(&target, Target::Ids(b) if b.is_empty());
        PageRun {
            transport,
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
            scanner: RecordScanner::new(),
            retries: 0,
            started_at: None,
            page_started_at: None,
            finished,
        }
    }

    /// A run over batch number `index` of a longer ID list only (for running batches
    /// concurrently): events and errors name the batch by its place in the whole list.
    pub fn for_batch(transport: T, config: Rc<ClientConfig>, options: RunOptions, ids: Vec<String>, index: usize, query: CustomerQuery) -> Self {
        let mut run = Self::new(transport, config, options, Target::Ids(vec![ids]), query);
        run.batch_base = index;
        run
    }

    /// The records scanned so far; take the ready ones after each [`advance`](Self::advance).
    pub fn scanner(&mut self) -> &mut RecordScanner {
        &mut self.scanner
    }

    /// The transport (for the JS layer's cancellation).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Stop: no further requests; the body (if any) is released.
    pub fn close(&mut self) {
        self.finished = true;
        self.body = None;
        self.scanner.reset();
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.finished && self.scanner.ready_count() == 0
    }

    /// Move on until records are ready or a page completes. `Ok(None)`: the run is over.
    pub async fn advance(&mut self) -> Result<Option<Progress>, Error> {
        loop {
            if self.scanner.ready_count() > 0 {
                return Ok(Some(self.progress(false)));
            }
            if self.finished {
                return Ok(None);
            }
            if self.body.is_none() {
                self.open().await?;
            }
            let body = self.body.as_mut().expect("opened above");
            let read = match body.read_chunk(self.scanner.buffer_for_append()).await {
                Ok(true) => self.scanner.scan().map(|()| true),
                Ok(false) => self.scanner.finish().map(|()| false),
                Err(e) => Err(e),
            };
            match read {
                Ok(more) => {
                    self.scanner.skip_until(self.delivered);
                    if !more {
                        return Ok(Some(self.complete_page()));
                    }
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

    fn taken_of_page(&self) -> u64 {
        self.scanner.complete() - self.scanner.ready_count() as u64
    }

    fn progress(&self, page_complete: bool) -> Progress {
        Progress {
            page: self.page,
            batch: self.batch + self.batch_base,
            ready: self.scanner.ready_count(),
            page_complete,
            page_items: self.scanner.complete(),
        }
    }

    fn complete_page(&mut self) -> Progress {
        let progress = self.progress(true);
        let items = self.scanner.complete();
        self.body = None;
        self.budget.earn();
        self.retries = 0;
        self.delivered = 0;
        let elapsed = self.page_started_at.take().map_or(0.0, |t| self.transport.now_ms() - t);
        self.emit(AppxiteEvent::Page { page: self.page, items, elapsed_ms: elapsed, batch: self.batch_label() });
        if items < self.query.effective_page_size() as u64 {
            self.batch += 1;
            self.page = self.query.first_page();
            self.finished = match &self.target {
                Target::Org(_) => true,
                Target::Ids(batches) => self.batch >= batches.len(),
            };
        } else {
            self.page += 1;
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
        Some(deadline - (self.transport.now_ms() - self.started_at.unwrap_or(0.0)))
    }

    fn deadline_error(&self) -> Error {
        Error::Timeout(format!("the run took longer than deadlineMs ({} ms)", self.options.deadline_ms.unwrap_or(0)))
    }

    /// Send the request for the current page until it gets a 2xx (retrying as the policy says).
    async fn open(&mut self) -> Result<(), Error> {
        let now = self.transport.now_ms();
        self.started_at.get_or_insert(now);
        self.page_started_at.get_or_insert(now);
        let mut refreshed = false;
        let mut refresh = false;
        loop {
            let left = self.deadline_left();
            if left.is_some_and(|l| l <= 0.0) {
                return Err(self.deadline_error());
            }
            let timeout = match (self.options.timeout_ms, left) {
                (Some(t), Some(l)) => Some(t.min(l.ceil() as u64)),
                (t, l) => t.or(l.map(|l| l.ceil() as u64)),
            };
            let token = self.transport.token(refresh).await?;
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
            let sent_at = self.transport.now_ms();
            let (head, mut body) = match self.transport.send(&request, timeout).await {
                Ok(ok) => ok,
                Err(e) => {
                    let delay_ms = self.plan_retry(e, None)?;
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

    /// Wait before the next attempt.
    async fn pause(&mut self, delay_ms: u64) -> Result<(), Error> {
        self.transport.sleep(delay_ms).await?;
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
    async fn error_message(&self, head: &ResponseHead, body: &mut T::Body, token: Option<&str>) -> String {
        let mut bytes = Vec::new();
        while bytes.len() < 16 * 1024 {
            match body.read_chunk(&mut bytes).await {
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
        let mut secrets: Vec<&str> = token.into_iter().collect();
        if let Some(k) = self.config.subscription_key.as_deref() {
            secrets.push(k);
        }
        scrub(&message, &secrets)
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
