//! The response body, streamed in chunks as it is assembled from pre-serialized records:
//! a 10,000-customer page starts leaving at once instead of after 10 MB are built, and the
//! bandwidth limit and the truncation faults act on the real byte stream.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{self, Stream};

use std::sync::Arc;

use crate::data::{Customer, Sections};
use crate::{InFlight, SharedState};

/// Where a faulty body stops.
#[derive(Clone, Copy, Debug)]
pub enum Cut {
    /// End the body cleanly after this many bytes.
    End(u64),
    /// Abort the connection after this many bytes.
    Drop(u64),
}

const CHUNK: usize = 64 * 1024;
/// With a bandwidth limit, smaller chunks keep the pacing smooth.
const PACED_CHUNK: usize = 16 * 1024;

struct Writer {
    state: SharedState,
    /// The page's records, fixed when the response began.
    records: Vec<Arc<Customer>>,
    sections: Sections,
    next: usize,
    sent: u64,
    opened: bool,
    closed: bool,
    cut: Option<Cut>,
    started: Instant,
    /// When the client last took a chunk (hyper asks for the next one only then).
    last_taken: Instant,
    in_flight: InFlight,
}

enum Step {
    Writing(Box<Writer>),
    /// The next item is an I/O error, which makes hyper abort the connection mid-body (no
    /// terminating chunk): the client sees a network error. Holds the in-flight guard.
    Failing(InFlight),
    Done,
}

pub fn customer_stream(
    state: SharedState,
    records: Vec<Arc<Customer>>,
    sections: Sections,
    cut: Option<Cut>,
    in_flight: InFlight,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let w = Writer {
        state,
        records,
        sections,
        next: 0,
        sent: 0,
        opened: false,
        closed: false,
        cut,
        started: Instant::now(),
        last_taken: Instant::now(),
        in_flight,
    };
    stream::unfold(Step::Writing(Box::new(w)), |step| async move {
        let mut w = match step {
            Step::Writing(w) => w,
            Step::Failing(_guard) => return Some((Err(std::io::Error::other("connection dropped by fault injection")), Step::Done)),
            Step::Done => return None,
        };
        if let Some(ms) = w.state.config.idle_cut_ms {
            // hyper polls for the next chunk only once the last one left for the socket, so
            // a long gap means the client stopped reading: cut it, as a proxy would.
            if w.last_taken.elapsed() > Duration::from_millis(ms) {
                w.state.stats.idle_cuts.fetch_add(1, Ordering::Relaxed);
                return Some((Err(std::io::Error::other("idle connection cut")), Step::Done));
            }
        }
        let bandwidth = w.state.config.bandwidth;
        let size = if bandwidth.is_some() { PACED_CHUNK } else { CHUNK };
        let mut chunk = w.fill(size)?;
        if let Some(rate) = bandwidth {
            let due = Duration::from_secs_f64((w.sent + chunk.len() as u64) as f64 / rate as f64);
            let elapsed = w.started.elapsed();
            if due > elapsed {
                tokio::time::sleep(due - elapsed).await;
            }
        }
        if let Some(Cut::End(at) | Cut::Drop(at)) = w.cut {
            if w.sent + chunk.len() as u64 >= at {
                chunk.truncate((at - w.sent) as usize);
                w.state.stats.bytes_served.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                let next = match w.cut {
                    Some(Cut::Drop(_)) => Step::Failing(w.in_flight),
                    _ => Step::Done,
                };
                return Some((Ok(Bytes::from(chunk)), next));
            }
        }
        w.sent += chunk.len() as u64;
        w.last_taken = Instant::now();
        w.state.stats.bytes_served.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Some((Ok(Bytes::from(chunk)), Step::Writing(w)))
    })
}

impl Writer {
    /// The next chunk of the JSON array, or `None` when it has all been sent.
    fn fill(&mut self, size: usize) -> Option<Vec<u8>> {
        if self.closed {
            return None;
        }
        let mut out = Vec::with_capacity(size + 4096);
        if !self.opened {
            out.push(b'[');
            self.opened = true;
        }
        while out.len() < size && self.next < self.records.len() {
            if self.next > 0 {
                out.push(b',');
            }
            self.records[self.next].write_json(self.sections, &mut out);
            self.next += 1;
        }
        if self.next == self.records.len() {
            out.push(b']');
            self.closed = true;
        }
        Some(out)
    }
}
