//! Steps of one iteration, one at a time and in call order. JavaScript may call an
//! iterator's `next()` again before the previous promise settled (`Promise.all` over a few
//! `next()` calls, or a careless caller); each call's step waits for [`Turns::take`] and runs
//! when every step called before it has finished, so results come out in call order and
//! none is lost.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

#[derive(Default)]
struct State {
    /// A step is running.
    busy: bool,
    /// Waiting steps, first come first: a number and, once polled, its waker.
    queue: VecDeque<(u64, Option<Waker>)>,
    next_ticket: u64,
}

/// A first-come, first-served turn for the steps of one iteration.
#[derive(Clone, Default)]
pub struct Turns(Rc<RefCell<State>>);

/// Held while a step runs; the next step's turn comes when it is dropped.
pub struct Turn(Rc<RefCell<State>>);

impl Turns {
    /// A new, idle turn order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no step is running or waiting (a caller may then act at once).
    pub fn is_idle(&self) -> bool {
        let s = self.0.borrow();
        !s.busy && s.queue.is_empty()
    }

    /// Wait for this step's turn. The ticket is drawn now, so the order is the order of the
    /// calls to `take`, not of the first polls.
    pub fn take(&self) -> TakeTurn {
        let ticket = {
            let mut s = self.0.borrow_mut();
            let t = s.next_ticket;
            s.next_ticket += 1;
            s.queue.push_back((t, None));
            t
        };
        TakeTurn { state: self.0.clone(), ticket, taken: false }
    }
}

/// A step waiting for its turn; withdrawn from the queue if dropped before it.
pub struct TakeTurn {
    state: Rc<RefCell<State>>,
    ticket: u64,
    taken: bool,
}

impl Future for TakeTurn {
    type Output = Turn;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Turn> {
        let ticket = self.ticket;
        let mut s = self.state.borrow_mut();
        if !s.busy && s.queue.front().is_some_and(|(t, _)| *t == ticket) {
            s.queue.pop_front();
            s.busy = true;
            drop(s);
            self.taken = true;
            return Poll::Ready(Turn(self.state.clone()));
        }
        if let Some(entry) = s.queue.iter_mut().find(|(t, _)| *t == ticket) {
            entry.1 = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Drop for TakeTurn {
    fn drop(&mut self) {
        if self.taken {
            return;
        }
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.queue.retain(|(t, _)| *t != self.ticket);
            wake_front(&mut s);
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            s.busy = false;
            wake_front(&mut s);
        }
    }
}

fn wake_front(s: &mut State) {
    if !s.busy {
        if let Some((_, Some(w))) = s.queue.front() {
            w.wake_by_ref();
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use futures_executor::LocalPool;
    use futures_util::task::LocalSpawnExt;

    /// Three steps called at once, the first the slowest: they run one at a time, in call order.
    #[test]
    fn steps_run_one_at_a_time_in_call_order() {
        let turns = Turns::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut pool = LocalPool::new();
        for (step, yields) in [(1, 5), (2, 0), (3, 2)] {
            let (turn, log) = (turns.take(), log.clone());
            pool.spawner()
                .spawn_local(async move {
                    let _turn = turn.await;
                    log.borrow_mut().push(format!("start {step}"));
                    for _ in 0..yields {
                        futures_util::future::ready(()).await;
                        YieldNow(false).await;
                    }
                    log.borrow_mut().push(format!("end {step}"));
                })
                .unwrap();
        }
        assert!(!turns.is_idle());
        pool.run();
        assert_eq!(*log.borrow(), ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
        assert!(turns.is_idle());
    }

    /// A step dropped while waiting (the caller went away) gives up its place.
    #[test]
    fn a_step_dropped_before_its_turn_does_not_block_the_next() {
        let turns = Turns::new();
        let first = futures_executor::block_on(turns.take());
        let second = turns.take();
        let third = turns.take();
        drop(second);
        drop(first);
        futures_executor::block_on(third);
        assert!(turns.is_idle());
    }

    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
