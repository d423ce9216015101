//! The checks behind conform's fuzz targets (`fuzz/`, a cargo-fuzz package outside the workspace),
//! built with the `fuzzing` feature of conform-harness.
//!
//! Each target is a thin `fuzz_target!` around one function here, and the stable-toolchain test
//! `harness/tests/fuzz_corpus.rs` replays every committed corpus file and crash reproducer through
//! the same functions. So a fuzzing finding is an ordinary failing test on any toolchain, and the
//! rules a fuzzer checks are the ones `cargo test` checks.
//!
//! A check returns `Err` with a description instead of panicking, so the replay test can name the
//! file; the fuzz targets turn an `Err` into a panic, which is what libFuzzer records as a crash.
//!
//! - [`lm_request`]: one License Manager request (operation picked by the first byte, caller by
//!   the second, the rest is the body) against a world holding licenses, tokens and a grant.
//! - [`evs_request`]: the same for EVS, against seeded environments, connectors, VMs and
//!   entitlement records in several statuses.
//! - [`sequence`]: a list of the one workload's [`crate::gen::Step`]s (both services,
//!   environment events, replays, resets, raw bodies), with every always property of
//!   [`crate::audit`] (SPEC 3.10, 4.4, refusals and replays change nothing) checked after every
//!   step.
//!
//! Bodies may name existing resources through placeholders (`<license-1>`, `<token-2>`,
//! `<grant-1>`, `<env-1>`, `<cnctr-1>`, ...), the same spelling the scenario snapshots redact ids
//! to; they are replaced by the seeded world's real ids before the request is sent, so corpus
//! files taken from the snapshots reach the deep paths.
//!
//! ```
//! // Operation byte 2 (GetLicense), caller byte 0 (the seller), then the body.
//! let mut input = vec![2u8, 0u8];
//! input.extend_from_slice(br#"{"LicenseArn": "<license-1>"}"#);
//! conform_harness::fuzz::lm_request(&input).unwrap();
//! ```

mod requests;
mod sequence;
mod worlds;

use conform_model::evs::EvsRequest;
use conform_model::lm::LmRequest;
use conform_model::Caller;

pub use crate::audit::check_reply;
pub use requests::{evs_request, lm_request};

use crate::gen::substitute;
pub use sequence::{run_sequence, sequence};

/// The accounts the License Manager checks act as.
pub const SELLER: &str = "111122223333";
pub const BUYER: &str = "444455556666";
pub const STRANGER: &str = "777788889999";
/// The account the EVS fixtures belong to (the policy's default account).
pub const EVS_ACCOUNT: &str = "123456789012";
/// Fixed EVS ids of the seeded worlds; `<env-1>` etc. stand for these.
pub const ENVIRONMENTS: [&str; 2] = ["env-aaaaaaaaaa", "env-bbbbbbbbbb"];
pub const CONNECTORS: [&str; 3] = ["cnctr-aaaaaaaaaa", "cnctr-bbbbbbbbbb", "cnctr-cccccccccc"];
/// VMs vm-1..vm-6 of the first environment.
pub const VM_COUNT: usize = 6;
/// The most steps a [`sequence`] input runs; the rest of a longer input is ignored.
pub const MAX_STEPS: usize = 48;

/// Operation names the request targets pick from besides the implemented ones: a modelled
/// operation conform does not implement, an unknown one, and a wrongly cased one (SPEC 1.2).
const LM_EXTRA: [&str; 3] = ["CreateLicenseConfiguration", "NoSuchOperation", "checkoutLicense"];
const EVS_EXTRA: [&str; 3] = ["CreateEnvironment", "NoSuchOperation", "createEntitlement"];

const FINGERPRINT: &str = "aws:111122223333:Example Corp:issuer-fingerprint";

/// The operation a request target's first byte picks.
pub fn lm_operation(byte: u8) -> &'static str {
    pick(LmRequest::OPERATIONS, &LM_EXTRA, byte)
}

/// The operation an EVS request target's first byte picks.
pub fn evs_operation(byte: u8) -> &'static str {
    pick(EvsRequest::OPERATIONS, &EVS_EXTRA, byte)
}

fn pick(ops: &[&'static str], extra: &[&'static str], byte: u8) -> &'static str {
    let i = usize::from(byte) % (ops.len() + extra.len());
    ops.get(i).copied().unwrap_or_else(|| extra[i - ops.len()])
}

fn lm_caller(byte: u8) -> Caller {
    let account = [SELLER, BUYER, STRANGER, SELLER][usize::from(byte & 3)];
    // Bit 2 moves the caller out of the licenses' home region (RedirectException paths).
    let region = if byte & 4 == 0 { "us-east-1" } else { "us-west-2" };
    Caller::new(account, region)
}

fn evs_caller(byte: u8) -> Caller {
    // Another account or region sees none of the fixtures (SPEC 1.3 partitions).
    let account = if byte & 1 == 0 { EVS_ACCOUNT } else { SELLER };
    let region = if byte & 2 == 0 { "us-east-1" } else { "us-west-2" };
    Caller::new(account, region)
}

/// Replaces every `<name>` placeholder with its id, on bytes (the body need not be UTF-8).
fn split(data: &[u8]) -> (u8, u8, &[u8]) {
    match data {
        [op, caller, body @ ..] => (*op, *caller, body),
        [op] => (*op, 0, &[]),
        [] => (0, 0, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_bytes_reach_the_unimplemented_and_unknown_names() {
        let n = LmRequest::OPERATIONS.len() as u8;
        assert_eq!(lm_operation(0), "CreateLicense");
        assert_eq!(lm_operation(n), "CreateLicenseConfiguration");
        assert_eq!(lm_operation(n + 1), "NoSuchOperation");
        assert_eq!(
            evs_operation(EvsRequest::OPERATIONS.len() as u8),
            "CreateEnvironment"
        );
    }
}
