//! The simulator's request framing: method, path, X-Amz-Target, Content-Type, Authorization,
//! X-Amz-Date and body from arbitrary bytes, through the real router.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = conform_simulator::fuzzing::check_framing(data) {
        panic!("{e}");
    }
});
