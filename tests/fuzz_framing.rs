//! Replays the `framing` fuzz target's corpus and crash reproducers on the stable toolchain,
//! through the same check the fuzz target runs.

use std::path::Path;

fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && !p.ends_with(".gitkeep"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_framing_corpus_input_passes_the_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let files: Vec<_> = ["corpus/framing", "regressions/framing", "artifacts/framing"]
        .iter()
        .flat_map(|d| inputs(&root.join(d)))
        .collect();
    assert!(files.len() >= 8, "the framing corpus is committed: {files:?}");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let data = std::fs::read(f).expect("readable");
            conform_simulator::fuzzing::check_framing(&data)
                .err()
                .map(|e| format!("{}: {e}", f.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn framing_check_survives_arbitrary_bytes() {
    // A fixed pseudo-random sweep, so CI exercises more than the corpus without a fuzzer.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for n in 0..300 {
        let len = (n * 7) % 200;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        if let Err(e) = conform_simulator::fuzzing::check_framing(&data) {
            panic!("input {data:?}: {e}");
        }
    }
}
