//! Cross-cutting concerns as wrappers around any [`Target`] rather than flags inside each one:
//! timing, recording, and a determinism check that runs every call on two models at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use conform_model::{Caller, Event, Service};
use serde_json::Value;

use crate::target::{Capabilities, InfraError, Response, Target};

/// Times every call per operation.
pub struct Timed<T> {
    pub inner: T,
    pub timings: BTreeMap<String, (u64, Duration)>,
}

impl<T: Target> Timed<T> {
    pub fn new(inner: T) -> Self {
        Timed {
            inner,
            timings: BTreeMap::new(),
        }
    }

    /// (operation, calls, mean latency).
    pub fn report(&self) -> Vec<(String, u64, Duration)> {
        self.timings
            .iter()
            .map(|(op, (n, total))| (op.clone(), *n, *total / (*n).max(1) as u32))
            .collect()
    }
}

impl<T: Target> Target for Timed<T> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let start = Instant::now();
        let r = self.inner.call(caller, service, operation, body);
        let slot = self
            .timings
            .entry(operation.to_string())
            .or_insert((0, Duration::ZERO));
        slot.0 += 1;
        slot.1 += start.elapsed();
        r
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        self.inner.event(event)
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.inner.reset()
    }
}

/// One call as a target answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub caller: Caller,
    pub service: Service,
    pub operation: String,
    pub body: Vec<u8>,
    pub response: Response,
}

/// Keeps every exchange, in order.
pub struct Recorded<T> {
    pub inner: T,
    pub exchanges: Vec<Exchange>,
}

impl<T: Target> Recorded<T> {
    pub fn new(inner: T) -> Self {
        Recorded {
            inner,
            exchanges: Vec::new(),
        }
    }
}

impl<T: Target> Target for Recorded<T> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let response = self.inner.call(caller, service, operation, body)?;
        self.exchanges.push(Exchange {
            caller: caller.clone(),
            service,
            operation: operation.to_string(),
            body: body.to_vec(),
            response: response.clone(),
        });
        Ok(response)
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        self.inner.event(event)
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.inner.reset()
    }
}

/// Sends every call and event to two targets built alike (two models of the same seed) and
/// refuses to go on when they answer differently: the model must be deterministic (SPEC 2).
pub struct DeterminismCheck<T> {
    pub first: T,
    pub second: T,
}

impl<T: Target> DeterminismCheck<T> {
    pub fn new(first: T, second: T) -> Self {
        DeterminismCheck { first, second }
    }
}

impl<T: Target> Target for DeterminismCheck<T> {
    fn name(&self) -> String {
        format!("{} (run twice)", self.first.name())
    }

    fn capabilities(&self) -> Capabilities {
        self.first.capabilities()
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let a = self.first.call(caller, service, operation, body)?;
        let b = self.second.call(caller, service, operation, body)?;
        if a != b {
            return Err(InfraError::Other(format!(
                "nondeterministic reply to {operation}: {} then {}",
                a.body, b.body
            )));
        }
        Ok(a)
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        let a = self.first.event(event)?;
        let b = self.second.event(event)?;
        if a != b {
            return Err(InfraError::Other(format!(
                "nondeterministic event result: {a} then {b}"
            )));
        }
        Ok(a)
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.first.reset()?;
        self.second.reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{self, CaseConfig};
    use crate::target::ModelTarget;
    use conform_model::Policy;

    fn cfg() -> CaseConfig {
        CaseConfig {
            seed: 4,
            max_steps: 30,
            ..CaseConfig::default()
        }
    }

    #[test]
    fn spec_2_the_model_answers_every_generated_case_the_same_twice() {
        let mut twice = DeterminismCheck::new(
            ModelTarget::new(8, Policy::default()),
            ModelTarget::new(8, Policy::default()),
        );
        for case in 0..30 {
            let steps = driver::generate(&cfg(), case);
            let run = driver::execute(&mut twice, &cfg(), case, &steps).expect("deterministic");
            assert!(run.finding.is_none(), "case {case}: {:#?}", run.finding);
        }
    }

    #[test]
    fn the_determinism_check_refuses_two_different_worlds() {
        let mut twice = DeterminismCheck::new(
            ModelTarget::new(8, Policy::default()),
            ModelTarget::new(9, Policy::default()),
        );
        let refused = (0..10)
            .any(|case| driver::execute(&mut twice, &cfg(), case, &driver::generate(&cfg(), case)).is_err());
        assert!(refused, "two seeds draw different ids, so the check must object");
    }

    #[test]
    fn timing_and_recording_see_every_call() {
        let mut t = Recorded::new(Timed::new(ModelTarget::new(1, Policy::default())));
        let steps = driver::generate(&cfg(), 0);
        driver::execute(&mut t, &cfg(), 0, &steps).expect("runs");
        let calls: u64 = t.inner.report().iter().map(|(_, n, _)| n).sum();
        assert_eq!(calls as usize, t.exchanges.len());
        assert!(calls > 0);
    }
}
