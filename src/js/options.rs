//! Reading options objects from JS defensively: unknown keys and wrong types are
//! `INVALID_ARGUMENT` before anything is sent.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::errors::invalid;
use crate::pager::RunOptions;
use crate::model::CustomerStatus;
use crate::query::CustomerQuery;
use crate::retry::{RetryOptions, RetryPolicy};

/// Keys of the run settings accepted both by the client and per call.
pub const RUN_KEYS: &[&str] = &["retry", "timeoutMs", "deadlineMs", "batchSize", "maxRecordBytes", "maxPages"];

/// `undefined`/`null` → an empty object; a non-object → error; unknown keys → error.
pub fn object(v: &JsValue, what: &str, allowed: &[&[&str]]) -> Result<Object, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Object::new());
    }
    if !v.is_object() || js_sys::Array::is_array(v) || v.is_function() {
        return Err(invalid(format!("{what} must be an object")));
    }
    let obj: Object = v.clone().unchecked_into();
    for key in Object::keys(&obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.iter().any(|list| list.contains(&key.as_str())) {
            return Err(invalid(format!("unknown option '{key}' in {what}")));
        }
    }
    Ok(obj)
}

/// The value of `key`, or `None` when undefined.
pub fn get(obj: &Object, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into()).ok().filter(|v| !v.is_undefined())
}

pub fn string(obj: &Object, key: &str) -> Result<Option<String>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.as_string().map(Some).ok_or_else(|| invalid(format!("{key} must be a string"))),
    }
}

pub fn function(obj: &Object, key: &str) -> Result<Option<Function>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.dyn_into::<Function>().map(Some).map_err(|_| invalid(format!("{key} must be a function"))),
    }
}

/// A positive whole number of milliseconds (or items).
pub fn positive(obj: &Object, key: &str) -> Result<Option<u64>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= 9e15 => Ok(Some(n as u64)),
            _ => Err(invalid(format!("{key} must be a positive whole number"))),
        },
    }
}

/// A whole number in `min..=max`.
pub fn whole(obj: &Object, key: &str, min: u64, max: u64) -> Result<Option<u64>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= min as f64 && n <= max as f64 && n.fract() == 0.0 => Ok(Some(n as u64)),
            _ => Err(invalid(format!("{key} must be a whole number from {min} to {max}"))),
        },
    }
}

fn boolean(obj: &Object, key: &str) -> Result<Option<bool>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid(format!("{key} must be true or false"))),
    }
}

/// Run settings over `base` (checked by `Client::new` or `Client::check`). Read by hand rather than through serde-wasm-bindgen: it keeps
/// serde's deserializer and float formatting out of the wasm (the size budget) and gives
/// messages that name the option.
pub fn run_options(obj: &Object, base: RunOptions) -> Result<RunOptions, JsValue> {
    let mut run = base;
    match get(obj, "retry") {
        None => {}
        Some(v) if v.as_bool() == Some(false) => run.retry = RetryPolicy::none(),
        Some(v) if v.as_bool() == Some(true) => run.retry = RetryPolicy::default(),
        Some(v) => {
            let r = object(&v, "retry", &[&["maxRetries", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs", "budget"]])?;
            let ms = |k| whole(&r, k, 0, 86_400_000);
            let o = RetryOptions {
                max_retries: whole(&r, "maxRetries", 0, 100)?.map(|n| n as u32),
                base_delay_ms: ms("baseDelayMs")?.map(|n| n as u32),
                max_delay_ms: ms("maxDelayMs")?.map(|n| n as u32),
                max_retry_after_ms: ms("maxRetryAfterMs")?.map(|n| n as u32),
                budget: whole(&r, "budget", 0, 10_000)?.map(|n| n as u32),
            };
            run.retry = RetryPolicy::from_options(&o);
        }
    }
    if let Some(t) = positive(obj, "timeoutMs")? {
        run.timeout_ms = Some(t);
    }
    if let Some(d) = positive(obj, "deadlineMs")? {
        run.deadline_ms = Some(d);
    }
    if let Some(b) = whole(obj, "batchSize", 1, 1000)? {
        run.batch_size = b as usize;
    }
    if let Some(m) = positive(obj, "maxRecordBytes")? {
        run.max_record_bytes = usize::try_from(m).unwrap_or(usize::MAX);
    }
    if let Some(p) = whole(obj, "maxPages", 1, u32::MAX as u64)? {
        run.max_pages = Some(p as u32);
    }
    Ok(run)
}

/// The query part of a call's options (checked by `Client::check`).
pub fn query(obj: &Object) -> Result<CustomerQuery, JsValue> {
    let status = match string(obj, "customerStatus")?.as_deref() {
        None => None,
        Some("New") => Some(CustomerStatus::New),
        Some("Active") => Some(CustomerStatus::Active),
        Some("Suspended") => Some(CustomerStatus::Suspended),
        Some(other) => {
            return Err(invalid(format!("customerStatus must be \"New\", \"Active\" or \"Suspended\", not \"{other}\"")))
        }
    };
    let count = |k| whole(obj, k, 1, u32::MAX as u64).map(|n| n.map(|n| n as u32));
    let q = CustomerQuery {
        include_child_organizations: boolean(obj, "includeChildOrganizations")?,
        include_addresses: boolean(obj, "includeAddresses")?,
        include_contacts: boolean(obj, "includeContacts")?,
        include_custom_properties: boolean(obj, "includeCustomProperties")?,
        include_tenants: boolean(obj, "includeTenants")?,
        include_industries: boolean(obj, "includeIndustries")?,
        customer_status: status,
        page_size: count("pageSize")?,
        page: count("page")?,
    };
    Ok(q)
}

/// `signal`, if given, must be an AbortSignal.
pub fn signal(obj: &Object) -> Result<Option<AbortSignal>, JsValue> {
    match get(obj, "signal") {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => v.dyn_into::<AbortSignal>().map(Some).map_err(|_| invalid("signal must be an AbortSignal")),
    }
}
