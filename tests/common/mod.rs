//! Shared by the simulator's end-to-end tests: start a simulator (in-process or the `conform`
//! binary) on a free loopback port, and a small keep-alive HTTP/1.1 client for raw requests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use axum::body::Bytes;
use conform_simulator::{Config, Simulator};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde_json::Value;
use tokio::net::TcpStream;

/// A simulator serving on a free port inside this test's runtime; stops when dropped.
pub struct InProcess {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl InProcess {
    pub async fn start(config: Config) -> InProcess {
        let sim = Simulator::new(&config).expect("simulator starts");
        InProcess::start_with(sim).await
    }

    pub async fn start_with(sim: Arc<Simulator>) -> InProcess {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = sim.clone();
        tokio::spawn(async move {
            let _ = conform_simulator::serve(listener, serving, async {
                let _ = stopped.await;
            })
            .await;
        });
        InProcess {
            addr,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The `conform serve` binary on a free port; killed when dropped.
pub struct Binary {
    pub child: Child,
    pub url: String,
}

impl Binary {
    pub fn start(extra: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            // Per-request log lines only when a test run asks for them.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("conform serve starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read first line");
        let url = line
            .trim()
            .strip_prefix("conform listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Binary { child, url }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reply, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The AWS error type: `x-amzn-ErrorType`, checked against the body's `__type`.
    pub fn error_type(&self) -> Option<String> {
        let header = self.header("x-amzn-errortype")?.to_string();
        let body = self.json();
        let in_body = body["__type"].as_str().unwrap_or_default();
        assert!(in_body.ends_with(&header), "__type {in_body} vs header {header}");
        Some(header)
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            sender,
            host: addr.to_string(),
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body))).expect("request");
        self.sender.ready().await.expect("connection ready");
        let resp = self.sender.send_request(req).await.expect("reply");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A License Manager call, unsigned (the default account).
    pub async fn lm(&mut self, op: &str, body: &Value) -> Resp {
        let target = format!("AWSLicenseManager.{op}");
        self.send(
            "POST",
            "/",
            &[
                ("x-amz-target", &target),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    pub async fn get_json(&mut self, path: &str) -> Value {
        let r = self.send("GET", path, &[], Vec::new()).await;
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        r.json()
    }

    pub async fn post_json(&mut self, path: &str, body: &Value) -> Resp {
        self.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }
}

/// A CreateLicense body for `issuer_account`'s own beneficiary scenario.
pub fn create_license_body(sku: &str, max_count: i64, token: &str) -> Value {
    serde_json::json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": sku,
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": max_count, "AllowCheckIn": true}],
        "Beneficiary": "customer-1",
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        "ClientToken": token
    })
}

/// The fingerprint of licenses issued as "Example Corp" by `account` (SPEC 3.1).
pub fn fingerprint(account: &str) -> String {
    format!("aws:{account}:Example Corp:issuer-fingerprint")
}

/// The embedded simulator with `faults` switched on (a `faults` build), and a target to it.
pub fn faulty_simulator(
    faults: &[&str],
) -> (
    conform_harness::embedded::Embedded,
    conform_harness::http::HttpTarget,
) {
    let server = conform_harness::embedded::Embedded::builder()
        .faults(faults.iter().copied())
        .start()
        .expect("simulator starts");
    let target = server.target().expect("target answers");
    (server, target)
}
