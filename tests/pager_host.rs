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
}

#[derive(Clone)]
struct Scripted(Rc<RefCell<Server>>, usize);

struct Body {
    bytes: Vec<u8>,
    at: usize,
    chunk: usize,
    fail_at: Option<usize>,
}

impl ResponseBody for Body {
    async fn read_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, Error> {
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
    let page = param("page").unwrap_or(1);
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
    async fn send(&self, request: &HttpRequest, _timeout: Option<u64>) -> Result<(ResponseHead, Body), Error> {
        let mut s = self.0.borrow_mut();
        s.requests.push(request.url.clone());
        let auth = request.headers.iter().find(|h| h.0 == "Authorization").map(|h| h.1.clone());
        let full = page_of(&s, &request.url);
        let ok = |bytes: Vec<u8>, fail_at| {
            (ResponseHead { status: 200, retry_after: None }, Body { bytes, at: 0, chunk: self.1, fail_at })
        };
        if auth.as_deref() != Some(&format!("Bearer {}", s.good_token)) {
            let body = br#"{"statusCode":401,"message":"bad token"}"#.to_vec();
            return Ok((ResponseHead { status: 401, retry_after: None }, Body { bytes: body, at: 0, chunk: 64, fail_at: None }));
        }
        match s.faults.pop_front().flatten() {
            None => Ok(ok(full, None)),
            Some(Fault::Status(status, retry_after)) => Ok((
                ResponseHead { status, retry_after: retry_after.map(str::to_string) },
                Body { bytes: format!(r#"{{"statusCode":{status},"message":"nope"}}"#).into_bytes(), at: 0, chunk: 64, fail_at: None },
            )),
            Some(Fault::Truncate(n)) => Ok(ok(full[..n.min(full.len().saturating_sub(1))].to_vec(), None)),
            Some(Fault::Drop(n)) => {
                let n = n.min(full.len());
                Ok(ok(full[..n].to_vec(), Some(n)))
            }
            Some(Fault::Refuse) => Err(Error::Network("connection refused".into())),
        }
    }
    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        self.0.borrow_mut().sleeps.push(ms);
        Ok(())
    }
    fn now_ms(&self) -> f64 {
        0.0
    }
    fn random(&self) -> f64 {
        0.5
    }
    async fn token(&self, refresh: bool) -> Result<Option<String>, Error> {
        let mut s = self.0.borrow_mut();
        s.tokens_asked.push(refresh);
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
    }))
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
