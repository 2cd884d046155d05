//! Fault injection (`--chaos RATE`): which request fails, and how, is a pure function of the
//! seed and the request's sequence number, so the same seed and the same request order give
//! the same faults. A request that is not picked is served exactly right.

use serde::Serialize;

use crate::rng::mix;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    /// 429 with `Retry-After`.
    RateLimited,
    InternalError,
    BadGateway,
    /// 503 with `Retry-After`.
    Unavailable,
    /// Headers are sent, then the connection is dropped after `offset` body bytes.
    DroppedConnection {
        offset: u64,
    },
    /// The body ends cleanly after `offset` bytes, in the middle of a record: looks like a
    /// complete chunked response, so only a client that checks the array closed notices.
    Truncated {
        offset: u64,
    },
    /// The right answer, but late.
    Slow {
        delay_ms: u64,
    },
}

impl Fault {
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::RateLimited => "rateLimited",
            Fault::InternalError => "internalError",
            Fault::BadGateway => "badGateway",
            Fault::Unavailable => "unavailable",
            Fault::DroppedConnection { .. } => "droppedConnection",
            Fault::Truncated { .. } => "truncated",
            Fault::Slow { .. } => "slow",
        }
    }
}

/// Decide the fault, if any, for request number `seq`. `record_ends` are the byte offsets
/// where each record of the body ends, so truncation can land inside a record.
pub fn decide(seed: u64, rate: f64, seq: u64, body_len: u64, record_ends: &[u64]) -> Option<Fault> {
    let h = |salt: u64| mix(seed.wrapping_mul(0x100_0000_01B3) ^ seq.wrapping_mul(0x9E37_79B9) ^ salt);
    let unit = (h(1) >> 11) as f64 / (1u64 << 53) as f64;
    if rate <= 0.0 || unit >= rate {
        return None;
    }
    let pick = h(2);
    Some(match pick % 7 {
        0 => Fault::RateLimited,
        1 => Fault::InternalError,
        2 => Fault::BadGateway,
        3 => Fault::Unavailable,
        4 => Fault::DroppedConnection { offset: h(3) % body_len.max(1) },
        5 if record_ends.len() > 1 => {
            // Inside a record: after its first byte, before its last.
            let k = (h(3) % record_ends.len() as u64) as usize;
            let start = if k == 0 { 1 } else { record_ends[k - 1] + 1 };
            let end = record_ends[k];
            Fault::Truncated { offset: start + h(4) % (end - start).max(1) }
        }
        5 => Fault::Truncated { offset: body_len / 2 },
        _ => Fault::Slow { delay_ms: 200 + h(3) % 600 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_the_rate_is_roughly_right() {
        let ends: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        let a: Vec<_> = (0..2000).map(|s| decide(7, 0.3, s, 100_000, &ends)).collect();
        let b: Vec<_> = (0..2000).map(|s| decide(7, 0.3, s, 100_000, &ends)).collect();
        assert_eq!(a, b);
        let faults = a.iter().filter(|f| f.is_some()).count();
        assert!((480..720).contains(&faults), "{faults}");
        for f in a.iter().flatten() {
            if let Fault::Truncated { offset } = f {
                assert!(offset % 1000 != 0, "truncation must fall inside a record");
            }
        }
        assert!(decide(7, 0.0, 1, 10, &ends).is_none());
    }
}
