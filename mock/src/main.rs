//! `appxite-mock`: run the emulator. `--help` lists the flags; mock/README.md explains them.

use std::net::SocketAddr;

use appxite_mock::{app, Config};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "appxite-mock", version, about = "A strict local emulator of Appxite's GET All Customers endpoint")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// API port (0 picks a free one; the URL is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Seed of the data set and of the fault schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Customers in total, across all platforms.
    #[arg(long, default_value_t = 25_000)]
    customers: usize,
    /// The bearer token the API accepts.
    #[arg(long, default_value = "dev-token")]
    token: String,
    /// Also require this Ocp-Apim-Subscription-Key.
    #[arg(long)]
    subscription_key: Option<String>,
    /// Requests per second allowed per token (429 with Retry-After above it).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Fraction (0..1) of API requests that get an injected fault.
    #[arg(long, default_value_t = 0.0)]
    chaos: f64,
    /// Latency added before the first byte of every API response.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Stream response bodies at this many bytes per second.
    #[arg(long)]
    bandwidth: Option<u64>,
    /// Cut a response body whose client has taken nothing of it for this long (as proxies
    /// cut idle connections).
    #[arg(long)]
    idle_cut_ms: Option<u64>,
    /// Data that moves under paging: after each GET page, insert I, remove R and change C
    /// customers in the part of the list already served (`I,R,C`; see /__mock/drift).
    #[arg(long, value_parser = parse_drift)]
    drift: Option<appxite_mock::Drift>,
    /// Disconnect a client that has not sent its whole request head within this time.
    #[arg(long, default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Serve this folder as static files on --www-port (the demo page).
    #[arg(long)]
    www: Option<std::path::PathBuf>,
    /// Port of the static file server.
    #[arg(long, default_value_t = 8081)]
    www_port: u16,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.chaos) {
        eprintln!("--chaos must be between 0 and 1");
        std::process::exit(2);
    }
    let config = Config {
        seed: args.seed,
        customers: args.customers,
        token: args.token,
        subscription_key: args.subscription_key,
        rate_limit: args.rate_limit,
        chaos: args.chaos,
        latency_ms: args.latency_ms,
        bandwidth: args.bandwidth.filter(|b| *b > 0),
        idle_cut_ms: args.idle_cut_ms.filter(|ms| *ms > 0),
        drift: args.drift.unwrap_or_default(),
        ..Config::default()
    };
    let (router, state) = app(config);
    let addr: SocketAddr = format!("{}:{}", args.host, args.port).parse().unwrap_or_else(|e| {
        eprintln!("bad --host/--port: {e}");
        std::process::exit(2)
    });
    let listener = bind(addr).await;
    let url = format!("http://{}", listener.local_addr().expect("bound socket has an address"));
    // The first line is machine-read by scripts: keep its shape.
    println!("appxite-mock listening on {url}");
    {
        let data = state.data.read().unwrap();
        if let Some(d) = data.orgs.iter().find(|o| o.kind == appxite_mock::data::OrgKind::Distributor) {
            println!("distributor {} ({}, {} customers)", d.id, d.name, data.customers_of(d, true).len());
        }
    }
    if let Some(dir) = args.www {
        let www_addr: SocketAddr = format!("{}:{}", args.host, args.www_port).parse().expect("valid address");
        let www_listener = bind(www_addr).await;
        println!("demo page on http://{}/", www_listener.local_addr().expect("bound socket has an address"));
        let files = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
        tokio::spawn(async move { axum::serve(www_listener, files).await });
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let header_timeout = std::time::Duration::from_millis(args.header_timeout_ms.max(1));
    tokio::select! {
        _ = appxite_mock::serve(listener, router, header_timeout) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    })
}

fn parse_drift(s: &str) -> Result<appxite_mock::Drift, String> {
    let n: Vec<usize> = s.split(',').map(|p| p.trim().parse::<usize>()).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    match n[..] {
        [insert, remove, change] => Ok(appxite_mock::Drift { insert, remove, change }),
        _ => Err("expected I,R,C (three whole numbers)".into()),
    }
}
