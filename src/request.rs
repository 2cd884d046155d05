//! The request for one page: method, URL, headers and body, from the client's settings, the
//! run's target and query and the page number. Pure, and tested on the host; the pager sends
//! what this builds.

use crate::json::{json_message, json_quote};
use crate::pager::{ClientConfig, Target};
use crate::query::{encode_path_segment, CustomerQuery};
use crate::secrets::Secrets;
use crate::transport::{HttpRequest, Method};

/// The request for `page`: a GET for an organization, a POST of `ids` (the batch being
/// fetched) for `Target::Ids`. `token` is the bearer token of this attempt, if any.
pub fn build_request(
    config: &ClientConfig,
    target: &Target,
    query: &CustomerQuery,
    page: u32,
    ids: Option<&[String]>,
    token: Option<&str>,
) -> HttpRequest {
    let base = &config.base_url;
    let query = query.to_query_string(page);
    let (method, url, body) = match (target, ids) {
        (Target::Org(id), _) => (Method::Get, format!("{base}/distis/organizations/details/{}?{query}", encode_path_segment(id)), None),
        (Target::Ids(_), ids) => {
            let mut body = String::from("[");
            for (k, id) in ids.unwrap_or_default().iter().enumerate() {
                if k > 0 {
                    body.push(',');
                }
                body.push_str(&json_quote(id));
            }
            body.push(']');
            (Method::Post, format!("{base}/distis/organizations/details?{query}"), Some(body))
        }
    };
    let mut headers = config.headers.clone();
    headers.push(("Accept".into(), "application/json".into()));
    headers.push(("X-Referer".into(), config.referer.clone()));
    if let Some(t) = token {
        headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    if let Some(k) = &config.subscription_key {
        headers.push(("Ocp-Apim-Subscription-Key".into(), k.clone()));
    }
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    HttpRequest { method, url, headers, body }
}

/// What a caller is told of a non-2xx response: the server's message (from the JSON error
/// body if it is one, else its first 300 characters, else `HTTP <status>`), scrubbed of every
/// secret (`token`: this attempt's, which a token function may have just made).
pub fn error_message(status: u16, body: &[u8], secrets: &Secrets, token: Option<&str>) -> String {
    // Not valid UTF-8: no usable message (the status still says what happened).
    let text = std::str::from_utf8(body).unwrap_or("");
    let message = json_message(text).unwrap_or_else(|| {
        let t: String = text.chars().take(300).collect();
        if t.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            t
        }
    });
    secrets.scrub(&message, token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pager::RunOptions;

    fn config() -> ClientConfig {
        ClientConfig {
            base_url: "https://api.test".into(),
            referer: "https://portal.test".into(),
            subscription_key: Some("sub".into()),
            headers: vec![("X-Trace".into(), "t1".into())],
            run: RunOptions::default(),
            on_event: None,
            secrets: Default::default(),
        }
    }

    #[test]
    fn a_get_for_an_organization_and_a_post_of_the_batch_for_ids() {
        let q = CustomerQuery { page_size: Some(50), include_tenants: Some(true), ..Default::default() };
        let get = build_request(&config(), &Target::Org("o/1".into()), &q, 3, None, Some("tok"));
        assert_eq!(get.method.as_str(), "GET");
        assert!(get.url.starts_with("https://api.test/distis/organizations/details/o%2F1?"), "{}", get.url);
        assert!(get.url.contains("page=3") && get.url.contains("pageSize=50"), "{}", get.url);
        assert_eq!(get.body, None);
        let header = |r: &HttpRequest, n: &str| r.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(header(&get, "Authorization").as_deref(), Some("Bearer tok"));
        assert_eq!(header(&get, "X-Referer").as_deref(), Some("https://portal.test"));
        assert_eq!(header(&get, "Ocp-Apim-Subscription-Key").as_deref(), Some("sub"));
        assert_eq!(header(&get, "X-Trace").as_deref(), Some("t1"));
        assert_eq!(header(&get, "Content-Type"), None);

        let ids = vec!["a\"1".to_string(), "b".to_string()];
        let post = build_request(&config(), &Target::Ids(vec![ids.clone()]), &q, 1, Some(&ids), None);
        assert_eq!(post.method.as_str(), "POST");
        assert!(post.url.starts_with("https://api.test/distis/organizations/details?"));
        assert_eq!(post.body.as_deref(), Some(r#"["a\"1","b"]"#));
        assert_eq!(header(&post, "Authorization"), None);
        assert_eq!(header(&post, "Content-Type").as_deref(), Some("application/json"));
    }

    #[test]
    fn an_error_message_is_the_servers_scrubbed() {
        let secrets = Secrets::of_client(Some("tok-secret"), None, &[("Cookie".into(), "sid=s3ss".into())], &[]);
        let json = br#"{"statusCode":403,"message":"no for sid=s3ss and tok-secret"}"#;
        let m = error_message(403, json, &secrets, Some("fresh-token-9"));
        assert!(m.starts_with("no for") && !m.contains("s3ss") && !m.contains("tok-secret"), "{m}");
        assert_eq!(error_message(502, b"", &secrets, None), "HTTP 502");
        assert_eq!(error_message(500, b"plain fresh-token-9", &secrets, Some("fresh-token-9")), "plain [redacted]");
        assert_eq!(error_message(500, &[0xff, 0xfe], &secrets, None), "HTTP 500", "not UTF-8");
    }
}
