//! One EVS request per input; the checks live in
//! `conform_harness::fuzz::evs_request`, which `harness/tests/fuzz_corpus.rs` also replays the corpus through.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(finding) = conform_harness::fuzz::evs_request(data) {
        panic!("{finding}");
    }
});
