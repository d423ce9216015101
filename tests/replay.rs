//! A trace replays to the same finding, byte for byte (issue: the harness as one library, "seeds
//! that stay seeds"): a campaign against a faulty embedded simulator writes a trace; `conform
//! replay TRACE --target URL` against the same fault reproduces the trace's finding exactly, and
//! against the faithful simulator reports none.

use std::process::Command;

use conform_harness::campaign::{Campaign, Config};
use conform_harness::embedded::Embedded;
use conform_harness::report::Silent;

fn replay(trace: &std::path::Path, url: &str, out: &std::path::Path) -> (i32, String) {
    let status = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("replay")
        .arg(trace)
        .args(["--target", url, "--json"])
        .arg(out)
        .output()
        .expect("conform runs");
    let json = std::fs::read_to_string(out).expect("replay writes its JSON");
    (status.status.code().unwrap_or(-1), json)
}

#[test]
fn a_written_trace_replays_to_the_same_finding_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("conform-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let faulty = Embedded::builder()
        .faults(["overage-ignored"])
        .start()
        .expect("starts");
    let mut target = faulty.target().expect("target");
    let mut config = Config::default();
    config.scenarios = false;
    config.cases = 150;
    config.max_findings = Some(1);
    config.trace_dir = Some(dir.clone());
    let summary = Campaign::new(config).run(&mut target, &mut Silent).expect("runs");
    let finding = summary.findings.first().expect("the fault is found");
    let trace = finding.trace.as_ref().expect("a trace is written");

    let (code, json) = replay(trace, &faulty.url(), &dir.join("replayed.json"));
    assert_eq!(code, 1, "a reproduced finding exits 1");
    let written = serde_json::to_string_pretty(&finding.finding).expect("serializes") + "\n";
    assert_eq!(
        json, written,
        "the replayed finding equals the trace's, byte for byte"
    );

    let faithful = Embedded::builder().start().expect("starts");
    let (code, json) = replay(trace, &faithful.url(), &dir.join("clean.json"));
    assert_eq!(
        (code, json.trim()),
        (0, "null"),
        "the faithful simulator runs it clean"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
