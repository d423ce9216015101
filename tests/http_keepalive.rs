//! Pooled keep-alive connections to the simulator (issue "The harness as one library", speed
//! requirement). The rule shown: every reply the simulator gives either says
//! `Connection: close` (and the server then closes) or leaves its connection able to carry the
//! next request. A reply that drops its connection without saying so is what made a client's
//! pooled connection fail with "Unexpected EOF": hyper answers a handler that never read the
//! request body, then closes the connection because the unread body is still on the wire.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use conform_harness::driver::{self, CaseConfig};
use conform_harness::http::{Credentials, HttpTarget};
use conform_model::Event;
use conform_simulator::{Account, Background, Config, Fixtures, MAX_BODY_BYTES};

const SELLER: (&str, &str, &str) = ("111122223333", "AKIDSELLER", "seller-secret");
const BUYER: (&str, &str, &str) = ("444455556666", "AKIDBUYER", "buyer-secret");
const STRANGER: (&str, &str, &str) = ("777788889999", "AKIDSTRANGER", "stranger-secret");

fn simulator(require_auth: bool) -> Background {
    let accounts = [SELLER, BUYER, STRANGER]
        .iter()
        .map(|(a, k, s)| Account {
            access_key_id: k.to_string(),
            secret_access_key: s.to_string(),
            account_id: a.to_string(),
        })
        .collect();
    Background::start(&Config {
        fixtures: Fixtures {
            accounts,
            events: vec![],
        },
        frozen_clock: true,
        require_auth,
        ..Config::default()
    })
    .expect("simulator starts")
}

/// One request of the battery: sent raw, so the test decides how the bytes reach the server.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Send `Transfer-Encoding: chunked` instead of `Content-Length`.
    chunked: bool,
    /// Declare this `Content-Length` but send no body (an oversized request refused unread).
    declared_only: Option<usize>,
}

fn case(name: &'static str, method: &'static str, path: &'static str, body: &[u8]) -> Case {
    Case {
        name,
        method,
        path,
        headers: Vec::new(),
        body: body.to_vec(),
        chunked: false,
        declared_only: None,
    }
}

fn aws(name: &'static str, target: &str, body: &[u8]) -> Case {
    let mut c = case(name, "POST", "/", body);
    c.headers = vec![
        ("x-amz-target", target.to_string()),
        ("content-type", "application/x-amz-json-1.1".to_string()),
    ];
    c
}

fn control(name: &'static str, path: &'static str, body: &[u8]) -> Case {
    let mut c = case(name, "POST", path, body);
    c.headers = vec![("content-type", "application/json".to_string())];
    c
}

fn events(events: &[Event]) -> Vec<u8> {
    serde_json::to_vec(events).expect("events serialize")
}

/// Every kind of request a client can send: answered, refused by the model, refused before the
/// model (auth, framing, route, size), and the control plane with and without bodies.
fn battery() -> Vec<Case> {
    let mut over = vec![b' '; MAX_BODY_BYTES + 1];
    over[0] = b'{';
    let mut chunked_over = aws(
        "AWS body over the limit, chunked",
        "AWSLicenseManager.GetLicense",
        &over,
    );
    chunked_over.chunked = true;
    let mut declared_over = aws(
        "AWS body declared over the limit",
        "AWSLicenseManager.GetLicense",
        b"",
    );
    declared_over.declared_only = Some(MAX_BODY_BYTES + 1);
    let mut far_over = vec![b' '; 4 * MAX_BODY_BYTES];
    far_over[0] = b'[';
    let mut control_over = vec![b' '; MAX_BODY_BYTES + 1];
    control_over[0] = b'[';
    *control_over.last_mut().expect("not empty") = b']';
    let mut malformed_auth = aws(
        "AWS call with a malformed signature",
        "AWSLicenseManager.ListLicenses",
        b"{}",
    );
    malformed_auth
        .headers
        .push(("authorization", "AWS4-HMAC-SHA256 nonsense".to_string()));
    vec![
        aws("AWS call", "AWSLicenseManager.ListLicenses", b"{}"),
        aws("EVS call", "AmazonElasticVMwareService.ListEnvironments", b"{}"),
        aws(
            "AWS call the model refuses",
            "AWSLicenseManager.GetLicense",
            b"{}",
        ),
        aws(
            "AWS body not JSON",
            "AWSLicenseManager.CheckoutLicense",
            b"{not json",
        ),
        aws("unknown operation", "AWSLicenseManager.NoSuchOperation", b"{}"),
        malformed_auth,
        control(
            "STS GetCallerIdentity",
            "/",
            b"Action=GetCallerIdentity&Version=2011-06-15",
        ),
        control("control reset with a body", "/_conform/reset", b"{}"),
        case("control reset without a body", "POST", "/_conform/reset", b""),
        control("control clock", "/_conform/clock", br#"{"seconds": 1}"#),
        control("control clock refused", "/_conform/clock", b"[1]"),
        control(
            "control events",
            "/_conform/events",
            &events(&[Event::advance_seconds(1)]),
        ),
        control(
            "control events refused",
            "/_conform/events",
            br#"[{"NoSuchEvent": 1}]"#,
        ),
        control(
            "control fixtures",
            "/_conform/fixtures",
            br#"{"accounts": [], "events": []}"#,
        ),
        control("control body over the limit", "/_conform/events", &control_over),
        control("control body far over the limit", "/_conform/events", &far_over),
        case("GET state", "GET", "/_conform/state", b""),
        case("GET jwks", "GET", "/_conform/jwks", b""),
        case("GET an unknown path", "GET", "/nowhere", b""),
        control("POST to an unknown path with a body", "/nowhere", br#"{"a": 1}"#),
        aws("POST to / without a target or form", "", b"{}"),
        aws("AWS body over the limit", "AWSLicenseManager.GetLicense", &over),
        declared_over,
        chunked_over,
    ]
}

/// A reply read off a raw connection.
struct Reply {
    status: u16,
    close: bool,
    body: Vec<u8>,
}

/// Writes the request head, pauses, then writes the body: the body reaches the server as its
/// own segment after the handler may already have run, as it does from a client that writes
/// head and body separately (ureq does).
fn send(stream: &mut TcpStream, addr: SocketAddr, c: &Case) -> std::io::Result<()> {
    let mut head = format!("{} {} HTTP/1.1\r\nhost: {addr}\r\n", c.method, c.path);
    for (k, v) in c.headers.iter().filter(|(_, v)| !v.is_empty()) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if c.chunked {
        head.push_str("transfer-encoding: chunked\r\n");
    } else {
        let len = c.declared_only.unwrap_or(c.body.len());
        head.push_str(&format!("content-length: {len}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if c.declared_only.is_some() || (c.body.is_empty() && !c.chunked) {
        return Ok(());
    }
    std::thread::sleep(Duration::from_millis(30));
    // The server may refuse and close before it has read all of an oversized body.
    if c.chunked {
        let _ = stream.write_all(format!("{:x}\r\n", c.body.len()).as_bytes());
        let _ = stream.write_all(&c.body);
        let _ = stream.write_all(b"\r\n0\r\n\r\n");
    } else {
        let _ = stream.write_all(&c.body);
    }
    Ok(())
}

fn read_reply(reader: &mut BufReader<TcpStream>) -> std::io::Result<Reply> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a reply",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut close = false;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header {line:?}"));
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
        match k.as_str() {
            "connection" => close |= v.split(',').any(|t| t.trim() == "close"),
            "content-length" => length = v.parse().expect("content-length is a number"),
            "transfer-encoding" => panic!("the simulator sends sized replies, got {line}"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Reply { status, close, body })
}

/// The rule, for one request on a fresh connection: its reply says `Connection: close` and the
/// server closes, or the same connection answers a following request.
fn check(addr: SocketAddr, c: &Case) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    send(&mut stream, addr, c).map_err(|e| format!("sending: {e}"))?;
    let reply = read_reply(&mut reader).map_err(|e| format!("no reply: {e}"))?;
    if reply.close {
        let mut rest = Vec::new();
        // Closed: end of stream, or a reset when unread request bytes were left behind.
        return match reader.read_to_end(&mut rest) {
            Ok(_) if rest.is_empty() => Ok(()),
            Ok(_) => Err(format!("{} bytes after a closing reply", rest.len())),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
            Err(e) => Err(format!("said close, then did not close: {e}")),
        };
    }
    let next = case("GET state", "GET", "/_conform/state", b"");
    let answered = send(&mut stream, addr, &next).and_then(|()| read_reply(&mut reader));
    match answered {
        Ok(r) if r.status == 200 => Ok(()),
        Ok(r) => Err(format!(
            "reply {} kept the connection; the next request got {}: {}",
            reply.status,
            r.status,
            String::from_utf8_lossy(&r.body)
        )),
        Err(e) => Err(format!(
            "reply {} did not say `Connection: close`, yet the next request on its connection failed: {e}",
            reply.status
        )),
    }
}

#[test]
fn every_reply_says_close_or_keeps_its_connection() {
    for require_auth in [false, true] {
        let server = simulator(require_auth);
        let failures: Vec<String> = battery()
            .iter()
            .filter_map(|c| check(server.addr, c).err().map(|e| format!("{}: {e}", c.name)))
            .collect();
        assert!(
            failures.is_empty(),
            "require_auth={require_auth}:\n{}",
            failures.join("\n")
        );
    }
}

#[test]
fn refusals_for_size_close_the_connection_they_did_not_read() {
    // The 1 MiB limit (DESIGN "limits on everything"): an oversized body is refused with 413
    // without reading the rest of it, and the reply says the connection ends with it.
    let server = simulator(false);
    for c in battery().iter().filter(|c| c.name.contains("over the limit")) {
        let mut stream = TcpStream::connect(server.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        send(&mut stream, server.addr, c).unwrap_or_else(|e| panic!("{}: sending: {e}", c.name));
        let reply = read_reply(&mut reader).unwrap_or_else(|e| panic!("{}: no reply: {e}", c.name));
        assert_eq!(reply.status, 413, "{}", c.name);
        let fully_read = c.name == "control body over the limit";
        assert!(
            reply.close || fully_read,
            "{}: 413 without `Connection: close`",
            c.name
        );
    }
}

/// A loopback TCP proxy that counts the connections made through it.
struct CountingProxy {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl CountingProxy {
    fn start(upstream: SocketAddr) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(upstream) else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
        CountingProxy { addr, accepted }
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies `from` to `to` on a thread; passes the end of stream on.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

#[test]
fn one_pooled_agent_carries_every_kind_of_request() {
    let server = simulator(false);
    let proxy = CountingProxy::start(server.addr);
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let base = format!("http://{}", proxy.addr);
    // ureq sends every body with its length: the raw-only cases (a declared length without
    // its body, chunked) are left out.
    let cases: Vec<Case> = battery()
        .into_iter()
        .filter(|c| c.declared_only.is_none() && !c.chunked)
        .collect();
    let rounds = 20;
    let mut sent = 0;
    // Requests after which the client must open a new connection: announced closes, and
    // oversized requests whose body the server refused part-way (a transport error).
    let mut ended = 0;
    let mut failures = Vec::new();
    for round in 0..rounds {
        for c in &cases {
            let mut req = agent.request(c.method, &format!("{base}{}", c.path));
            for (k, v) in c.headers.iter().filter(|(_, v)| !v.is_empty()) {
                req = req.set(k, v);
            }
            let result = if c.method == "GET" {
                req.call()
            } else {
                req.send_bytes(&c.body)
            };
            sent += 1;
            let last = round + 1 == rounds && std::ptr::eq(c, cases.last().expect("cases"));
            match result {
                Ok(r) | Err(ureq::Error::Status(_, r)) => {
                    let close = r
                        .header("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    if let Err(e) = r.into_string() {
                        failures.push(format!("{}: reading the reply: {e}", c.name));
                    }
                    if close && !last {
                        ended += 1;
                    }
                }
                Err(_) if c.body.len() > MAX_BODY_BYTES => {
                    // Refused before the whole body was written: the connection is gone, and
                    // the client knows it (the error), so the pool does not keep it.
                    if !last {
                        ended += 1;
                    }
                }
                Err(e) => failures.push(format!("round {round}, {}: {e}", c.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        proxy.connections(),
        1 + ended,
        "{sent} requests: one connection, and one more after each reply that ended its own"
    );
    assert!(
        proxy.connections() * 4 < sent,
        "{} connections for {sent} requests",
        proxy.connections()
    );
}

#[test]
fn the_harness_pools_its_connections() {
    let server = simulator(true);
    let proxy = CountingProxy::start(server.addr);
    let keys: BTreeMap<String, Credentials> = [SELLER, BUYER, STRANGER]
        .iter()
        .map(|(a, k, s)| {
            (
                a.to_string(),
                Credentials {
                    access_key_id: k.to_string(),
                    secret_access_key: s.to_string(),
                },
            )
        })
        .collect();
    let mut target = HttpTarget::new(&format!("http://{}", proxy.addr), keys).expect("target answers");
    let cfg = CaseConfig {
        seed: 3,
        max_steps: 30,
        ..CaseConfig::default()
    };
    let mut steps = 0;
    for case in 0..8 {
        let generated = driver::generate(&cfg, case);
        let run = driver::execute(&mut target, &cfg, case, &generated)
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert!(run.finding.is_none(), "case {case}: {:?}", run.finding);
        steps += run.records.len();
    }
    assert!(steps > 100, "only {steps} steps ran");
    assert_eq!(
        proxy.connections(),
        1,
        "{steps} steps with resets and events between cases went over one connection"
    );
}
