//! The explorer (issue #16): every reachable state of the default small world up to a depth,
//! every always property on every transition; an injected model bug found with its shortest
//! path, as a trace whose steps break the same property again; the covering cases of
//! `conform run --exhaustive`, run through the campaign.

use conform_harness::campaign::{Campaign, Config};
use conform_harness::driver::Reference;
use conform_harness::explore::{cover, explore, Bounds, ExploreConfig, SmallWorld, Stop};
use conform_harness::report::Silent;
use conform_harness::target::ModelTarget;
use conform_model::faults::Fault;
use conform_model::{Policy, World};

fn at_depth(depth: usize) -> ExploreConfig {
    ExploreConfig {
        bounds: Bounds {
            depth,
            ..Bounds::default()
        },
        ..ExploreConfig::default()
    }
}

#[test]
fn the_default_world_holds_every_property_in_every_state_explored() {
    // The state bound stops inside the first level past it; every state counted was checked.
    let mut cfg = at_depth(8);
    cfg.bounds.states = 100_000;
    cfg.bounds.time = std::time::Duration::from_secs(900);
    let r = explore(&cfg);
    eprintln!("{}", r.describe());
    assert!(r.violations.is_empty(), "{}", r.describe());
    assert!(r.unique_states >= 100_000, "{}", r.describe());
    assert_eq!(r.stop, Stop::States);
    // The goals a breadth-first search of this world must reach.
    for goal in [
        "a_checkout_granted",
        "a_grant_activated",
        "an_entitlement_created",
        "a_license_expired",
    ] {
        assert!(
            r.goals.iter().any(|(g, reached)| *g == goal && *reached),
            "{goal} not reached"
        );
    }
}

#[test]
fn threads_do_not_change_what_is_explored() {
    let mut one = at_depth(3);
    one.threads = 1;
    let mut two = at_depth(3);
    two.threads = 2;
    let (a, b) = (explore(&one), explore(&two));
    assert_eq!(
        (a.unique_states, a.transitions, &a.levels),
        (b.unique_states, b.transitions, &b.levels)
    );
    assert_eq!(a.stop, Stop::Depth);
    assert_eq!(a.depth_reached, 3);
}

fn off_by_one(world: &mut World) {
    world.set_fault(Fault::CapacityOffByOne);
}

#[test]
fn an_injected_model_bug_is_found_with_the_shortest_path() {
    // Three seats, one of them checked out by the setup.
    let three_seats = SmallWorld {
        seats: 3,
        ..SmallWorld::default()
    };
    let mut cfg = at_depth(4);
    cfg.world = three_seats.clone();
    cfg.start = Some(off_by_one);
    let r = explore(&cfg);
    let found = r
        .violations
        .iter()
        .find(|f| f.violation.property == "license_manager_invariants")
        .unwrap_or_else(|| panic!("not found:\n{}", r.describe()));
    // A checkout of two (all three seats out), then one more that only the fault lets through.
    assert_eq!(found.path.len(), 2, "{}", r.describe());
    assert_eq!(r.stop, Stop::Violation);
    // Nothing shorter breaks it: one action is not enough.
    let mut shallow = at_depth(1);
    shallow.world = three_seats;
    shallow.start = Some(off_by_one);
    assert!(explore(&shallow).violations.is_empty());
    // The trace is one `conform replay` reads: written and read back, the same steps.
    let file = std::env::temp_dir().join(format!("conform-explore-{}.json", std::process::id()));
    found.trace.write(&file).expect("written");
    let read = conform_harness::trace::Trace::read(&file).expect("a conform trace");
    let _ = std::fs::remove_file(&file);
    assert_eq!(read.steps, found.trace.steps);
    // The trace's steps break the same property again on a faulty reference, at its last step.
    let trace = &read;
    let case = trace.config();
    // On a reference whose world has the fault, as a faulty target's would.
    let mut world = Reference::new(&case, trace.case, true).world().clone();
    off_by_one(&mut world);
    let mut again = Reference::on(world, case.namespace(trace.case), case.isolated(), true);
    let mut broke = None;
    for (i, step) in trace.steps.iter().enumerate() {
        if let Err(v) = again.advance(step) {
            broke = Some((i + 1, v.property));
            break;
        }
    }
    assert_eq!(broke, Some((trace.steps.len(), "license_manager_invariants")));
    // Without the fault the same steps hold every property.
    let mut clean = Reference::new(&case, trace.case, true);
    assert!(trace.steps.iter().all(|s| clean.advance(s).is_ok()));
}

#[test]
fn covering_cases_take_every_edge_and_run_clean_on_a_faithful_target() {
    let mut cfg = at_depth(2);
    cfg.keep_edges = true;
    let r = explore(&cfg);
    let graph = r.graph.as_ref().expect("edges kept");
    let coverage = cover(graph);
    assert_eq!(coverage.covered_by(coverage.cases.len()), coverage.edges);
    assert_eq!(coverage.edges as u64, r.transitions);
    let mut config = Config::default();
    config.scenarios = false;
    config.exhaustive = Some(coverage.cases.clone());
    let mut target = ModelTarget::new(1, Policy::default());
    let summary = Campaign::new(config).run(&mut target, &mut Silent).expect("runs");
    assert_eq!(summary.cases.len(), coverage.cases.len());
    assert!(
        summary.findings.is_empty(),
        "{:?}",
        summary.findings.first().map(|f| &f.finding)
    );
}
