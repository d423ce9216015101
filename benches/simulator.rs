//! CheckoutLicense throughput through the simulator over keep-alive HTTP/1.1 at 1, 8 and 64
//! connections, with a bare axum handler as the ceiling in the same run: the same client and
//! runtime sending the same requests, answered with a fixed copy of one of the simulator's
//! checkout replies (its body and headers), so the two differ only in the server's work;
//! `ceiling_empty_body` is the bare handler answering `{}` with a small fixed body. Also at 8
//! connections with the state journal
//! (`--state-dir`) in both `--state-sync` modes: the bar is at least half the checkouts per
//! second without it. Criterion reports time per request; the p50/p99 latency of single
//! requests is printed after each group.
//!
//! `cargo bench --bench simulator`

// The bench uses only the raw client of the tests' shared module.
#[allow(dead_code)]
#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use common::{create_license_body, fingerprint, Conn, InProcess};
use conform_model::{Policy, World};
use conform_simulator::persist::{StateConfig, SyncMode};
use conform_simulator::Config;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;

// `conform serve`'s allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: [usize; 3] = [1, 8, 64];
/// The journal's figures are taken where the bar is set.
const STATE_CONNECTIONS: [usize; 1] = [8];

/// What one benchmark sends: a fresh checkout per request, or `{}`.
#[derive(Clone, Copy)]
enum Load {
    Checkout,
    Empty,
}

/// The checkout every request of `Load::Checkout` sends, with ClientToken `b{n}`, on the
/// license the default account issued.
fn checkout_body(n: u64) -> serde_json::Value {
    static FP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let fp = FP.get_or_init(|| fingerprint(&World::new(1, Policy::default()).default_caller().account));
    json!({
        "ProductSKU": "bench", "CheckoutType": "PROVISIONAL", "KeyFingerprint": fp,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
        "Beneficiary": "customer-1", "ClientToken": format!("b{n}")
    })
}

/// Runs `iters` requests spread over `conns` keep-alive connections; records each latency.
async fn run(
    addr: SocketAddr,
    load: Load,
    conns: usize,
    iters: u64,
    next: Arc<AtomicU64>,
    lat: Arc<Mutex<Vec<Duration>>>,
) -> Duration {
    let mut open = Vec::with_capacity(conns);
    for _ in 0..conns {
        open.push(Conn::open(addr).await);
    }
    let per = iters.div_ceil(conns as u64);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(conns);
    for mut conn in open {
        let (next, lat) = (next.clone(), lat.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(per as usize);
            for _ in 0..per {
                let t = Instant::now();
                let r = match load {
                    Load::Checkout => {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        conn.lm("CheckoutLicense", &checkout_body(n)).await
                    }
                    Load::Empty => conn.send("POST", "/", &[], b"{}".to_vec()).await,
                };
                assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                mine.push(t.elapsed());
            }
            lat.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let state_dirs: Vec<_> = ["always", "batch"]
        .iter()
        .map(|mode| std::env::temp_dir().join(format!("conform-bench-state-{mode}-{}", std::process::id())))
        .collect();
    for d in &state_dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    let (sim_addr, always_addr, batch_addr, ceilings, _servers) = rt.block_on(async {
        let mut servers = Vec::new();
        for state in [
            None,
            Some((state_dirs[0].clone(), SyncMode::Always)),
            Some((state_dirs[1].clone(), SyncMode::Batch)),
        ] {
            let server = InProcess::start(Config {
                frozen_clock: true,
                state: state.map(|(dir, sync)| StateConfig::new(dir, sync)),
                ..Config::default()
            })
            .await;
            let mut conn = Conn::open(server.addr).await;
            // Enough seats that no checkout in the run is refused.
            let created = conn
                .lm(
                    "CreateLicense",
                    &create_license_body("bench", i64::MAX / 2, "bench"),
                )
                .await;
            assert_eq!(created.status, 200);
            servers.push(server);
        }

        // One checkout's reply, answered as is by the ceiling (date and length are the server's).
        let mut conn = Conn::open(servers[0].addr).await;
        let sample = conn.lm("CheckoutLicense", &checkout_body(u64::MAX)).await;
        assert_eq!(sample.status, 200);
        let mut headers = sample.headers.clone();
        headers.remove("date");
        headers.remove("content-length");
        let fixed = (headers, axum::body::Bytes::from(sample.body));
        let copy = post(move || {
            let fixed = fixed.clone();
            async move { fixed }
        });
        let empty = post(|| async {
            (
                [("content-type", "application/x-amz-json-1.1")],
                r#"{"LicenseConsumptionToken":"00000000000000000000000000000000"}"#,
            )
        });
        let mut ceilings = Vec::new();
        for route in [copy, empty] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ceilings.push(listener.local_addr().expect("addr"));
            let app = axum::Router::new().route("/", route);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
        }
        (
            servers[0].addr,
            servers[1].addr,
            servers[2].addr,
            ceilings,
            servers,
        )
    });

    let next = Arc::new(AtomicU64::new(0));
    for (name, addr, load, connections) in [
        ("checkout", sim_addr, Load::Checkout, &CONNECTIONS[..]),
        (
            "checkout_state_always",
            always_addr,
            Load::Checkout,
            &STATE_CONNECTIONS[..],
        ),
        (
            "checkout_state_batch",
            batch_addr,
            Load::Checkout,
            &STATE_CONNECTIONS[..],
        ),
        (
            "ceiling_fixed_body",
            ceilings[0],
            Load::Checkout,
            &CONNECTIONS[..],
        ),
        ("ceiling_empty_body", ceilings[1], Load::Empty, &CONNECTIONS[..]),
    ] {
        let mut group = c.benchmark_group(format!("simulator/{name}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        for &conns in connections {
            let lat = Arc::new(Mutex::new(Vec::new()));
            group.bench_with_input(BenchmarkId::new("connections", conns), &conns, |b, &conns| {
                b.iter_custom(|iters| rt.block_on(run(addr, load, conns, iters, next.clone(), lat.clone())));
            });
            let mut all = lat.lock().unwrap_or_else(|p| p.into_inner()).clone();
            all.sort_unstable();
            println!(
                "simulator/{name}/connections/{conns}: latency p50 {:?} p99 {:?} over {} requests",
                percentile(&all, 0.50),
                percentile(&all, 0.99),
                all.len()
            );
        }
        group.finish();
    }
    drop(_servers);
    for d in &state_dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
