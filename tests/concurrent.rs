//! Concurrent clients and the linearizability check (issue: concurrent histories): eight
//! clients against the faithful embedded simulator give no violation; each race of the
//! simulator's `faults` build is found, shrunk, and replays from its trace.

use conform_harness::concurrent::{self, shrink, ConcurrentTrace, Config};
use conform_harness::embedded::Embedded;
use conform_harness::target::{InfraError, Target};

fn connect_to(sim: &Embedded) -> impl Fn() -> Result<Box<dyn Target + Send>, InfraError> + '_ {
    move || sim.target().map(|t| Box::new(t) as Box<dyn Target + Send>)
}

#[test]
fn eight_clients_against_the_faithful_simulator_show_no_violation() {
    let sim = Embedded::builder().start().expect("simulator starts");
    let mut main = sim.target().expect("target");
    let mut cfg = Config::default();
    cfg.calls = 2_000;
    let report = concurrent::run(&mut main, &connect_to(&sim), &cfg, &mut |_| {}).expect("runs");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.violations, 0);
    assert_eq!(
        report.unknown,
        0,
        "no search ran out of budget: {}",
        report.line()
    );
    assert!(report.calls >= 2_000, "{}", report.line());
    // Two licenses and the EVS environment (the embedded simulator seeds one) per round.
    assert_eq!(report.groups, report.rounds * 3);
    println!("{}", report.line());
}

#[test]
fn each_race_is_found_shrunk_and_replayed_from_its_trace() {
    let dir = std::env::temp_dir().join(format!("conform-concurrent-{}", std::process::id()));
    let races: Vec<&str> = conform_simulator::race_fault_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(races.len() >= 3, "{races:?}");
    let mut missed = Vec::new();
    for race in races {
        let sim = Embedded::builder()
            .faults([race])
            .start()
            .expect("simulator starts");
        let mut main = sim.target().expect("target");
        let mut cfg = Config::default();
        cfg.calls = 4_000;
        cfg.trace_dir = Some(dir.join(race));
        cfg.shrink_time = std::time::Duration::from_secs(20);
        let connect = connect_to(&sim);
        let mut found = None;
        let report = concurrent::run(&mut main, &connect, &cfg, &mut |r| {
            if found.is_none() && !r.findings.is_empty() {
                found = Some(r.rounds);
            }
        })
        .expect("runs");
        println!("{race}: {} (first in round {found:?})", report.line());
        let Some(finding) = report.findings.first() else {
            missed.push(format!("{race}: {}", report.line()));
            continue;
        };
        assert!(finding.text.contains("no order of these"), "{}", finding.text);
        println!("{}", finding.text);
        let path = finding.trace.as_ref().expect("a trace is written");
        let text = std::fs::read_to_string(path).expect("trace");
        assert!(ConcurrentTrace::is_one(&text));
        let trace = ConcurrentTrace::read(path).expect("reads");
        assert_eq!(trace.programs.calls(), finding.calls);
        let again = shrink::reproduce(
            &mut main,
            &connect,
            &trace.config(),
            trace.round,
            &trace.programs,
            20,
            1,
        )
        .expect("replays");
        assert!(
            again.is_some(),
            "{race}: the trace's history shows the violation again"
        );
    }
    assert!(missed.is_empty(), "races not found:\n{}", missed.join("\n"));
}

/// The embedded simulator as an endpoint without a control plane: no reset, no clock, no
/// seeding; its clock read the way a `Date` header would tell it.
struct Bare(conform_harness::http::HttpTarget);

impl Target for Bare {
    fn name(&self) -> String {
        format!("bare({})", self.0.name())
    }
    fn capabilities(&self) -> conform_harness::target::Capabilities {
        conform_harness::target::Capabilities::NONE
    }
    fn call(
        &mut self,
        caller: &conform_model::Caller,
        service: conform_model::Service,
        operation: &str,
        body: &[u8],
    ) -> Result<conform_harness::target::Response, InfraError> {
        self.0.call(caller, service, operation, body)
    }
    fn event(&mut self, event: &conform_model::Event) -> Result<serde_json::Value, InfraError> {
        panic!("an event was sent to a target without a control plane: {event:?}")
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        panic!("a reset was sent to a target without a control plane")
    }
    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        let now = self.0.event(&conform_model::Event::advance_seconds(0))?;
        Ok(now["now_ms"].as_i64())
    }
    fn connect(&self) -> Option<Result<Box<dyn Target + Send>, InfraError>> {
        let again =
            conform_harness::http::HttpTarget::new(&self.0.name(), conform_harness::accounts::credentials());
        Some(again.map(|t| Box::new(Bare(t)) as Box<dyn Target + Send>))
    }
}

#[test]
fn without_a_control_plane_the_clients_run_and_check_with_no_reset_and_no_clock() {
    let sim = Embedded::builder().start().expect("simulator starts");
    let mut main = Bare(sim.target().expect("target"));
    let mut cfg = Config::default();
    cfg.calls = 1_000;
    let spare = Bare(sim.target().expect("target"));
    let connect = || spare.connect().expect("an HTTP target connects");
    let report = concurrent::run(&mut main, &connect, &cfg, &mut |_| {}).expect("runs");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        (report.violations, report.unknown, report.unknown_calls),
        (0, 0, 0),
        "{}",
        report.line()
    );
    // Two licenses a round; no EVS environment without a control plane to seed one.
    assert_eq!(report.groups, report.rounds * 2);
    assert!(report.calls >= 1_000);
}
