//! Replays every committed fuzz input through the checks the fuzz targets run
//! (`conform_harness::fuzz`, feature `fuzzing`), on the stable toolchain: the seed corpora under
//! `fuzz/corpus/<target>/`, the crash reproducers under `fuzz/regressions/<target>/`, and any
//! local libFuzzer findings under `fuzz/artifacts/<target>/` (gitignored). A finding is then an
//! ordinary failing test that names its file.

use std::path::{Path, PathBuf};

use conform_harness::fuzz;

type Check = fn(&[u8]) -> Result<(), String>;

const TARGETS: [(&str, Check); 3] = [
    ("lm_request", fuzz::lm_request),
    ("evs_request", fuzz::evs_request),
    ("sequence", fuzz::sequence),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files directly under `dir` (none if it does not exist), in name order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn replay(kind: &str) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, check) in TARGETS {
        for file in files(&fuzz_dir().join(kind).join(target)) {
            let data = std::fs::read(&file).expect("a readable corpus file");
            count += 1;
            if let Err(e) = check(&data) {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn every_seed_corpus_input_passes_the_fuzz_checks() {
    let count = replay("corpus");
    // The corpora are committed; an empty replay would mean the path or the layout broke.
    assert!(
        count >= 3 * 10,
        "only {count} corpus files found under {}",
        fuzz_dir().display()
    );
}

#[test]
fn every_committed_crash_reproducer_passes_the_fuzz_checks() {
    replay("regressions");
}

#[test]
fn every_local_fuzzer_finding_passes_the_fuzz_checks() {
    // Present only where cargo fuzz ran; a crash left there fails until it is fixed.
    replay("artifacts");
}

/// The checks must be able to fail: a reply body holding a null is refused.
#[test]
fn the_reply_check_refuses_a_null_member() {
    let mut world = conform_model::World::new(1, conform_model::Policy::default());
    let caller = conform_model::Caller::new("111122223333", "us-east-1");
    let mut reply = world.handle(
        &caller,
        conform_model::Service::LicenseManager,
        "ListLicenses",
        b"{}",
    );
    fuzz::check_reply(conform_model::Service::LicenseManager, &reply).expect("a real reply passes");
    reply.body["Licenses"] = serde_json::Value::Null;
    assert!(fuzz::check_reply(conform_model::Service::LicenseManager, &reply).is_err());
}
