//! The JavaScript API (wasm-bindgen exports) and nothing else: option parsing, error objects
//! and the async-iterable pager over [`crate::pager::PageRun`].

mod client;

mod errors;
mod options;
mod pager;
mod types;
