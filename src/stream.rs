//! The Rust API: a run as a `futures::Stream` of typed [`Customer`]s, decoded with serde_json
//! record by record as the body streams in.

use std::collections::VecDeque;

use futures_core::Stream;

use crate::error::Error;
use crate::model::Customer;
use crate::pager::PageRun;
use crate::transport::Transport;

/// Every customer of a run, in order, exactly once; the stream ends after the first error.
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
