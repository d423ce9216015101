//! Every named fault of `conform serve --fault` and how the harness must classify it; shared by
//! tests/harness_faults.rs and tests/foreign_target.rs.

use conform_harness::driver::{self, CaseConfig, Classification, Finding};
use conform_harness::gen::Step;
use conform_harness::target::Target;
use serde_json::{json, Value};

pub fn expected() -> Vec<(&'static str, Classification)> {
    vec![
        ("version-not-incremented", Classification::HardFailure),
        ("source-version-ignored", Classification::HardFailure),
        ("capacity-off-by-one", Classification::HardFailure),
        ("overage-ignored", Classification::HardFailure),
        ("perpetual-check-in-accepted", Classification::HardFailure),
        ("expiry-not-releasing", Classification::HardFailure),
        ("deleted-license-checks-out", Classification::HardFailure),
        ("idempotent-replay-draws-twice", Classification::HardFailure),
        ("at-risk-never-reached", Classification::HardFailure),
        (
            "deleted-entitlements-listed",
            Classification::PolicyDivergence {
                switch: "list_deleted=true".into(),
            },
        ),
        ("reply-member-missing", Classification::HardFailure),
        // IPVE for a refused check-in is the `check_in_refused_error=ipve` reading of SPEC 3.6.
        (
            "wrong-error-type",
            Classification::PolicyDivergence {
                switch: "check_in_refused_error=ipve".into(),
            },
        ),
        ("evs-timestamp-as-string", Classification::SchemaViolation),
        ("token-live-at-expiry", Classification::HardFailure),
        ("early-borrow-check-in-accepted", Classification::HardFailure),
        ("checked-in-token-accepted-again", Classification::HardFailure),
        ("client-token-mismatch-runs", Classification::HardFailure),
        ("idempotency-window-inclusive", Classification::HardFailure),
        ("first-version-status", Classification::HardFailure),
        ("reset-usage-ignored", Classification::HardFailure),
        ("removed-vm-entitlement-kept", Classification::HardFailure),
        ("guest-os-change-ignored", Classification::HardFailure),
        // Accepting the change is the `evs_fqdn_change=allow` reading of SPEC 4.1.
        (
            "fqdn-change-unguarded",
            Classification::PolicyDivergence {
                switch: "evs_fqdn_change=allow".into(),
            },
        ),
        ("evs-page-one-too-long", Classification::HardFailure),
        // Found since the generator probes each boundary right after reaching it (their
        // written cases are in `written_cases`).
        ("validity-end-inclusive", Classification::HardFailure),
        ("extension-not-honoured", Classification::HardFailure),
        ("at-risk-connector-deletable", Classification::HardFailure),
        ("old-period-check-in-releases", Classification::HardFailure),
        // Found by multi-item requests (a Core that does not fit beside seats that do).
        ("partial-checkout", Classification::HardFailure),
        ("stopped-at-overwritten", Classification::HardFailure),
    ]
}

/// The faults of `conform serve --fault` the generator does not reach within [`SEARCH_CASES`]
/// cases yet (none today). The fault proof asserts that these, and only these, are not found: a
/// generator that reaches one fails the proof until it moves to [`expected`].
pub fn needing_deeper_generation() -> Vec<&'static str> {
    Vec::new()
}

/// A written case that finds a fault the generator once missed.
pub struct Written {
    pub name: &'static str,
    /// How the harness must classify it once generated.
    pub classification: Classification,
    /// A written case of at most 6 steps that finds it.
    pub witness: Vec<Step>,
    /// What the generator needed to reach it (a probe after the boundary, since).
    pub needs: &'static str,
}

/// The written cases of the faults the generator reached last: each finds its fault, within
/// the bar, whatever the generator does.
pub fn written_cases() -> Vec<Written> {
    // A license with 3 seats (TTL 60 minutes), a checkout of one by its issuer; a connector on
    // the first environment and an entitlement for its first VM, CREATED at the first sync.
    let license = |end: Value| {
        json!({"step": "create_license", "sku": 0, "beneficiary": 0, "max": 3, "overage": false, "check_in": true,
               "ttl": 60, "borrow": false, "early": false, "end_minutes": end, "token": 0})
    };
    let checkout = json!({"step": "checkout", "who": "seller", "sku": 0, "beneficiary": 0, "qty": "1",
                          "perpetual": false, "marketplace": false, "token": 1});
    let advance = |seconds: i64| json!({"step": "advance", "seconds": seconds});
    let created = [
        json!({"step": "create_connector", "env": 0, "token": 0}),
        json!({"step": "create_entitlement", "env": 0, "connector": 0, "vms": [0]}),
        advance(300),
    ];
    let steps = |prefix: &[Value], rest: Vec<Value>| -> Vec<Step> {
        let all: Vec<Value> = prefix.iter().cloned().chain(rest).collect();
        serde_json::from_value(Value::Array(all)).expect("written steps parse")
    };
    vec![
        Written {
            name: "validity-end-inclusive",
            classification: Classification::HardFailure,
            witness: steps(&[license(json!(30))], vec![advance(1800), checkout.clone()]),
            needs: "a clock step landing exactly on a license's Validity.End",
        },
        Written {
            name: "extension-not-honoured",
            classification: Classification::HardFailure,
            witness: steps(
                &[license(Value::Null), checkout.clone()],
                vec![
                    advance(1800),
                    json!({"step": "extend", "who": "seller", "token": 0, "dry_run": false}),
                    advance(1800),
                ],
            ),
            needs: "an extend after part of the TTL, then a clock step past the old Expiration \
                    and short of the new one",
        },
        Written {
            name: "at-risk-connector-deletable",
            classification: Classification::HardFailure,
            witness: steps(
                &created,
                vec![
                    json!({"step": "set_health", "env": 0, "connector": 0, "health": "failed"}),
                    advance(300),
                    json!({"step": "delete_connector", "env": 0, "connector": 0}),
                ],
            ),
            needs: "a connector deletion while its only live record is AT_RISK",
        },
        Written {
            name: "stopped-at-overwritten",
            classification: Classification::HardFailure,
            witness: steps(
                &created,
                vec![
                    json!({"step": "remove_vm", "env": 0, "vm": 0}),
                    advance(300),
                    json!({"step": "delete_entitlement", "env": 0, "connector": 0, "vms": [0]}),
                ],
            ),
            needs: "a DeleteEntitlement of an ENTITLEMENT_REMOVED record after its sync",
        },
        Written {
            name: "old-period-check-in-releases",
            classification: Classification::HardFailure,
            witness: steps(
                &[license(Value::Null), checkout],
                vec![
                    json!({"step": "create_license_version", "license": 0, "max": 3, "deactivate": false,
                           "reset": true, "source": null, "token": 0}),
                    json!({"step": "checkout", "who": "seller", "sku": 0, "beneficiary": 0, "qty": "1",
                           "perpetual": false, "marketplace": false, "token": 2}),
                    json!({"step": "check_in", "who": "seller", "token": 0}),
                ],
            ),
            needs: "a check-in of a token from before a ResetUsage (a probe after each reset)",
        },
    ]
}

/// How many generated cases a fault proof searches: those of a default `conform run` (200); a fault
/// not found within them is listed in [`needing_deeper_generation`].
pub const SEARCH_CASES: u64 = 200;

/// Searches the first [`SEARCH_CASES`] cases of `cfg` for a finding, then shrinks and classifies
/// it: the case, the shrunk steps and the classified finding, or why there is none.
pub fn find_shrink_classify(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    fault: &str,
) -> Result<(u64, Vec<Step>, Finding), String> {
    let found = (0..SEARCH_CASES).find_map(|case| {
        let steps = driver::generate(cfg, case);
        let run = driver::execute(target, cfg, case, &steps).expect("no infrastructure error");
        run.finding.map(|f| (case, steps, f))
    });
    let Some((case, steps, finding)) = found else {
        return Err(format!("{fault}: not found in {SEARCH_CASES} cases"));
    };
    let (minimal, mut f) = driver::shrink(target, cfg, case, steps, &finding).expect("shrinks");
    f.classification = driver::classify(target, cfg, case, &minimal, &f).expect("classifies");
    Ok((case, minimal, f))
}
