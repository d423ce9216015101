//! `conform serve` for daily product testing (issue #18): the clock's start on the startup line
//! and `--start-time`, a bind failure naming the address, and per-request JSON logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::Binary;

fn state(url: &str) -> serde_json::Value {
    let text = ureq::get(&format!("{url}/_conform/state"))
        .call()
        .expect("state")
        .into_string()
        .expect("text");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn start_time_sets_the_frozen_clock_and_the_default_start_is_stated() {
    let server = Binary::start(&["--frozen-clock", "--start-time", "2026-12-01T08:00:00Z"]);
    assert_eq!(state(&server.url)["clock"]["now"], "2026-12-01T08:00:00.000Z");

    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--listen", "127.0.0.1:0", "--frozen-clock"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("clock frozen at 2026-01-01T00:00:00.000Z"),
        "{line}"
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--start-time", "yesterday"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--start-time 'yesterday'"));
}

#[test]
fn a_bind_failure_names_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["serve", "--listen", &addr])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn json_logs_carry_request_id_account_operation_outcome_latency_and_explanation() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--frozen-clock",
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("a line");
    let url = line
        .strip_prefix("conform listening on ")
        .and_then(|r| r.split_whitespace().next())
        .expect("url")
        .to_string();
    let refused = ureq::post(&format!("{url}/"))
        .set("x-amz-target", "AWSLicenseManager.CheckInLicense")
        .send_string(r#"{"LicenseConsumptionToken":"nope"}"#);
    let Err(ureq::Error::Status(400, _)) = refused else {
        panic!("expected a 400 refusal, got {refused:?}");
    };
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut log = String::new();
    stderr.read_line(&mut log).expect("a log line");
    let _ = child.kill();
    let _ = child.wait();
    let event: serde_json::Value = serde_json::from_str(&log).expect("a JSON log line");
    assert_eq!(event["operation"], "CheckInLicense", "{log}");
    assert_eq!(event["account"], "123456789012");
    assert_eq!(event["outcome"], "ResourceNotFoundException");
    assert!(
        event["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{log}"
    );
    assert!(event["latency_us"].is_u64(), "{log}");
    assert!(
        event["explanation"]
            .as_str()
            .is_some_and(|e| e.starts_with("token_unknown (SPEC 3.6)")),
        "{log}"
    );
}
