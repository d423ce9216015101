//! `conform serve --state-dir` (issue #18): a restart restores the same world and the ids that
//! would have followed, and with snapshots replays at most `--state-snapshot-every` records;
//! SIGKILL under 64-way checkout load, with snapshots written all the while, loses no
//! acknowledged checkout (both `--state-sync` modes); a torn last record is dropped with a
//! warning; a damaged, foreign or differently started journal is refused; without the flag
//! nothing touches the disk. (Damaged, unfinished and foreign snapshots: the simulator's
//! `persist::tests`.)

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{create_license_body, fingerprint};

const ACCOUNT: &str = "123456789012";

/// `conform serve` with its stderr kept (for warnings).
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[&str], cwd: &Path) -> Server {
        Server::start_logging(args, cwd, "warn")
    }

    /// With `RUST_LOG` set to `log`.
    fn start_logging(args: &[&str], cwd: &Path, log: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(cwd)
            .env("RUST_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("conform serve starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped");
        let kept = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                *kept.lock().unwrap() = text.clone();
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("a first line");
        let url = line
            .strip_prefix("conform listening on ")
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no startup line: {line:?}; stderr: {}", stderr.lock().unwrap()))
            .to_string();
        Server { child, url, stderr }
    }

    /// SIGTERM, a clean shutdown.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("exits");
        assert!(exit.success(), "{exit:?}: {}", self.stderr.lock().unwrap());
    }

    fn lm(&self, op: &str, body: &Value) -> (u16, String, Value) {
        lm(&self.url, op, body)
    }

    fn state(&self) -> Value {
        get(&format!("{}/_conform/state", self.url))
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let r = ureq::post(&format!("{}{path}", self.url))
            .send_string(&body.to_string())
            .expect("control plane");
        serde_json::from_str(&r.into_string().expect("text")).expect("json")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> Value {
    serde_json::from_str(&ureq::get(url).call().expect("GET").into_string().expect("text")).expect("json")
}

/// A License Manager call: status, request id and body.
fn lm(url: &str, op: &str, body: &Value) -> (u16, String, Value) {
    let sent = ureq::post(&format!("{url}/"))
        .set("x-amz-target", &format!("AWSLicenseManager.{op}"))
        .send_string(&body.to_string());
    let r = match sent {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{op}: {e}"),
    };
    let status = r.status();
    let id = r.header("x-amzn-requestid").unwrap_or_default().to_string();
    let body = serde_json::from_str(&r.into_string().expect("text")).expect("json");
    (status, id, body)
}

fn checkout(token: &str) -> Value {
    json!({
        "ProductSKU": "sku", "CheckoutType": "PROVISIONAL", "KeyFingerprint": fingerprint(ACCOUNT),
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
        "Beneficiary": "customer-1", "ClientToken": token
    })
}

/// An empty directory of this test's own.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn example_fixtures() -> String {
    format!("{}/fixtures/example.json", env!("CARGO_MANIFEST_DIR"))
}

/// Writes, refusals, reads, a clock move and fixtures, through every kind of record.
fn script(s: &Server) -> String {
    let (status, _, created) = s.lm("CreateLicense", &create_license_body("sku", 3, "create-1"));
    assert_eq!(status, 200, "{created}");
    let arn = created["LicenseArn"].as_str().expect("arn").to_string();
    assert_eq!(s.lm("CheckoutLicense", &checkout("c1")).0, 200);
    let refused = s.lm("CheckInLicense", &json!({"LicenseConsumptionToken": "nope"}));
    assert_eq!(refused.0, 400);
    s.post("/_conform/clock", &json!({"seconds": 30}));
    s.post(
        "/_conform/fixtures",
        &json!({"accounts": [{"access_key_id": "AKIDSTATE", "secret_access_key": "s", "account_id": "210987654321"}]}),
    );
    assert_eq!(s.lm("CheckoutLicense", &checkout("c2")).0, 200);
    assert_eq!(s.lm("CheckoutLicense", &checkout("c3")).0, 200);
    let full = s.lm("CheckoutLicense", &checkout("c4"));
    assert_eq!(full.2["__type"], "NoEntitlementsAllowedException", "{}", full.2);
    assert_eq!(s.lm("GetLicense", &json!({"LicenseArn": arn})).0, 200);
    arn
}

/// How many records the start logged it replayed after its snapshot (or fresh world).
fn replayed(s: &Server) -> (String, usize) {
    let log = s.stderr.lock().unwrap().clone();
    let line = log
        .lines()
        .find(|l| l.contains("restored "))
        .unwrap_or_else(|| panic!("no restore line: {log}"));
    let n = line
        .split(" and replayed ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (line.to_string(), n)
}

#[test]
fn a_restart_restores_the_dump_before_and_the_ids_that_would_have_followed() {
    // Without snapshots in the run, and with one every 2 records: the restart replays at most 2.
    for every in ["100000", "2"] {
        restart_with_snapshots_every(every);
    }
}

fn restart_with_snapshots_every(every: &str) {
    let dir = fresh_dir(&format!("restart-{every}"));
    let state = dir.join("state");
    let fixtures = example_fixtures();
    let args = ["--frozen-clock", "--fixtures", &fixtures];
    let state_args = [
        "--state-dir",
        state.to_str().expect("utf-8"),
        "--state-snapshot-every",
        every,
    ];
    let with_state = [&args[..], &state_args].concat();

    let first = Server::start(&with_state, &dir);
    let arn = script(&first);
    for _ in 0..20 {
        assert_eq!(first.lm("GetLicense", &json!({"LicenseArn": arn})).0, 200);
    }
    script(&first);
    let before = first.state();
    first.stop();

    let restarted = Server::start_logging(&with_state, &dir, "warn,conform::state=info");
    assert_eq!(restarted.state(), before, "the dump after a restart");
    let (line, n) = replayed(&restarted);
    let bound: usize = every.parse().expect("a number");
    assert!(n <= bound, "{line}");
    assert_eq!(line.contains("restored snapshot"), bound < 20, "{line}");

    // The same requests to a server that never restarted: the next replies, refused and
    // accepted, carry the same request ids and tokens.
    let never = Server::start(&args, &dir);
    script(&never);
    for _ in 0..20 {
        never.lm("GetLicense", &json!({"LicenseArn": arn}));
    }
    script(&never);
    for (op, body) in [
        // A ClientToken replay of a checkout made before the snapshots.
        ("CheckoutLicense", checkout("c1")),
        ("CheckInLicense", json!({"LicenseConsumptionToken": "nope"})),
        ("CheckInLicense", json!({"LicenseConsumptionToken": "nope"})),
        ("CheckoutLicense", checkout("c5")),
    ] {
        assert_eq!(restarted.lm(op, &body), never.lm(op, &body), "{op}");
    }
    assert_eq!(restarted.state(), never.state());
    let log = restarted.stderr.lock().unwrap().clone();
    assert!(log.lines().all(|l| l.contains(" INFO ")), "{log}");
}

#[test]
fn sigkill_during_64_way_checkouts_loses_no_acknowledged_checkout() {
    for sync in ["always", "batch"] {
        let dir = fresh_dir(&format!("kill-{sync}"));
        let state = dir.join("state");
        // A snapshot every 40 records: the kill lands among snapshots being written.
        let args = [
            "--state-dir",
            state.to_str().expect("utf-8"),
            "--state-sync",
            sync,
            "--state-snapshot-every",
            "40",
        ];
        let mut server = Server::start(&args, &dir);
        let (status, _, created) =
            server.lm("CreateLicense", &create_license_body("sku", 1_000_000, "create"));
        assert_eq!(status, 200);
        let arn = created["LicenseArn"].as_str().expect("arn").to_string();

        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..64)
            .map(|w| {
                let (url, acked, sent, stop) =
                    (server.url.clone(), acked.clone(), sent.clone(), stop.clone());
                std::thread::spawn(move || {
                    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
                    for i in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        sent.fetch_add(1, Ordering::SeqCst);
                        let reply = agent
                            .post(&format!("{url}/"))
                            .set("x-amz-target", "AWSLicenseManager.CheckoutLicense")
                            .send_string(&checkout(&format!("w{w}-{i}")).to_string());
                        // A reply cut off by the kill is not an acknowledgement.
                        let Ok(reply) = reply else { break };
                        let Ok(text) = reply.into_string() else { break };
                        let body: Value = serde_json::from_str(&text).expect("json");
                        let token = body["LicenseConsumptionToken"]
                            .as_str()
                            .expect("a token")
                            .to_string();
                        acked.lock().unwrap().push(token);
                    }
                })
            })
            .collect();
        // Kill once the load is well under way.
        while acked.lock().unwrap().len() < 300 {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().expect("worker");
        }
        drop(server);

        let acked = acked.lock().unwrap().clone();
        let restarted = Server::start(&args, &dir);
        let (_, _, usage) = restarted.lm("GetLicenseUsage", &json!({"LicenseArn": arn}));
        let consumed: u64 = usage["LicenseUsage"]["EntitlementUsages"][0]["ConsumedValue"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{usage}"));
        let tokens: std::collections::HashSet<String> = restarted.state()["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .filter_map(|t| t["LicenseConsumptionToken"].as_str().map(str::to_string))
            .collect();
        let missing = acked.iter().filter(|t| !tokens.contains(*t)).count();
        assert_eq!(
            missing,
            0,
            "{sync}: {missing} of {} acknowledged checkouts lost",
            acked.len()
        );
        let sent = sent.load(Ordering::SeqCst);
        assert!(
            consumed >= acked.len() as u64 && consumed <= sent,
            "{sync}: usage {consumed}, acknowledged {}, sent {sent}",
            acked.len()
        );
    }
}

/// The journal file of a state directory, and its records as lines.
fn journal_lines(state: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(state.join("journal.0")).expect("journal");
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn a_torn_last_record_is_dropped_with_a_warning_and_damage_before_it_is_refused() {
    let dir = fresh_dir("torn");
    let state = dir.join("state");
    let args = ["--frozen-clock", "--state-dir", state.to_str().expect("utf-8")];
    let first = Server::start(&args, &dir);
    script(&first);
    first.stop();
    let before = {
        let s = Server::start(&args, &dir);
        let dump = s.state();
        s.stop();
        dump
    };
    let lines = journal_lines(&state);
    // The last record but for the shutdown checkpoints: a checkout of `script`.
    let whole: Vec<u8> = lines.concat();

    // A write the process died in: part of a record, no newline.
    let last = lines.last().expect("a record");
    let mut torn = whole.clone();
    torn.extend_from_slice(&last[..last.len() / 2]);
    std::fs::write(state.join("journal.0"), &torn).expect("write");
    let restored = Server::start(&args, &dir);
    assert_eq!(restored.state(), before);
    let warned = restored.stderr.lock().unwrap().clone();
    assert!(warned.contains("dropped a torn last record"), "{warned}");
    restored.stop();
    let after = std::fs::read(state.join("journal.0")).expect("journal");
    assert!(
        after.starts_with(&whole) && after.ends_with(b"\n"),
        "the torn bytes are gone"
    );

    // One flipped byte in an earlier record: not a torn write; refused, nothing misread.
    let mut damaged = whole.clone();
    let at = lines[0].len() + lines[1].len() / 2;
    damaged[at] ^= 0x01;
    std::fs::write(state.join("journal.0"), &damaged).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record 1") && err.contains("damaged and records follow"),
        "{err}"
    );
}

#[test]
fn a_foreign_or_differently_started_journal_is_refused_with_a_clear_message() {
    let dir = fresh_dir("foreign");
    let state = dir.join("state");
    let state_arg = state.to_str().expect("utf-8");
    let refused = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["serve", "--listen", "127.0.0.1:0", "--state-dir", state_arg])
            .args(extra)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{extra:?} started");
        String::from_utf8_lossy(&out.stderr).to_string()
    };

    std::fs::create_dir_all(&state).expect("dir");
    // A segment, and a journal in one file as version 1 kept it.
    for name in ["journal.0", "journal"] {
        std::fs::write(state.join(name), "{\"not\": \"a journal\"}\n").expect("write");
        let err = refused(&[]);
        assert!(err.contains("is not a conform state journal"), "{name}: {err}");
        std::fs::remove_file(state.join(name)).expect("rm");
    }

    Server::start(&["--seed", "1", "--state-dir", state_arg], &dir).stop();
    let err = refused(&["--seed", "2"]);
    assert!(err.contains("started differently: --seed 1 (now 2)"), "{err}");
    let err = refused(&["--seed", "1", "--frozen-clock"]);
    assert!(err.contains("--frozen-clock"), "{err}");
    let fixtures = example_fixtures();
    let err = refused(&["--seed", "1", "--fixtures", &fixtures]);
    assert!(err.contains("other --fixtures"), "{err}");
}

#[test]
fn without_the_flag_nothing_touches_the_disk() {
    let dir = fresh_dir("no-flag");
    let server = Server::start(&["--frozen-clock"], &dir);
    script(&server);
    server.stop();
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(left.is_empty(), "{left:?}");
}
