//! The library's proptest-state-machine adapter (`conform_harness::state_machine`) against the
//! embedded simulator over HTTP: every transition compared with the model, failures shrunk by
//! dropping transitions.

use conform_harness::embedded::Embedded;
use conform_harness::state_machine::{Conformance, TargetFactory};
use conform_harness::target::Target;
use proptest::prelude::*;
use proptest_state_machine::prop_state_machine;

struct EmbeddedSimulator;

impl TargetFactory for EmbeddedSimulator {
    type Keep = Embedded;
    fn start() -> (Embedded, Box<dyn Target>) {
        let sim = Embedded::builder().start().expect("simulator starts");
        let target = sim.target().expect("target answers");
        (sim, Box::new(target))
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_simulator_answers_like_the_model(sequential 1..40 => Conformance<EmbeddedSimulator>);
}
