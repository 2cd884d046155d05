//! `AppxiteClient`, the package's entry point.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::errors::{invalid, to_js};
use super::options::{self, RUN_KEYS};
use super::pager::{CustomerPager, JsSyncRun, PagerSpec};
use crate::call::DEFAULT_CONCURRENCY;
use crate::client::{unique_ids, Client, ClientOptions};
use crate::pager::{AppxiteEvent, RunOptions, Target};
use crate::query::CustomerQuery;
use crate::snapshot::Snapshot;
use crate::transport::fetch::TokenSource;

const CLIENT_KEYS: &[&str] = &["baseUrl", "referer", "token", "subscriptionKey", "headers", "secretHeaders", "fetch", "onEvent"];
const CALL_KEYS: &[&str] = &["signal", "concurrency", "continuationToken"];
const SYNC_KEYS: &[&str] = &["signal", "snapshot"];

/// A client of Appxite's "GET All Customers" endpoint. See `AppxiteClientOptions`.
/// @example
/// ```js
/// import { AppxiteClient } from "appxite-customers";
///
/// const client = new AppxiteClient({ referer: "https://portal.example.com", token: () => getToken() });
/// for await (const customer of client.customers(orgId, { includeTenants: true })) {
///   console.log(customer.customerName);
/// }
/// ```
#[wasm_bindgen]
pub struct AppxiteClient {
    client: Client,
}

#[wasm_bindgen]
impl AppxiteClient {
    /// Check the options and make a client. Throws `AppxiteError` (`INVALID_ARGUMENT`,
    /// `MISSING_REFERER`) — nothing is sent until a pager is iterated.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "AppxiteClientOptions")] options: Option<JsValue>) -> Result<AppxiteClient, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let o = options::object(&options, "AppxiteClient options", &[CLIENT_KEYS, RUN_KEYS])?;
        let token = match options::get(&o, "token")? {
            None => TokenSource::None,
            Some(v) if v.is_function() => TokenSource::Function(v.into()),
            Some(v) => match v.as_string() {
                Some(t) => TokenSource::Static(t),
                None => return Err(invalid("token must be a non-empty string or a function returning one")),
            },
        };
        // None: the page's origin, or MISSING_REFERER (Client::new).
        let referer = options::string(&o, "referer")?.unwrap_or_default();
        let mut headers = vec![];
        if let Some(h) = options::get(&o, "headers")? {
            if !h.is_object() || options::is_array(&h, "headers")? || h.is_function() {
                return Err(invalid("headers must be an object of strings"));
            }
            let h: Object = h.unchecked_into();
            for k in options::keys(&h, "headers")? {
                let v = options::get(&h, &k)?.and_then(|v| v.as_string());
                let v = v.ok_or_else(|| invalid(format!("header '{k}' must be a string")))?;
                headers.push((k, v));
            }
        }
        let mut secret_headers = vec![];
        if let Some(list) = options::get(&o, "secretHeaders")? {
            if !options::is_array(&list, "secretHeaders")? {
                return Err(invalid("secretHeaders must be an array of header names"));
            }
            for v in options::array_copy(&list, "secretHeaders")?.iter() {
                secret_headers.push(v.as_string().ok_or_else(|| invalid("secretHeaders must be an array of header names"))?);
            }
        }
        let on_event = options::function(&o, "onEvent")?.map(|f| {
            std::rc::Rc::new(move |e: &AppxiteEvent| {
                // A throwing listener must not break the run.
                let _ = f.call1(&JsValue::UNDEFINED, &event_object(e));
            }) as crate::pager::EventSink
        });
        let opts = ClientOptions {
            base_url: options::string(&o, "baseUrl")?.unwrap_or_else(|| ClientOptions::default().base_url),
            referer,
            token,
            subscription_key: options::string(&o, "subscriptionKey")?.filter(|k| !k.is_empty()),
            headers,
            secret_headers,
            run: options::run_options(&o, RunOptions::default())?,
            on_event,
            fetch: options::function(&o, "fetch")?,
        };
        // Every check of the client's options happens once, in Client::new.
        let client = Client::new(opts).map_err(|e| to_js(&e, None))?;
        Ok(AppxiteClient { client })
    }

    /// Every customer of `orgId` (distributor, reseller or customer), across all pages.
    /// Iterate with `for await`; `byPage()` for pages; `toArray({ limit })` to collect.
    pub fn customers(
        &self,
        #[wasm_bindgen(js_name = orgId, unchecked_param_type = "string")] org_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CustomersOptions")] options: Option<JsValue>,
    ) -> Result<CustomerPager, JsValue> {
        let org = org_id_arg(&org_id)?;
        self.pager(Target::Org(org), &options.unwrap_or(JsValue::UNDEFINED))
    }

    /// Every customer of these organization IDs (the POST variant), sent in batches of
    /// `batchSize` (default 100) IDs, yielded in input order; a repeated ID is sent once.
    #[wasm_bindgen(js_name = customersByIds)]
    pub fn customers_by_ids(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] ids: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CustomersOptions")] options: Option<JsValue>,
    ) -> Result<CustomerPager, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        if !options::is_array(&ids, "ids")? {
            return Err(invalid("ids must be an array of organization ID strings"));
        }
        let list = options::array_copy(&ids, "ids")?;
        if list.length() == 0 {
            return Err(invalid("ids must not be empty"));
        }
        let mut ids = Vec::with_capacity(list.length() as usize);
        for (i, v) in list.iter().enumerate() {
            match v.as_string() {
                Some(s) if !s.trim().is_empty() => ids.push(s),
                _ => return Err(invalid(format!("ids[{i}] must be a non-empty string"))),
            }
        }
        // A repeated ID (ignoring ASCII case) is sent once, where it first appears. Batches
        // are cut in `pager` once the per-call batchSize is known.
        self.pager(Target::Ids(vec![unique_ids(ids.into_iter())]), &options)
    }

    /// Exactly one page (`page`, default 1) as a `CustomerPage`.
    #[wasm_bindgen(js_name = customersPage, unchecked_return_type = "Promise<CustomerPage>")]
    pub fn customers_page(
        &self,
        #[wasm_bindgen(js_name = orgId, unchecked_param_type = "string")] org_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CustomersOptions")] options: Option<JsValue>,
    ) -> Result<js_sys::Promise, JsValue> {
        let pager = self.customers(org_id, options)?;
        Ok(pager.first_page())
    }

    /// What changed under `orgId` since `snapshot` (every customer is `added` without one).
    /// Iterate the changes with `for await`; store `snapshot` afterwards for the next sync.
    /// A snapshot of another organization or query, or damaged bytes, throw
    /// `INVALID_ARGUMENT` here, before any request.
    #[wasm_bindgen(unchecked_return_type = "SyncRun")]
    pub fn sync(
        &self,
        #[wasm_bindgen(js_name = orgId, unchecked_param_type = "string")] org_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SyncOptions")] options: Option<JsValue>,
    ) -> Result<JsSyncRun, JsValue> {
        let org = org_id_arg(&org_id)?;
        let o = options::object(&options.unwrap_or(JsValue::UNDEFINED), "options", &[CustomerQuery::KEYS, RUN_KEYS, SYNC_KEYS])?;
        let query = options::query(&o)?;
        let run = options::run_options(&o, self.client.config.run)?;
        let signal = options::signal(&o)?;
        let snapshot = match options::get(&o, "snapshot")? {
            None => None,
            Some(v) if v.is_null() => None,
            Some(v) => {
                let binding = crate::snapshot::binding(&org, &query);
                let check = |header: &[u8], len| Snapshot::check_header(header, len, binding).map_err(|e| to_js(&e, None));
                Some(options::snapshot_bytes(&v, check)?)
            }
        };
        let sync = self.client.sync_run(&org, query, run, snapshot.as_deref(), signal).map_err(|e| to_js(&e, None))?;
        Ok(JsSyncRun::new(sync))
    }

    fn pager(&self, target: Target, options: &JsValue) -> Result<CustomerPager, JsValue> {
        let o = options::object(options, "options", &[CustomerQuery::KEYS, RUN_KEYS, CALL_KEYS])?;
        let query = options::query(&o)?;
        let token = options::string(&o, "continuationToken")?;
        let run = options::run_options(&o, self.client.config.run)?;
        let signal = options::signal(&o)?;
        let concurrency = options::whole(&o, "concurrency", 0, u32::MAX as u64)?.map_or(DEFAULT_CONCURRENCY, |n| n as usize);
        // Checked now, in the core, so bad input fails before any request.
        let call = crate::call::prepare(target, query, run, token.as_deref(), concurrency).map_err(|e| to_js(&e, None))?;
        Ok(CustomerPager::new(PagerSpec { client: self.client.clone(), call, signal }))
    }
}

fn org_id_arg(v: &JsValue) -> Result<String, JsValue> {
    match v.as_string() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(invalid("orgId must be a non-empty string")),
    }
}

/// An `AppxiteEvent` as the plain object its TypeScript type declares (built by hand: see
/// `options::run_options` on why not serde-wasm-bindgen).
fn event_object(e: &AppxiteEvent) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &k.into(), &v);
    };
    let opt = |k: &str, v: Option<u32>| {
        if let Some(v) = v {
            let _ = Reflect::set(&o, &k.into(), &v.into());
        }
    };
    match e {
        AppxiteEvent::Request { page, attempt, method, url, batch } => {
            set("type", "request".into());
            set("page", (*page).into());
            set("attempt", (*attempt).into());
            set("method", method.as_str().into());
            set("url", url.as_str().into());
            opt("batch", *batch);
        }
        AppxiteEvent::Response { page, attempt, status, elapsed_ms } => {
            set("type", "response".into());
            set("page", (*page).into());
            set("attempt", (*attempt).into());
            set("status", (*status).into());
            set("elapsedMs", (*elapsed_ms).into());
        }
        AppxiteEvent::Retry { page, attempt, delay_ms, reason, status } => {
            set("type", "retry".into());
            set("page", (*page).into());
            set("attempt", (*attempt).into());
            set("delayMs", (*delay_ms as f64).into());
            set("reason", reason.as_str().into());
            opt("status", status.map(u32::from));
        }
        AppxiteEvent::Page { page, items, elapsed_ms, batch } => {
            set("type", "page".into());
            set("page", (*page).into());
            set("items", (*items as f64).into());
            set("elapsedMs", (*elapsed_ms).into());
            opt("batch", *batch);
        }
    }
    o.into()
}
