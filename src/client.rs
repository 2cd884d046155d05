//! The Rust client for wasm apps (workers-rs, Leptos, Yew): the same pager the npm package
//! uses, as a `futures::Stream` of typed [`Customer`]s.

use std::rc::Rc;

use futures_core::Stream;
use futures_util::StreamExt;
use js_sys::Function;
use web_sys::AbortSignal;

use crate::call::{self, PreparedCall};
use crate::cursor::Cursor;
use crate::error::Error;
use crate::model::Customer;
use crate::pager::{ClientConfig, EventSink, RunOptions, Target};
use crate::query::{check_base_url, check_header, CustomerQuery};
use crate::secrets::{is_credential_header, Secrets};
use crate::stream::{cursor_customers, cursor_pages, ChangeStream, CustomerPage};
use crate::sync::SyncRun;
use crate::transport::fetch::{page_origin, FetchTransport, TokenSource};

/// Settings of a [`Client`].
/// # Examples
///
/// ```ignore
/// use appxite_customers::{Client, ClientOptions, CustomerQuery};
/// use futures_util::StreamExt;
///
/// let client = Client::new(ClientOptions {
///     referer: "https://portal.example".into(),
///     token: "…".into(),
///     ..Default::default()
/// })?;
/// let mut customers = Box::pin(client.customers("e99ff867-…", CustomerQuery::everything()));
/// while let Some(customer) = customers.next().await {
///     println!("{}", customer?.customer_id);
/// }
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    /// API root. Default `https://api.appxite.com`.
    pub base_url: String,
    /// Sent as `X-Referer`: your platform URL. Empty: the page's origin, where there is a
    /// page; elsewhere (Workers, Node) an empty referer is `MissingReferer`.
    pub referer: String,
    /// Where the bearer token comes from: `TokenSource::None` (default), a fixed token
    /// (`"…".into()`), or a JS function called before each request.
    pub token: TokenSource,
    /// `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Names of `headers` whose values are secret besides the standard credential headers
    /// (`Authorization`, `Proxy-Authorization`, `Cookie`, `Ocp-Apim-Subscription-Key`):
    /// scrubbed from every message, and never sent over plain http except to loopback.
    pub secret_headers: Vec<String>,
    /// Retries, timeouts, batch size.
    pub run: RunOptions,
    /// Receives events.
    pub on_event: Option<EventSink>,
    /// The `fetch` to call. `None`: the runtime's global `fetch`.
    pub fetch: Option<Function>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: "https://api.appxite.com".into(),
            referer: String::new(),
            token: TokenSource::None,
            subscription_key: None,
            headers: vec![],
            secret_headers: vec![],
            run: RunOptions::default(),
            on_event: None,
            fetch: None,
        }
    }
}

/// IDs without repeats (ignoring ASCII case), each where it first appears. A JS `Set` rather
/// than a Rust hash set or a sort: those cost the wasm ~2 KB gzip. Nor the run's own
/// de-duplication table (`record::SeenIds`, 64-bit keys): measured, it made the package
/// bigger (73,984 → 74,580 B gzip), and a `Set` of the IDs themselves is exact.
pub(crate) fn unique_ids(ids: impl Iterator<Item = String>) -> Vec<String> {
    let seen = js_sys::Set::new(&wasm_bindgen::JsValue::UNDEFINED);
    ids.filter(|id| {
        let key = wasm_bindgen::JsValue::from(id.to_ascii_lowercase());
        let new = !seen.has(&key);
        seen.add(&key);
        new
    })
    .collect()
}

/// A client of the GET All Customers endpoint.
/// On `wasm32` (browsers, Workers, Node); the examples are not run by the host tests.
///
/// # Examples
///
/// ```ignore
/// use appxite_customers::{Client, ClientOptions, CustomerQuery};
/// use futures_util::StreamExt;
///
/// let client = Client::new(ClientOptions {
///     referer: "https://portal.example".into(),
///     token: "…".into(),
///     ..Default::default()
/// })?;
/// let mut customers = Box::pin(client.customers("e99ff867-…", CustomerQuery::everything()));
/// while let Some(customer) = customers.next().await {
///     println!("{}", customer?.customer_id);
/// }
///
/// // A sync: the changes since the last one, then the snapshot to store.
/// let stored: Option<Vec<u8>> = load_snapshot();
/// let mut changes = Box::pin(client.sync("e99ff867-…", CustomerQuery::default(), stored.as_deref())?);
/// while let Some(change) = changes.next().await {
///     apply(change?);
/// }
/// save_snapshot(changes.snapshot());
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) config: Rc<ClientConfig>,
    pub(crate) token: TokenSource,
    pub(crate) fetch: Function,
}

impl Client {
    /// Check every option once and build a client. Nothing is sent until a run starts.
    pub fn new(o: ClientOptions) -> Result<Client, Error> {
        let mut o = o;
        let fetch = match o.fetch.take() {
            Some(f) => f,
            None => FetchTransport::global_fetch().ok_or_else(|| Error::InvalidArgument("this runtime has no global fetch".into()))?,
        };
        let token = std::mem::replace(&mut o.token, TokenSource::None);
        if let TokenSource::Static(t) = &token {
            if t.is_empty() {
                return Err(Error::InvalidArgument("token must be a non-empty string or a function returning one".into()));
            }
        }
        o.run.validate()?;
        if o.referer.trim().is_empty() {
            o.referer = page_origin().ok_or(Error::MissingReferer)?;
        }
        // Every header value is checked now, not at the first request.
        check_header("referer", "X-Referer", &o.referer)?;
        if let TokenSource::Static(t) = &token {
            check_header("token", "Authorization", t)?;
        }
        if let Some(k) = &o.subscription_key {
            check_header("subscriptionKey", "Ocp-Apim-Subscription-Key", k)?;
        }
        for (name, value) in &o.headers {
            check_header("headers", name, value)?;
        }
        // Credentials passed through `headers` are credentials too: same plain-http rule,
        // same scrubbing.
        let credential_headers = o.headers.iter().any(|(name, _)| is_credential_header(name, &o.secret_headers));
        let sends_credentials = !matches!(token, TokenSource::None) || o.subscription_key.is_some() || credential_headers;
        let base_url = check_base_url(&o.base_url, Some(&runtime_hostname(&o.base_url)?), sends_credentials)?;
        let fixed_token = match &token {
            TokenSource::Static(t) => Some(t.as_str()),
            _ => None,
        };
        let secrets = Secrets::of_client(fixed_token, o.subscription_key.as_deref(), &o.headers, &o.secret_headers);
        let config = ClientConfig {
            base_url,
            referer: o.referer,
            subscription_key: o.subscription_key,
            headers: o.headers,
            run: o.run,
            on_event: o.on_event,
            secrets,
        };
        Ok(Client { config: Rc::new(config), token, fetch })
    }

    /// Start a prepared call ([`call::start`]) over `fetch`, spawning concurrent batches' pump
    /// on the JS event loop.
    pub(crate) fn start(&self, call: &PreparedCall, signal: Option<AbortSignal>) -> (Cursor<FetchTransport>, FetchTransport) {
        let transport = self.transport(signal);
        let cursor = call::start(transport.clone(), self.config.clone(), call, js_sys::Date::now(), wasm_bindgen_futures::spawn_local);
        (cursor, transport)
    }

    /// A transport for one run; `signal` cancels it.
    pub(crate) fn transport(&self, signal: Option<AbortSignal>) -> FetchTransport {
        FetchTransport::new(self.fetch.clone(), self.token.clone(), signal, self.config.secrets.clone())
    }

    /// Every customer of `org_id` (a distributor, reseller or customer ID), page after page.
    pub fn customers(&self, org_id: &str, query: CustomerQuery) -> impl Stream<Item = Result<Customer, Error>> {
        self.customer_stream(Target::Org(org_id.to_string()), query, None, 1)
    }

    /// Every customer of these organization IDs (POST, in batches of `run.batch_size`, one
    /// batch at a time).
    pub fn customers_by_ids(&self, ids: &[String], query: CustomerQuery) -> impl Stream<Item = Result<Customer, Error>> {
        self.customers_by_ids_concurrently(ids, query, 1)
    }

    /// [`customers_by_ids`](Self::customers_by_ids) with up to `concurrency` batches fetched
    /// at once (1 to 16; JS's default is 4), still handed out in input order.
    pub fn customers_by_ids_concurrently(
        &self,
        ids: &[String],
        query: CustomerQuery,
        concurrency: usize,
    ) -> impl Stream<Item = Result<Customer, Error>> {
        self.customer_stream(Target::Ids(vec![unique_ids(ids.iter().cloned())]), query, None, concurrency)
    }

    /// The pages of `org_id`, each whole with the token that resumes after it; with
    /// `continuation_token`, from the page after the one that gave it (same organization and
    /// query, no `page`: else `InvalidArgument`). Like JS's `customers(orgId).byPage()`.
    pub fn pages(
        &self,
        org_id: &str,
        query: CustomerQuery,
        continuation_token: Option<&str>,
    ) -> impl Stream<Item = Result<CustomerPage, Error>> {
        let page_size = query.effective_page_size();
        match call::prepare(Target::Org(org_id.to_string()), query, self.config.run, continuation_token, 1) {
            Ok(call) => cursor_pages(self.start(&call, None).0, page_size).left_stream(),
            Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
        }
    }

    /// Up to `limit` customers of `org_id` (all without one) in a `Vec`; nothing is fetched
    /// past the page that reaches the limit. Like JS's `toArray({ limit })`.
    pub async fn customers_to_vec(&self, org_id: &str, query: CustomerQuery, limit: Option<usize>) -> Result<Vec<Customer>, Error> {
        let mut stream = Box::pin(self.customers(org_id, query).take(limit.unwrap_or(usize::MAX)));
        let mut out = Vec::new();
        while let Some(c) = stream.next().await {
            out.push(c?);
        }
        Ok(out)
    }

    /// What changed under `org_id` since `snapshot` (every customer is `Added` without one):
    /// a `Stream` of [`crate::CustomerChange`]s, then [`ChangeStream::snapshot`] to store for
    /// the next sync. A snapshot of another organization or query, or damaged bytes, are
    /// `InvalidArgument` here, before any request.
    pub fn sync(&self, org_id: &str, query: CustomerQuery, snapshot: Option<&[u8]>) -> Result<ChangeStream<FetchTransport>, Error> {
        let run = self.sync_run(org_id, query, self.config.run, snapshot, None)?;
        Ok(ChangeStream::new(run))
    }

    /// A checked sync run (the Rust API and the JS `sync`). `page` is refused: a sync always
    /// covers every page.
    pub(crate) fn sync_run(
        &self,
        org_id: &str,
        query: CustomerQuery,
        options: RunOptions,
        snapshot: Option<&[u8]>,
        signal: Option<AbortSignal>,
    ) -> Result<SyncRun<FetchTransport>, Error> {
        if query.page.is_some() {
            return Err(Error::InvalidArgument("sync always reads every page: leave out `page`".into()));
        }
        let call::CheckedRun { query, options, .. } = call::check(Target::Org(org_id.to_string()), query, options)?;
        SyncRun::new(self.transport(signal), self.config.clone(), options, org_id, query, snapshot)
    }

    fn customer_stream(
        &self,
        target: Target,
        query: CustomerQuery,
        token: Option<&str>,
        concurrency: usize,
    ) -> impl Stream<Item = Result<Customer, Error>> {
        match call::prepare(target, query, self.config.run, token, concurrency) {
            Ok(call) => cursor_customers(self.start(&call, None).0).left_stream(),
            Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
        }
    }
}

/// The host a request to `base` really goes to, as the runtime's WHATWG `URL` parses it.
fn runtime_hostname(base: &str) -> Result<String, Error> {
    web_sys::Url::new(base.trim())
        .map(|u| u.hostname())
        .map_err(|_| Error::InvalidArgument(format!("baseUrl must be an absolute http(s) URL, got '{}'", base.trim())))
}
