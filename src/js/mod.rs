//! The JavaScript API (wasm-bindgen exports) and nothing else: option parsing, error objects
//! and the async-iterable pager over [`crate::pager::PageRun`].

mod client;

mod errors;
mod options;
mod pager;
mod types;

use wasm_bindgen::prelude::*;

/// Test only (`AppxiteClient.__testTrap` in the package): traps inside the wasm as a bug
/// would — at once, or (`later`) inside the future of the promise it returns, when the event
/// loop polls it — so the tests can check that pkg-template/guard.js turns any trap into
/// `INTERNAL` and a fresh instance. A few bytes; no other code path reaches it.
#[wasm_bindgen(js_name = "__testTrap", skip_typescript)]
pub fn test_trap(later: bool) -> js_sys::Promise {
    if !later {
        core::arch::wasm32::unreachable()
    }
    pager::to_promise(Box::pin(async {
        let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::UNDEFINED)).await;
        core::arch::wasm32::unreachable()
    }))
}
