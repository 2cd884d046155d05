//! `appxite-mock`: a strict local emulator of Appxite's "GET All Customers" endpoint.
//!
//! - [`data`]: the deterministic organization tree and pre-serialized customers.
//! - [`params`]: query-string parsing and validation.
//! - [`gateway`]: what a real API gateway enforces before the API sees a request
//!   (X-Referer, auth, subscription key, rate limit) and the one JSON error shape.
//! - [`faults`]: deterministic fault injection.
//! - [`body`]: the streamed response body (bandwidth limit, truncation, dropped connections).
//! - this file: configuration, routes and handlers.

pub mod body;
mod conn;
pub mod data;
pub mod faults;
pub mod gateway;
pub mod params;
mod rng;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Serialize;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::data::{DataSet, OrgKind};
use crate::faults::Fault;
use crate::gateway::{ApiError, RateLimiter};

/// Everything the command line can set.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub customers: usize,
    pub token: String,
    pub subscription_key: Option<String>,
    /// Requests per second per token; `None` = unlimited.
    pub rate_limit: Option<u32>,
    /// Fraction of API requests that get a fault.
    pub chaos: f64,
    pub latency_ms: u64,
    /// Body bytes per second; `None` = as fast as possible.
    pub bandwidth: Option<u64>,
    /// The largest POST body, in organization IDs.
    pub max_ids: usize,
    /// Cut a response whose client has not taken more of its body for this long (what a
    /// proxy or load balancer does to an idle connection); `None` = never.
    pub idle_cut_ms: Option<u64>,
    /// Data that moves under paging from the start (`--drift`; see [`Drift`]).
    pub drift: Drift,
}

/// After each GET page response: `insert` new customers, `remove` and `change` existing ones,
/// at random places of the part of that organization's list the response has covered, so the
/// pages still to come shift (an insert repeats a customer, a removal skips one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Drift {
    pub insert: usize,
    pub remove: usize,
    pub change: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            customers: 25_000,
            token: "dev-token".into(),
            subscription_key: None,
            rate_limit: None,
            chaos: 0.0,
            latency_ms: 0,
            bandwidth: None,
            max_ids: 1000,
            idle_cut_ms: None,
            drift: Drift::default(),
        }
    }
}

/// Counters served at `GET /__mock/stats`, so tests can check the server's own view.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    /// Response bodies still being sent (or handlers still running).
    pub in_flight: AtomicU64,
    pub customers_served: AtomicU64,
    pub bytes_served: AtomicU64,
    /// Bodies cut because the client stopped reading for longer than `--idle-cut-ms`.
    pub idle_cuts: AtomicU64,
    by_status: Mutex<BTreeMap<u16, u64>>,
    /// The last API requests, newest last (see [`RequestLog`]).
    recent: Mutex<std::collections::VecDeque<RequestLog>>,
    by_fault: Mutex<BTreeMap<&'static str, u64>>,
}

/// What `GET /__mock/requests` shows of an API request: enough for tests to check what the
/// SDK sent, never the token or key themselves.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLog {
    pub method: String,
    pub path_and_query: String,
    pub x_referer: Option<String>,
    pub origin: Option<String>,
    pub has_authorization: bool,
    pub has_subscription_key: bool,
    pub body: Option<String>,
}

const RECENT_REQUESTS: usize = 200;

impl Stats {
    fn log(&self, entry: RequestLog) {
        let mut r = self.recent.lock().unwrap();
        if r.len() == RECENT_REQUESTS {
            r.pop_front();
        }
        r.push_back(entry);
    }

    fn count_status(&self, status: StatusCode) {
        *self.by_status.lock().unwrap().entry(status.as_u16()).or_default() += 1;
    }
    fn count_fault(&self, fault: &Fault) {
        *self.by_fault.lock().unwrap().entry(fault.kind()).or_default() += 1;
    }
}

/// Decrements `in_flight` when dropped: held by the handler and then by the body stream,
/// so it counts until the last byte is sent or the connection goes away.
pub struct InFlight(Arc<Stats>);

impl InFlight {
    fn new(stats: &Arc<Stats>) -> Self {
        stats.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(stats.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct AppState {
    pub config: Config,
    /// Read by every request; written by `/__mock/mutate` and drift.
    pub data: RwLock<DataSet>,
    /// The drift in force (`/__mock/drift`), and the generator of its choices.
    drift: Mutex<(Drift, rng::Rng)>,
    pub stats: Arc<Stats>,
    limiter: RateLimiter,
    /// Sequence number of API requests that passed validation (drives the fault schedule).
    fault_seq: AtomicU64,
}

pub type SharedState = Arc<AppState>;

/// Generate the data set and build the router.
pub fn app(config: Config) -> (Router, SharedState) {
    let data = DataSet::generate(config.seed, config.customers);
    let state = Arc::new(AppState {
        limiter: RateLimiter::new(config.rate_limit),
        drift: Mutex::new((config.drift, rng::Rng::new(config.seed ^ 0x6472_6966_74))),
        config,
        data: RwLock::new(data),
        stats: Arc::default(),
        fault_seq: AtomicU64::new(0),
    });
    let api = Router::new()
        .route("/distis/organizations/details/{org_id}", get(get_details))
        .route("/api/v2/organizations/details/{org_id}", get(get_details))
        .route("/distis/organizations/details", axum::routing::post(post_details))
        .route("/api/v2/organizations/details", axum::routing::post(post_details))
        .route("/__mock/orgs", get(list_orgs))
        .route("/__mock/stats", get(stats))
        .route("/__mock/requests", get(recent_requests))
        .route("/__mock/mutate", axum::routing::post(mutate))
        .route("/__mock/drift", axum::routing::post(set_drift))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(refuse_long_urls));
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-referer"),
            header::HeaderName::from_static("ocp-apim-subscription-key"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    (api.layer(cors), state)
}

/// The longest request target accepted, as gateways cap it (hyper's own cap, ~64 KiB,
/// answers with an empty 414 that is not the API's error shape).
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// The largest POST body read: 1000 UUIDs in JSON are ~40 KB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

async fn refuse_long_urls(request: Request, next: axum::middleware::Next) -> Response {
    let len = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URL_BYTES {
        return ApiError::new(StatusCode::URI_TOO_LONG, format!("The request URL is longer than {MAX_URL_BYTES} bytes.")).into_response();
    }
    next.run(request).await
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "Resource not found.").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed for this resource.").into_response()
}

async fn get_details(
    State(state): State<SharedState>,
    org_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let guard = InFlight::new(&state.stats);
    // A segment that is not UTF-8 once percent-decoded: axum's own answer is text/plain.
    let org_id = org_id.map(|Path(id)| id);
    // The path as sent (still percent-encoded), so tests see exactly what a client asked for.
    log_request(&state, "GET", uri.path(), query.as_deref(), &headers, None);
    let result = async {
        gateway::admit(&state, &headers)?;
        let org_id = org_id.map_err(|_| ApiError::bad_request("The organization ID in the path is not valid UTF-8."))?;
        let params = params::parse(query.as_deref()).map_err(ApiError::bad_request)?;
        check_uuid(&org_id)?;
        let data = state.data.read().unwrap();
        let org = data.org(&org_id).ok_or_else(|| unknown_org(&org_id))?;
        let list = data.customers_of(org, params.include_child_organizations);
        Ok::<_, ApiError>((params, vec![list]))
    }
    .await;
    let drift = result.as_ref().ok().map(|(params, lists)| (*params, lists[0].clone()));
    let response = respond(&state, result, guard).await;
    if let Some((params, list)) = drift {
        apply_drift(&state, &params, &list);
    }
    response
}

async fn post_details(State(state): State<SharedState>, RawQuery(query): RawQuery, headers: HeaderMap, body: axum::body::Body) -> Response {
    let guard = InFlight::new(&state.stats);
    // Credentials first, then the body: an unauthenticated caller cannot make the gateway
    // buffer anything, and a body over the limit is the API's 413, not axum's text/plain.
    let body = match gateway::admit(&state, &headers) {
        Ok(()) => read_body(body).await,
        Err(e) => {
            // Read (and drop) what the client is still sending, so it gets to read this answer
            // instead of EPIPE on a connection closed under its upload.
            drain(body, 0).await;
            Err(e)
        }
    };
    let text = body.as_ref().ok().map(|b: &Bytes| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned());
    log_request(&state, "POST", "/distis/organizations/details", query.as_deref(), &headers, text);
    let result = async {
        let body = body?;
        let params = params::parse(query.as_deref()).map_err(ApiError::bad_request)?;
        let ids = parse_id_list(&body, state.config.max_ids)?;
        let data = state.data.read().unwrap();
        let mut platform = None;
        let mut lists = Vec::with_capacity(ids.len());
        for id in &ids {
            let org = data.org(id).ok_or_else(|| unknown_org(id))?;
            match platform {
                None => platform = Some((org.platform, id)),
                Some((p, first)) if p != org.platform => {
                    return Err(ApiError::bad_request(format!(
                        "Mixed Platform Data: organizations {first} and {id} belong to different platforms; \
                         a single request cannot include customers from different platforms."
                    )))
                }
                Some(_) => {}
            }
            lists.push(data.customers_of(org, params.include_child_organizations));
        }
        Ok((params, lists))
    }
    .await;
    respond(&state, result, guard).await
}

/// At most this much of a request body is read and dropped before an error answer, so the
/// client can finish sending and read it; beyond it the connection is closed.
const MAX_DRAIN_BYTES: usize = 256 << 20;

/// The POST body, up to [`MAX_BODY_BYTES`]; a larger one is read to its end (dropped, up to
/// [`MAX_DRAIN_BYTES`]) and is a 413.
async fn read_body(body: axum::body::Body) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map(|f| f.into_data().unwrap_or_default()) else { break };
        if kept.len() + data.len() > MAX_BODY_BYTES {
            drain(body, kept.len() + data.len()).await;
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The request body is larger than {MAX_BODY_BYTES} bytes.")));
        }
        kept.extend_from_slice(&data);
    }
    Ok(Bytes::from(kept))
}

/// Read the rest of `body` and drop it (`seen` bytes were read already), up to [`MAX_DRAIN_BYTES`].
async fn drain(mut body: axum::body::Body, mut seen: usize) {
    use http_body_util::BodyExt;
    while seen <= MAX_DRAIN_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}

fn log_request(state: &AppState, method: &str, path: &str, query: Option<&str>, headers: &HeaderMap, body: Option<String>) {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    state.stats.log(RequestLog {
        method: method.into(),
        path_and_query: match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        },
        x_referer: text("x-referer"),
        origin: text("origin"),
        has_authorization: headers.contains_key("authorization"),
        has_subscription_key: headers.contains_key("ocp-apim-subscription-key"),
        body,
    });
}

/// `GET /__mock/requests`: the last API requests (oldest first).
async fn recent_requests(State(state): State<SharedState>) -> Response {
    let list: Vec<RequestLog> = state.stats.recent.lock().unwrap().iter().cloned().collect();
    Json(list).into_response()
}

fn check_uuid(id: &str) -> Result<(), ApiError> {
    let ok = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("'{}' is not a valid organization ID (a UUID).", truncate(id, 80))))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn unknown_org(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("Organization {id} was not found."))
}

/// The POST body: a non-empty JSON array of distinct-or-not organization UUIDs.
fn parse_id_list(body: &[u8], max: usize) -> Result<Vec<String>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}.")))?;
    let items = value.as_array().ok_or_else(|| ApiError::bad_request("The request body must be a JSON array of organization IDs."))?;
    if items.is_empty() {
        return Err(ApiError::bad_request("The request body must list at least one organization ID."));
    }
    if items.len() > max {
        return Err(ApiError::bad_request(format!("The request body lists {} organization IDs; at most {max} are allowed.", items.len())));
    }
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let id = item
            .as_str()
            .ok_or_else(|| ApiError::bad_request(format!("Item {i} of the request body is not a string; organization IDs are strings.")))?;
        check_uuid(id)?;
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// Filter, page and stream the selected customers (or the error).
async fn respond(state: &SharedState, result: Result<(params::Params, Vec<Vec<u32>>), ApiError>, guard: InFlight) -> Response {
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    if state.config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(state.config.latency_ms)).await;
    }
    let (params, lists) = match result {
        Ok(ok) => ok,
        Err(e) => {
            state.stats.count_status(e.status);
            return e.into_response();
        }
    };
    let records: Vec<Arc<data::Customer>> = {
        let data = state.data.read().unwrap();
        let (page, _) = select_page(&data, &params, &lists);
        page.iter().map(|&slot| data.customers[slot as usize].clone()).collect()
    };
    let sections = params.sections;
    let record_ends: Vec<u64> = {
        let mut at = 1u64; // after '['
        records
            .iter()
            .enumerate()
            .map(|(i, c)| {
                at += (i > 0) as u64 + c.json_len(sections) as u64;
                at
            })
            .collect()
    };
    let body_len = record_ends.last().copied().unwrap_or(1) + 1;

    let seq = state.fault_seq.fetch_add(1, Ordering::SeqCst);
    let fault = faults::decide(state.config.seed, state.config.chaos, seq, body_len, &record_ends);
    let mut cut = None;
    if let Some(f) = &fault {
        state.stats.count_fault(f);
        let retry_after = 1; // seconds: short, so chaos runs stay quick
        match *f {
            Fault::RateLimited => {
                return finish_error(state, ApiError::rate_limited(retry_after, "Rate limit is exceeded. Try again later."))
            }
            Fault::InternalError => return finish_error(state, ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")),
            Fault::BadGateway => {
                return finish_error(state, ApiError::new(StatusCode::BAD_GATEWAY, "Bad gateway: the backend did not answer."))
            }
            Fault::Unavailable => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable.");
                e.retry_after = Some(retry_after);
                return finish_error(state, e);
            }
            Fault::DroppedConnection { offset } => cut = Some(body::Cut::Drop(offset)),
            Fault::Truncated { offset } => cut = Some(body::Cut::End(offset)),
            Fault::Slow { delay_ms } => tokio::time::sleep(Duration::from_millis(delay_ms)).await,
        }
    }
    state.stats.count_status(StatusCode::OK);
    if cut.is_none() {
        state.stats.customers_served.fetch_add(records.len() as u64, Ordering::Relaxed);
    }
    let stream = body::customer_stream(state.clone(), records, sections, cut, guard);
    let mut response = Response::new(axum::body::Body::from_stream(stream));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn finish_error(state: &SharedState, e: ApiError) -> Response {
    state.stats.count_status(e.status);
    e.into_response()
}

/// The page's customer slots: the union of the lists in order (first occurrence wins),
/// filtered by status, then the `page`-th slice of `page_size`; and where in that union the
/// page ends.
fn select_page(data: &DataSet, params: &params::Params, lists: &[Vec<u32>]) -> (Vec<u32>, usize) {
    let skip = (params.page as u64 - 1) * params.page_size as u64;
    let take = params.page_size as usize;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(take.min(10_000));
    let mut matched = 0u64;
    let mut position = 0;
    for &slot in lists.iter().flatten() {
        if lists.len() > 1 && !seen.insert(slot) {
            continue;
        }
        position += 1;
        if params.customer_status.is_some_and(|s| data.customers[slot as usize].status != s) {
            continue;
        }
        if matched >= skip {
            out.push(slot);
            if out.len() == take {
                break;
            }
        }
        matched += 1;
    }
    (out, position)
}

/// Drift after a GET page (see [`Drift`]): changes at random places of `list` before the
/// end of the page just served.
fn apply_drift(state: &SharedState, params: &params::Params, list: &[u32]) {
    let mut drift = state.drift.lock().unwrap();
    let (d, rng) = &mut *drift;
    if *d == Drift::default() {
        return;
    }
    let mut data = state.data.write().unwrap();
    let (_, covered) = select_page(&data, params, &[list.to_vec()]);
    let mut covered: Vec<u32> = list[..covered].to_vec();
    if covered.is_empty() {
        return;
    }
    for _ in 0..d.insert {
        let before = covered[rng.below(covered.len() as u64) as usize];
        let (owner, at) = data.place(before);
        data.insert(rng, owner, at);
    }
    for _ in 0..d.remove.min(covered.len()) {
        let slot = covered.swap_remove(rng.below(covered.len() as u64) as usize);
        data.remove(slot);
    }
    for _ in 0..d.change.min(covered.len()) {
        let k = rng.below(covered.len() as u64) as usize;
        covered[k] = data.change_slot(covered[k]);
    }
}

/// `POST /__mock/mutate` (no auth, a test helper): `{"seed","add","remove","change","under"}`
/// → `{"added","removed","changed"}` (IDs).
async fn mutate(State(state): State<SharedState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ask {
        #[serde(default)]
        seed: u64,
        #[serde(default)]
        add: usize,
        #[serde(default)]
        remove: usize,
        #[serde(default)]
        change: usize,
        under: Option<String>,
    }
    let ask: Ask = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return ApiError::bad_request(format!("The mutation is not valid: {e}.")).into_response(),
    };
    let mut data = state.data.write().unwrap();
    let under = match ask.under.as_deref().map(|id| data.org_index(id).ok_or_else(|| unknown_org(id))) {
        Some(Err(e)) => return e.into_response(),
        Some(Ok(o)) => Some(o),
        None => None,
    };
    Json(data.mutate(ask.seed, ask.add, ask.remove, ask.change, under)).into_response()
}

/// `POST /__mock/drift` (no auth): `{"insert","remove","change"}`; `{}` stops it.
async fn set_drift(State(state): State<SharedState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Drift>(&body) {
        Ok(d) => {
            state.drift.lock().unwrap().0 = d;
            Json(serde_json::json!({ "insert": d.insert, "remove": d.remove, "change": d.change })).into_response()
        }
        Err(e) => ApiError::bad_request(format!("The drift is not valid: {e}.")).into_response(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgView<'a> {
    id: &'a str,
    name: &'a str,
    kind: OrgKind,
    parent_id: Option<&'a str>,
    platform_url: &'a str,
    /// Customers in the whole subtree.
    customer_count: usize,
    /// Customers owned directly.
    direct_customer_count: usize,
}

/// `GET /__mock/orgs`: distributors and resellers (customers are left out: there are
/// thousands), so tests, the demo and benchmarks pick IDs without hard-coding them.
async fn list_orgs(State(state): State<SharedState>) -> Response {
    let d = state.data.read().unwrap();
    let orgs: Vec<OrgView> = d
        .orgs
        .iter()
        .filter(|o| o.kind != OrgKind::Customer)
        .map(|o| OrgView {
            id: &o.id,
            name: &o.name,
            kind: o.kind,
            parent_id: o.parent.map(|p| d.orgs[p].id.as_str()),
            platform_url: &d.platforms[o.platform].url,
            customer_count: d.customers_of(o, true).len(),
            direct_customer_count: o.direct.len(),
        })
        .collect();
    Json(serde_json::json!({
        "platforms": d.platforms.iter().map(|p| serde_json::json!({"name": p.name, "url": p.url})).collect::<Vec<_>>(),
        "customerCount": d.all_customers().len(),
        "orgs": orgs,
    }))
    .into_response()
}

/// `GET /__mock/stats`: the server's own counters.
async fn stats(State(state): State<SharedState>) -> Response {
    let s = &state.stats;
    Json(serde_json::json!({
        "requests": s.requests.load(Ordering::SeqCst),
        "inFlight": s.in_flight.load(Ordering::SeqCst),
        "customersServed": s.customers_served.load(Ordering::SeqCst),
        "bytesServed": s.bytes_served.load(Ordering::SeqCst),
        "idleCuts": s.idle_cuts.load(Ordering::SeqCst),
        "byStatus": s.by_status.lock().unwrap().clone(),
        "faults": s.by_fault.lock().unwrap().clone(),
    }))
    .into_response()
}

/// Serve `router` on `listener` like `axum::serve`, plus what a gateway does and axum::serve
/// does not: a client that has not sent its whole request head within `header_timeout` is
/// disconnected (hyper's header read timeout needs a timer, which axum::serve never sets).
pub async fn serve(listener: tokio::net::TcpListener, router: Router, header_timeout: Duration) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let _ = builder.serve_connection(TokioIo::new(conn::JsonHttpErrors::new(stream)), service).await;
        });
    }
}
