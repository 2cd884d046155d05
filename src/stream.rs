//! The Rust API: a run as a `futures::Stream` of typed [`Customer`]s, decoded with serde_json
//! record by record as the body streams in.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

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
/// async fn names<T: Transport>(run: PageRun<T>) -> Result<Vec<String>, Error> {
///     let mut customers = Box::pin(customer_stream(run));
///     let mut names = vec![];
///     while let Some(customer) = customers.next().await {
///         names.extend(customer?.customer_name);
///     }
///     Ok(names)
/// }
/// ```
pub fn customer_stream<T: Transport>(run: PageRun<T>) -> impl Stream<Item = Result<Customer, Error>> {
    struct State<T: Transport> {
        run: PageRun<T>,
        queue: VecDeque<Customer>,
        failed: bool,
    }
    let state = State { run, queue: VecDeque::new(), failed: false };
    futures_util::stream::unfold(state, |mut s| async move {
        if s.failed {
            return None;
        }
        loop {
            if let Some(c) = s.queue.pop_front() {
                return Some((Ok(c), s));
            }
            match s.run.advance().await {
                Ok(None) => return None,
                Ok(Some(_)) => {
                    let decoded: Result<Vec<Customer>, _> =
                        s.run.scanner().take_each().map(serde_json::from_slice::<Customer>).collect();
                    match decoded {
                        Ok(list) => s.queue.extend(list),
                        Err(e) => {
                            s.failed = true;
                            s.run.close();
                            return Some((Err(Error::Decode(format!("a customer record is malformed: {e}"))), s));
                        }
                    }
                }
                Err(e) => {
                    s.failed = true;
                    s.run.close();
                    return Some((Err(e), s));
                }
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
