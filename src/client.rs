//! The Rust client for wasm apps (workers-rs, Leptos, Yew): the same pager the npm package
//! uses, as a `futures::Stream` of typed [`Customer`]s.

use std::rc::Rc;

use futures_core::Stream;
use futures_util::StreamExt;
use js_sys::Function;
use web_sys::AbortSignal;

use crate::error::Error;
use crate::model::Customer;
use crate::pager::{ClientConfig, EventSink, PageRun, RunOptions, Target};
use crate::query::{check_base_url, check_header, is_credential_header, validate_org_id, CustomerQuery};
use crate::stream::customer_stream;
use crate::transport::fetch::{page_origin, FetchTransport, TokenSource};

/// Settings of a [`Client`].
#[derive(Clone)]
pub struct ClientOptions {
    /// API root. Default `https://api.appxite.com`.
    pub base_url: String,
    /// Sent as `X-Referer`: your platform URL. Empty: the page's origin, where there is a
    /// page; elsewhere (Workers, Node) an empty referer is `MissingReferer`.
    pub referer: String,
    /// Bearer token.
    pub token: Option<String>,
    /// `Ocp-Apim-Subscription-Key`.
    pub subscription_key: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Retries, timeouts, batch size.
    pub run: RunOptions,
    /// Receives events.
    pub on_event: Option<EventSink>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: "https://api.appxite.com".into(),
            referer: String::new(),
            token: None,
            subscription_key: None,
            headers: vec![],
            run: RunOptions::default(),
            on_event: None,
        }
    }
}

/// A client of the GET All Customers endpoint.
#[derive(Clone)]
pub struct Client {
    pub(crate) config: Rc<ClientConfig>,
    pub(crate) token: TokenSource,
    pub(crate) fetch: Function,
    pub(crate) secrets: Rc<Vec<String>>,
}

impl Client {
    /// Check the options and build a client that uses the runtime's global `fetch`.
    pub fn new(o: ClientOptions) -> Result<Client, Error> {
        let token = match o.token.clone() {
            Some(t) => TokenSource::Static(t),
            None => TokenSource::None,
        };
        let fetch = FetchTransport::global_fetch()
            .ok_or_else(|| Error::InvalidArgument("this runtime has no global fetch".into()))?;
        Client::from_parts(o, token, fetch)
    }

    pub(crate) fn from_parts(o: ClientOptions, token: TokenSource, fetch: Function) -> Result<Client, Error> {
        let mut o = o;
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
        let header_secrets = o.headers.iter().filter(|(name, _)| is_credential_header(name)).map(|(_, v)| v.clone());
        let mut secrets: Vec<String> = header_secrets.collect();
        let sends_credentials = !matches!(token, TokenSource::None) || o.subscription_key.is_some() || !secrets.is_empty();
        let base_url = check_base_url(&o.base_url, Some(&runtime_hostname(&o.base_url)?), sends_credentials)?;
        if let TokenSource::Static(t) = &token {
            secrets.push(t.clone());
        }
        secrets.extend(o.subscription_key.clone());
        let config = ClientConfig {
            base_url,
            referer: o.referer,
            subscription_key: o.subscription_key,
            headers: o.headers,
            run: o.run,
            on_event: o.on_event,
        };
        Ok(Client { config: Rc::new(config), token, fetch, secrets: Rc::new(secrets) })
    }

    /// Check a query, its organization IDs and the run settings before anything is sent.
    pub(crate) fn validate(target: &Target, query: &CustomerQuery) -> Result<(), Error> {
        query.validate()?;
        match target {
            Target::Org(id) => validate_org_id(id),
            Target::Ids(batches) => batches.iter().flatten().try_for_each(|id| validate_org_id(id)),
        }
    }

    /// A transport for one run; `signal` cancels it.
    pub(crate) fn transport(&self, signal: Option<AbortSignal>) -> FetchTransport {
        FetchTransport::new(self.fetch.clone(), self.token.clone(), signal, self.secrets.clone())
    }

    /// A run over every page (validated). `signal` cancels it.
    pub(crate) fn run(
        &self,
        target: Target,
        query: CustomerQuery,
        options: RunOptions,
        signal: Option<AbortSignal>,
    ) -> Result<PageRun<FetchTransport>, Error> {
        Self::validate(&target, &query)?;
        Ok(PageRun::new(self.transport(signal), self.config.clone(), options, target, query))
    }

    /// Every customer of `org_id` (a distributor, reseller or customer ID), page after page.
    pub fn customers(&self, org_id: &str, query: CustomerQuery) -> impl Stream<Item = Result<Customer, Error>> {
        let run = self.run(Target::Org(org_id.to_string()), query, self.config.run, None);
        Self::stream_or_error(run)
    }

    /// Every customer of these organization IDs (POST, in batches of `run.batch_size`).
    pub fn customers_by_ids(&self, ids: &[String], query: CustomerQuery) -> impl Stream<Item = Result<Customer, Error>> {
        let run = self.run(Target::ids(ids, self.config.run.batch_size), query, self.config.run, None);
        Self::stream_or_error(run)
    }

    fn stream_or_error(run: Result<PageRun<FetchTransport>, Error>) -> impl Stream<Item = Result<Customer, Error>> {
        match run {
            Ok(run) => customer_stream(run).left_stream(),
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
