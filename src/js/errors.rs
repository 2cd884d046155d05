//! Errors as real JS `Error` objects: `name === "AppxiteError"`, a `code` to switch on, and
//! `status` / `retryAfterMs` / `batch` / `cause` where they apply (the workers-rs shape).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::error::Error;

/// Build the JS error. `cause` is the AbortSignal's reason for `ABORTED`.
pub fn to_js(e: &Error, cause: Option<JsValue>) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("AppxiteError");
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&err, &k.into(), &v);
    };
    set("code", e.code().into());
    if let Some(s) = e.status() {
        set("status", s.into());
    }
    if let Some(ms) = e.retry_after_ms() {
        set("retryAfterMs", (ms as f64).into());
    }
    if let Error::MixedPlatform { batch: Some(b), .. } = e {
        set("batch", (*b).into());
    }
    if let (Error::Aborted(_), Some(c)) = (e, cause) {
        set("cause", c);
    }
    err.into()
}

/// Shorthand for argument errors.
pub fn invalid(message: impl Into<String>) -> JsValue {
    to_js(&Error::InvalidArgument(message.into()), None)
}
