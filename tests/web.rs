//! The Rust API in real runtimes, against appxite-mock over real HTTP. The same file runs
//! in Node (default) and in headless Chromium (`WASM_BINDGEN_USE_BROWSER=1`), so both get
//! exactly the same test bodies. The emulator's URL is fixed at build time
//! (`APPXITE_MOCK_URL`, default http://127.0.0.1:18181; scripts/test.sh starts it).
#![cfg(target_arch = "wasm32")]

use appxite_customers::{Client, ClientOptions, Customer, CustomerChange, CustomerQuery, CustomerStatus, Error};
use futures_util::StreamExt;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

const MOCK: &str = match option_env!("APPXITE_MOCK_URL") {
    Some(u) => u,
    None => "http://127.0.0.1:18181",
};

async fn get_json(path: &str) -> JsValue {
    let fetch: js_sys::Function = Reflect::get(&js_sys::global(), &"fetch".into()).unwrap().unchecked_into();
    let res =
        JsFuture::from(fetch.call1(&JsValue::UNDEFINED, &format!("{MOCK}{path}").into()).unwrap().unchecked_into::<js_sys::Promise>())
            .await
            .unwrap();
    let json: js_sys::Function = Reflect::get(&res, &"json".into()).unwrap().unchecked_into();
    JsFuture::from(json.call0(&res).unwrap().unchecked_into::<js_sys::Promise>()).await.unwrap()
}

async fn post_json(path: &str, body: &str) -> JsValue {
    let fetch: js_sys::Function = Reflect::get(&js_sys::global(), &"fetch".into()).unwrap().unchecked_into();
    let init = js_sys::Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into()).unwrap();
    Reflect::set(&init, &"body".into(), &body.into()).unwrap();
    let promise = fetch.call2(&JsValue::UNDEFINED, &format!("{MOCK}{path}").into(), &init).unwrap();
    let res = JsFuture::from(promise.unchecked_into::<js_sys::Promise>()).await.unwrap();
    let json: js_sys::Function = Reflect::get(&res, &"json".into()).unwrap().unchecked_into();
    JsFuture::from(json.call0(&res).unwrap().unchecked_into::<js_sys::Promise>()).await.unwrap()
}

fn field(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

/// (id, customerCount, directCustomerCount, platformUrl) of the emulator's organizations.
async fn orgs(kind: &str) -> Vec<(String, u32, u32, String)> {
    let tree = get_json("/__mock/orgs").await;
    Array::from(&field(&tree, "orgs"))
        .iter()
        .filter(|o| field(o, "kind").as_string().as_deref() == Some(kind))
        .map(|o| {
            (
                field(&o, "id").as_string().unwrap(),
                field(&o, "customerCount").as_f64().unwrap() as u32,
                field(&o, "directCustomerCount").as_f64().unwrap() as u32,
                field(&o, "platformUrl").as_string().unwrap(),
            )
        })
        .collect()
}

async fn last_request() -> JsValue {
    let list = Array::from(&get_json("/__mock/requests").await);
    list.get(list.length() - 1)
}

async fn request_count() -> f64 {
    field(&get_json("/__mock/stats").await, "requests").as_f64().unwrap()
}

fn in_browser() -> bool {
    !Reflect::get(&js_sys::global(), &"document".into()).unwrap().is_undefined()
}

fn client(token: &str) -> Client {
    Client::new(ClientOptions {
        base_url: MOCK.into(),
        // In the browser: empty, so the page's origin is used.
        referer: if in_browser() { String::new() } else { "https://portal.example".into() },
        token: token.into(),
        ..Default::default()
    })
    .unwrap()
}

async fn all(s: impl futures_core::Stream<Item = Result<Customer, Error>>) -> Result<Vec<Customer>, Error> {
    s.collect::<Vec<_>>().await.into_iter().collect()
}

#[wasm_bindgen_test]
async fn every_customer_with_every_section_and_every_parameter_sent() {
    let (id, count, _, _) = orgs("reseller").await.remove(0);
    let query = CustomerQuery { page_size: Some(7), ..CustomerQuery::everything() };
    let got = all(client("dev-token").customers(&id, query)).await.unwrap();
    assert_eq!(got.len() as u32, count);
    assert!(got.iter().all(|c| c.customer_industries.is_some() && c.customer_tenants.is_some()));
    let q = CustomerQuery {
        include_child_organizations: Some(false),
        customer_status: Some(CustomerStatus::New),
        page_size: Some(10_000),
        page: Some(1),
        ..CustomerQuery::everything()
    };
    let news = all(client("dev-token").customers(&id, q)).await.unwrap();
    assert!(news.iter().all(|c| c.customer_status.as_deref() == Some("New")));
    let req = last_request().await;
    assert_eq!(
        field(&req, "pathAndQuery").as_string().unwrap().split('?').nth(1).unwrap(),
        "includeChildOrganizations=false&includeAddresses=true&includeContacts=true&includeCustomProperties=true\
         &includeTenants=true&includeIndustries=true&customerStatus=New&pageSize=10000&page=1"
    );
}

#[wasm_bindgen_test]
async fn x_referer_is_the_page_origin_in_a_browser_and_the_option_elsewhere() {
    let (id, ..) = orgs("reseller").await.remove(0);
    all(client("dev-token").customers(&id, CustomerQuery::default())).await.unwrap();
    let req = last_request().await;
    let sent = field(&req, "xReferer").as_string().unwrap();
    if in_browser() {
        let origin = field(&field(&js_sys::global(), "location"), "origin").as_string().unwrap();
        assert_eq!(sent, origin);
        assert_eq!(field(&req, "origin").as_string(), Some(origin), "the browser's Origin agrees");
    } else {
        assert_eq!(sent, "https://portal.example");
        let e = Client::new(ClientOptions { base_url: MOCK.into(), ..Default::default() }).err().unwrap();
        assert_eq!(e.code(), "MISSING_REFERER");
    }
}

#[wasm_bindgen_test]
async fn pagination_exactly_full_one_and_zero() {
    let (id, n, ..) = orgs("reseller").await.remove(1);
    let before = request_count().await;
    let full = all(client("dev-token").customers(&id, CustomerQuery { page_size: Some(n), ..Default::default() })).await.unwrap();
    assert_eq!(full.len() as u32, n);
    assert_eq!(request_count().await - before, 2.0, "the full page and the empty one after it");
    let one = all(client("dev-token").customers(&id, CustomerQuery { page_size: Some(n - 1), page: Some(2), ..Default::default() }))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0], full[full.len() - 1]);
    let none =
        all(client("dev-token").customers(&id, CustomerQuery { page_size: Some(n), page: Some(2), ..Default::default() })).await.unwrap();
    assert!(none.is_empty());
}

#[wasm_bindgen_test]
async fn dropping_the_stream_stops_requests() {
    let (id, ..) = orgs("distributor").await.remove(0);
    let before = request_count().await;
    let first: Vec<_> =
        client("dev-token").customers(&id, CustomerQuery { page_size: Some(3), ..Default::default() }).take(4).collect().await;
    assert_eq!(first.len(), 4);
    assert_eq!(request_count().await - before, 2.0);
}

#[wasm_bindgen_test]
async fn the_post_variant_in_batches() {
    let rs = orgs("reseller").await;
    let platform = rs[0].3.clone();
    let same: Vec<_> = rs.iter().filter(|r| r.3 == platform).take(3).collect();
    let ids: Vec<String> = same.iter().map(|r| r.0.clone()).collect();
    let c = Client::new(ClientOptions {
        base_url: MOCK.into(),
        referer: if in_browser() { String::new() } else { "https://portal.example".into() },
        token: "dev-token".into(),
        run: appxite_customers::RunOptions { batch_size: 2, ..Default::default() },
        ..Default::default()
    })
    .unwrap();
    let got = all(c.customers_by_ids(&ids, CustomerQuery::default())).await.unwrap();
    assert_eq!(got.len() as u32, same.iter().map(|r| r.1).sum::<u32>());
    let first = all(client("dev-token").customers(&ids[0], CustomerQuery::default())).await.unwrap();
    assert_eq!(got[..first.len()], first[..]);
}

#[wasm_bindgen_test]
async fn error_codes_without_faults() {
    let rs = orgs("reseller").await;
    let (id, ..) = rs[0].clone();
    let other = rs.iter().find(|r| r.3 != rs[0].3).unwrap().0.clone();
    let code = |r: Result<Vec<Customer>, Error>| r.unwrap_err().code();
    assert_eq!(code(all(client("wrong-token").customers(&id, CustomerQuery::default())).await), "UNAUTHORIZED");
    assert_eq!(
        code(all(client("dev-token").customers("00000000-0000-4000-8000-000000000000", CustomerQuery::default())).await),
        "NOT_FOUND"
    );
    assert_eq!(code(all(client("dev-token").customers("not-a-uuid", CustomerQuery::default())).await), "BAD_REQUEST");
    assert_eq!(code(all(client("dev-token").customers_by_ids(&[id.clone(), other], CustomerQuery::default())).await), "MIXED_PLATFORM");
    assert_eq!(code(all(client("dev-token").customers("", CustomerQuery::default())).await), "INVALID_ARGUMENT");
    assert_eq!(
        code(all(client("dev-token").customers(&id, CustomerQuery { page_size: Some(0), ..Default::default() })).await),
        "INVALID_ARGUMENT"
    );
    let offline = Client::new(ClientOptions {
        base_url: "http://127.0.0.1:9".into(),
        referer: "https://portal.example".into(),
        run: appxite_customers::RunOptions { retry: appxite_customers::RetryPolicy::none(), ..Default::default() },
        ..Default::default()
    })
    .unwrap();
    assert_eq!(code(all(offline.customers(&id, CustomerQuery::default())).await), "NETWORK");
    let plain_http = Client::new(ClientOptions {
        base_url: "http://api.example.com".into(),
        referer: "https://p".into(),
        token: "t0ken".into(),
        ..Default::default()
    });
    assert_eq!(plain_http.err().unwrap().code(), "INVALID_ARGUMENT");
}

/// The record scanner compiled to wasm (the build that ships), on tricky input split at
/// every byte, checked against the runtime's own JSON.parse.
#[wasm_bindgen_test]
fn the_scanner_in_wasm_at_every_chunk_boundary() {
    use appxite_customers::scan::RecordScanner;
    let body = r#" [ {"a":"]}","b":"\"}{[","c":[1,[2,{"d":"\\"}]],"e":"\u00e9\u005d"} ,
        {"x":{"y":{"z":[]}},"name":"Ørsted 北京 <img src=x onerror=alert(1)>"}	,{} ]  "#;
    let expected = js_sys::JSON::stringify(&js_sys::JSON::parse(body).unwrap()).unwrap().as_string().unwrap();
    for split in 1..body.len() {
        let mut s = RecordScanner::new();
        let mut parts = Vec::new();
        for chunk in [&body.as_bytes()[..split], &body.as_bytes()[split..]] {
            s.push(chunk).unwrap();
            if let Some((text, _)) = s.with_array_text(|t| t.to_string()).unwrap() {
                parts.extend(Array::from(&js_sys::JSON::parse(&text).unwrap()).iter());
            }
        }
        s.finish().unwrap();
        let all: Array = parts.into_iter().collect();
        assert_eq!(js_sys::JSON::stringify(&all).unwrap().as_string().unwrap(), expected, "split at {split}");
    }
}

/// Sorted IDs of the changes of one kind.
fn ids_of(changes: &[CustomerChange], kind: &str) -> Vec<String> {
    let mut ids: Vec<String> = changes
        .iter()
        .filter_map(|c| match (c, kind) {
            (CustomerChange::Added { customer_id, .. }, "added")
            | (CustomerChange::Changed { customer_id, .. }, "changed")
            | (CustomerChange::Removed { customer_id }, "removed") => Some(customer_id.clone()),
            _ => None,
        })
        .collect();
    ids.sort();
    ids
}

fn string_list(v: &JsValue) -> Vec<String> {
    let mut ids: Vec<String> = Array::from(v).iter().map(|s| s.as_string().unwrap()).collect();
    ids.sort();
    ids
}

#[wasm_bindgen_test]
async fn sync_streams_what_changed_and_ends_with_the_snapshot() {
    // The last reseller: no other test here reads it (this one changes its customers).
    let (id, count, ..) = orgs("reseller").await.pop().unwrap();
    let c = client("dev-token");
    let query = CustomerQuery { page_size: Some(40), include_tenants: Some(true), ..Default::default() };
    let mut first = c.sync(&id, query.clone(), None).unwrap();
    let mut changes = vec![];
    while let Some(change) = first.next().await {
        changes.push(change.unwrap());
    }
    assert_eq!(ids_of(&changes, "added").len() as u32, count);
    let snapshot = first.snapshot().expect("a completed sync has a snapshot").to_vec();
    assert_eq!(snapshot.len(), 32 + 24 * count as usize);

    let seed = js_sys::Date::now() as u64 % 1000; // this file runs twice against one emulator
    let done = post_json("/__mock/mutate", &format!(r#"{{"seed":{seed},"add":2,"remove":1,"change":3,"under":"{id}"}}"#)).await;
    let mut second = c.sync(&id, query.clone(), Some(&snapshot)).unwrap();
    assert!(second.snapshot().is_none());
    let mut changes = vec![];
    while let Some(change) = second.next().await {
        changes.push(change.unwrap());
    }
    assert_eq!(ids_of(&changes, "added"), string_list(&field(&done, "added")));
    assert_eq!(ids_of(&changes, "changed"), string_list(&field(&done, "changed")));
    assert_eq!(ids_of(&changes, "removed"), string_list(&field(&done, "removed")));
    assert!(matches!(changes.last(), Some(CustomerChange::Removed { .. })), "removed comes last");
    let stats = second.stats();
    assert_eq!((stats.added, stats.changed, stats.removed, stats.unchanged), (2, 3, 1, count as u64 - 4));

    // Another query's snapshot: refused before any request.
    let before = request_count().await;
    let e = c.sync(&id, CustomerQuery::default(), Some(&snapshot)).err().unwrap();
    assert_eq!(e.code(), "INVALID_ARGUMENT");
    assert_eq!(request_count().await, before);
}

/// What the JS API has, the Rust API has too: pages with continuation tokens (resumed in a
/// new stream), concurrent ID batches in input order, and a limited collect.
#[wasm_bindgen_test]
async fn pages_resume_from_their_tokens_batches_run_concurrently_and_collect_stops_at_a_limit() {
    let resellers = orgs("reseller").await;
    let (id, count, _, _) = resellers[0].clone();
    let c = client("dev-token");
    let query = CustomerQuery { page_size: Some(40), ..Default::default() };
    let pages: Vec<_> = c.pages(&id, query.clone(), None).collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(pages.iter().map(|p| p.items.len() as u32).sum::<u32>(), count);
    assert!(pages.iter().all(|p| p.page_size == 40 && p.continuation_token.is_some()));
    let every: Vec<String> = pages.iter().flat_map(|p| p.items.iter().map(|c| c.customer_id.clone())).collect();
    let token = pages[1].continuation_token.clone().unwrap();
    let rest_pages: Vec<_> =
        c.pages(&id, query.clone(), Some(&token)).collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>().unwrap();
    let rest: Vec<String> =
        rest_pages.iter().flat_map(|p: &appxite_customers::CustomerPage| p.items.iter().map(|c| c.customer_id.clone())).collect();
    assert_eq!(rest, every[80..].to_vec());
    let other = CustomerQuery { include_tenants: Some(true), ..query.clone() };
    let e = Box::pin(c.pages(&id, other, Some(&token))).next().await.unwrap().unwrap_err();
    assert_eq!(e.code(), "INVALID_ARGUMENT");

    let platform = &resellers[0].3;
    let ids: Vec<String> = resellers.iter().filter(|r| &r.3 == platform).take(4).map(|r| r.0.clone()).collect();
    let sequential: Vec<String> =
        all(c.customers_by_ids(&ids, CustomerQuery::default())).await.unwrap().into_iter().map(|c| c.customer_id).collect();
    let at_once: Vec<String> =
        all(c.customers_by_ids_concurrently(&ids, CustomerQuery::default(), 4)).await.unwrap().into_iter().map(|c| c.customer_id).collect();
    assert_eq!(at_once, sequential, "input order, whatever finishes first");
    let e = all(c.customers_by_ids_concurrently(&ids, CustomerQuery::default(), 17)).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_ARGUMENT");

    let before = request_count().await;
    let five = c.customers_to_vec(&id, query, Some(5)).await.unwrap();
    assert_eq!(five.iter().map(|c| c.customer_id.clone()).collect::<Vec<_>>(), every[..5].to_vec());
    assert_eq!(request_count().await - before, 1.0, "nothing fetched past the page that reached the limit");
}
