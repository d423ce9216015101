//! The proptest-state-machine adapter: the reference model drives generation (each transition is
//! drawn from what the case has so far), the embedded simulator over HTTP is the system under
//! test, every step is compared with the model, and a failure shrinks by dropping transitions.

use conform_harness::driver::{CaseConfig, GenState, Session};
use conform_harness::embedded::Embedded;
use conform_harness::gen::{Generator, Step, Weights};
use conform_harness::http::HttpTarget;
use conform_model::{Policy, Service};
use proptest::prelude::*;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

fn config() -> CaseConfig {
    CaseConfig {
        seed: 3,
        max_steps: 0,
        policy: Policy::default(),
        services: vec![Service::LicenseManager, Service::Evs],
        events: true,
    }
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = GenState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<GenState> {
        Just(GenState::new(&config(), 0)).boxed()
    }

    fn transitions(state: &GenState) -> BoxedStrategy<Step> {
        let known = state.known().clone();
        let cfg = config();
        any::<u64>()
            .prop_map(move |seed| {
                Generator::new(seed, Weights::default(), cfg.services.clone(), cfg.events).step(&known)
            })
            .boxed()
    }

    fn apply(mut state: GenState, step: &Step) -> GenState {
        state.advance(step);
        state
    }
}

struct Simulated {
    _server: Embedded,
    target: HttpTarget,
    session: Session,
}

struct AgainstSimulator;

impl StateMachineTest for AgainstSimulator {
    type SystemUnderTest = Simulated;
    type Reference = Reference;

    fn init_test(_: &GenState) -> Simulated {
        let server = Embedded::builder().start().expect("simulator starts");
        let mut target = server.target().expect("target answers");
        let session = Session::start(&mut target, &config(), 0, &Policy::default()).expect("case starts");
        Simulated {
            _server: server,
            target,
            session,
        }
    }

    fn apply(mut sut: Simulated, _: &GenState, step: Step) -> Simulated {
        let (record, finding) = sut
            .session
            .step(&mut sut.target, &step)
            .expect("no infrastructure error");
        assert!(
            finding.is_none(),
            "the simulator differs from the model at {}: {finding:#?}",
            record.operation
        );
        sut
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_simulator_answers_like_the_model(sequential 1..40 => AgainstSimulator);
}
