//! The record walk's speed over the article's customer (pretty, as the article prints it, and
//! compact), for comparing a change of the walk before and after — a measurement, not a check:
//!
//!     cargo run --release --example walk_speed
//!
//! `cargo test` builds it (so it keeps compiling) but runs nothing; `make bench` measures the
//! SDK end to end.
use appxite_customers::record::fingerprint;

fn main() {
    let records: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../tests/fixtures/article-example.json")).expect("the fixture");
    for (name, text) in [
        ("pretty", serde_json::to_string_pretty(&records[0]).expect("JSON")),
        ("compact", serde_json::to_string(&records[0]).expect("JSON")),
    ] {
        let body = text.into_bytes();
        let rounds = 200_000;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let mut sum = 0u64;
            for _ in 0..rounds {
                sum = sum.wrapping_add(fingerprint(std::hint::black_box(&body)).expect("the article's customer").content);
            }
            std::hint::black_box(sum);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("walk {name}: {} bytes, {:.0} MB/s", body.len(), (body.len() * rounds) as f64 / best / 1e6);
    }
}
