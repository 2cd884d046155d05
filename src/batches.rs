//! Concurrent ID batches (`customersByIds` with `concurrency` > 1): up to `concurrency`
//! batches are fetched at once, each collected whole, and handed out in input order.
//!
//! Two halves share one state. The [`BatchPump`] is a future the runtime spawns in the
//! background: it drives the running batches — so they keep reading their bodies while the
//! caller is busy with an earlier batch — and starts the next one whenever a slot is free.
//! [`Batches::next`] is what the caller awaits. A batch counts against `concurrency` from its
//! start until the caller has taken it, so memory holds at most `concurrency` batches. The
//! first error (in input order) ends everything: nothing further is started, and dropping
//! [`Batches`] (the caller stopped) stops the pump, which drops the running batches and so
//! aborts their requests.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::future::LocalBoxFuture;

use crate::error::Error;
use crate::pager::{collect_batch, CollectedPage, PageRun};
use crate::transport::Transport;

/// What one batch gives: its non-empty pages, collected whole.
pub type BatchResult = Result<Vec<CollectedPage>, Error>;

enum Slot {
    Running(LocalBoxFuture<'static, BatchResult>),
    Finished(BatchResult),
}

struct State<T: Transport> {
    waiting: VecDeque<PageRun<T>>,
    /// Started batches in input order: still running, or finished and waiting for the ones
    /// before them. (A plain list polled in turn, not `FuturesOrdered`: at most 16 entries,
    /// and `FuturesOrdered` costs the wasm ~2.4 KB gzip.)
    running: VecDeque<Slot>,
    /// Finished batches, in input order, not yet taken.
    finished: VecDeque<BatchResult>,
    concurrency: usize,
    /// An error was finished (nothing more starts), or the caller went away.
    ended: bool,
    caller: Option<Waker>,
    pump: Option<Waker>,
}

impl<T: Transport + 'static> State<T> {
    fn start_more(&mut self) {
        while !self.ended && self.running.len() + self.finished.len() < self.concurrency {
            let Some(run) = self.waiting.pop_front() else { break };
            self.running.push_back(Slot::Running(Box::pin(collect_batch(run))));
        }
    }
}

/// The caller's half: the batches' results in input order.
pub struct Batches<T: Transport> {
    state: Rc<RefCell<State<T>>>,
}

/// The background half: spawn it (`wasm_bindgen_futures::spawn_local`, or an executor's
/// spawner in tests). It ends when every batch has finished, at the first error, or when
/// [`Batches`] is dropped.
pub struct BatchPump<T: Transport> {
    state: Rc<RefCell<State<T>>>,
}

/// Batches over `runs` (each a one-batch [`PageRun`]), `concurrency` at once (at least 1).
pub fn batches<T: Transport + 'static>(runs: Vec<PageRun<T>>, concurrency: usize) -> (Batches<T>, BatchPump<T>) {
    let state = Rc::new(RefCell::new(State {
        waiting: runs.into(),
        running: VecDeque::new(),
        finished: VecDeque::new(),
        concurrency: concurrency.max(1),
        ended: false,
        caller: None,
        pump: None,
    }));
    (Batches { state: state.clone() }, BatchPump { state })
}

impl<T: Transport + 'static> Batches<T> {
    /// The next batch's pages; `None` when every batch has been handed out (or after an error).
    pub fn next(&self) -> impl Future<Output = Option<BatchResult>> + '_ {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.borrow_mut();
            if let Some(result) = s.finished.pop_front() {
                // A slot is free again: let the pump start the next batch.
                if let Some(w) = s.pump.take() {
                    w.wake();
                }
                return Poll::Ready(Some(result));
            }
            if s.running.is_empty() && (s.waiting.is_empty() || s.ended) {
                return Poll::Ready(None);
            }
            s.caller = Some(cx.waker().clone());
            if let Some(w) = s.pump.take() {
                w.wake();
            }
            Poll::Pending
        })
    }
}

impl<T: Transport> Drop for Batches<T> {
    fn drop(&mut self) {
        // Never a panic (a trap in wasm) on a busy state, should this ever be dropped from
        // inside the pump's poll: the pump then finds itself alone on its next poll.
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.ended = true;
            s.waiting.clear();
            if let Some(w) = s.pump.take() {
                w.wake();
            }
        }
    }
}

impl<T: Transport + 'static> Future for BatchPump<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.borrow_mut();
        if Rc::strong_count(&self.state) == 1 {
            // The caller is gone: drop the running batches (their requests are aborted).
            s.running.clear();
            return Poll::Ready(());
        }
        let mut progressed = false;
        loop {
            s.start_more();
            for slot in s.running.iter_mut() {
                if let Slot::Running(batch) = slot {
                    if let Poll::Ready(result) = batch.as_mut().poll(cx) {
                        *slot = Slot::Finished(result);
                    }
                }
            }
            // Hand over the finished batches at the front, in input order.
            let mut moved = false;
            while matches!(s.running.front(), Some(Slot::Finished(_))) {
                let Some(Slot::Finished(result)) = s.running.pop_front() else { break };
                if result.is_err() {
                    // The first error in input order: nothing later matters any more.
                    s.ended = true;
                    s.waiting.clear();
                    s.running.clear();
                }
                s.finished.push_back(result);
                moved = true;
            }
            if !moved {
                break;
            }
            // Slots were freed: start and poll the next batches at once.
            progressed = true;
        }
        if progressed {
            if let Some(w) = s.caller.take() {
                w.wake();
            }
        }
        if s.running.is_empty() && (s.waiting.is_empty() || s.ended) {
            return Poll::Ready(());
        }
        s.pump = Some(cx.waker().clone());
        Poll::Pending
    }
}
