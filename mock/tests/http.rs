//! appxite-mock over real HTTP: every parameter and default, each gateway error with its
//! status and body, CORS, paging edges, POST semantics, mixed platforms, chaos determinism.

use std::net::SocketAddr;

use appxite_mock::{app, Config};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

struct Mock {
    url: String,
    http: Client,
    orgs: Vec<Value>,
}

async fn start(config: Config) -> Mock {
    let (router, _state) = app(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(appxite_mock::serve(listener, router, std::time::Duration::from_millis(500)));
    let url = format!("http://{addr}");
    let http = Client::new();
    let orgs: Value = http.get(format!("{url}/__mock/orgs")).send().await.unwrap().json().await.unwrap();
    Mock { url, http, orgs: orgs["orgs"].as_array().unwrap().clone() }
}

impl Mock {
    fn org(&self, kind: &str, n: usize) -> &Value {
        self.orgs.iter().filter(|o| o["kind"] == kind).nth(n).unwrap()
    }
    async fn get(&self, org: &str, query: &str) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.call(Method::GET, &format!("/distis/organizations/details/{org}?{query}"), None, &[]).await
    }
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("X-Referer", "https://portal.example")
            .header("Authorization", "Bearer dev-token");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), headers)
    }
}

fn small() -> Config {
    Config { customers: 2_000, ..Config::default() }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|c| c["customerId"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn defaults_children_included_sections_left_out() {
    let m = start(small()).await;
    let d = m.org("distributor", 0);
    let (status, body, headers) = m.get(d["id"].as_str().unwrap(), "").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(body.as_array().unwrap().len() as u64, d["customerCount"].as_u64().unwrap());
    let c = &body[0];
    for key in ["customerId", "customerName", "resellerId", "resellerName", "customerStatus", "customerCountry", "customerCurrency"] {
        assert!(c.get(key).is_some(), "{key}");
    }
    for key in ["customerTenants", "customerPrimaryAddress", "customerPrimaryContact", "customerCustomProperties", "customerIndustries"] {
        assert!(c.get(key).is_none(), "{key} was not asked for");
    }
}

#[tokio::test]
async fn every_section_with_the_article_field_names_case_insensitive_names_and_bare_flags() {
    let m = start(small()).await;
    let d = m.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let (_, body, _) = m
        .get(
            &d,
            "includeAddresses&INCLUDECONTACTS=True&includeCustomProperties=true&includeTenants=TRUE&IncludeIndustries=true&pageSize=200",
        )
        .await;
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 200);
    let with_tenant = list.iter().find(|c| c["customerTenants"].as_array().is_some_and(|t| !t.is_empty())).unwrap();
    let t = &with_tenant["customerTenants"][0];
    for key in ["vendorId", "vendorName", "DomainName", "InternalId", "ExternalId"] {
        assert!(t.get(key).is_some(), "tenant key {key}");
    }
    let with_address = list.iter().find(|c| c["customerPrimaryAddress"].is_object()).unwrap();
    assert!(with_address["customerPrimaryAddress"]["primaryAddressCity"].is_string());
    assert!(list.iter().any(|c| c["customerBillingAddress"].is_null()), "some messy nulls");
    assert!(list.iter().any(|c| c["customerServiceDeskContact"]["serviceDeskContactEmail"].is_string()));
    assert!(list.iter().all(|c| c["customerIndustries"].is_array() && c["customerCustomProperties"].is_array()));
    assert!(list.iter().any(|c| c.get("customerRegistrationNumber").is_none()), "some keys missing altogether");
    assert!(list.iter().any(|c| !c["customerName"].as_str().unwrap().is_ascii()));
}

#[tokio::test]
async fn the_markup_customer_is_on_the_first_page() {
    let m = start(small()).await;
    let d = m.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let (_, body, _) = m.get(&d, "pageSize=10").await;
    assert!(body.as_array().unwrap().iter().any(|c| c["customerName"] == "<img src=x onerror=alert(1)>"));
}

#[tokio::test]
async fn status_filter_and_child_organizations() {
    let m = start(small()).await;
    let d = m.org("distributor", 0);
    let id = d["id"].as_str().unwrap();
    let (_, all, _) = m.get(id, "").await;
    let (_, suspended, _) = m.get(id, "customerStatus=suspended").await;
    let expect: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["customerStatus"] == "Suspended")
        .map(|c| c["customerId"].as_str().unwrap().to_string())
        .collect();
    assert!(!expect.is_empty());
    assert_eq!(ids(&suspended), expect);
    // false: only the customers the organization owns directly.
    let (_, direct, _) = m.get(id, "includeChildOrganizations=false").await;
    assert_eq!(direct.as_array().unwrap().len() as u64, d["directCustomerCount"].as_u64().unwrap());
    assert!(direct.as_array().unwrap().iter().all(|c| c["resellerId"] == d["id"]));
    let r = m.org("reseller", 0);
    let (_, r_all, _) = m.get(r["id"].as_str().unwrap(), "includeChildOrganizations=false").await;
    assert_eq!(r_all.as_array().unwrap().len() as u64, r["customerCount"].as_u64().unwrap());
}

#[tokio::test]
async fn paging_edges_are_stable() {
    let m = start(small()).await;
    let r = m.org("reseller", 0);
    let id = r["id"].as_str().unwrap();
    let n = r["customerCount"].as_u64().unwrap() as usize;
    assert!(n > 3);
    let (_, all, _) = m.get(id, "").await;
    let all = ids(&all);
    // Page size 1: each page is one customer, in order; one past the end is empty.
    for k in [1, n] {
        let (_, p, _) = m.get(id, &format!("pageSize=1&page={k}")).await;
        assert_eq!(ids(&p), vec![all[k - 1].clone()]);
    }
    let (_, past, _) = m.get(id, &format!("pageSize=1&page={}", n + 1)).await;
    assert_eq!(past, Value::Array(vec![]));
    // A last page exactly full.
    let (_, full, _) = m.get(id, &format!("pageSize={n}&page=1")).await;
    assert_eq!(ids(&full), all);
    let (_, again, _) = m.get(id, &format!("pageSize={n}&page=1")).await;
    assert_eq!(ids(&again), all, "same page, same slice");
    let (_, next, _) = m.get(id, &format!("pageSize={n}&page=2")).await;
    assert_eq!(next, Value::Array(vec![]));
}

#[tokio::test]
async fn post_takes_ids_in_order_dedupes_and_refuses_mixed_platforms() {
    let m = start(small()).await;
    let r0 = m.org("reseller", 0)["id"].as_str().unwrap().to_string();
    let r1 = m.org("reseller", 1)["id"].as_str().unwrap().to_string();
    let (_, a, _) = m.get(&r0, "").await;
    let (_, b, _) = m.get(&r1, "").await;
    let body = format!(r#"["{r1}","{r0}","{r1}"]"#);
    for path in ["/distis/organizations/details", "/api/v2/organizations/details"] {
        let (status, both, _) = m.call(Method::POST, path, Some(&body), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&both), [ids(&b), ids(&a)].concat());
    }
    let other = m.orgs.iter().find(|o| o["platformUrl"] != m.org("reseller", 0)["platformUrl"]).unwrap()["id"].as_str().unwrap();
    let (status, err, _) = m.call(Method::POST, "/distis/organizations/details", Some(&format!(r#"["{r0}","{other}"]"#)), &[]).await;
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("Mixed Platform"), "{err}");
    assert_eq!(err["statusCode"], 400);
}

#[tokio::test]
async fn bad_input_is_a_400_with_a_clear_message() {
    let m = start(small()).await;
    let d = m.org("distributor", 0)["id"].as_str().unwrap().to_string();
    for (query, needle) in [
        ("pageSize=0", "pageSize"),
        ("pageSize=-1", "pageSize"),
        ("pageSize=ten", "pageSize"),
        ("pageSize=99999999", "pageSize"),
        ("page=0", "page"),
        ("customerStatus=Deleted", "customerStatus"),
        ("includeTenants=maybe", "includeTenants"),
    ] {
        let (status, err, _) = m.get(&d, query).await;
        assert_eq!(status, 400, "{query}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{query}: {err}");
    }
    let (status, err, _) = m.get("not-a-uuid", "").await;
    assert_eq!((status, err["statusCode"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)));
    let (status, _, _) = m.get("00000000-0000-4000-8000-000000000000", "").await;
    assert_eq!(status, 404);
    for body in ["{not json", r#"{"a":1}"#, "[]", "[1,2]", r#"["not-a-uuid"]"#] {
        let (status, err, _) = m.call(Method::POST, "/distis/organizations/details", Some(body), &[]).await;
        assert_eq!(status, 400, "{body}");
        assert!(err["message"].is_string());
    }
    let (status, err, _) = m.call(Method::DELETE, &format!("/distis/organizations/details/{d}"), None, &[]).await;
    assert_eq!((status.as_u16(), err["statusCode"].as_u64()), (405, Some(405)));
}

#[tokio::test]
async fn gateway_checks_referer_origin_token_and_subscription_key() {
    let m = start(Config { subscription_key: Some("sub-key".into()), ..small() }).await;
    let d = m.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let url = format!("{}/distis/organizations/details/{d}", m.url);
    let res = m.http.get(&url).header("Authorization", "Bearer dev-token").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("X-Referer"));
    let res = m.http.get(&url).header("X-Referer", "https://a.example").header("Origin", "https://b.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = m.http.get(&url).header("X-Referer", "https://a.example").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let res = m.http.get(&url).header("X-Referer", "https://a.example").header("Authorization", "Bearer wrong").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = m.http.get(&url).header("X-Referer", "https://a.example").header("Authorization", "Bearer dev-token").send().await.unwrap();
    assert_eq!(res.status(), 401, "subscription key missing");
    assert!(res.text().await.unwrap().contains("subscription key"));
    let (status, _, _) = m
        .call(Method::GET, &format!("/distis/organizations/details/{d}?pageSize=1"), None, &[("Ocp-Apim-Subscription-Key", "sub-key")])
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn cors_preflight_allows_the_sdk_headers_and_exposes_retry_after() {
    let m = start(small()).await;
    let res = m
        .http
        .request(Method::OPTIONS, format!("{}/distis/organizations/details/x", m.url))
        .header("Origin", "http://127.0.0.1:8081")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization,x-referer,ocp-apim-subscription-key,content-type")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "http://127.0.0.1:8081");
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    for name in ["authorization", "x-referer", "ocp-apim-subscription-key", "content-type"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    let d = m.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let (_, _, h) =
        m.call(Method::GET, &format!("/distis/organizations/details/{d}?pageSize=1"), None, &[("Origin", "https://portal.example")]).await;
    assert!(h["access-control-expose-headers"].to_str().unwrap().to_lowercase().contains("retry-after"));
}

#[tokio::test]
async fn rate_limit_gives_429_with_retry_after() {
    let m = start(Config { rate_limit: Some(2), ..small() }).await;
    let d = m.org("reseller", 0)["id"].as_str().unwrap().to_string();
    let mut limited = None;
    for _ in 0..6 {
        let (status, body, h) = m.get(&d, "pageSize=1").await;
        if status == 429 {
            limited = Some((body, h));
            break;
        }
    }
    let (body, h) = limited.expect("a 429 within 6 quick requests at 2/s");
    assert_eq!(body["statusCode"], 429);
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
}

/// Outcome of one request: status, and whether the body was a complete JSON array.
async fn outcome(m: &Mock, d: &str) -> (u16, bool) {
    let sent = m
        .http
        .get(format!("{}/distis/organizations/details/{d}?pageSize=300&includeTenants", m.url))
        .header("X-Referer", "https://p.example")
        .header("Authorization", "Bearer dev-token")
        .send()
        .await;
    // A connection dropped before the headers were flushed.
    let Ok(res) = sent else { return (0, false) };
    let status = res.status().as_u16();
    let complete = match res.text().await {
        Ok(t) => serde_json::from_str::<Value>(&t).is_ok(),
        Err(_) => false,
    };
    (status, complete)
}

#[tokio::test]
async fn chaos_is_deterministic_and_clean_requests_are_exact() {
    let chaos = || Config { chaos: 0.5, seed: 7, ..small() };
    let (a, b) = (start(chaos()).await, start(chaos()).await);
    let clean = start(Config { seed: 7, ..small() }).await;
    let d = a.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let (_, truth, _) = clean.get(&d, "pageSize=300&includeTenants").await;
    let mut seen_fault = false;
    for _ in 0..30 {
        let (oa, ob) = (outcome(&a, &d).await, outcome(&b, &d).await);
        assert_eq!(oa, ob, "same seed, same faults");
        seen_fault |= oa != (200, true);
        if oa == (200, true) {
            let (_, body, _) = clean.get(&d, "pageSize=300&includeTenants").await;
            assert_eq!(body, truth);
        }
    }
    assert!(seen_fault);
    let stats: Value = a.http.get(format!("{}/__mock/stats", a.url)).send().await.unwrap().json().await.unwrap();
    assert!(stats["faults"].as_object().unwrap().len() >= 3, "{stats}");
}

/// Every error is in the API's JSON shape, including those the HTTP layer would answer on its
/// own, and credentials are checked before a body is read.
#[tokio::test]
async fn errors_from_the_http_layer_keep_the_json_shape() {
    let m = start(small()).await;
    let is_api_error = |status: StatusCode, body: &Value, headers: &reqwest::header::HeaderMap, want: u16| {
        assert_eq!(status.as_u16(), want, "{body}");
        assert_eq!(body["statusCode"], want, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        assert!(headers[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    };
    // A path segment that is not UTF-8.
    let (status, body, headers) = m.call(Method::GET, "/distis/organizations/details/%FF%FE", None, &[]).await;
    is_api_error(status, &body, &headers, 400);
    // An over-long URL.
    let long = format!("/distis/organizations/details/x?pad={}", "a".repeat(10_000));
    let (status, body, headers) = m.call(Method::GET, &long, None, &[]).await;
    is_api_error(status, &body, &headers, 414);
    // An over-large body: 413 with credentials, but 401 without them (auth before the body).
    let big = format!("[{}]", vec!["\"00000000-0000-0000-0000-000000000000\""; 8000].join(","));
    let (status, body, headers) = m.call(Method::POST, "/distis/organizations/details", Some(&big), &[]).await;
    is_api_error(status, &body, &headers, 413);
    let res = m
        .http
        .post(format!("{}/distis/organizations/details", m.url))
        .header("X-Referer", "https://portal.example")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    is_api_error(status, &body, &headers, 401);
}

/// What hyper answers by itself (a URL over its ~64 KiB cap) is JSON too, and a body over the
/// limit — with or without credentials — is answered in a way the client can read: the server
/// reads (and drops) the rest of the upload first, so the client gets no EPIPE.
#[tokio::test]
async fn over_long_urls_and_over_large_bodies_are_answered_in_json_the_client_can_read() {
    let m = start(small()).await;
    // Past what an HTTP client library builds (reqwest refuses such a URI): a raw request.
    for len in [70_000, 200_000] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::TcpStream::connect(m.url.trim_start_matches("http://")).await.unwrap();
        let head = format!("GET /distis/organizations/details/x?pad={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(len));
        let _ = socket.write_all(head.as_bytes()).await; // the server may answer before it has read it all
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 414 "), "{}", &answer[..answer.len().min(200)]);
        assert!(answer.to_ascii_lowercase().contains("content-type: application/json"));
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
        assert_eq!(body["statusCode"], 414, "{body}");
    }
    // The server still answers after that (a new connection).
    assert!(m.http.get(format!("{}/__mock/stats", m.url)).send().await.unwrap().status().is_success());
    let ids = format!("[{}]", vec!["\"00000000-0000-0000-0000-000000000000\""; 100_000].join(","));
    assert!(ids.len() > 3_900_000);
    for (auth, want) in [(true, 413), (false, 401)] {
        let mut req = m.http.post(format!("{}/distis/organizations/details", m.url)).header("X-Referer", "https://portal.example");
        if auth {
            req = req.header("Authorization", "Bearer dev-token");
        }
        let res = req.body(ids.clone()).send().await.expect("an answer, not a broken pipe");
        assert_eq!(res.status().as_u16(), want);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["statusCode"], want, "{body}");
    }
}

/// A client that trickles its request head is disconnected (here after 500 ms), not kept
/// forever; the test is bounded by its own 5 s timeout.
#[tokio::test]
async fn a_client_trickling_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let m = start(small()).await;
    let addr = m.url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(b"GET /__mock/stats HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            // Keep trickling a header byte now and then; the server must still hang up.
            let _ = socket.write_all(b"X").await;
            match tokio::time::timeout(std::time::Duration::from_millis(100), socket.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection was still open after 5 s");
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
}

async fn all_ids(m: &Mock, org: &str) -> Vec<String> {
    let (status, body, _) = m.get(org, "pageSize=10000").await;
    assert_eq!(status, StatusCode::OK);
    ids(&body)
}

#[tokio::test]
async fn mutate_adds_removes_and_changes_deterministically_and_counts_follow() {
    let (a, b) = (start(small()).await, start(small()).await);
    let dist = a.org("distributor", 0)["id"].as_str().unwrap().to_string();
    let before = all_ids(&a, &dist).await;
    let (_, names_before, _) = a.get(&dist, "pageSize=10000").await;
    let ask = format!(r#"{{"seed":3,"add":25,"remove":15,"change":40,"under":"{dist}"}}"#);
    let (status, done, _) = a.call(Method::POST, "/__mock/mutate", Some(&ask), &[]).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, same, _) = b.call(Method::POST, "/__mock/mutate", Some(&ask), &[]).await;
    assert_eq!(done, same, "same seed, same data → same mutation");
    let list = |k: &str| done[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (added, removed, changed) = (list("added"), list("removed"), list("changed"));
    assert_eq!((added.len(), removed.len(), changed.len()), (25, 15, 40));
    assert!(changed.iter().all(|c| !removed.contains(c)), "removed and changed are disjoint");

    let after = all_ids(&a, &dist).await;
    let mut expect: Vec<String> = before.iter().filter(|id| !removed.contains(id)).cloned().collect();
    expect.extend(added.iter().cloned());
    let (mut got, mut want) = (after.clone(), expect);
    got.sort();
    want.sort();
    assert_eq!(got, want, "the listing is the old one minus removed plus added");

    // Each change alters customerName; the other customers are byte-for-byte the same.
    let (_, names_after, _) = a.get(&dist, "pageSize=10000").await;
    let by_id = |v: &Value| -> std::collections::HashMap<String, Value> {
        v.as_array().unwrap().iter().map(|c| (c["customerId"].as_str().unwrap().to_string(), c.clone())).collect()
    };
    let (old, new) = (by_id(&names_before), by_id(&names_after));
    for (id, c) in &new {
        match old.get(id) {
            Some(o) if changed.contains(id) => assert_ne!(o["customerName"], c["customerName"]),
            Some(o) => assert_eq!(o, c),
            None => assert!(added.contains(id)),
        }
    }
    // Removed customers are gone from the POST form too; counts follow.
    let (status, _, _) = a.call(Method::POST, "/distis/organizations/details", Some(&format!(r#"["{}"]"#, removed[0])), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, one, _) = a
        .call(Method::POST, "/distis/organizations/details?includeChildOrganizations=false", Some(&format!(r#"["{}"]"#, added[0])), &[])
        .await;
    assert_eq!((status, ids(&one)), (StatusCode::OK, vec![added[0].clone()]));
    let orgs: Value = a.http.get(format!("{}/__mock/orgs", a.url)).send().await.unwrap().json().await.unwrap();
    let count = orgs["orgs"].as_array().unwrap().iter().find(|o| o["id"] == dist.as_str()).unwrap()["customerCount"].as_u64();
    assert_eq!(count, Some(after.len() as u64));
    assert_eq!(orgs["customerCount"].as_u64(), Some(2_000 + 25 - 15));
}

#[tokio::test]
async fn drift_shifts_the_pages_still_to_come() {
    let m = start(small()).await;
    let reseller = m.org("reseller", 0)["id"].as_str().unwrap().to_string();
    let truth = all_ids(&m, &reseller).await;
    assert!(truth.len() > 20, "{}", truth.len());
    let drift = |body: &'static str| m.call(Method::POST, "/__mock/drift", Some(body), &[]);
    // An insert before the end of page 1: page 2 starts with page 1's last customer again.
    assert_eq!(drift(r#"{"insert":1}"#).await.0, StatusCode::OK);
    let (_, p1, _) = m.get(&reseller, "pageSize=10&page=1").await;
    let (_, p2, _) = m.get(&reseller, "pageSize=10&page=2").await;
    assert_eq!(ids(&p1), truth[..10]);
    assert_eq!(ids(&p2)[0], truth[9], "the insert shifted the next page");
    // A removal: the next page skips one customer.
    assert_eq!(drift(r#"{"remove":1}"#).await.0, StatusCode::OK);
    let before_page = post_ids(&m, &reseller).await; // the POST form never drifts
    let (_, q1, _) = m.get(&reseller, "pageSize=10&page=1").await;
    let (_, q2, _) = m.get(&reseller, "pageSize=10&page=2").await;
    assert_eq!(ids(&q1), before_page[..10]);
    assert_eq!(ids(&q2)[0], before_page[11], "the removal made page 2 skip one customer");
    // {} stops it.
    assert_eq!(drift("{}").await.0, StatusCode::OK);
    let settled = all_ids(&m, &reseller).await;
    assert_eq!(all_ids(&m, &reseller).await, settled);
    assert_eq!(post_ids(&m, &reseller).await, settled);
    assert_eq!(drift(r#"{"insert":"x"}"#).await.0, StatusCode::BAD_REQUEST);
}

async fn post_ids(m: &Mock, org: &str) -> Vec<String> {
    let (status, body, _) = m.call(Method::POST, "/distis/organizations/details", Some(&format!(r#"["{org}"]"#)), &[]).await;
    assert_eq!(status, StatusCode::OK);
    ids(&body)
}
