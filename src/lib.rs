//! # appxite-customers
//!
//! Every customer of an Appxite distributor or reseller — organisation details, addresses,
//! contacts, custom properties, status, industries and vendor tenants — through Appxite's
//! "GET All Customers" endpoint, as one typed, paginated, streaming iterator.
//!
//! The npm package (`appxite-customers`) is this crate compiled to WebAssembly; its JS API is
//! in the README. From Rust (workers-rs, Leptos, Yew …) on `wasm32`, use `Client`:
//!
//! ```text
//! use appxite_customers::{Client, ClientOptions, CustomerQuery};
//! use futures_util::StreamExt;
//!
//! let client = Client::new(ClientOptions {
//!     base_url: "https://api.appxite.com".into(),
//!     referer: "https://portal.example".into(),
//!     token: "…".into(),
//!     ..Default::default()
//! })?;
//! let mut customers = client.customers("e99ff867-…", CustomerQuery::everything());
//! while let Some(customer) = customers.next().await {
//!     let customer = customer?;
//!     println!("{} {:?}", customer.customer_id, customer.customer_name);
//! }
//! ```
//!
//! Layout: the pure logic — [`query`] (parameters and URLs), [`scan`] (finding records in
//! the streamed body), [`ascii`] (batches rewritten as ASCII for `JSON.parse`), [`json`] (JSON text helpers, a leaf), [`retry`]
//! (backoff and Retry-After), [`pager`] (pages, retries and exactly-once), `position` (where a run is, where it goes when a page ends), `race` (every wait against the signal, the attempt limit and the deadline), [`request`] (a page's request, pure), [`record`] (a record's ID and content fingerprint), [`snapshot`] and [`sync`] (what changed since last time), [`continuation`] (resuming a listing), [`cursor`] (one run of any kind as groups of records: what both APIs are built on), [`call`] (a call checked once, for both APIs, and started as a cursor), [`batches`] (concurrent ID batches in input order), [`turns`] (an iterator's steps in call order), [`secrets`] (the one list of a client's credentials), [`error`] — builds and is tested on the host. [`transport`] is the runtime
//! boundary (`fetch`, timers); `js` is the wasm-bindgen edge, the JavaScript API and nothing
//! else.
#![deny(missing_docs)]

pub mod ascii;
pub mod batches;
pub mod call;
pub mod continuation;
pub mod cursor;
pub mod error;
pub mod json;
pub mod model;
pub mod pager;
mod position;
pub mod query;
mod race;
pub mod record;
pub mod request;
pub mod retry;
pub mod scan;
pub mod secrets;
pub mod snapshot;
pub mod stream;
pub mod sync;
pub mod transport;
pub mod turns;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(target_arch = "wasm32")]
pub use client::{Client, ClientOptions};
pub use error::Error;
pub use model::*;
pub use pager::{AppxiteEvent, PageRun, Progress, RunOptions, Target};
pub use query::CustomerQuery;
pub use retry::{RetryOptions, RetryPolicy};
pub use stream::{customer_stream, ChangeStream, CustomerPage};
pub use sync::SyncStats;
#[cfg(target_arch = "wasm32")]
pub use transport::fetch::TokenSource;
