//! A `Vec<Op>` of both services' operations and environment events per input, with SPEC 3.10 and
//! 4.4 checked after every step. The bytes are decoded by `conform_harness::fuzz::sequence`
//! exactly as a `|ops: Vec<Op>|` target would (`arbitrary_take_rest`), so that the stable replay
//! test in `harness/tests/fuzz_corpus.rs` reads a committed input as the same steps.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(finding) = conform_harness::fuzz::sequence(data) {
        panic!("{finding}");
    }
});
