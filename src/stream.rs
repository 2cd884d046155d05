//! The Rust API: a run's [`Cursor`] as a `futures::Stream` of typed [`Customer`]s (or of
//! whole pages with their continuation tokens), each group decoded with serde_json as the
//! body streams in.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::cursor::{Cursor, Source};
use crate::error::Error;
use crate::model::{Customer, CustomerChange};
use crate::pager::PageRun;
use crate::sync::{SyncRun, SyncStats};
use crate::transport::Transport;

/// Every customer of a run, in order, exactly once; the stream ends after the first error.
/// # Examples
///
/// ```
/// use appxite_customers::{customer_stream, transport::Transport, Error, PageRun};
/// use futures_util::StreamExt;
///
/// async fn names<T: Transport + Clone + 'static>(run: PageRun<T>) -> Result<Vec<String>, Error> {
///     let mut customers = Box::pin(customer_stream(run));
///     let mut names = vec![];
///     while let Some(customer) = customers.next().await {
///         names.extend(customer?.customer_name);
///     }
///     Ok(names)
/// }
/// ```
pub fn customer_stream<T: Transport + Clone + 'static>(run: PageRun<T>) -> impl Stream<Item = Result<Customer, Error>> {
    cursor_customers(Cursor::new(Source::Listing(run), None))
}

/// Decode a group of records (a JSON array text) with serde_json.
fn decode_customers(json: &[u8]) -> Result<Vec<Customer>, Error> {
    serde_json::from_slice(json).map_err(|e| Error::Decode(format!("a customer record is malformed: {e}")))
}

/// Every customer a cursor gives, in order; the stream ends after the first error.
pub fn cursor_customers<T: Transport + Clone + 'static>(cursor: Cursor<T>) -> impl Stream<Item = Result<Customer, Error>> {
    let state = (cursor, VecDeque::<Customer>::new(), false);
    futures_util::stream::unfold(state, |(mut cursor, mut queue, failed)| async move {
        loop {
            if let Some(c) = queue.pop_front() {
                return Some((Ok(c), (cursor, queue, failed)));
            }
            if failed {
                return None;
            }
            match cursor.next(decode_customers).await {
                Ok(Some(group)) => queue.extend(group.decoded.unwrap_or_default()),
                Ok(None) => return None,
                Err(e) => return Some((Err(e), (cursor, queue, true))),
            }
        }
    })
}

/// One page of customers: the Rust form of the JS `CustomerPage`.
/// # Examples
///
/// `Client::pages` gives them; a job that stops after a page keeps its token and goes on from
/// there later:
///
/// ```
/// use appxite_customers::{CustomerPage, Error};
/// use futures_util::{Stream, StreamExt};
///
/// /// Handle at most `n` pages; the token to resume from, if there is more.
/// async fn some_pages(pages: impl Stream<Item = Result<CustomerPage, Error>>, n: usize) -> Result<Option<String>, Error> {
///     let mut pages = Box::pin(pages.take(n));
///     let mut resume = None;
///     while let Some(page) = pages.next().await {
///         let page = page?;
///         println!("page {}: {} customers", page.page, page.items.len());
///         resume = page.continuation_token;
///     }
///     Ok(resume)
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerPage {
    /// 1-based page number.
    pub page: u32,
    /// The page size asked for.
    pub page_size: u32,
    /// Its customers (repeats of earlier pages dropped, as everywhere).
    pub items: Vec<Customer>,
    /// `Client::pages` of an organization: resumes after this page — in another process, a
    /// later request — with the same organization and query.
    pub continuation_token: Option<String>,
}

/// A cursor's pages, each whole, with its continuation token; empty pages (one past the end)
/// are not yielded. The stream ends after the first error.
pub fn cursor_pages<T: Transport + Clone + 'static>(cursor: Cursor<T>, page_size: u32) -> impl Stream<Item = Result<CustomerPage, Error>> {
    futures_util::stream::unfold((cursor, false), move |(mut cursor, failed)| async move {
        if failed {
            return None;
        }
        let mut items = Vec::new();
        loop {
            match cursor.next(decode_customers).await {
                Ok(Some(group)) => {
                    items.extend(group.decoded.unwrap_or_default());
                    if group.page_complete && !items.is_empty() {
                        let page = CustomerPage { page: group.page, page_size, items, continuation_token: group.continuation };
                        return Some((Ok(page), (cursor, false)));
                    }
                    if group.page_complete {
                        items = Vec::new();
                    }
                }
                Ok(None) => return None,
                Err(e) => return Some((Err(e), (cursor, true))),
            }
        }
    })
}

type Step<T> = Pin<Box<dyn Future<Output = (SyncRun<T>, Result<bool, Error>)>>>;

/// A sync as a `Stream` of [`CustomerChange`]s; once it has ended without an error,
/// [`snapshot`](Self::snapshot) is the snapshot to store for the next sync.
/// # Examples
///
/// `Client::sync` returns one:
///
/// ```
/// use appxite_customers::{transport::Transport, ChangeStream, CustomerChange, Error};
/// use futures_util::StreamExt;
///
/// /// Applies a sync's changes; the snapshot to store for the next sync.
/// async fn apply<T: Transport + Clone + 'static>(changes: ChangeStream<T>) -> Result<Option<Vec<u8>>, Error> {
///     let mut changes = Box::pin(changes);
///     while let Some(change) = changes.next().await {
///         match change? {
///             CustomerChange::Added { customer, .. } | CustomerChange::Changed { customer, .. } => println!("upsert {}", customer.customer_id),
///             CustomerChange::Removed { customer_id } => println!("delete {customer_id}"),
///         }
///     }
///     println!("{:?}", changes.stats());
///     Ok(changes.snapshot().map(<[u8]>::to_vec))
/// }
/// ```
pub struct ChangeStream<T: Transport + Clone + 'static> {
    run: Option<SyncRun<T>>,
    step: Option<Step<T>>,
    queue: VecDeque<CustomerChange>,
    failed: bool,
}

impl<T: Transport + Clone + 'static> ChangeStream<T> {
    /// Stream the changes of `run`.
    pub fn new(run: SyncRun<T>) -> Self {
        ChangeStream { run: Some(run), step: None, queue: VecDeque::new(), failed: false }
    }

    /// The next snapshot, once the stream has ended without an error; `None` before, after an
    /// error, or if it was dropped early.
    pub fn snapshot(&self) -> Option<&[u8]> {
        self.run.as_ref().and_then(SyncRun::snapshot)
    }

    /// The counts so far.
    pub fn stats(&self) -> SyncStats {
        self.run.as_ref().map(SyncRun::stats).unwrap_or_default()
    }
}

// Nothing in a `ChangeStream` is pinned in place: the run is moved into a boxed future and
// back, so the stream may move freely.
impl<T: Transport + Clone + 'static> Unpin for ChangeStream<T> {}

impl<T: Transport + Clone + 'static> Stream for ChangeStream<T> {
    type Item = Result<CustomerChange, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(change) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(change)));
            }
            if this.failed {
                return Poll::Ready(None);
            }
            if this.step.is_none() {
                let Some(mut run) = this.run.take() else { return Poll::Ready(None) };
                if run.snapshot().is_some() {
                    this.run = Some(run);
                    return Poll::Ready(None);
                }
                this.step = Some(Box::pin(async move {
                    let more = run.advance().await;
                    (run, more)
                }));
            }
            let Poll::Ready((mut run, more)) = this.step.as_mut().expect("set above").as_mut().poll(cx) else {
                return Poll::Pending;
            };
            this.step = None;
            let decoded = match more {
                Ok(true) => serde_json::from_slice::<Vec<CustomerChange>>(run.take_changes().0)
                    .map_err(|e| Error::Decode(format!("a customer record is malformed: {e}"))),
                Ok(false) => Ok(vec![]),
                Err(e) => Err(e),
            };
            match decoded {
                Ok(list) => this.queue.extend(list),
                Err(e) => {
                    run.close();
                    this.failed = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            this.run = Some(run);
        }
    }
}
