//! The one list of a client's credentials, and what every message the SDK builds (errors from
//! the server or from `fetch`, events, logs) is scrubbed with. Built once, by `Client::new`.

use std::rc::Rc;

use crate::error::scrub;
use crate::snapshot::heap_sort;

/// Header names that carry credentials, whichever option they come from: their values are
/// secrets, and they make plain http refused (except to loopback).
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "ocp-apim-subscription-key"];

/// Whether a header (by name, any case) carries a credential: one of the standard ones or one
/// the caller declared secret (`secretHeaders`).
pub fn is_credential_header(name: &str, declared: &[String]) -> bool {
    CREDENTIAL_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) || declared.iter().any(|h| h.trim().eq_ignore_ascii_case(name))
}

/// A client's credentials: the token (when fixed), the subscription key, and the values of its
/// credential headers — each whole and in the pieces a server may echo alone (the credentials
/// after an `Authorization` scheme, each `name=value` of a `Cookie` and its value).
#[derive(Clone, Debug, Default)]
pub struct Secrets(Rc<Vec<String>>);

impl Secrets {
    /// The secrets of a client with these settings.
    pub fn of_client(token: Option<&str>, subscription_key: Option<&str>, headers: &[(String, String)], declared: &[String]) -> Secrets {
        let mut out: Vec<String> = token.into_iter().chain(subscription_key).map(str::to_string).collect();
        for (name, value) in headers.iter().filter(|(name, _)| is_credential_header(name, declared)) {
            out.push(value.clone());
            if let Some((_scheme, credentials)) = value.trim().split_once(' ') {
                out.push(credentials.trim().to_string());
            }
            if name.eq_ignore_ascii_case("cookie") {
                for pair in value.split(';').map(str::trim) {
                    out.push(pair.to_string());
                    out.extend(pair.split_once('=').map(|(_, v)| v.to_string()));
                }
            }
        }
        // Longest first, so a secret that contains another is cut whole; equal ones next to
        // each other, so `dedup` drops every repeat. (The crate's heap sort: std's costs the
        // wasm kilobytes.)
        heap_sort(&mut out, |a, b| (b.len(), b) < (a.len(), a));
        out.dedup();
        Secrets(Rc::new(out))
    }

    /// `text` without any of these secrets (nor `also`: a token a token function returned),
    /// nor anything that looks like a credential (see [`scrub`]).
    pub fn scrub(&self, text: &str, also: Option<&str>) -> String {
        let mut list: Vec<&str> = also.into_iter().collect();
        list.extend(self.0.iter().map(String::as_str));
        scrub(text, &list)
    }

    /// Whether there is any secret at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_is_cut_from_messages() {
        let headers = vec![
            ("Cookie".to_string(), "theme=dark; sid=s3ss10n-v4lue".to_string()),
            ("Proxy-Authorization".to_string(), "Basic dXNlcjpwYXNz".to_string()),
            ("X-Api-Key".to_string(), "k3y-declared".to_string()),
            ("X-Trace".to_string(), "trace-not-secret".to_string()),
        ];
        let s = Secrets::of_client(Some("tok-123456"), Some("sub-key-1"), &headers, &["x-api-key".to_string()]);
        let text = "rejected session for sid=s3ss10n-v4lue (s3ss10n-v4lue), proxy dXNlcjpwYXNz, key k3y-declared, \
                    tok-123456 sub-key-1 dyn-token-9 trace-not-secret";
        let out = s.scrub(text, Some("dyn-token-9"));
        for secret in ["s3ss10n-v4lue", "dXNlcjpwYXNz", "k3y-declared", "tok-123456", "sub-key-1", "dyn-token-9"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("trace-not-secret"), "{out}");
        assert!(is_credential_header("COOKIE", &[]) && is_credential_header("x-API-key", &["X-Api-Key".into()]));
        assert!(!is_credential_header("X-Referer", &[]));
        assert!(Secrets::default().is_empty());
        // The same value twice, among others of its length, is kept once.
        let twice = vec![("Cookie".to_string(), "aaa; bbb; aaa".to_string())];
        let s = Secrets::of_client(Some("ccc"), None, &twice, &[]);
        assert_eq!(s.0.iter().filter(|v| v.as_str() == "aaa").count(), 1, "{:?}", s.0);
        assert!(s.0.windows(2).all(|w| w[0].len() >= w[1].len()), "longest first: {:?}", s.0);
    }
}
