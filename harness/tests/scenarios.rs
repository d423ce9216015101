//! Every built-in scenario as an insta snapshot of its normalized transcript against the model,
//! kept in the top-level `snapshots/` folder. A changed reply shows up as a snapshot diff.

use conform_harness::scenario;
use conform_harness::scenarios;
use conform_harness::target::ModelTarget;
use conform_model::clock::DEFAULT_START_MS;
use conform_model::Policy;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn scenario_transcripts() {
    let mut target = ModelTarget::new(1, Policy::default());
    for s in scenarios::all() {
        let run = scenario::run(&mut target, &s).expect("the model never fails as infrastructure");
        assert!(run.failures.is_empty(), "{}: {:#?}", s.name, run.failures);
        let mut settings = settings();
        settings.set_description(s.about);
        settings.bind(|| {
            insta::assert_json_snapshot!(s.name, run.transcript(DEFAULT_START_MS));
        });
    }
}

#[test]
fn malformed_transcript_has_at_least_fifteen_refusals() {
    let s = scenarios::lm::malformed_requests();
    let mut target = ModelTarget::new(1, Policy::default());
    let run = scenario::run(&mut target, &s).unwrap();
    let refused = run
        .records
        .iter()
        .filter(|r| r.response.error_type.is_some())
        .count();
    assert!(refused >= 15, "only {refused} malformed requests");
}
