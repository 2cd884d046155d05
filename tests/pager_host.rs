//! The pager's paging, retry and exactly-once bookkeeping on the host, over a scripted
//! transport that injects faults: every customer exactly once, in order, or an error.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use appxite_customers::pager::{AppxiteEvent, ClientConfig, PageRun, RunOptions, Target};
use appxite_customers::transport::{HttpRequest, ResponseBody, ResponseHead, Transport};
use appxite_customers::{customer_stream, CustomerQuery, Error, RetryPolicy};
use futures_executor::block_on;
use futures_util::StreamExt;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Fault {
    Status(u16, Option<&'static str>),
    /// Body cut cleanly after n bytes.
    Truncate(usize),
    /// Body stream errors after n bytes.
    Drop(usize),
    /// Connection fails before headers.
    Refuse,
}

struct Server {
    customers: Vec<String>,
    /// Faults for the next requests, in order (None = serve right).
    faults: VecDeque<Option<Fault>>,
    requests: Vec<String>,
    sleeps: Vec<u64>,
    tokens_asked: Vec<bool>,
    good_token: String,
    hostile: Hostile,
    /// POST batches: times `send` is pending before it answers, per ID.
    latency: std::collections::HashMap<String, usize>,
    /// POST batches: IDs answered with a 500.
    fail_ids: Vec<String>,
    /// Requests whose body has not been dropped yet, and the most at once.
    open: usize,
    max_open: usize,
    /// Virtual time: moves only when a timer fires.
    clock: f64,
    /// A customer's content revision (written into its record when above 0).
    versions: std::collections::HashMap<String, u32>,
    /// After each GET page: (insert, remove) customers before the end of that page.
    drift: Option<(usize, usize)>,
    /// Customers made by drift so far.
    drifted: usize,
    /// POST answers like the real form for customer IDs: each ID's own record, or a 404
    /// naming the first unknown ID.
    post_by_customer: bool,
    /// The 404 of the POST form names no ID.
    anonymous_404: bool,
    /// A customer's `resellerId`, where its record has one.
    resellers: HashMap<String, String>,
    /// Customers the POST form still returns though the listing does not (moved away, or
    /// skipped by drift).
    post_only: Vec<String>,
    /// Timers made and not yet dropped.
    timers_alive: usize,
}

/// A timer of virtual time: when first polled it is recorded, the clock moves on by its
/// length, and it is done. (A timer never polled — its wait's work was ready first — leaves
/// no trace.)
struct HostTimer {
    server: Rc<RefCell<Server>>,
    ms: u64,
}

impl Drop for HostTimer {
    fn drop(&mut self) {
        self.server.borrow_mut().timers_alive -= 1;
    }
}

impl std::future::Future for HostTimer {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let mut s = self.server.borrow_mut();
        s.sleeps.push(self.ms);
        s.clock += self.ms as f64;
        std::task::Poll::Ready(())
    }
}

/// Ways a server, a token provider or the caller can misbehave.
#[derive(Default, Clone)]
struct Hostile {
    /// The token function never settles.
    hang_token: bool,
    /// The body stalls for good after this many bytes.
    stall_body_at: Option<usize>,
    /// Every request gets page 1, whatever `page` says.
    ignore_page: bool,
    /// Pages are always full (the data never ends).
    endless: bool,
    /// The caller's signal has fired.
    cancelled: bool,
    /// POSTs by customer ID (a sync's confirmations) are never answered.
    stall_posts: bool,
}

#[derive(Clone)]
struct Scripted(Rc<RefCell<Server>>, usize);

struct Body {
    bytes: Vec<u8>,
    at: usize,
    chunk: usize,
    fail_at: Option<usize>,
    stall_at: Option<usize>,
    /// Counted as an open request until dropped.
    server: Option<Rc<RefCell<Server>>>,
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(s) = &self.server {
            s.borrow_mut().open -= 1;
        }
    }
}

/// Pending once, then ready: lets other tasks run, like a network round trip.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl ResponseBody for Body {
    async fn read_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, Error> {
        if self.stall_at.is_some_and(|n| self.at >= n) {
            return futures_util::future::pending().await;
        }
        if self.at >= self.bytes.len() {
            if self.fail_at.is_some() {
                return Err(Error::Network("connection reset".into()));
            }
            return Ok(false);
        }
        let end = (self.at + self.chunk).min(self.bytes.len());
        out.extend_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(true)
    }
}

fn page_of(server: &Server, url: &str) -> Vec<u8> {
    let param = |name: &str| url.split(['?', '&']).find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(|v| v.parse::<usize>().unwrap());
    let size = param("pageSize").unwrap_or(10_000);
    let page = if server.hostile.ignore_page { 1 } else { param("page").unwrap_or(1) };
    if server.hostile.endless {
        let items: Vec<String> = (0..size).map(|k| format!(r#"{{"customerId":"p{page}-{k}"}}"#)).collect();
        return format!("[{}]", items.join(",")).into_bytes();
    }
    let items: Vec<String> = server
        .customers
        .iter()
        .skip((page - 1) * size) // Iterator::skip: the page's offset
        .take(size)
        .map(|id| record(server, id))
        .collect();
    format!("[\n{}\n]", items.join(",\n")).into_bytes()
}

fn record(server: &Server, id: &str) -> String {
    let reseller = server.resellers.get(id).map(|r| format!(r#","resellerId":"{r}""#)).unwrap_or_default();
    match server.versions.get(id) {
        Some(v) => format!(r#"{{"customerId":"{id}","customerName":"n ]}}\" {id}"{reseller},"rev":{v}}}"#),
        None => format!(r#"{{"customerId":"{id}","customerName":"n ]}}\" {id}"{reseller}}}"#),
    }
}

/// Drift after serving page `page` of `size`: inserts and removals before the page's end.
fn drift(server: &mut Server, url: &str) {
    let Some((insert, remove)) = server.drift else { return };
    let param = |name: &str| url.split(['?', '&']).find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(|v| v.parse::<usize>().unwrap());
    let end = (param("page").unwrap_or(1) * param("pageSize").unwrap_or(10_000)).min(server.customers.len());
    for _ in 0..insert {
        server.drifted += 1;
        let at = (server.drifted * 7) % end.max(1);
        server.customers.insert(at, format!("{:08x}-0000-4000-8000-00000000d00d", server.drifted));
    }
    for _ in 0..remove.min(end) {
        server.drifted += 1;
        server.customers.remove((server.drifted * 5) % end);
    }
}

impl Scripted {
    /// POST: each ID's three customers (`{id}-0` …), after the ID's latency; a failing ID's
    /// batch gets a 500.
    async fn send_batch(&self, body: &str) -> Result<(ResponseHead, Body), Error> {
        let ids: Vec<String> = serde_json::from_str(body).expect("the POST body is a JSON array of IDs");
        if self.0.borrow().post_by_customer {
            if self.0.borrow().hostile.stall_posts {
                self.0.borrow_mut().requests.push(format!("POST {}", ids.join(",")));
                return futures_util::future::pending().await;
            }
            let mut s = self.0.borrow_mut();
            s.requests.push(format!("POST {}", ids.join(",")));
            let (status, bytes) = match ids.iter().find(|id| !s.customers.contains(id) && !s.post_only.contains(id)) {
                Some(_) if s.anonymous_404 => (404, br#"{"statusCode":404,"message":"Not found."}"#.to_vec()),
                Some(gone) => (404, format!(r#"{{"statusCode":404,"message":"Organization {gone} was not found."}}"#).into_bytes()),
                None => (200, format!("[{}]", ids.iter().map(|id| record(&s, id)).collect::<Vec<_>>().join(",")).into_bytes()),
            };
            return Ok((
                ResponseHead { status, retry_after: None },
                Body { bytes, at: 0, chunk: 16, fail_at: None, stall_at: None, server: None },
            ));
        }
        {
            let mut s = self.0.borrow_mut();
            s.requests.push(ids.join(","));
            s.open += 1;
            s.max_open = s.max_open.max(s.open);
        }
        let latency = ids.iter().map(|id| self.0.borrow().latency.get(id).copied().unwrap_or(0)).sum::<usize>();
        for _ in 0..latency {
            YieldNow(false).await;
        }
        let failed = ids.iter().any(|id| self.0.borrow().fail_ids.contains(id));
        let (status, bytes) = if failed {
            (500, br#"{"statusCode":500,"message":"down"}"#.to_vec())
        } else {
            let items: Vec<String> = ids.iter().flat_map(|id| (0..3).map(move |k| format!(r#"{{"customerId":"{id}-{k}"}}"#))).collect();
            (200, format!("[{}]", items.join(",")).into_bytes())
        };
        let body = Body { bytes, at: 0, chunk: 16, fail_at: None, stall_at: None, server: Some(self.0.clone()) };
        Ok((ResponseHead { status, retry_after: None }, body))
    }
}

impl Transport for Scripted {
    type Body = Body;
    async fn send(&self, request: &HttpRequest) -> Result<(ResponseHead, Body), Error> {
        if let Some(ids) = &request.body {
            return self.send_batch(ids).await;
        }
        let mut s = self.0.borrow_mut();
        s.requests.push(request.url.clone());
        let auth = request.headers.iter().find(|h| h.0 == "Authorization").map(|h| h.1.clone());
        let full = page_of(&s, &request.url);
        drift(&mut s, &request.url);
        let stall_at = s.hostile.stall_body_at;
        let ok = |bytes: Vec<u8>, fail_at| {
            (ResponseHead { status: 200, retry_after: None }, Body { bytes, at: 0, chunk: self.1, fail_at, stall_at, server: None })
        };
        if auth.as_deref() != Some(&format!("Bearer {}", s.good_token)) {
            let body = br#"{"statusCode":401,"message":"bad token"}"#.to_vec();
            return Ok((
                ResponseHead { status: 401, retry_after: None },
                Body { bytes: body, at: 0, chunk: 64, fail_at: None, stall_at: None, server: None },
            ));
        }
        match s.faults.pop_front().flatten() {
            None => Ok(ok(full, None)),
            Some(Fault::Status(status, retry_after)) => Ok((
                ResponseHead { status, retry_after: retry_after.map(str::to_string) },
                Body {
                    bytes: format!(r#"{{"statusCode":{status},"message":"nope"}}"#).into_bytes(),
                    at: 0,
                    chunk: 64,
                    fail_at: None,
                    stall_at: None,
                    server: None,
                },
            )),
            Some(Fault::Truncate(n)) => Ok(ok(full[..n.min(full.len().saturating_sub(1))].to_vec(), None)),
            Some(Fault::Drop(n)) => {
                let n = n.min(full.len());
                Ok(ok(full[..n].to_vec(), Some(n)))
            }
            Some(Fault::Refuse) => Err(Error::Network("connection refused".into())),
        }
    }
    type Timer = HostTimer;
    fn timer(&self, ms: u64) -> HostTimer {
        self.0.borrow_mut().timers_alive += 1;
        HostTimer { server: self.0.clone(), ms }
    }
    async fn cancelled(&self) -> Error {
        if self.0.borrow().hostile.cancelled {
            return Error::Aborted("the AbortSignal was aborted".into());
        }
        futures_util::future::pending().await
    }
    fn now_ms(&self) -> f64 {
        self.0.borrow().clock
    }
    fn random(&self) -> f64 {
        0.5
    }
    async fn token(&self, refresh: bool) -> Result<Option<String>, Error> {
        self.0.borrow_mut().tokens_asked.push(refresh);
        if self.0.borrow().hostile.hang_token {
            return futures_util::future::pending().await;
        }
        Ok(Some(if refresh { "fresh".into() } else { "stale-or-good".into() }))
    }
    fn can_refresh(&self) -> bool {
        true
    }
}

fn server(n: usize, faults: Vec<Option<Fault>>, good_token: &str) -> Rc<RefCell<Server>> {
    Rc::new(RefCell::new(Server {
        customers: (0..n).map(|i| format!("c{i:05}")).collect(),
        faults: faults.into(),
        requests: vec![],
        sleeps: vec![],
        tokens_asked: vec![],
        good_token: good_token.into(),
        hostile: Hostile::default(),
        latency: Default::default(),
        fail_ids: vec![],
        open: 0,
        max_open: 0,
        clock: 0.0,
        versions: Default::default(),
        drift: None,
        drifted: 0,
        post_by_customer: false,
        anonymous_404: false,
        resellers: HashMap::new(),
        post_only: vec![],
        timers_alive: 0,
    }))
}

fn hostile(n: usize, hostile: Hostile) -> Rc<RefCell<Server>> {
    let s = server(n, vec![], "stale-or-good");
    s.borrow_mut().hostile = hostile;
    s
}

/// A run's customer IDs up to its error, and the error.
fn run_until_error(s: &Rc<RefCell<Server>>, page_size: u32, options: RunOptions, first_page: Option<u32>) -> (Vec<String>, Option<Error>) {
    let query = CustomerQuery { page_size: Some(page_size), page: first_page, ..Default::default() };
    let run = PageRun::new(Scripted(s.clone(), 64), config(None), options, Target::Org("d".into()), query);
    let results = block_on(customer_stream(run).collect::<Vec<_>>());
    let mut got = vec![];
    for r in results {
        match r {
            Ok(c) => got.push(c.customer_id),
            Err(e) => return (got, Some(e)),
        }
    }
    (got, None)
}

fn config(events: Option<Rc<RefCell<Vec<AppxiteEvent>>>>) -> Rc<ClientConfig> {
    Rc::new(ClientConfig {
        base_url: "https://api.test".into(),
        referer: "https://portal.test".into(),
        subscription_key: None,
        headers: vec![],
        run: RunOptions::default(),
        on_event: events.map(|e| Rc::new(move |ev: &AppxiteEvent| e.borrow_mut().push(ev.clone())) as _),
        secrets: Default::default(),
    })
}

fn run_ids(s: &Rc<RefCell<Server>>, page_size: u32, chunk: usize, retry: RetryPolicy) -> Result<Vec<String>, Error> {
    let options = RunOptions { retry, ..RunOptions::default() };
    let query = CustomerQuery { page_size: Some(page_size), ..Default::default() };
    let run = PageRun::new(Scripted(s.clone(), chunk), config(None), options, Target::Org("d".into()), query);
    block_on(customer_stream(run).map(|c| c.map(|c| c.customer_id)).collect::<Vec<_>>()).into_iter().collect()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("c{i:05}")).collect()
}

#[test]
fn pages_end_at_a_short_page_and_an_exactly_full_last_page_costs_one_empty_request() {
    let s = server(20, vec![], "stale-or-good");
    assert_eq!(run_ids(&s, 10, 7, RetryPolicy::default()).unwrap(), ids(20));
    assert_eq!(s.borrow().requests.len(), 3, "pages 1, 2 and the empty page 3");
    let s = server(21, vec![], "stale-or-good");
    assert_eq!(run_ids(&s, 10, 7, RetryPolicy::default()).unwrap(), ids(21));
    assert_eq!(s.borrow().requests.len(), 3);
    let s = server(0, vec![], "stale-or-good");
    assert_eq!(run_ids(&s, 10, 7, RetryPolicy::default()).unwrap(), Vec::<String>::new());
}

#[test]
fn a_truncated_body_is_retried_not_taken_for_the_last_page() {
    let s = server(25, vec![None, Some(Fault::Truncate(150))], "stale-or-good");
    assert_eq!(run_ids(&s, 10, 16, RetryPolicy::default()).unwrap(), ids(25));
    assert_eq!(s.borrow().requests.len(), 4);
}

#[test]
fn retry_after_is_slept_and_too_long_a_wait_is_rate_limited() {
    let s = server(5, vec![Some(Fault::Status(429, Some("2")))], "stale-or-good");
    assert_eq!(run_ids(&s, 10, 64, RetryPolicy::default()).unwrap(), ids(5));
    assert_eq!(s.borrow().sleeps, vec![2000]);
    let s = server(5, vec![Some(Fault::Status(503, Some("120")))], "stale-or-good");
    let err = run_ids(&s, 10, 64, RetryPolicy::default()).unwrap_err();
    assert_eq!((err.code(), err.retry_after_ms()), ("RATE_LIMITED", Some(120_000)));
}

#[test]
fn client_errors_are_not_retried() {
    for (status, code) in [(400, "BAD_REQUEST"), (403, "FORBIDDEN"), (404, "NOT_FOUND")] {
        let s = server(5, vec![Some(Fault::Status(status, None))], "stale-or-good");
        assert_eq!(run_ids(&s, 10, 64, RetryPolicy::default()).unwrap_err().code(), code);
        assert_eq!(s.borrow().requests.len(), 1);
    }
}

#[test]
fn retries_give_up_with_the_last_error() {
    let faults = vec![Some(Fault::Status(500, None)); 10];
    let s = server(5, faults, "stale-or-good");
    let err = run_ids(&s, 10, 64, RetryPolicy::default()).unwrap_err();
    assert_eq!((err.code(), err.status()), ("HTTP", Some(500)));
    assert_eq!(s.borrow().requests.len(), 4, "first attempt + 3 retries");
}

#[test]
fn a_401_refreshes_the_token_once() {
    let s = server(3, vec![], "fresh");
    assert_eq!(run_ids(&s, 10, 64, RetryPolicy::default()).unwrap(), ids(3));
    assert_eq!(s.borrow().tokens_asked, vec![false, true]);
    let s = server(3, vec![], "never");
    let err = run_ids(&s, 10, 64, RetryPolicy::default()).unwrap_err();
    assert_eq!(err.code(), "UNAUTHORIZED");
    assert!(!err.to_string().contains("fresh"));
    assert_eq!(s.borrow().requests.len(), 2);
}

#[test]
fn events_report_requests_retries_and_pages() {
    let events = Rc::new(RefCell::new(vec![]));
    let s = server(12, vec![None, Some(Fault::Status(502, None))], "stale-or-good");
    let query = CustomerQuery { page_size: Some(10), ..Default::default() };
    let run = PageRun::new(Scripted(s.clone(), 64), config(Some(events.clone())), RunOptions::default(), Target::Org("d".into()), query);
    let n = block_on(customer_stream(run).collect::<Vec<_>>()).len();
    assert_eq!(n, 12);
    let ev = events.borrow();
    let kinds: Vec<&str> = ev
        .iter()
        .map(|e| match e {
            AppxiteEvent::Request { .. } => "request",
            AppxiteEvent::Response { .. } => "response",
            AppxiteEvent::Retry { .. } => "retry",
            AppxiteEvent::Page { .. } => "page",
        })
        .collect();
    assert_eq!(kinds, ["request", "response", "page", "request", "response", "retry", "request", "response", "page"]);
    assert!(matches!(ev[5], AppxiteEvent::Retry { page: 2, attempt: 1, ref reason, status: Some(502), .. } if reason == "HTTP"));
}

#[test]
fn ids_are_split_into_batches_in_order() {
    let t = Target::batches(vec!["a".into(), "b".into(), "c".into()], 2);
    assert_eq!(t, Target::Ids(vec![vec!["a".into(), "b".into()], vec!["c".into()]]));
}

#[test]
fn a_token_function_that_never_settles_times_out_and_a_cancelled_run_is_aborted() {
    let s = hostile(5, Hostile { hang_token: true, ..Hostile::default() });
    let options = RunOptions { timeout_ms: Some(300), ..RunOptions::default() };
    let (got, err) = run_until_error(&s, 10, options, None);
    let err = err.expect("an error");
    assert!(got.is_empty());
    assert_eq!(err.code(), "TIMEOUT", "{err}");
    assert_eq!(s.borrow().tokens_asked.len(), 4, "the timeout is retried like any other");
    assert!(s.borrow().requests.is_empty());
    // No timeout at all, but the caller's signal: ABORTED, not a hang.
    let s = hostile(5, Hostile { hang_token: true, cancelled: true, ..Hostile::default() });
    let options = RunOptions { timeout_ms: None, ..RunOptions::default() };
    assert_eq!(run_until_error(&s, 10, options, None).1.unwrap().code(), "ABORTED");
    // Only a deadline: TIMEOUT naming deadlineMs, not retried.
    let s = hostile(5, Hostile { hang_token: true, ..Hostile::default() });
    let options = RunOptions { timeout_ms: None, deadline_ms: Some(1000), ..RunOptions::default() };
    let err = run_until_error(&s, 10, options, None).1.unwrap();
    assert!(err.code() == "TIMEOUT" && err.to_string().contains("deadlineMs"), "{err}");
}

#[test]
fn a_body_that_stalls_times_out_and_is_fetched_again_without_repeats() {
    let s = hostile(30, Hostile { stall_body_at: Some(200), ..Hostile::default() });
    let options = RunOptions { timeout_ms: Some(500), ..RunOptions::default() };
    let (got, err) = run_until_error(&s, 10, options, None);
    assert_eq!(err.expect("an error").code(), "TIMEOUT");
    // Records before the stall were handed out once, never again on the retries.
    let mut unique = got.clone();
    unique.dedup();
    assert_eq!(got, unique);
    assert_eq!(got, ids(got.len()));
    assert_eq!(s.borrow().requests.len(), 4);
}

#[test]
fn a_server_that_ignores_page_is_a_pagination_error_before_a_repeat_is_handed_out() {
    let s = hostile(30, Hostile { ignore_page: true, ..Hostile::default() });
    let (got, err) = run_until_error(&s, 10, RunOptions::default(), None);
    let err = err.expect("an error");
    assert_eq!(err.code(), "PAGINATION", "{err}");
    assert_eq!(got, ids(10), "page 1 once, nothing of the repeated page");
    assert_eq!(s.borrow().requests.len(), 2);
}

#[test]
fn max_pages_caps_a_run_after_handing_out_the_pages_it_allows() {
    let s = hostile(0, Hostile { endless: true, ..Hostile::default() });
    let options = RunOptions { max_pages: Some(3), ..RunOptions::default() };
    let (got, err) = run_until_error(&s, 4, options, None);
    assert_eq!(err.expect("an error").code(), "PAGINATION");
    assert_eq!(got.len(), 12);
    assert_eq!(s.borrow().requests.len(), 3, "no request past maxPages");
}

#[test]
fn the_page_number_never_wraps() {
    let s = hostile(0, Hostile { endless: true, ..Hostile::default() });
    let (got, err) = run_until_error(&s, 2, RunOptions::default(), Some(u32::MAX - 1));
    let err = err.expect("an error");
    assert_eq!(err.code(), "PAGINATION", "{err}");
    assert_eq!(got, ["p4294967294-0", "p4294967294-1", "p4294967295-0", "p4294967295-1"]);
    let requests = s.borrow().requests.clone();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|u| !u.contains("page=0")), "{requests:?}");
}

#[test]
fn a_record_over_max_record_bytes_is_decode_and_not_retried() {
    let s = server(5, vec![], "stale-or-good");
    let options = RunOptions { max_record_bytes: 40, ..RunOptions::default() };
    let (got, err) = run_until_error(&s, 10, options, None);
    let err = err.expect("an error");
    assert_eq!(err.code(), "DECODE");
    assert!(err.to_string().contains("maxRecordBytes"), "{err}");
    assert!(got.is_empty());
    assert_eq!(s.borrow().requests.len(), 1, "the same server would send the same record: no retry");
}

#[test]
fn run_options_beyond_what_timers_hold_are_refused() {
    let ok = RunOptions { timeout_ms: Some(2_147_483_647), deadline_ms: Some(1), ..RunOptions::default() };
    assert!(ok.validate().is_ok());
    for bad in [
        RunOptions { timeout_ms: Some(2_147_483_648), ..RunOptions::default() },
        RunOptions { deadline_ms: Some(u64::MAX), ..RunOptions::default() },
        RunOptions { max_record_bytes: 0, ..RunOptions::default() },
        RunOptions { max_pages: Some(0), ..RunOptions::default() },
    ] {
        assert_eq!(bad.validate().unwrap_err().code(), "INVALID_ARGUMENT");
    }
}

#[test]
fn a_finished_run_keeps_no_timer_armed() {
    // In JS a pending timer keeps Node's event loop — the caller's process — alive.
    let s = server(25, vec![], "stale-or-good");
    let query = CustomerQuery { page_size: Some(10), ..Default::default() };
    let mut run = PageRun::new(Scripted(s.clone(), 64), config(None), RunOptions::default(), Target::Org("d".into()), query);
    block_on(async {
        while run.advance().await.unwrap().is_some() {
            run.scanner().take_each().count();
            assert!(s.borrow().timers_alive <= 1, "one timer per run at most");
        }
    });
    assert!(s.borrow().sleeps.is_empty(), "no timer fired (nothing waited)");
    assert_eq!(s.borrow().timers_alive, 0, "the run is over but still holds a timer");
    drop(run);
}

#[test]
fn a_customer_pushed_onto_the_next_page_by_an_insert_is_handed_out_once() {
    let s = server(95, vec![], "stale-or-good");
    s.borrow_mut().drift = Some((1, 0));
    let got = run_ids(&s, 10, 16, RetryPolicy::default()).unwrap();
    let unique: std::collections::HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no customer twice");
    assert!(ids(95).iter().all(|id| unique.contains(id)), "nothing of the original set lost");
    // (Each insert before a page's end pushed that page's last customer onto the next page.)
    // A record without a customerId is passed through, never dropped.
    let mut scanner = appxite_customers::scan::RecordScanner::new();
    scanner.push(br#"[{"n":1},{"n":1}]"#).unwrap();
    assert_eq!(scanner.ready_count(), 2);
}

mod sync {
    use super::*;
    use appxite_customers::sync::{SyncRun, SyncStats};

    fn uuid(i: usize) -> String {
        format!("{i:08x}-0000-4000-8000-000000000000")
    }

    fn sync_server(n: usize) -> Rc<RefCell<Server>> {
        let s = server(n, vec![], "stale-or-good");
        s.borrow_mut().customers = (0..n).map(uuid).collect();
        s.borrow_mut().post_by_customer = true;
        s
    }

    type Changes = Vec<(String, String)>;

    /// One sync: its changes as (type, customerId), its stats and its snapshot.
    fn sync(s: &Rc<RefCell<Server>>, snapshot: Option<&[u8]>, page_size: u32) -> Result<(Changes, SyncStats, Vec<u8>), Error> {
        let query = CustomerQuery { page_size: Some(page_size), ..Default::default() };
        let options = RunOptions { batch_size: 7, ..RunOptions::default() };
        let mut run = SyncRun::new(Scripted(s.clone(), 64), config(None), options, "org", query, snapshot)?;
        block_on(async {
            let mut changes = vec![];
            while run.advance().await? {
                let (json, n) = run.take_changes();
                let list: Vec<serde_json::Value> = serde_json::from_slice(json).unwrap();
                assert_eq!(list.len(), n);
                for c in list {
                    let (kind, id) = (c["type"].as_str().unwrap().to_string(), c["customerId"].as_str().unwrap().to_string());
                    match kind.as_str() {
                        "removed" => assert!(c.get("customer").is_none()),
                        _ => assert_eq!(c["customer"]["customerId"].as_str(), Some(id.as_str())),
                    }
                    changes.push((kind, id));
                }
            }
            Ok((changes, run.stats(), run.snapshot().expect("a completed sync has a snapshot").to_vec()))
        })
    }

    fn of(kind: &str, changes: &Changes) -> Vec<String> {
        let mut v: Vec<String> = changes.iter().filter(|c| c.0 == kind).map(|c| c.1.clone()).collect();
        v.sort();
        v
    }

    fn stats(added: u64, changed: u64, removed: u64, unchanged: u64) -> SyncStats {
        SyncStats { added, changed, removed, unchanged }
    }

    #[test]
    fn first_everything_is_added_then_only_differences_and_removed_come_last() {
        let s = sync_server(45);
        let (changes, st, snap) = sync(&s, None, 10).unwrap();
        assert_eq!((of("added", &changes).len(), st), (45, stats(45, 0, 0, 0)));
        assert_eq!(snap.len(), 32 + 45 * 24, "24 bytes a customer plus the header");

        let (changes, st, again) = sync(&s, Some(&snap), 10).unwrap();
        assert_eq!((changes, st), (vec![], stats(0, 0, 0, 45)));
        assert_eq!(again, snap, "the same data gives the same snapshot");

        {
            let mut srv = s.borrow_mut();
            for i in [3, 17, 44] {
                srv.versions.insert(uuid(i), 2);
            }
            srv.customers.retain(|c| c != &uuid(5) && c != &uuid(30));
            srv.customers.insert(12, uuid(1000));
            srv.customers.push(uuid(1001));
        }
        let requests_before = s.borrow().requests.len();
        let (changes, st, next) = sync(&s, Some(&snap), 10).unwrap();
        assert_eq!(st, stats(2, 3, 2, 40));
        assert_eq!(of("added", &changes), vec![uuid(1000), uuid(1001)]);
        assert_eq!(of("changed", &changes), vec![uuid(3), uuid(17), uuid(44)]);
        assert_eq!(of("removed", &changes), vec![uuid(5), uuid(30)]);
        let first_removed = changes.iter().position(|c| c.0 == "removed").unwrap();
        assert!(changes[first_removed..].iter().all(|c| c.0 == "removed"), "removed after every added/changed");
        // Confirmed by ID before being called removed: one POST of both, a 404 naming one, then the other alone.
        let posts: Vec<String> = s.borrow().requests[requests_before..].iter().filter(|r| r.starts_with("POST")).cloned().collect();
        assert_eq!(posts, vec![format!("POST {},{}", uuid(5), uuid(30)), format!("POST {}", uuid(30))]);
        // And the next sync from that snapshot sees nothing new.
        let (changes, st, _) = sync(&s, Some(&next), 10).unwrap();
        assert_eq!((changes, st), (vec![], stats(0, 0, 0, 45)));
    }

    #[test]
    fn a_confirmation_that_never_answers_times_out_and_reports_nothing_removed() {
        let s = sync_server(20);
        let (_, _, snap) = sync(&s, None, 10).unwrap();
        s.borrow_mut().customers.retain(|c| c != &uuid(7));
        s.borrow_mut().hostile.stall_posts = true;
        for (options, limit) in [
            (RunOptions { timeout_ms: Some(300), batch_size: 7, ..RunOptions::default() }, "timeoutMs"),
            (RunOptions { timeout_ms: None, deadline_ms: Some(5_000), batch_size: 7, ..RunOptions::default() }, "deadlineMs"),
        ] {
            let query = CustomerQuery { page_size: Some(10), ..Default::default() };
            let mut run = SyncRun::new(Scripted(s.clone(), 64), config(None), options, "org", query, Some(&snap)).unwrap();
            let err = block_on(async {
                loop {
                    match run.advance().await {
                        Ok(true) => {
                            let (json, n) = run.take_changes();
                            assert_eq!(n, 0, "no change before the confirmation answers: {}", String::from_utf8_lossy(json));
                        }
                        Ok(false) => panic!("a sync whose confirmation never answered completed"),
                        Err(e) => break e,
                    }
                }
            });
            assert!(err.code() == "TIMEOUT" && err.to_string().contains(limit), "{err}");
            assert_eq!(run.stats().removed, 0);
            assert!(run.snapshot().is_none(), "no snapshot from a sync that did not complete");
        }
        assert!(s.borrow().requests.iter().any(|r| r.starts_with("POST")), "it got as far as confirming");
    }

    #[test]
    fn the_rust_stream_gives_typed_changes_and_the_snapshot_at_the_end() {
        use appxite_customers::stream::ChangeStream;
        use appxite_customers::CustomerChange;
        let s = sync_server(8);
        let (_, _, snap) = sync(&s, None, 3).unwrap();
        s.borrow_mut().versions.insert(uuid(4), 3);
        s.borrow_mut().customers.retain(|c| c != &uuid(6));
        let query = CustomerQuery { page_size: Some(3), ..Default::default() };
        let run = SyncRun::new(Scripted(s.clone(), 64), config(None), RunOptions::default(), "org", query, Some(&snap)).unwrap();
        let mut stream = ChangeStream::new(run);
        assert_eq!(stream.snapshot(), None);
        let changes: Vec<CustomerChange> = block_on(async {
            let mut out = vec![];
            while let Some(c) = stream.next().await {
                out.push(c.unwrap());
            }
            out
        });
        match &changes[..] {
            [CustomerChange::Changed { customer_id, customer }, CustomerChange::Removed { customer_id: gone }] => {
                assert_eq!((customer_id, &customer.customer_id, gone), (&uuid(4), &uuid(4), &uuid(6)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(stream.stats(), stats(0, 1, 1, 6));
        let next = stream.snapshot().expect("set at the end").to_vec();
        assert_eq!(sync(&s, Some(&next), 3).unwrap().1, stats(0, 0, 0, 7));
    }

    #[test]
    fn a_wrong_or_damaged_snapshot_is_refused_before_any_request() {
        let s = sync_server(5);
        let (_, _, snap) = sync(&s, None, 10).unwrap();
        let sent = s.borrow().requests.len();
        let query = CustomerQuery::everything();
        let other = SyncRun::new(Scripted(s.clone(), 64), config(None), RunOptions::default(), "org", query, Some(&snap));
        assert_eq!(other.err().map(|e| e.code()), Some("INVALID_ARGUMENT"), "other sections");
        let other_org =
            SyncRun::new(Scripted(s.clone(), 64), config(None), RunOptions::default(), "org-2", CustomerQuery::default(), Some(&snap));
        assert_eq!(other_org.err().map(|e| e.code()), Some("INVALID_ARGUMENT"));
        let cut = SyncRun::new(
            Scripted(s.clone(), 64),
            config(None),
            RunOptions::default(),
            "org",
            CustomerQuery::default(),
            Some(&snap[..snap.len() - 1]),
        );
        assert_eq!(cut.err().map(|e| e.code()), Some("INVALID_ARGUMENT"));
        assert_eq!(s.borrow().requests.len(), sent, "nothing was sent");
    }

    #[test]
    fn under_drift_nothing_is_repeated_nothing_existing_is_removed_and_the_next_sync_is_exact() {
        let s = sync_server(200);
        let (_, _, snap) = sync(&s, None, 10).unwrap();
        // Changes to customers the removals will push past, so confirmation must report them.
        for i in (0..200).step_by(9) {
            s.borrow_mut().versions.insert(uuid(i), 2);
        }
        // Net one customer fewer before each page's end: the next page skips one.
        s.borrow_mut().drift = Some((1, 2));
        let (changes, st, drifted) = sync(&s, Some(&snap), 10).unwrap();
        s.borrow_mut().drift = None;
        let truth: Vec<String> = s.borrow().customers.clone();
        let ids: Vec<&String> = changes.iter().map(|c| &c.1).collect();
        let unique: std::collections::HashSet<&&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "no customer reported twice");
        for gone in of("removed", &changes) {
            assert!(!truth.contains(&gone), "{gone} was called removed but exists");
        }
        // Every change to an original customer that still exists is reported.
        let changed = of("changed", &changes);
        for i in (0..200).step_by(9) {
            assert!(changed.contains(&uuid(i)) || !truth.contains(&uuid(i)), "change of {} missed", uuid(i));
        }
        // Every customer of the snapshot is accounted for once (the removals pushed some past
        // the listing: confirmation by ID found them).
        assert_eq!(st.changed + st.unchanged + st.removed, 200, "{st:?}");
        assert!(s.borrow().requests.iter().any(|r| r.starts_with("POST")), "skipped customers were confirmed by ID");
        // A clean sync now lands exactly on the truth: the customers inserted behind the
        // listing are added, the ones removed after it saw them are removed (those it skipped
        // and confirmed gone were reported already); its snapshot equals a fresh one.
        let (settling, _, settled) = sync(&s, Some(&drifted), 10).unwrap();
        let originals: Vec<String> = (0..200).map(uuid).collect();
        let mut inserted: Vec<String> = truth.iter().filter(|c| !originals.contains(c)).cloned().collect();
        let reported = of("removed", &changes);
        let mut gone: Vec<String> = originals.iter().filter(|c| !truth.contains(c) && !reported.contains(c)).cloned().collect();
        inserted.sort();
        gone.sort();
        assert!(!inserted.is_empty() && !gone.is_empty());
        assert_eq!(of("added", &settling), inserted);
        assert_eq!(of("removed", &settling), gone);
        assert_eq!(of("changed", &settling), Vec::<String>::new());
        let (_, fresh_stats, fresh) = sync(&s, None, 10).unwrap();
        assert_eq!(settled, fresh);
        assert_eq!(fresh_stats.added as usize, truth.len());
    }

    #[test]
    fn a_customer_moved_out_of_the_organization_is_removed_and_one_moved_within_it_is_kept() {
        // "org" is a distributor: its own customers, and reseller r-2's.
        let s = sync_server(20);
        for i in 0..20 {
            s.borrow_mut().resellers.insert(uuid(i), if i < 10 { "org" } else { "r-2" }.to_string());
        }
        let (_, _, snap) = sync(&s, None, 100).unwrap();
        // 3 moved to a reseller of another distributor; 4 moved to r-2 and the listing skipped
        // it. Both are missing from the listing, and the POST by ID returns both.
        {
            let mut s = s.borrow_mut();
            s.customers.retain(|c| c != &uuid(3) && c != &uuid(4));
            s.post_only = vec![uuid(3), uuid(4)];
            s.resellers.insert(uuid(3), "r-elsewhere".into());
            s.resellers.insert(uuid(4), "R-2".into()); // IDs are UUIDs: case does not matter
        }
        let (changes, st, snap) = sync(&s, Some(&snap), 100).unwrap();
        assert_eq!(of("removed", &changes), vec![uuid(3)]);
        assert_eq!(of("changed", &changes), vec![uuid(4)]);
        assert_eq!(st, stats(0, 1, 1, 18));
        // The next sync agrees: 3 stays gone, 4 is there unchanged.
        let (changes, st, _) = sync(&s, Some(&snap), 100).unwrap();
        assert_eq!((changes.len(), st), (0, stats(0, 0, 0, 19)));
    }

    #[test]
    fn everything_removed_costs_one_post_per_customer_the_floor_of_one_name_per_404() {
        let s = sync_server(300);
        let (_, _, snap) = sync(&s, None, 1000).unwrap();
        s.borrow_mut().customers.clear();
        let sent = s.borrow().requests.len();
        let (changes, st, _) = sync(&s, Some(&snap), 1000).unwrap();
        assert_eq!((of("removed", &changes).len(), st), (300, stats(0, 0, 300, 0)));
        let posts = s.borrow().requests[sent..].iter().filter(|r| r.starts_with("POST")).count();
        assert_eq!(posts, 300, "each 404 proves one ID unknown");
    }

    #[test]
    fn a_404_that_names_no_id_halves_the_batch() {
        let s = sync_server(12);
        let (_, _, snap) = sync(&s, None, 100).unwrap();
        s.borrow_mut().customers.retain(|c| c != &uuid(2) && c != &uuid(9));
        s.borrow_mut().anonymous_404 = true;
        let sent = s.borrow().requests.len();
        let (changes, st, _) = sync(&s, Some(&snap), 100).unwrap();
        assert_eq!(of("removed", &changes), vec![uuid(2), uuid(9)]);
        assert_eq!(st, stats(0, 0, 2, 10));
        // [2,9] → 404 → [2] 404, [9] 404: each confirmed alone.
        let posts: Vec<String> = s.borrow().requests[sent..].iter().filter(|r| r.starts_with("POST")).cloned().collect();
        assert_eq!(posts, vec![format!("POST {},{}", uuid(2), uuid(9)), format!("POST {}", uuid(2)), format!("POST {}", uuid(9))]);
    }
}

mod batch_orchestration {
    use super::*;
    use appxite_customers::batches::batches;
    use futures_executor::LocalPool;
    use futures_util::task::LocalSpawnExt;

    const IDS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

    /// One-ID batches over `s`, `concurrency` at once; the customer IDs in the order handed
    /// out, then the error if there was one.
    fn run(s: &Rc<RefCell<Server>>, concurrency: usize, take: Option<usize>) -> (Vec<String>, Option<Error>) {
        // No timeout: this transport's timers are instant, and its sends take turns.
        let options = RunOptions { retry: RetryPolicy::none(), timeout_ms: None, ..RunOptions::default() };
        let runs = IDS
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let transport = Scripted(s.clone(), 16);
                PageRun::for_batch(transport, config(None), options, vec![id.to_string()], i, CustomerQuery::default(), 0.0)
            })
            .collect();
        let (batches, pump) = batches(runs, concurrency);
        let mut pool = LocalPool::new();
        pool.spawner().spawn_local(pump).unwrap();
        let out = pool.run_until(async move {
            let mut got = vec![];
            let mut batches_taken = 0;
            while let Some(result) = batches.next().await {
                match result {
                    Ok(pages) => {
                        for page in pages {
                            let list: Vec<serde_json::Value> = serde_json::from_slice(&page.json).unwrap();
                            got.extend(list.iter().map(|c| c["customerId"].as_str().unwrap().to_string()));
                        }
                    }
                    Err(e) => return (got, Some(e)),
                }
                batches_taken += 1;
                if take == Some(batches_taken) {
                    drop(batches);
                    return (got, None);
                }
            }
            (got, None)
        });
        pool.run_until_stalled();
        out
    }

    fn customers_of(ids: &[&str]) -> Vec<String> {
        ids.iter().flat_map(|id| (0..3).map(move |k| format!("{id}-{k}"))).collect()
    }

    #[test]
    fn batches_come_out_in_input_order_with_at_most_concurrency_requests_open() {
        let s = server(0, vec![], "stale-or-good");
        // Later batches answer sooner, so they finish out of order.
        s.borrow_mut().latency = IDS.iter().enumerate().map(|(i, id)| (id.to_string(), 3 * (IDS.len() - i))).collect();
        let (got, err) = run(&s, 3, None);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, customers_of(&IDS));
        let s = s.borrow();
        assert_eq!(s.max_open, 3, "three at once, never more");
        assert_eq!(s.open, 0, "every request closed");
        assert_eq!(s.requests.len(), 8);
    }

    #[test]
    fn concurrency_one_runs_one_batch_at_a_time() {
        let s = server(0, vec![], "stale-or-good");
        let (got, _) = run(&s, 1, None);
        assert_eq!(got, customers_of(&IDS));
        assert_eq!(s.borrow().max_open, 1);
    }

    #[test]
    fn the_first_error_in_input_order_wins_and_nothing_later_starts() {
        let s = server(0, vec![], "stale-or-good");
        s.borrow_mut().fail_ids = vec!["c".into(), "e".into()];
        s.borrow_mut().latency = [("a".to_string(), 20)].into_iter().collect();
        let (got, err) = run(&s, 2, None);
        assert_eq!(err.map(|e| e.code()), Some("HTTP"));
        assert_eq!(got, customers_of(&["a", "b"]), "the batches before the failing one, whole");
        let s = s.borrow();
        assert!(!s.requests.iter().any(|r| r == "e" || r == "f"), "nothing started after the error: {:?}", s.requests);
        assert_eq!(s.open, 0);
    }

    #[test]
    fn stopping_early_sends_nothing_more_and_closes_what_was_open() {
        let s = server(0, vec![], "stale-or-good");
        s.borrow_mut().latency = IDS.iter().map(|id| (id.to_string(), 50)).collect();
        let (got, err) = run(&s, 3, Some(1));
        assert!(err.is_none());
        assert_eq!(got, customers_of(&["a"]));
        let s = s.borrow();
        assert!(s.requests.len() <= 4, "a, and at most the three slots after it: {:?}", s.requests);
        assert_eq!(s.open, 0, "the running batches were dropped, their requests closed");
    }
}

fn arb_fault() -> impl Strategy<Value = Option<Fault>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(Fault::Status(503, Some("0")))),
        1 => Just(Some(Fault::Status(500, None))),
        1 => (0usize..3000).prop_map(|n| Some(Fault::Truncate(n))),
        1 => (0usize..3000).prop_map(|n| Some(Fault::Drop(n))),
        1 => Just(Some(Fault::Refuse)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    /// Under any fault schedule: every customer exactly once and in order, or an error —
    /// never a silent loss or a duplicate.
    #[test]
    fn exactly_once_or_an_error(
        n in 0usize..60,
        page_size in 1u32..25,
        chunk in 1usize..200,
        faults in proptest::collection::vec(arb_fault(), 0..30),
    ) {
        let s = server(n, faults, "stale-or-good");
        let retry = RetryPolicy { max_retries: 4, budget: 8, ..RetryPolicy::default() };
        match run_ids(&s, page_size, chunk, retry) {
            Ok(got) => prop_assert_eq!(got, ids(n)),
            Err(e) => prop_assert!(matches!(e.code(), "HTTP" | "NETWORK" | "DECODE"), "{:?}", e),
        }
    }
}

/// The core both APIs are built on: a call checked once (`call::prepare`) and started as a
/// `Cursor` (`call::start`).
mod call_and_cursor {
    use super::*;
    use appxite_customers::call::{prepare, start};
    use appxite_customers::pager::{MAX_BATCH_SIZE, MAX_CONCURRENCY, MAX_RETRIES};
    use appxite_customers::Target;
    use futures_executor::LocalPool;
    use futures_util::task::LocalSpawnExt;

    /// Every page of a cursor: (its customer IDs, its continuation token).
    fn pages(s: &Rc<RefCell<Server>>, page_size: u32, token: Option<&str>) -> Result<Vec<(Vec<String>, Option<String>)>, Error> {
        let query = CustomerQuery { page_size: Some(page_size), ..Default::default() };
        let options = RunOptions { retry: RetryPolicy::none(), ..RunOptions::default() };
        let call = prepare(Target::Org("org".into()), query, options, token, 1)?;
        let mut cursor = start(Scripted(s.clone(), 64), config(None), &call, 0.0, |_| unreachable!("no batches"));
        block_on(async {
            let (mut out, mut ids) = (vec![], vec![]);
            while let Some(group) = cursor.next(|json| Ok(serde_json::from_slice::<Vec<serde_json::Value>>(json).unwrap())).await? {
                ids.extend(group.decoded.unwrap_or_default().iter().map(|c| c["customerId"].as_str().unwrap().to_string()));
                if group.page_complete && !ids.is_empty() {
                    out.push((std::mem::take(&mut ids), group.continuation));
                }
            }
            Ok(out)
        })
    }

    #[test]
    fn every_continuation_token_resumes_after_its_page_with_each_customer_once() {
        let s = server(45, vec![], "stale-or-good");
        let all = pages(&s, 10, None).unwrap();
        assert_eq!(all.iter().map(|p| p.0.len()).collect::<Vec<_>>(), [10, 10, 10, 10, 5]);
        assert!(all.iter().all(|p| p.1.is_some()), "every complete page has a token");
        let every: Vec<String> = all.iter().flat_map(|p| p.0.clone()).collect();
        for (k, (_, token)) in all.iter().enumerate() {
            let rest: Vec<String> = pages(&s, 10, token.as_deref()).unwrap().into_iter().flat_map(|p| p.0).collect();
            assert_eq!(rest, every[((k + 1) * 10).min(every.len())..].to_vec(), "resumed after page {}", k + 1);
        }
        // A customer inserted before the resumed page pushes the page's last one onto the
        // next: the token still hands it out once.
        let token = all[1].1.clone().unwrap();
        s.borrow_mut().customers.insert(3, "inserted".into());
        let rest: Vec<String> = pages(&s, 10, Some(&token)).unwrap().into_iter().flat_map(|p| p.0).collect();
        assert_eq!(rest, every[20..].to_vec());
        // Another query, or with page: refused before any request.
        let other = CustomerQuery { page_size: Some(10), include_tenants: Some(true), ..Default::default() };
        assert_eq!(
            prepare(Target::Org("org".into()), other, RunOptions::default(), Some(&token), 1).unwrap_err().code(),
            "INVALID_ARGUMENT"
        );
        let paged = CustomerQuery { page_size: Some(10), page: Some(2), ..Default::default() };
        assert_eq!(
            prepare(Target::Org("org".into()), paged, RunOptions::default(), Some(&token), 1).unwrap_err().code(),
            "INVALID_ARGUMENT"
        );
    }

    #[test]
    fn concurrent_batches_come_out_of_the_cursor_in_input_order() {
        let s = server(0, vec![], "stale-or-good");
        let ids: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        // Later batches answer sooner, so they finish out of order.
        s.borrow_mut().latency = ids.iter().enumerate().map(|(i, id)| (id.clone(), 3 * (ids.len() - i))).collect();
        let options = RunOptions { batch_size: 1, retry: RetryPolicy::none(), timeout_ms: None, ..RunOptions::default() };
        let call = prepare(Target::Ids(vec![ids.clone()]), CustomerQuery::default(), options, None, 3).unwrap();
        let mut pool = LocalPool::new();
        let spawner = pool.spawner();
        let mut cursor = start(Scripted(s.clone(), 16), config(None), &call, 0.0, |pump| spawner.spawn_local(pump).unwrap());
        let got = pool.run_until(async move {
            let mut got = vec![];
            while let Some(group) = cursor.next(|json| Ok(serde_json::from_slice::<Vec<serde_json::Value>>(json).unwrap())).await.unwrap() {
                assert!(group.page_complete && group.continuation.is_none());
                got.extend(group.decoded.unwrap().iter().map(|c| c["customerId"].as_str().unwrap().to_string()));
            }
            got
        });
        let want: Vec<String> = ids.iter().flat_map(|id| (0..3).map(move |k| format!("{id}-{k}"))).collect();
        assert_eq!(got, want);
        assert!(s.borrow().max_open > 1, "batches ran at once");
    }

    /// Every limit of a call, checked in the core (the JS API reads the same values and
    /// hands them here: tests/node/sdk.test.mjs checks the same table through it).
    #[test]
    fn every_limit_is_checked_in_one_place() {
        let ok = RunOptions::default();
        let org = || Target::Org("org".into());
        let bad: Vec<(&str, RunOptions, usize)> = vec![
            ("batchSize 0", RunOptions { batch_size: 0, ..ok }, 1),
            ("batchSize over the API's", RunOptions { batch_size: MAX_BATCH_SIZE + 1, ..ok }, 1),
            ("maxRetries", RunOptions { retry: RetryPolicy { max_retries: MAX_RETRIES + 1, ..ok.retry }, ..ok }, 1),
            ("a day of backoff and more", RunOptions { retry: RetryPolicy { max_delay_ms: 86_400_001, ..ok.retry }, ..ok }, 1),
            ("timeoutMs 0", RunOptions { timeout_ms: Some(0), ..ok }, 1),
            ("maxPages 0", RunOptions { max_pages: Some(0), ..ok }, 1),
            ("maxRecordBytes 0", RunOptions { max_record_bytes: 0, ..ok }, 1),
            ("concurrency 0", ok, 0),
            ("concurrency over the cap", ok, MAX_CONCURRENCY + 1),
        ];
        for (what, options, concurrency) in bad {
            let e = prepare(org(), CustomerQuery::default(), options, None, concurrency).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT", "{what}");
        }
        assert!(prepare(org(), CustomerQuery::default(), RunOptions { batch_size: MAX_BATCH_SIZE, ..ok }, None, MAX_CONCURRENCY).is_ok());
        let page_zero = CustomerQuery { page_size: Some(0), ..Default::default() };
        assert_eq!(prepare(org(), page_zero, ok, None, 1).unwrap_err().code(), "INVALID_ARGUMENT");
    }
}
