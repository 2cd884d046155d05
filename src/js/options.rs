//! Reading options objects from JS defensively: unknown keys and wrong types are
//! `INVALID_ARGUMENT` before anything is sent.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::errors::invalid;
use crate::model::CustomerStatus;
use crate::pager::RunOptions;
use crate::query::CustomerQuery;
use crate::retry::{RetryOptions, RetryPolicy};
use crate::transport::fetch::intrinsic_getter;

/// Keys of the run settings accepted both by the client and per call.
pub const RUN_KEYS: &[&str] = &["retry", "timeoutMs", "deadlineMs", "batchSize", "maxRecordBytes", "maxPages"];

// Reading a caller's value can run the caller's code: a getter, a Proxy trap, a typed array
// subclass. An exception thrown by an import not marked `catch` unwinds through the wasm
// without running destructors or restoring its stack pointer — about 500 of them and the
// module is broken for the whole process. So every read of a caller's value goes through a
// `catch` import (these, `Reflect`, `Function::call*`) and a throw becomes INVALID_ARGUMENT.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn object_keys(o: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn array_is_array(v: &JsValue) -> Result<bool, JsValue>;
    /// A plain array copy of an array-like (a Proxy's traps run here, once).
    #[wasm_bindgen(js_namespace = Array, js_name = from, catch)]
    fn array_from(v: &JsValue) -> Result<Array, JsValue>;
}

fn threw(what: &str) -> JsValue {
    invalid(format!("{what} could not be read (a getter or Proxy threw)"))
}

/// Whether `v` is an array, for a value the caller passed.
pub fn is_array(v: &JsValue, what: &str) -> Result<bool, JsValue> {
    array_is_array(v).map_err(|_| threw(what))
}

/// A plain copy of the caller's array `v`: reading it afterwards runs no caller code.
pub fn array_copy(v: &JsValue, what: &str) -> Result<Array, JsValue> {
    array_from(v).map_err(|_| threw(what))
}

/// The own enumerable keys of a caller's object.
pub fn keys(obj: &JsValue, what: &str) -> Result<Vec<String>, JsValue> {
    let keys = object_keys(obj).map_err(|_| threw(what))?;
    Ok(keys.iter().map(|k| k.as_string().unwrap_or_default()).collect())
}

/// `undefined`/`null` → an empty object; a non-object → error; unknown keys → error.
pub fn object(v: &JsValue, what: &str, allowed: &[&[&str]]) -> Result<Object, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Object::new());
    }
    if !v.is_object() || is_array(v, what)? || v.is_function() {
        return Err(invalid(format!("{what} must be an object")));
    }
    for key in keys(v, what)? {
        if !allowed.iter().any(|list| list.contains(&key.as_str())) {
            return Err(invalid(format!("unknown option '{key}' in {what}")));
        }
    }
    Ok(v.clone().unchecked_into())
}

/// The value of `key`, or `None` when undefined. A getter that throws is INVALID_ARGUMENT.
pub fn get(obj: &Object, key: &str) -> Result<Option<JsValue>, JsValue> {
    match Reflect::get(obj, &key.into()) {
        Ok(v) => Ok(Some(v).filter(|v| !v.is_undefined())),
        Err(_) => Err(threw(key)),
    }
}

pub fn string(obj: &Object, key: &str) -> Result<Option<String>, JsValue> {
    match get(obj, key)? {
        None => Ok(None),
        Some(v) => v.as_string().map(Some).ok_or_else(|| invalid(format!("{key} must be a string"))),
    }
}

pub fn function(obj: &Object, key: &str) -> Result<Option<Function>, JsValue> {
    match get(obj, key)? {
        None => Ok(None),
        Some(v) => v.dyn_into::<Function>().map(Some).map_err(|_| invalid(format!("{key} must be a function"))),
    }
}

/// A positive whole number of milliseconds (or items).
pub fn positive(obj: &Object, key: &str) -> Result<Option<u64>, JsValue> {
    match get(obj, key)? {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= 9e15 => Ok(Some(n as u64)),
            _ => Err(invalid(format!("{key} must be a positive whole number"))),
        },
    }
}

/// A whole number in `min..=max`.
pub fn whole(obj: &Object, key: &str, min: u64, max: u64) -> Result<Option<u64>, JsValue> {
    match get(obj, key)? {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= min as f64 && n <= max as f64 && n.fract() == 0.0 => Ok(Some(n as u64)),
            _ => Err(invalid(format!("{key} must be a whole number from {min} to {max}"))),
        },
    }
}

fn boolean(obj: &Object, key: &str) -> Result<Option<bool>, JsValue> {
    match get(obj, key)? {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| invalid(format!("{key} must be true or false"))),
    }
}

/// Run settings over `base` (checked by `Client::new` or `Client::check`). Read by hand rather than through serde-wasm-bindgen: it keeps
/// serde's deserializer and float formatting out of the wasm (the size budget) and gives
/// messages that name the option.
pub fn run_options(obj: &Object, base: RunOptions) -> Result<RunOptions, JsValue> {
    let mut run = base;
    match get(obj, "retry")? {
        None => {}
        Some(v) if v.as_bool() == Some(false) => run.retry = RetryPolicy::none(),
        Some(v) if v.as_bool() == Some(true) => run.retry = RetryPolicy::default(),
        Some(v) => {
            // Read as whole numbers here; their ranges are checked by `RunOptions::validate`.
            let r = object(&v, "retry", &[&["maxRetries", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs", "budget"]])?;
            let n = |k| whole(&r, k, 0, u32::MAX as u64).map(|n| n.map(|n| n as u32));
            let o = RetryOptions {
                max_retries: n("maxRetries")?,
                base_delay_ms: n("baseDelayMs")?,
                max_delay_ms: n("maxDelayMs")?,
                max_retry_after_ms: n("maxRetryAfterMs")?,
                budget: n("budget")?,
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
    if let Some(b) = whole(obj, "batchSize", 0, u32::MAX as u64)? {
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
        Some(other) => return Err(invalid(format!("customerStatus must be \"New\", \"Active\" or \"Suspended\", not \"{other}\""))),
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

/// `signal`, if given, must be an AbortSignal — a real one: a Proxy passes `instanceof` but
/// throws "Illegal invocation" from every method web-sys calls on it later.
pub fn signal(obj: &Object) -> Result<Option<AbortSignal>, JsValue> {
    match get(obj, "signal")? {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) if intrinsic_getter("AbortSignal", &"aborted".into(), &v).is_some() => Ok(Some(v.unchecked_into())),
        Some(_) => Err(invalid("signal must be an AbortSignal")),
    }
}

/// The caller's snapshot bytes, copied into wasm memory only once their first 32 bytes and
/// their length passed `check` (so a 200 MB file that is no snapshot is never copied). Only a
/// real `Uint8Array` (or subclass) is accepted, read through its internal slots: a Proxy, a
/// detached buffer or a `length` getter that lies cannot mislead the copy.
pub fn snapshot_bytes(v: &JsValue, check: impl Fn(&[u8], usize) -> Result<(), JsValue>) -> Result<Vec<u8>, JsValue> {
    let not = || invalid("snapshot must be a Uint8Array (the `snapshot` of a completed sync)");
    let tag = intrinsic_getter("Uint8Array", &js_sys::Symbol::to_string_tag().into(), v);
    if tag.and_then(|t| t.as_string()).as_deref() != Some("Uint8Array") {
        return Err(not());
    }
    let number = |name: &str| intrinsic_getter("Uint8Array", &name.into(), v).and_then(|n| n.as_f64()).map(|n| n as u32);
    let (Some(len), Some(offset), Some(buffer)) =
        (number("byteLength"), number("byteOffset"), intrinsic_getter("Uint8Array", &"buffer".into(), v))
    else {
        return Err(not());
    };
    // A detached buffer reads as length 0, and `check` refuses fewer than 32 bytes.
    let view = |n: u32| js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, offset, n);
    let mut header = [0u8; crate::snapshot::HEADER_BYTES];
    if len as usize >= header.len() {
        view(header.len() as u32).copy_to(&mut header);
    }
    check(&header, len as usize)?;
    Ok(view(len).to_vec())
}
