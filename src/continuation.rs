//! Continuation tokens: where a `byPage()` iteration can be resumed — in another process, a
//! later request, after a crash — with `customers(orgId, { continuationToken })`.
//!
//! A token is 25 bytes in base64url (34 characters): version `1`, the next page (u32), a hash
//! binding it to the organization and the whole query (sections, status filter,
//! `includeChildOrganizations` and `pageSize`: a page number means nothing under another page
//! size), the de-duplication key of the page's last customer (so a customer an insert pushes
//! onto the next page is not handed out again after the resume), and a checksum. All
//! integers little-endian. Nothing secret is in it.

use crate::error::Error;
use crate::query::CustomerQuery;
use crate::record::{hash_bytes, le};
use crate::snapshot::binding;

/// The token's version: bump it for any change of the token the same page of the same query
/// gets — the layout, the binding (`bound`), [`crate::record::hash_bytes`] or
/// [`crate::record::id_key`] (`tests/fixtures/continuation-v1.txt` pins them).
const VERSION: u8 = 1;
const BYTES: usize = 25;

/// A decoded continuation token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Continuation {
    /// The page to fetch next.
    pub page: u32,
    /// The de-duplication key of the last customer handed out (`record::id_key`), if any.
    pub last_id: Option<u64>,
}

fn bound(org_id: &str, query: &CustomerQuery) -> u64 {
    // Every field by name, none by `..`: a new one does not compile until someone decides
    // whether a token made under one value may resume under another (then `_`, with the
    // reason) or not (then bound, here or in `binding`, and `VERSION` bumped).
    let CustomerQuery {
        // These are bound by `snapshot::binding`.
        include_child_organizations: _,
        include_addresses: _,
        include_contacts: _,
        include_custom_properties: _,
        include_tenants: _,
        include_industries: _,
        customer_status: _,
        // A page number means nothing under another page size.
        page_size: _,
        // The token says which page comes next.
        page: _,
    } = query;
    hash_bytes(binding(org_id, query), &query.effective_page_size().to_le_bytes())
}

fn checksum(bytes: &[u8]) -> u32 {
    hash_bytes(0x636f_6e74, bytes) as u32
}

impl Continuation {
    /// The token for resuming `org_id` + `query` at `self.page`.
    pub fn encode(&self, org_id: &str, query: &CustomerQuery) -> String {
        let mut b = Vec::with_capacity(BYTES);
        b.push(VERSION);
        b.extend_from_slice(&self.page.to_le_bytes());
        b.extend_from_slice(&bound(org_id, query).to_le_bytes());
        b.extend_from_slice(&self.last_id.unwrap_or(0).to_le_bytes());
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        base64url(&b)
    }

    /// Read a token, checking it was made for `org_id` and this same query.
    pub fn decode(token: &str, org_id: &str, query: &CustomerQuery) -> Result<Continuation, Error> {
        let bad = || Error::InvalidArgument("continuationToken is not a token a page of this SDK gave (or it was cut or changed)".into());
        let b = from_base64url(token).filter(|b| b.len() == BYTES).ok_or_else(bad)?;
        let u32_at = |at: usize| u32::from_le_bytes(le(&b[at..]));
        let u64_at = |at: usize| u64::from_le_bytes(le(&b[at..]));
        if b[0] != VERSION || u32_at(21) != checksum(&b[..21]) {
            return Err(bad());
        }
        if u64_at(5) != bound(org_id, query) {
            return Err(Error::InvalidArgument(
                "continuationToken belongs to another organization or another query (sections, customerStatus, \
                 includeChildOrganizations, pageSize): resume with the same ones"
                    .into(),
            ));
        }
        let page = u32_at(1);
        if page == 0 {
            return Err(bad());
        }
        Ok(Continuation { page, last_id: Some(u64_at(13)).filter(|k| *k != 0) })
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding. Hand-written: 20 lines against a crate for 25 bytes (a test
/// checks both directions against the `base64` crate's `URL_SAFE_NO_PAD`).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn from_base64url(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text.bytes().map(|c| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)).collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | d << (18 - 6 * i));
        // The last digit's bits past the last byte are zero (one spelling per token).
        if n & ((1 << (32 - 8 * chunk.len())) - 1) != 0 {
            return None;
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_org_and_query() {
        let q = CustomerQuery { page_size: Some(50), ..CustomerQuery::everything() };
        let c = Continuation { page: 7, last_id: Some(0xdead_beef) };
        let token = c.encode("Org-1", &q);
        assert_eq!(token.len(), 34);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_eq!(Continuation::decode(&token, "org-1", &q).unwrap(), c);
        let with_page = CustomerQuery { page: Some(3), ..q.clone() };
        assert!(Continuation::decode(&token, "org-1", &with_page).is_ok(), "page itself is not bound");
        for (org, other) in [
            ("org-2", q.clone()),
            ("org-1", CustomerQuery { page_size: Some(51), ..q.clone() }),
            ("org-1", CustomerQuery { include_contacts: Some(false), ..q.clone() }),
        ] {
            let e = Continuation::decode(&token, org, &other).unwrap_err();
            assert!(e.to_string().contains("another organization or another query"), "{e}");
        }
        for bad in ["", "x", &token[..33], &format!("{token}A"), &token.replace(&token[5..6], if &token[5..6] == "A" { "B" } else { "A" })]
        {
            assert_eq!(Continuation::decode(bad, "org-1", &q).unwrap_err().code(), "INVALID_ARGUMENT", "{bad}");
        }
        let none = Continuation { page: 2, last_id: None };
        assert_eq!(Continuation::decode(&none.encode("o", &q), "o", &q).unwrap(), none);
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(97) ^ 0xA5).collect();
            assert_eq!(from_base64url(&base64url(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert!(from_base64url("ab+c").is_none());
        assert!(from_base64url("-_9").is_none(), "bits past the last byte");
    }

    /// The token of `tests/fixtures/continuation-v1.txt`.
    fn golden() -> (Continuation, &'static str, CustomerQuery) {
        let query = CustomerQuery {
            include_contacts: Some(true),
            customer_status: Some(crate::model::CustomerStatus::Suspended),
            page_size: Some(250),
            page: Some(4),
            ..Default::default()
        };
        (Continuation { page: 7, last_id: Some(crate::record::id_key(b"0000002a-1111-4222-8333-444455556666")) }, "Org-Golden", query)
    }

    #[test]
    fn the_token_format_is_what_version_1_was() {
        let stored = include_str!("../tests/fixtures/continuation-v1.txt").trim_end();
        let (c, org, query) = golden();
        let bump = "the continuation token format changed (layout, binding, hash_bytes or id_key): bump \
                    continuation::VERSION, keep reading version 1 (or refuse it with a clear message), and add a fixture";
        let read = Continuation::decode(stored, org, &query).unwrap_or_else(|e| panic!("{e}: {bump}"));
        assert_eq!(read, c, "{bump}");
        assert_eq!(read.encode(org, &query), stored, "decode then encode: {bump}");
        assert_eq!(c.encode(org, &query), stored, "today's code, the same page: {bump}");
    }

    mod oracle {
        use super::super::*;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn base64url_is_the_base64_crates(bytes in proptest::collection::vec(any::<u8>(), 0..64), text in "[A-Za-z0-9_=+/-]{0,40}") {
                prop_assert_eq!(base64url(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
                prop_assert_eq!(from_base64url(&base64url(&bytes)), Some(bytes));
                prop_assert_eq!(from_base64url(&text), URL_SAFE_NO_PAD.decode(&text).ok(), "{}", text);
            }
        }
    }
}
