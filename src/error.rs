//! The one error type of the SDK. Every variant has a stable string [`Error::code`] that JS
//! callers `switch` on; messages never contain tokens or keys (the SDK never puts them in a
//! message, and server text is passed through [`scrub`]).

use std::fmt;

use crate::json::{find_bytes, find_str};

/// An SDK error: what went wrong, with a stable [`code`](Error::code). In every variant,
/// `status` is the HTTP status and `message` the server's message (scrubbed of secrets).
/// # Examples
///
/// ```
/// use appxite_customers::Error;
/// let e = Error::RateLimited { status: 429, message: "slow down".into(), retry_after_ms: Some(2000) };
/// assert_eq!((e.code(), e.status(), e.retry_after_ms()), ("RATE_LIMITED", Some(429), Some(2000)));
/// ```
#[allow(missing_docs)] // the fields are documented once, above
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument, caught before any request was sent.
    InvalidArgument(String),
    /// No `X-Referer` could be determined (no page origin and no `referer` option).
    MissingReferer,
    /// 401: the token (or subscription key) was refused, also after one refresh.
    Unauthorized { status: u16, message: String },
    /// 403: the gateway refused the caller (for example X-Referer does not match the page).
    Forbidden { status: u16, message: String },
    /// 404: the organization does not exist (or is not visible to this caller).
    NotFound { status: u16, message: String },
    /// 400 from the server for mixing organizations of different platforms in one request.
    MixedPlatform { status: u16, message: String, batch: Option<u32> },
    /// 400 from the server for any other reason.
    BadRequest { status: u16, message: String },
    /// 429 (or 503 with Retry-After) after retries, or a Retry-After longer than allowed.
    RateLimited { status: u16, message: String, retry_after_ms: Option<u64> },
    /// Any other non-2xx status, after retries where the status is retryable.
    Http { status: u16, message: String },
    /// The request failed before a response arrived, or the body stream broke.
    Network(String),
    /// The body was not the JSON array of customer objects the API returns (including a
    /// body that was cut off before its closing `]`).
    Decode(String),
    /// An attempt took longer than `timeoutMs`, or the run longer than `deadlineMs`.
    Timeout(String),
    /// The caller's AbortSignal fired (or the iteration was stopped).
    Aborted(String),
    /// The server does not page as asked: it sent the page before again (it ignores `page`),
    /// the run passed `maxPages`, or the page number would pass 2^32 − 1.
    Pagination(String),
    /// The server answered with a redirect. Redirects are not followed, so credentials and
    /// POST bodies never travel to another origin; `status` is absent where the runtime hides
    /// it (browsers).
    Redirect { status: Option<u16>, message: String },
}

/// Every `code` an error of this SDK can have, in one place: each variant's [`Error::code`],
/// and `INTERNAL`, which the npm package's guard (`pkg-template/guard.js`) gives when the wasm
/// instance broke (a trap: a bug) and was replaced. A test checks that the TypeScript union,
/// the README's table and the demo's messages list exactly these.
pub const CODES: &[&str] = &[
    "INVALID_ARGUMENT",
    "MISSING_REFERER",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "MIXED_PLATFORM",
    "BAD_REQUEST",
    "RATE_LIMITED",
    "HTTP",
    "NETWORK",
    "DECODE",
    "TIMEOUT",
    "ABORTED",
    "PAGINATION",
    "REDIRECT",
    "INTERNAL",
];

impl Error {
    /// The stable code: one of [`CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::MissingReferer => "MISSING_REFERER",
            Error::Unauthorized { .. } => "UNAUTHORIZED",
            Error::Forbidden { .. } => "FORBIDDEN",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::MixedPlatform { .. } => "MIXED_PLATFORM",
            Error::BadRequest { .. } => "BAD_REQUEST",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Http { .. } => "HTTP",
            Error::Network(_) => "NETWORK",
            Error::Decode(_) => "DECODE",
            Error::Timeout(_) => "TIMEOUT",
            Error::Aborted(_) => "ABORTED",
            Error::Pagination(_) => "PAGINATION",
            Error::Redirect { .. } => "REDIRECT",
        }
    }

    /// The HTTP status, for errors that came with a response; `None` for the others (an
    /// `UNAUTHORIZED` from a failing token function has no response, so its status is 0).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { status: 0, .. } => None,
            Error::Unauthorized { status, .. }
            | Error::Forbidden { status, .. }
            | Error::NotFound { status, .. }
            | Error::MixedPlatform { status, .. }
            | Error::BadRequest { status, .. }
            | Error::RateLimited { status, .. }
            | Error::Http { status, .. } => Some(*status),
            Error::Redirect { status, .. } => *status,
            _ => None,
        }
    }

    /// How long the server asked to wait, for `RATE_LIMITED`.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// Build the error for a non-2xx response. `message` is the server's, already scrubbed.
    pub fn from_status(status: u16, message: String, retry_after_ms: Option<u64>) -> Error {
        match status {
            400 if is_mixed_platform(&message) => Error::MixedPlatform { status, message, batch: None },
            400 => Error::BadRequest { status, message },
            401 => Error::Unauthorized { status, message },
            403 => Error::Forbidden { status, message },
            404 => Error::NotFound { status, message },
            429 => Error::RateLimited { status, message, retry_after_ms },
            _ => Error::Http { status, message },
        }
    }
}

fn is_mixed_platform(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    find_str(&m, "mixed platform").is_some() || find_str(&m, "different platforms").is_some()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::MissingReferer => f.write_str(
                "no X-Referer: there is no page origin here (Workers, Node), so pass the `referer` option \
                 with your platform URL",
            ),
            Error::Unauthorized { status, message } => write!(f, "the token was refused ({status}): {message}"),
            Error::Forbidden { status, message } => write!(f, "access forbidden ({status}): {message}"),
            Error::NotFound { status, message } => write!(f, "not found ({status}): {message}"),
            Error::MixedPlatform { status, message, batch } => match batch {
                Some(b) => write!(f, "mixed platforms in ID batch {b} ({status}): {message}"),
                None => write!(f, "mixed platforms ({status}): {message}"),
            },
            Error::BadRequest { status, message } => write!(f, "the server rejected the request ({status}): {message}"),
            Error::RateLimited { status, message, retry_after_ms } => match retry_after_ms {
                Some(ms) => write!(f, "rate limited ({status}), retry after {ms} ms: {message}"),
                None => write!(f, "rate limited ({status}): {message}"),
            },
            Error::Http { status, message } => write!(f, "HTTP {status}: {message}"),
            Error::Network(m) => write!(f, "network error: {m}"),
            Error::Decode(m) => write!(f, "unexpected response body: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Aborted(m) => write!(f, "aborted: {m}"),
            Error::Pagination(m) => write!(f, "pagination failed: {m}"),
            Error::Redirect { status: Some(s), message } => write!(f, "redirected ({s}): {message}"),
            Error::Redirect { status: None, message } => write!(f, "redirected: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// Remove anything that looks like a credential from text that will be shown to a caller
/// (server messages, JS error messages): bearer tokens, `key=`/`token=` query values and
/// the given secrets verbatim. Works on bytes: every cut is next to an ASCII byte or a whole
/// UTF-8 secret, so the text stays valid UTF-8 (and no `str` slicing can panic).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.as_bytes().to_vec();
    for secret in secrets.iter().map(|s| s.as_bytes()).filter(|s| s.len() >= 3) {
        let mut kept = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(i) = find_bytes(rest, secret, false) {
            kept.extend_from_slice(&rest[..i]);
            kept.extend_from_slice(REDACTED);
            rest = &rest[i + secret.len()..];
        }
        kept.extend_from_slice(rest);
        out = kept;
    }
    // `Bearer xyz` → `Bearer [redacted]`; only what looks like a credential (12+ bytes), so
    // "bearer token." stays readable.
    out = redact_values(&out, b"bearer ", b" \t\r\n\",", 12);
    // `?subscription-key=xyz&` style query values.
    for key in [&b"subscription-key="[..], b"subscription_key=", b"token=", b"access_token=", b"key="] {
        out = redact_values(&out, key, b"& \"'", 1);
    }
    String::from_utf8(out).unwrap_or_default()
}

const REDACTED: &[u8] = b"[redacted]";

/// `text` with the value after each `marker` (ASCII case ignored), up to the first of
/// `stops`, replaced by [`REDACTED`] when it is at least `min_len` bytes long.
fn redact_values(text: &[u8], marker: &[u8], stops: &[u8], min_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_bytes(rest, marker, true) {
        let start = i + marker.len();
        let end = rest[start..].iter().position(|b| stops.contains(b)).map_or(rest.len(), |e| start + e);
        out.extend_from_slice(&rest[..start]);
        out.extend_from_slice(if end - start >= min_len { REDACTED } else { &rest[start..end] });
        rest = &rest[end..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_response_means_no_status() {
        assert_eq!(Error::Unauthorized { status: 0, message: String::new() }.status(), None);
        assert_eq!(Error::Unauthorized { status: 401, message: String::new() }.status(), Some(401));
        assert_eq!(Error::Network("x".into()).status(), None);
        assert_eq!(Error::Redirect { status: None, message: String::new() }.status(), None);
    }

    #[test]
    fn statuses_map_to_codes() {
        let c = |s, m: &str| Error::from_status(s, m.into(), None).code();
        assert_eq!(c(400, "Mixed Platform Data: no"), "MIXED_PLATFORM");
        assert_eq!(c(400, "pageSize must be"), "BAD_REQUEST");
        assert_eq!(c(401, ""), "UNAUTHORIZED");
        assert_eq!(c(403, ""), "FORBIDDEN");
        assert_eq!(c(404, ""), "NOT_FOUND");
        assert_eq!(c(429, ""), "RATE_LIMITED");
        assert_eq!(c(502, ""), "HTTP");
    }

    #[test]
    fn every_list_of_error_codes_is_this_one() {
        let one_of_each = [
            Error::InvalidArgument(String::new()),
            Error::MissingReferer,
            Error::Unauthorized { status: 401, message: String::new() },
            Error::Forbidden { status: 403, message: String::new() },
            Error::NotFound { status: 404, message: String::new() },
            Error::MixedPlatform { status: 400, message: String::new(), batch: None },
            Error::BadRequest { status: 400, message: String::new() },
            Error::RateLimited { status: 429, message: String::new(), retry_after_ms: None },
            Error::Http { status: 500, message: String::new() },
            Error::Network(String::new()),
            Error::Decode(String::new()),
            Error::Timeout(String::new()),
            Error::Aborted(String::new()),
            Error::Pagination(String::new()),
            Error::Redirect { status: None, message: String::new() },
        ];
        let mut rust: Vec<&str> = one_of_each.iter().map(Error::code).collect();
        rust.push("INTERNAL"); // made by the package's guard.js, not by a variant
        assert_eq!(rust, CODES);
        let quoted_in = |text: &str, open: &str, close: &str| -> Vec<String> {
            CODES.iter().filter(|c| text.contains(&format!("{open}{c}{close}"))).map(|c| c.to_string()).collect()
        };
        let all: Vec<String> = CODES.iter().map(|c| c.to_string()).collect();
        let ts = include_str!("js/types.rs");
        let union = &ts[ts.find("export type AppxiteErrorCode").unwrap()..];
        let union = &union[..union.find(';').unwrap()];
        assert_eq!(quoted_in(union, "\"", "\""), all, "the TypeScript union");
        assert_eq!(union.matches('|').count(), CODES.len(), "the TypeScript union has no other member");
        let readme = include_str!("../README.md");
        let table = &readme[readme.find("| code | when |").unwrap()..];
        let table = &table[..table.find("\n\n").unwrap()];
        assert_eq!(quoted_in(table, "| `", "` |"), all, "the README's table");
        assert_eq!(table.lines().count(), CODES.len() + 2, "the README's table has no other row");
        let demo = include_str!("../www/app.js");
        let friendly = &demo[demo.find("const FRIENDLY = {").unwrap()..];
        let friendly = &friendly[..friendly.find("};").unwrap()];
        assert_eq!(quoted_in(friendly, "  ", ": "), all, "the demo's messages");
    }

    #[test]
    fn scrub_removes_secrets() {
        assert_eq!(scrub("invalid bearer token.", &[]), "invalid bearer token.");
        let s = scrub("Authorization: Bearer abc.def.ghi.jkl failed for sk-123 at /x?subscription-key=zzz&a=1", &["sk-123"]);
        assert!(!s.contains("abc.def") && !s.contains("sk-123") && !s.contains("zzz"), "{s}");
        assert!(s.contains("a=1"));
        assert_eq!(scrub("plain text", &["ab"]), "plain text");
        // Every occurrence, any case, next to non-ASCII text; short values are not credentials.
        let s = scrub("é BEARER abcdefghijklmnop, ключ sk-123 token=t1&x=2 sk-123 Token=t2 bearer short", &["sk-123"]);
        assert_eq!(s, "é BEARER [redacted], ключ [redacted] token=[redacted]&x=2 [redacted] Token=[redacted] bearer short");
        assert_eq!(scrub("?subscription-key=abc&key=def", &[]), "?subscription-key=[redacted]&key=[redacted]");
        assert_eq!(scrub("token=", &["ключ-секрет"]), "token=");
        assert_eq!(scrub("x ключ-секрет y", &["ключ-секрет"]), "x [redacted] y");
    }
}
