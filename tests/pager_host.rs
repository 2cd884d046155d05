//! The pager's paging, retry and exactly-once bookkeeping on the host, over a scripted
//! transport that injects faults: every customer exactly once, in order, or an error.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use appxite_customers::pager::{ClientConfig, AppxiteEvent, PageRun, RunOptions, Target};
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
}

#[derive(Clone)]
struct Scripted(Rc<RefCell<Server>>, usize);

struct Body {
    bytes: Vec<u8>,
    at: usize,
    chunk: usize,
    fail_at: Option<usize>,
    stall_at: Option<usize>,
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
    let param = |name: &str| {
        url.split(['?', '&']).find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(|v| v.parse::<usize>().unwrap())
    };
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
        .map(|id| format!(r#"{{"customerId":"{id}","customerName":"n ]}}\" {id}"}}"#))
        .collect();
    format!("[\n{}\n]", items.join(",\n")).into_bytes()
}

impl Transport for Scripted {
    type Body = Body;
    async fn send(&self, request: &HttpRequest) -> Result<(ResponseHead, Body), Error> {
        let mut s = self.0.borrow_mut();
        s.requests.push(request.url.clone());
        let auth = request.headers.iter().find(|h| h.0 == "Authorization").map(|h| h.1.clone());
        let full = page_of(&s, &request.url);
        let stall_at = s.hostile.stall_body_at;
        let ok = |bytes: Vec<u8>, fail_at| {
            (ResponseHead { status: 200, retry_after: None }, Body { bytes, at: 0, chunk: self.1, fail_at, stall_at })
        };
        if auth.as_deref() != Some(&format!("Bearer {}", s.good_token)) {
            let body = br#"{"statusCode":401,"message":"bad token"}"#.to_vec();
            return Ok((ResponseHead { status: 401, retry_after: None }, Body { bytes: body, at: 0, chunk: 64, fail_at: None, stall_at: None }));
        }
        match s.faults.pop_front().flatten() {
            None => Ok(ok(full, None)),
            Some(Fault::Status(status, retry_after)) => Ok((
                ResponseHead { status, retry_after: retry_after.map(str::to_string) },
                Body { bytes: format!(r#"{{"statusCode":{status},"message":"nope"}}"#).into_bytes(), at: 0, chunk: 64, fail_at: None, stall_at: None },
            )),
            Some(Fault::Truncate(n)) => Ok(ok(full[..n.min(full.len().saturating_sub(1))].to_vec(), None)),
            Some(Fault::Drop(n)) => {
                let n = n.min(full.len());
                Ok(ok(full[..n].to_vec(), Some(n)))
            }
            Some(Fault::Refuse) => Err(Error::Network("connection refused".into())),
        }
    }
    async fn sleep(&self, ms: u64) {
        self.0.borrow_mut().sleeps.push(ms);
    }
    async fn cancelled(&self) -> Error {
        if self.0.borrow().hostile.cancelled {
            return Error::Aborted("the AbortSignal was aborted".into());
        }
        futures_util::future::pending().await
    }
    fn now_ms(&self) -> f64 {
        0.0
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
fn id_batches_are_deduplicated_and_split() {
    let t = Target::ids(&["a".into(), "b".into(), "A".into(), "c".into()], 2);
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
