//! An emulator author's conformance check: run conform's campaign (the scenario suite, then
//! generated cases compared with the reference model) against an endpoint, print every finding,
//! and exit non-zero on nonconformance, so it drops into CI as it is.
//!
//! ```sh
//! my-emulator --port 4566 &
//! cargo run -p conform-harness --example emulator_conforms -- http://127.0.0.1:4566 50
//! ```
//!
//! The endpoint is signed for with the keys of `conform_harness::accounts::ACCOUNTS` (seller
//! `111122223333`, buyer `444455556666`, stranger `777788889999`). It uses `/_conform/` (reset,
//! clock, fixtures) where the endpoint has it; without it, scenarios are skipped and cases run
//! on the wall clock. With no argument it starts the embedded simulator and checks that.
//!
//! The same as a test of the emulator's own crate:
//!
//! ```no_run
//! #[test]
//! fn my_emulator_conforms() {
//!     use conform_harness::{accounts, campaign::{Campaign, Config}, http::HttpTarget, report::Console};
//!     let mut target = HttpTarget::new("http://127.0.0.1:4566", accounts::credentials()).unwrap();
//!     let mut config = Config::default();
//!     config.cases = 50;
//!     let summary = Campaign::new(config).run(&mut target, &mut Console::new()).unwrap();
//!     assert_eq!(summary.exit_code(), 0, "findings are printed above");
//! }
//! ```

use std::process::ExitCode;

use conform_harness::accounts;
use conform_harness::campaign::{Campaign, Config};
use conform_harness::embedded::Embedded;
use conform_harness::http::HttpTarget;
use conform_harness::report::Console;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let url = args.next();
    let cases = match args.next().map(|c| c.parse::<u64>()) {
        None => 50,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("cases: {e}");
            return ExitCode::from(2);
        }
    };
    // Keeps the embedded simulator alive for the run when no URL is given.
    let embedded;
    let url = match url {
        Some(url) => url,
        None => match Embedded::builder().start() {
            Ok(sim) => {
                embedded = sim;
                embedded.url()
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut target = match HttpTarget::new(&url, accounts::credentials()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{url}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("conformance of {url}");
    let mut config = Config::default();
    config.cases = cases;
    config.target_label = url.clone();
    config.replay_target = Some(url);
    config.trace_dir = Some("conform-traces".into());
    match Campaign::new(config).run(&mut target, &mut Console::new()) {
        Ok(summary) => ExitCode::from(summary.exit_code()),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
