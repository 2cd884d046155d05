//! When to retry and how long to wait: exponential backoff with full jitter, `Retry-After`
//! honoured (seconds or HTTP date) up to a cap, and a retry budget per run so a long run
//! cannot turn into a retry storm. Pure: time and randomness come from the caller.

use serde::Serialize;
use tsify::Tsify;

use crate::error::Error;
use crate::race::Clock;

/// Retry settings (`retry` option). `retry: false` means `maxRetries: 0`.
/// # Examples
///
/// In JavaScript:
///
/// ```js
/// const client = new AppxiteClient({ referer, token, retry: { maxRetries: 5, maxRetryAfterMs: 120_000 } });
/// ```
///
/// In Rust (a `RunOptions` holds the resolved [`RetryPolicy`]):
///
/// ```
/// use appxite_customers::{RetryOptions, RetryPolicy};
/// let options = RetryOptions { max_retries: Some(5), base_delay_ms: None, max_delay_ms: None, max_retry_after_ms: Some(120_000), budget: None };
/// let policy = RetryPolicy::from_options(&options);
/// assert_eq!((policy.max_retries, policy.base_delay_ms), (5, 200));
/// ```
#[derive(Tsify, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryOptions {
    /// Retries of one request after its first attempt. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub max_retries: Option<u32>,
    /// First backoff step in milliseconds. Default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub base_delay_ms: Option<u32>,
    /// Largest backoff in milliseconds. Default 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub max_delay_ms: Option<u32>,
    /// The longest `Retry-After` the SDK will wait; a longer one fails with `RATE_LIMITED`
    /// and `retryAfterMs`. Default 60,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub max_retry_after_ms: Option<u32>,
    /// Retries allowed in a whole pager run beyond one per page. Default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub budget: Option<u32>,
}

/// The resolved retry policy.
/// # Examples
///
/// ```
/// use appxite_customers::{RetryPolicy, RunOptions};
/// let options = RunOptions { retry: RetryPolicy { max_retries: 1, ..RetryPolicy::default() }, ..RunOptions::default() };
/// assert!(options.retry.backoff_ms(0, 0.5) <= options.retry.max_delay_ms);
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries of one request.
    pub max_retries: u32,
    /// First backoff step (ms).
    pub base_delay_ms: u64,
    /// Backoff cap (ms).
    pub max_delay_ms: u64,
    /// Longest Retry-After honoured (ms).
    pub max_retry_after_ms: u64,
    /// Run-wide retry budget (see [`RetryBudget`]).
    pub budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay_ms: 200, max_delay_ms: 10_000, max_retry_after_ms: 60_000, budget: 20 }
    }
}

impl RetryPolicy {
    /// No retries at all (`retry: false`).
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, budget: 0, ..Self::default() }
    }

    /// Apply options over the defaults.
    pub fn from_options(o: &RetryOptions) -> Self {
        let d = Self::default();
        RetryPolicy {
            max_retries: o.max_retries.unwrap_or(d.max_retries),
            base_delay_ms: o.base_delay_ms.map_or(d.base_delay_ms, u64::from),
            max_delay_ms: o.max_delay_ms.map_or(d.max_delay_ms, u64::from),
            max_retry_after_ms: o.max_retry_after_ms.map_or(d.max_retry_after_ms, u64::from),
            budget: o.budget.unwrap_or(d.budget),
        }
    }

    /// Full-jitter backoff for retry number `retry` (0 = first retry): uniform in
    /// `[0, min(max, base·2^retry)]`. `random` is in `[0, 1)`.
    pub fn backoff_ms(&self, retry: u32, random: f64) -> u64 {
        let ceiling = self.base_delay_ms.saturating_mul(1u64 << retry.min(30)).min(self.max_delay_ms);
        (ceiling as f64 * random.clamp(0.0, 1.0)) as u64
    }

    /// What to do after `failure` on an attempt that was already retried `retries` times.
    /// `retry_after_ms` is the response's parsed `Retry-After`, honoured on 429 and 503.
    pub fn decide(&self, failure: &Error, retry_after_ms: Option<u64>, retries: u32, random: f64, budget: &mut RetryBudget) -> Decision {
        let retryable = match failure {
            Error::RateLimited { .. } => true,
            Error::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            Error::Network(_) | Error::Timeout(_) | Error::Decode(_) => true,
            _ => false,
        };
        if !retryable {
            return Decision::GiveUp;
        }
        // A server that names a wait too long to sleep through gets an error the caller can
        // schedule with, rather than a silent multi-minute hang.
        let asked = match failure {
            Error::RateLimited { retry_after_ms: r, .. } => retry_after_ms.or(*r),
            Error::Http { status: 503, .. } => retry_after_ms,
            _ => None,
        };
        if let Some(ms) = asked {
            if ms > self.max_retry_after_ms {
                return Decision::WaitTooLong(ms);
            }
        }
        if retries >= self.max_retries || !budget.try_spend() {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(asked.unwrap_or_else(|| self.backoff_ms(retries, random)))
    }
}

/// What the pager does after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    RetryAfter(u64),
    /// Return the error.
    GiveUp,
    /// The server asked for a wait longer than `maxRetryAfterMs`: fail with `RATE_LIMITED`
    /// carrying this wait.
    WaitTooLong(u64),
}

/// Run-wide retry budget, in the style of gRPC's retry throttling: `budget` tokens at the
/// start, one spent per retry, one earned back per page that succeeds (up to the start
/// value). Under a steady fault rate a run keeps going; under a persistent outage it stops.
#[derive(Clone, Copy, Debug)]
pub struct RetryBudget {
    tokens: u32,
    max: u32,
}

impl RetryBudget {
    /// A full budget.
    pub fn new(max: u32) -> Self {
        RetryBudget { tokens: max, max }
    }
    fn try_spend(&mut self) -> bool {
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
    /// A page succeeded.
    pub fn earn(&mut self) {
        self.tokens = (self.tokens + 1).min(self.max);
    }
}

/// After a failed attempt of a run: the delay before the next attempt, or the error to give up
/// with — the policy's decision ([`RetryPolicy::decide`]) within what is left of `deadlineMs`
/// at `now`; `ABORTED` is never retried; a `MIXED_PLATFORM` given up on names its `batch`.
/// `random` is asked only when a retry is decided on (the backoff's jitter).
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_retry(
    policy: &RetryPolicy,
    budget: &mut RetryBudget,
    error: Error,
    retry_after: Option<u64>,
    retries: u32,
    random: impl FnOnce() -> f64,
    clock: &Clock,
    now: f64,
    batch: u32,
) -> Result<u64, Error> {
    if matches!(error, Error::Aborted(_)) {
        return Err(error);
    }
    if clock.deadline_left(now).is_some_and(|l| l <= 0.0) {
        return Err(clock.deadline_error());
    }
    match policy.decide(&error, retry_after, retries, random(), budget) {
        Decision::RetryAfter(delay_ms) if clock.deadline_left(now).is_some_and(|l| l <= delay_ms as f64) => Err(clock.deadline_error()),
        Decision::RetryAfter(delay_ms) => Ok(delay_ms),
        Decision::WaitTooLong(ms) => Err(Error::RateLimited {
            status: error.status().unwrap_or(429),
            message: format!("the server asked to wait {ms} ms, longer than maxRetryAfterMs"),
            retry_after_ms: Some(ms),
        }),
        Decision::GiveUp => Err(match error {
            Error::MixedPlatform { status, message, .. } => Error::MixedPlatform { status, message, batch: Some(batch) },
            e => e,
        }),
    }
}

/// Parse a `Retry-After` value: delay-seconds or an HTTP date (IMF-fixdate). `now_ms` is
/// the current Unix time in milliseconds.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<u64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    Some((at as f64 - now_ms).max(0.0) as u64)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → Unix milliseconds. Hand-written rather than the
/// `httpdate` crate: measured, `httpdate::parse_http_date` added 3.7 KB gzip to the shipped
/// wasm (its `SystemTime` arithmetic and error formatting), for the one date form that
/// servers send in `Retry-After` (IMF-fixdate; the obsolete forms are not accepted). A test
/// checks it against the crate.
fn parse_http_date(s: &str) -> Option<i64> {
    let rest = s.get(crate::json::find_str(s, ", ")? + 2..)?;
    let parts: Vec<&str> = rest.split(' ').collect();
    if parts.len() != 5 || parts[4] != "GMT" {
        return None;
    }
    let day: i64 = parts[0].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == parts[1])?
        as i64
        + 1;
    let year: i64 = parts[2].parse().ok()?;
    let hms: Vec<i64> = parts[3].split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if hms.len() != 3 || !(1..=31).contains(&day) || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hms[0]) * 60 + hms[1]) * 60_000 + hms[2] * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate_limited(ms: Option<u64>) -> Error {
        Error::RateLimited { status: 429, message: String::new(), retry_after_ms: ms }
    }
    fn http(status: u16) -> Error {
        Error::from_status(status, String::new(), None)
    }

    #[test]
    fn what_is_retried() {
        let p = RetryPolicy::default();
        let mut b = RetryBudget::new(100);
        for e in [
            http(500),
            http(502),
            http(503),
            http(504),
            Error::Network("x".into()),
            Error::Timeout("t".into()),
            Error::Decode("truncated".into()),
            rate_limited(None),
        ] {
            assert!(matches!(p.decide(&e, None, 0, 0.5, &mut b), Decision::RetryAfter(_)), "{e:?}");
        }
        for e in [http(400), http(401), http(403), http(404), http(501), Error::Aborted("a".into()), Error::InvalidArgument("x".into())] {
            assert_eq!(p.decide(&e, None, 0, 0.5, &mut b), Decision::GiveUp, "{e:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let mut b = RetryBudget::new(10);
        assert_eq!(p.decide(&rate_limited(Some(1500)), None, 0, 0.9, &mut b), Decision::RetryAfter(1500));
        assert_eq!(p.decide(&rate_limited(None), Some(120_000), 0, 0.9, &mut b), Decision::WaitTooLong(120_000));
        assert_eq!(p.decide(&http(503), Some(2000), 0, 0.9, &mut b), Decision::RetryAfter(2000));
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        assert_eq!(parse_retry_after("3", 0.0), Some(3000));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10_000));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770_000.0), Some(7000));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_790_000.0), Some(0));
        assert_eq!(parse_retry_after("soon", 0.0), None);
    }

    #[test]
    fn budget_stops_a_storm_and_refills_on_success() {
        let p = RetryPolicy { budget: 2, ..RetryPolicy::default() };
        let mut b = RetryBudget::new(p.budget);
        assert!(matches!(p.decide(&http(500), None, 0, 0.1, &mut b), Decision::RetryAfter(_)));
        assert!(matches!(p.decide(&http(500), None, 0, 0.1, &mut b), Decision::RetryAfter(_)));
        assert_eq!(p.decide(&http(500), None, 0, 0.1, &mut b), Decision::GiveUp);
        b.earn();
        assert!(matches!(p.decide(&http(500), None, 0, 0.1, &mut b), Decision::RetryAfter(_)));
    }

    proptest! {
        /// The `httpdate` crate as the oracle: every IMF-fixdate it writes is read as the same
        /// instant, and an edited one it still reads as an IMF-fixdate is read as it reads it.
        /// (This parser is more lenient than the crate: it does not check the weekday or that
        /// the day exists in its month, and reads no obsolete form — harmless for a delay.)
        #[test]
        fn http_dates_are_read_as_the_httpdate_crate_reads_them(
            secs in 0u64..253_402_300_800, // 1970 to 9999
            edit in proptest::option::of((0usize..29, proptest::sample::select(b"0123456789 :,-+GMTSunNovJanFebx".to_vec()))),
        ) {
            let text = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
            prop_assert_eq!(parse_http_date(&text), Some(secs as i64 * 1000), "{}", text);
            let mut edited = text.into_bytes();
            if let Some((at, b)) = edit {
                edited[at] = b;
            }
            let edited = String::from_utf8(edited).unwrap();
            let imf_fixdate = edited.len() == 29 && &edited[3..5] == ", " && edited.ends_with(" GMT");
            if let (true, Ok(t)) = (imf_fixdate, httpdate::parse_http_date(&edited)) {
                let ms = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
                prop_assert_eq!(parse_http_date(&edited), Some(ms), "{}", edited);
            }
        }

        #[test]
        fn backoff_is_full_jitter_within_the_cap(retry in 0u32..64, r in 0.0f64..1.0, base in 1u64..2000, max in 1u64..100_000) {
            let p = RetryPolicy { base_delay_ms: base, max_delay_ms: max, ..RetryPolicy::default() };
            let d = p.backoff_ms(retry, r);
            let ceiling = base.saturating_mul(1u64 << retry.min(30)).min(max);
            prop_assert!(d <= ceiling);
        }

        #[test]
        fn never_more_retries_than_allowed(max_retries in 0u32..6, failures in 0u32..20) {
            let p = RetryPolicy { max_retries, ..RetryPolicy::default() };
            let mut b = RetryBudget::new(1000);
            let mut retries = 0;
            for _ in 0..failures {
                match p.decide(&http(503), None, retries, 0.5, &mut b) {
                    Decision::RetryAfter(_) => retries += 1,
                    _ => break,
                }
            }
            prop_assert!(retries <= max_retries);
        }
    }
}
