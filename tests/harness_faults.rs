//! Proof that the harness finds bugs (issue: the harness): for every named fault of
//! `conform serve --fault`, a default generated run finds it, classifies it right and shrinks
//! it to at most 6 steps; and the faithful simulator yields no finding over 1,000 cases.

use crate::foreign::faults;

use std::collections::BTreeMap;

use conform_harness::driver::{self, CaseConfig};
use conform_harness::http::{Credentials, HttpTarget};
use conform_model::{Policy, Service};
use conform_simulator::{Account, Background, Config, Fixtures};

const ACCOUNTS: [(&str, &str, &str); 3] = [
    ("111122223333", "AKIDSELLER", "seller-secret"),
    ("444455556666", "AKIDBUYER", "buyer-secret"),
    ("777788889999", "AKIDSTRANGER", "stranger-secret"),
];

fn simulator(faults: &[&str]) -> (Background, HttpTarget) {
    let accounts = ACCOUNTS
        .iter()
        .map(|(a, k, s)| Account {
            access_key_id: k.to_string(),
            secret_access_key: s.to_string(),
            account_id: a.to_string(),
        })
        .collect();
    let config = Config {
        fixtures: Fixtures {
            accounts,
            events: vec![],
        },
        frozen_clock: true,
        require_auth: true,
        faults: faults.iter().map(|f| f.to_string()).collect(),
        ..Config::default()
    };
    let server = Background::start(&config).expect("simulator starts");
    let keys: BTreeMap<String, Credentials> = ACCOUNTS
        .iter()
        .map(|(a, k, s)| {
            (
                a.to_string(),
                Credentials {
                    access_key_id: k.to_string(),
                    secret_access_key: s.to_string(),
                },
            )
        })
        .collect();
    let target = HttpTarget::new(&server.url(), keys).expect("target answers");
    (server, target)
}

fn config() -> CaseConfig {
    CaseConfig {
        seed: 1,
        max_steps: 40,
        policy: Policy::default(),
        services: vec![Service::LicenseManager, Service::Evs],
        events: true,
    }
}

#[test]
fn every_fault_is_found_classified_and_shrunk() {
    let expected = faults::expected();
    let names: Vec<&str> = conform_simulator::fault_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.len() >= 12, "at least 12 faults: {names:?}");
    assert_eq!(names.len(), expected.len(), "every fault has an expectation here");
    let cfg = config();
    let mut report = Vec::new();
    for (fault, classification) in &expected {
        let (_server, mut target) = simulator(&[fault]);
        let found = (0..400).find_map(|case| {
            let steps = driver::generate(&cfg, case);
            let run = driver::execute(&mut target, &cfg, case, &steps).expect("no infrastructure error");
            run.finding.map(|f| (case, steps, f))
        });
        let Some((case, steps, finding)) = found else {
            report.push(format!("{fault}: not found in 400 cases"));
            continue;
        };
        let (minimal, mut f) = driver::shrink(&mut target, &cfg, case, steps, &finding).expect("shrinks");
        f.classification = driver::classify(&mut target, &cfg, case, &minimal, &f).expect("classifies");
        println!(
            "{fault}: case {case}, {} steps after shrinking, {:?} at {}",
            minimal.len(),
            f.classification,
            f.operation
        );
        if f.classification != *classification {
            report.push(format!(
                "{fault}: classified {:?}, expected {classification:?}",
                f.classification
            ));
        }
        if minimal.len() > 6 {
            report.push(format!(
                "{fault}: {} steps after shrinking: {minimal:?}",
                minimal.len()
            ));
        }
        let again = driver::execute(&mut target, &cfg, case, &minimal).expect("replays");
        if again.finding.is_none() {
            report.push(format!("{fault}: the shrunk case does not reproduce"));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_faithful_simulator_yields_no_finding_over_1000_cases() {
    let (_server, mut target) = simulator(&[]);
    let cfg = CaseConfig {
        max_steps: 30,
        ..config()
    };
    for case in 0..1000 {
        let steps = driver::generate(&cfg, case);
        let run = driver::execute(&mut target, &cfg, case, &steps).expect("no infrastructure error");
        assert!(run.finding.is_none(), "case {case}: {:#?}", run.finding);
    }
}
