//! Every wait of a run goes through [`race`]: the work against the caller's signal (or
//! `stop`), the attempt limit (`timeoutMs`, counting only time spent waiting for the server)
//! and the run's deadline (`deadlineMs`), with one timer kept armed across waits.

use std::future::Future;
use std::pin::pin;

use futures_util::future::{select, Either};

use crate::error::Error;
use crate::transport::{Transport, MAX_TIMER_MS};

/// Why a raced wait ended without its work's result.
#[derive(Debug)]
pub(crate) enum Lost {
    /// The work failed, or the run was cancelled (`ABORTED`): this error.
    Failed(Error),
    /// This limit ran out first.
    Limit(Limit),
}

/// Which limit ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    Attempt,
    Deadline,
}

/// The run's timer, kept armed across waits: a body is read in hundreds of waits, and one JS
/// timer per wait was measured to raise Node's peak memory by ~15 MB over 100,000 customers.
pub(crate) struct Armed<S> {
    timer: S,
    /// When it fires (the transport's clock).
    fires_at: f64,
}

/// `work`, unless the run is cancelled or `limit` (milliseconds left, and which limit that
/// is) runs out first — every wait of a run goes through here, so nothing the pager awaits
/// (a token function, a `fetch` that ignores its signal, a stalled body) can outlive the
/// caller's signal, `timeoutMs` or `deadlineMs`. The loser is dropped, which ends it.
pub(crate) async fn race<T: Transport, R>(
    transport: &T,
    work: impl Future<Output = Result<R, Error>>,
    limit: Option<(f64, Limit)>,
    armed: &mut Option<Armed<T::Timer>>,
) -> Result<R, Lost> {
    let due = match limit {
        Some((ms, which)) if ms <= 0.0 => return Err(Lost::Limit(which)),
        Some((ms, which)) => Some((transport.now_ms() + ms, which)),
        None => None,
    };
    let mut work = pin!(work);
    let mut cancelled = pin!(transport.cancelled());
    loop {
        if let Some((due_at, _)) = due {
            // A timer that fires after `due_at` would be late: arm a new one. One that fires
            // before it (armed for a wait that began earlier) is checked when it fires.
            if armed.as_ref().is_none_or(|a| a.fires_at > due_at + 1.0) {
                let now = transport.now_ms();
                let ms = (due_at - now).max(0.0).ceil().min(MAX_TIMER_MS as f64);
                *armed = Some(Armed { timer: transport.timer(ms as u64), fires_at: now + ms });
            }
        }
        let expiry = async {
            match (due, armed.as_mut()) {
                (Some(_), Some(a)) => (&mut a.timer).await,
                _ => futures_util::future::pending().await,
            }
        };
        // The work first: a result that is already there wins over a timer that is due.
        match select(work.as_mut(), select(cancelled.as_mut(), pin!(expiry))).await {
            Either::Left((result, _)) => return result.map_err(Lost::Failed),
            Either::Right((Either::Left((aborted, _)), _)) => return Err(Lost::Failed(aborted)),
            Either::Right((Either::Right(((), _)), _)) => {
                *armed = None;
                if let Some((due_at, which)) = due {
                    if transport.now_ms() + 1.0 >= due_at {
                        return Err(Lost::Limit(which));
                    }
                }
                // It fired early: re-armed for the rest on the next turn.
            }
        }
    }
}

/// The limits a run's waits are raced against: `timeoutMs` for the time an attempt has spent
/// waiting for the server (never the caller), `deadlineMs` for the run from its start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// When the run began (the transport's clock; shared by every batch of a run).
    pub started_at: f64,
    /// Time this attempt has spent waiting for the server (token, headers, body reads).
    pub attempt_waited_ms: f64,
    timeout_ms: Option<u64>,
    deadline_ms: Option<u64>,
}

impl Clock {
    pub fn new(started_at: f64, timeout_ms: Option<u64>, deadline_ms: Option<u64>) -> Self {
        Clock { started_at, attempt_waited_ms: 0.0, timeout_ms, deadline_ms }
    }

    /// How long the current wait for the server may take at `now`: what is left of
    /// `timeoutMs` for this attempt, or of `deadlineMs` for the run, whichever is less.
    pub fn attempt_limit(&self, now: f64) -> Option<(f64, Limit)> {
        let attempt = self.timeout_ms.map(|t| (t as f64 - self.attempt_waited_ms, Limit::Attempt));
        match (attempt, self.deadline_limit(now)) {
            (Some(a), Some(d)) => Some(if d.0 < a.0 { d } else { a }),
            (a, d) => a.or(d),
        }
    }

    /// What is left of `deadlineMs` at `now`, for a wait that is not for the server.
    pub fn deadline_limit(&self, now: f64) -> Option<(f64, Limit)> {
        self.deadline_left(now).map(|left| (left, Limit::Deadline))
    }

    /// Milliseconds left of `deadlineMs` at `now` (negative once it passed).
    pub fn deadline_left(&self, now: f64) -> Option<f64> {
        Some(self.deadline_ms? as f64 - (now - self.started_at))
    }

    pub fn deadline_error(&self) -> Error {
        Error::Timeout(format!("the run took longer than deadlineMs ({} ms)", self.deadline_ms.unwrap_or(0)))
    }

    /// The error for a wait that ended without its result.
    pub fn error(&self, lost: Lost) -> Error {
        match lost {
            Lost::Failed(e) => e,
            Lost::Limit(Limit::Deadline) => self.deadline_error(),
            Lost::Limit(Limit::Attempt) => Error::Timeout(format!(
                "the server took longer than timeoutMs ({} ms) to answer (time spent waiting for the caller does not count)",
                self.timeout_ms.unwrap_or(0)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearer_limit_wins_and_each_has_its_own_error() {
        let mut c = Clock::new(1000.0, Some(300), Some(5000));
        assert_eq!(c.attempt_limit(1000.0), Some((300.0, Limit::Attempt)));
        c.attempt_waited_ms = 250.0;
        assert_eq!(c.attempt_limit(1000.0), Some((50.0, Limit::Attempt)), "only time spent waiting counts");
        assert_eq!(c.attempt_limit(5980.0), Some((20.0, Limit::Deadline)), "the deadline is nearer");
        assert_eq!(c.deadline_left(7000.0), Some(-1000.0));
        assert_eq!(Clock::new(0.0, None, None).attempt_limit(9e9), None);
        assert!(c.error(Lost::Limit(Limit::Attempt)).to_string().contains("timeoutMs (300 ms)"));
        assert!(c.error(Lost::Limit(Limit::Deadline)).to_string().contains("deadlineMs (5000 ms)"));
        assert_eq!(c.error(Lost::Failed(Error::Aborted("x".into()))).code(), "ABORTED");
    }
}
