//! What a caller asks for, and the request it becomes: query strings for every parameter of
//! the article, URL building, and the checks made before anything is sent.

use serde::Serialize;
use tsify::Tsify;

use crate::error::Error;
use crate::model::CustomerStatus;

/// The API's default (and the emulator's maximum) page size, per the article.
pub const DEFAULT_PAGE_SIZE: u32 = 10_000;

/// Query parameters of "GET All Customers". Defaults are the article's: child organizations
/// included, every other section left out, no status filter, the server's page size.
/// # Examples
///
/// In JavaScript, these are options of `customers`, `customersByIds`, `customersPage` and `sync`:
///
/// ```js
/// client.customers(orgId, { includeAddresses: true, customerStatus: "Active", pageSize: 1000 });
/// ```
///
/// In Rust:
///
/// ```
/// use appxite_customers::{CustomerQuery, CustomerStatus};
/// let query = CustomerQuery { include_addresses: Some(true), customer_status: Some(CustomerStatus::Active), ..Default::default() };
/// assert!(query.validate().is_ok());
/// assert!(query.to_query_string(1).contains("includeAddresses=true"));
/// ```
#[derive(Tsify, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuery {
    /// Include customers of child organizations (resellers under a distributor). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_child_organizations: Option<bool>,
    /// Include `customerPrimaryAddress` and `customerBillingAddress`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_addresses: Option<bool>,
    /// Include the four contacts. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_contacts: Option<bool>,
    /// Include `customerCustomProperties`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_custom_properties: Option<bool>,
    /// Include `customerTenants`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_tenants: Option<bool>,
    /// Include `customerIndustries`. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub include_industries: Option<bool>,
    /// Only customers with this status. Default: no filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub customer_status: Option<CustomerStatus>,
    /// Customers per page (a positive whole number). Default: the server's, 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub page_size: Option<u32>,
    /// The first page to fetch, 1-based. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub page: Option<u32>,
}

impl CustomerQuery {
    /// The keys a JS caller may pass (everything else is an `INVALID_ARGUMENT`).
    pub const KEYS: &'static [&'static str] = &[
        "includeChildOrganizations",
        "includeAddresses",
        "includeContacts",
        "includeCustomProperties",
        "includeTenants",
        "includeIndustries",
        "customerStatus",
        "pageSize",
        "page",
    ];

    /// A query with every section included.
    pub fn everything() -> Self {
        CustomerQuery {
            include_addresses: Some(true),
            include_contacts: Some(true),
            include_custom_properties: Some(true),
            include_tenants: Some(true),
            include_industries: Some(true),
            ..Default::default()
        }
    }

    /// Check values that the type alone does not rule out.
    pub fn validate(&self) -> Result<(), Error> {
        if self.page_size == Some(0) {
            return Err(Error::InvalidArgument("pageSize must be a positive whole number".into()));
        }
        if self.page == Some(0) {
            return Err(Error::InvalidArgument("page is 1-based: it must be a positive whole number".into()));
        }
        Ok(())
    }

    /// The page size that decides where a run ends: a page shorter than this is the last.
    pub fn effective_page_size(&self) -> u32 {
        self.page_size.unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The first page of a run.
    pub fn first_page(&self) -> u32 {
        self.page.unwrap_or(1)
    }

    /// The query string for `page` (without `?`). Parameters left at their defaults are
    /// sent only where the article's default could be in doubt; `page` is always sent.
    pub fn to_query_string(&self, page: u32) -> String {
        let mut q = String::with_capacity(160);
        let mut add = |k: &str, v: &str| {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(k);
            q.push('=');
            q.push_str(v);
        };
        let flag = |b: bool| if b { "true" } else { "false" };
        if let Some(v) = self.include_child_organizations {
            add("includeChildOrganizations", flag(v));
        }
        for (key, value) in [
            ("includeAddresses", self.include_addresses),
            ("includeContacts", self.include_contacts),
            ("includeCustomProperties", self.include_custom_properties),
            ("includeTenants", self.include_tenants),
            ("includeIndustries", self.include_industries),
        ] {
            if let Some(v) = value {
                add(key, flag(v));
            }
        }
        if let Some(s) = self.customer_status {
            add("customerStatus", s.as_str());
        }
        if let Some(n) = self.page_size {
            add("pageSize", &n.to_string());
        }
        add("page", &page.to_string());
        q
    }
}

/// Organization IDs go into the URL path: percent-encode everything but unreserved bytes, so
/// no input can change the path or add a query. Hand-written rather than the
/// `percent-encoding` crate: measured, `utf8_percent_encode` added 0.7 KB gzip to the shipped
/// wasm for what is this one loop.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Check an organization ID from a caller. `.` and `..` would survive encoding as dot
/// segments, which URL parsing then resolves (`details/..` is `organizations/`): refused, so
/// the request path always has exactly the one `{orgId}` segment.
pub fn validate_org_id(id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        return Err(Error::InvalidArgument("orgId must be a non-empty string".into()));
    }
    if id == "." || id == ".." {
        return Err(Error::InvalidArgument(format!("orgId '{id}' is not an organization ID")));
    }
    Ok(())
}

/// A header as `fetch` will send it: a token name and a value without CR, LF or NUL (which
/// could split the request, or fail only at the first request).
pub fn check_header(what: &str, name: &str, value: &str) -> Result<(), Error> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(Error::InvalidArgument(format!("{what}: '{name}' is not a valid header name")));
    }
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(Error::InvalidArgument(format!("{what}: the value of '{name}' contains CR, LF or NUL")));
    }
    Ok(())
}

/// Normalise a base URL (no trailing slash) and refuse to send credentials over plain HTTP
/// to anything but this machine. `hostname` is the host the runtime's WHATWG `URL` parser
/// finds in `base` — where a request will really go (`http://a.example\\x.localhost` goes to
/// `a.example`): the loopback decision is made on it. `None` only where there is no such
/// parser (host tests), and then the authority is read from the text.
pub fn check_base_url(base: &str, hostname: Option<&str>, sends_credentials: bool) -> Result<String, Error> {
    let base = base.trim().trim_end_matches('/');
    let sep = crate::json::find_str(base, "://")
        .ok_or_else(|| Error::InvalidArgument(format!("baseUrl must be an absolute http(s) URL, got '{base}'")))?;
    // `get`, not `[..]`: the indexes are at ASCII bytes, and no panic path is linked in.
    let (scheme, rest) = (base.get(..sep).unwrap_or(""), base.get(sep + 3..).unwrap_or(""));
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(Error::InvalidArgument(format!("baseUrl must use https (or http for localhost), got '{scheme}:'")));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(Error::InvalidArgument("baseUrl must name a host (and no user info)".into()));
    }
    if base.contains(['?', '#']) {
        return Err(Error::InvalidArgument("baseUrl must not contain a query or fragment".into()));
    }
    let loopback = match hostname {
        Some(h) => is_loopback_host(h),
        None => is_loopback(authority),
    };
    if scheme == "http" && sends_credentials && !loopback {
        return Err(Error::InvalidArgument(format!(
            "refusing to send a token or key over plain http to '{authority}': use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"
        )));
    }
    Ok(base.to_string())
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().map(|h| format!("[{h}]")).unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    is_loopback_host(&host)
}

/// A hostname as WHATWG `URL` gives it (lower case, IPv4 normalised, IPv6 in brackets).
fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let ipv4_loopback = host.strip_prefix("127.").is_some_and(|rest| {
        let parts: Vec<&str> = rest.split('.').collect();
        parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    });
    host == "localhost" || ipv4_loopback || host == "[::1]" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_send_only_the_page() {
        assert_eq!(CustomerQuery::default().to_query_string(1), "page=1");
    }

    #[test]
    fn every_parameter_is_encoded() {
        let q = CustomerQuery {
            include_child_organizations: Some(false),
            customer_status: Some(CustomerStatus::Suspended),
            page_size: Some(250),
            page: Some(3),
            ..CustomerQuery::everything()
        };
        assert_eq!(
            q.to_query_string(4),
            "includeChildOrganizations=false&includeAddresses=true&includeContacts=true&includeCustomProperties=true\
             &includeTenants=true&includeIndustries=true&customerStatus=Suspended&pageSize=250&page=4"
        );
        assert_eq!((q.first_page(), q.effective_page_size()), (3, 250));
    }

    #[test]
    fn zero_page_or_size_is_rejected() {
        let bad = CustomerQuery { page_size: Some(0), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().code(), "INVALID_ARGUMENT");
        let bad = CustomerQuery { page: Some(0), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().code(), "INVALID_ARGUMENT");
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(encode_path_segment("a/../b?x=1#"), "a%2F..%2Fb%3Fx%3D1%23");
        for dots in [".", ".."] {
            assert_eq!(validate_org_id(dots).unwrap_err().code(), "INVALID_ARGUMENT");
        }
        assert!(validate_org_id("...").is_ok());
    }

    proptest::proptest! {
        /// Whatever the ID, the request path is the endpoint plus exactly one segment that no
        /// URL parser rewrites: no separator, no dot segment, nothing to decode into one.
        #[test]
        fn any_accepted_id_is_exactly_one_path_segment(id in proptest::prelude::any::<String>()) {
            if validate_org_id(&id).is_ok() {
                let segment = encode_path_segment(&id);
                proptest::prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
                proptest::prop_assert!(segment != "." && segment != "..");
                // `%` itself is encoded, so no `%2e`/`%2f` can appear for a parser to decode.
                let decoded_dots = segment.to_ascii_lowercase().contains("%2e") || segment.to_ascii_lowercase().contains("%2f");
                proptest::prop_assert!(!decoded_dots || id.contains('.') || id.contains('/'));
            }
        }
    }

    #[test]
    fn headers_are_checked_as_fetch_would_send_them() {
        assert!(check_header("headers", "X-Trace-Id", "abc def").is_ok());
        for (name, value) in [("X-A", "a\r\nInjected: 1"), ("X-A", "a\nb"), ("X-A", "a\0"), ("Bad Name", "v"), ("", "v"), ("X:A", "v")] {
            assert_eq!(check_header("headers", name, value).unwrap_err().code(), "INVALID_ARGUMENT", "{name:?}");
        }
    }

    #[test]
    fn loopback_is_decided_on_the_host_the_runtime_connects_to() {
        // What WHATWG URL makes of `http://evil.example\x.localhost`: hostname evil.example.
        let e = check_base_url("http://evil.example\\x.localhost", Some("evil.example"), true).unwrap_err();
        assert!(e.to_string().contains("plain http"), "{e}");
        assert!(check_base_url("http://127.1:8080", Some("127.0.0.1"), true).is_ok());
        assert!(check_base_url("http://api.localhost", Some("api.localhost"), true).is_ok());
        assert!(check_base_url("http://127.0.0.1.evil.example", Some("127.0.0.1.evil.example"), true).is_err());
        assert!(check_base_url("http://[::1]:1", Some("[::1]"), true).is_ok());
    }

    #[test]
    fn credentials_only_over_https_or_loopback() {
        let check_base_url = |base: &str, creds: bool| check_base_url(base, None, creds);
        assert_eq!(check_base_url("https://api.appxite.com/", true).unwrap(), "https://api.appxite.com");
        assert!(check_base_url("http://127.0.0.1:8080", true).is_ok());
        assert!(check_base_url("http://localhost:1", true).is_ok());
        assert!(check_base_url("http://[::1]:80", true).is_ok());
        let e = check_base_url("http://api.appxite.com", true).unwrap_err();
        assert!(e.to_string().contains("plain http"));
        assert!(check_base_url("http://example.com", false).is_ok());
        assert!(check_base_url("ftp://x", false).is_err());
        assert!(check_base_url("api.appxite.com", false).is_err());
        assert!(check_base_url("https://u:p@x.com", false).is_err());
    }
}
