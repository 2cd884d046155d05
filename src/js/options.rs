//! Reading options objects from JS defensively: unknown keys and wrong types are
//! `INVALID_ARGUMENT` before anything is sent.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::errors::invalid;
use crate::pager::RunOptions;
use crate::query::CustomerQuery;
use crate::retry::{RetryOptions, RetryPolicy};

/// Keys of the run settings accepted both by the client and per call.
pub const RUN_KEYS: &[&str] = &["retry", "timeoutMs", "deadlineMs", "batchSize"];

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

/// Run settings over `base`.
pub fn run_options(obj: &Object, base: RunOptions) -> Result<RunOptions, JsValue> {
    let mut run = base;
    match get(obj, "retry") {
        None => {}
        Some(v) if v.as_bool() == Some(false) => run.retry = RetryPolicy::none(),
        Some(v) if v.as_bool() == Some(true) => run.retry = RetryPolicy::default(),
        Some(v) => {
            let o: RetryOptions = serde_wasm_bindgen::from_value(v).map_err(|e| invalid(format!("retry: {e}")))?;
            run.retry = RetryPolicy::from_options(&o);
        }
    }
    if let Some(t) = positive(obj, "timeoutMs")? {
        run.timeout_ms = Some(t);
    }
    if let Some(d) = positive(obj, "deadlineMs")? {
        run.deadline_ms = Some(d);
    }
    if let Some(b) = positive(obj, "batchSize")? {
        run.batch_size = b.min(1000) as usize;
    }
    Ok(run)
}

/// The query part of a call's options.
pub fn query(obj: &Object) -> Result<CustomerQuery, JsValue> {
    let only = Object::new();
    for key in CustomerQuery::KEYS {
        if let Some(v) = get(obj, key) {
            let _ = Reflect::set(&only, &(*key).into(), &v);
        }
    }
    let q: CustomerQuery = serde_wasm_bindgen::from_value(only.into()).map_err(|e| invalid(format!("{e}")))?;
    q.validate().map_err(|e| super::errors::to_js(&e, None))?;
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
