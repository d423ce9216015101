//! The proptest-state-machine adapter (feature `proptest`): the reference model drives
//! generation (each transition is drawn from what the case has so far), any [`Target`] is the
//! system under test, every step is compared with the model, and a failure shrinks by dropping
//! transitions. A crate tests its own target with [`Conformance`] and a [`TargetFactory`]:
//!
//! ```no_run
//! use conform_harness::state_machine::{Conformance, TargetFactory};
//! use conform_harness::target::Target;
//! use proptest::prelude::*;
//! use proptest_state_machine::prop_state_machine;
//!
//! struct MyEmulator;
//! impl TargetFactory for MyEmulator {
//!     type Keep = ();
//!     fn start() -> ((), Box<dyn Target>) {
//!         let t = conform_harness::http::HttpTarget::new(
//!             "http://127.0.0.1:4566",
//!             conform_harness::accounts::credentials(),
//!         )
//!         .unwrap();
//!         ((), Box::new(t))
//!     }
//! }
//!
//! prop_state_machine! {
//!     #[test]
//!     fn my_emulator_answers_like_the_model(sequential 1..40 => Conformance<MyEmulator>);
//! }
//! ```

use std::marker::PhantomData;

use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use crate::driver::{case_generator, CaseConfig, Reference, Session};
use crate::gen::Step;
use crate::target::Target;

/// Starts the system under test for one proptest case.
pub trait TargetFactory: 'static {
    /// Whatever keeps the target alive (a server), dropped at the end of the case.
    type Keep;
    fn start() -> (Self::Keep, Box<dyn Target>);
    /// The case's settings; the default exercises both services with environment events.
    fn config() -> CaseConfig {
        CaseConfig {
            seed: 3,
            max_steps: 0,
            ..CaseConfig::default()
        }
    }
}

/// The reference side: the generator's view of the case.
pub struct Generation<F>(PhantomData<F>);

impl<F: TargetFactory> ReferenceStateMachine for Generation<F> {
    type State = Reference;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Reference> {
        Just(Reference::new(&F::config(), 0, false)).boxed()
    }

    fn transitions(state: &Reference) -> BoxedStrategy<Step> {
        let state = state.clone();
        let cfg = F::config();
        any::<u64>()
            .prop_map(move |seed| case_generator(&cfg, 0, seed).step(state.known(), state.world()))
            .boxed()
    }

    fn apply(mut state: Reference, step: &Step) -> Reference {
        // The generator's side checks no always property, so it cannot fail.
        let _ = state.advance(step);
        state
    }
}

/// One case in progress against the target.
pub struct Running<K> {
    _keep: K,
    target: Box<dyn Target>,
    session: Session,
}

/// The test: every transition runs on the target and the model and must agree.
pub struct Conformance<F>(PhantomData<F>);

impl<F: TargetFactory> StateMachineTest for Conformance<F> {
    type SystemUnderTest = Running<F::Keep>;
    type Reference = Generation<F>;

    fn init_test(_: &Reference) -> Running<F::Keep> {
        let (keep, mut target) = F::start();
        let session = Session::start(target.as_mut(), &F::config(), 0, &F::config().policy)
            .unwrap_or_else(|e| panic!("the case cannot start: {e}"));
        Running {
            _keep: keep,
            target,
            session,
        }
    }

    fn apply(mut sut: Running<F::Keep>, _: &Reference, step: Step) -> Running<F::Keep> {
        let (record, finding) = sut
            .session
            .step(sut.target.as_mut(), &step)
            .unwrap_or_else(|e| panic!("infrastructure error: {e}"));
        assert!(
            finding.is_none(),
            "the target differs from the model at {}: {finding:#?}",
            record.operation
        );
        sut
    }
}
