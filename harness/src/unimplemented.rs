//! Operations a target does not implement. An emulator under construction answers an operation
//! in scope with the unknown-operation fault, a 404 without an error type, a 501, or a reply
//! that is not JSON: that is one gap, not a failure of every step that sends it.
//! [`Unimplemented`] wraps a target, turns such a reply into [`InfraError::NotImplemented`]
//! (which skips the case or scenario) and counts, per operation, how often it was met; the
//! campaign reports each operation once.

use std::collections::BTreeMap;

use conform_model::{Caller, Event, Service};
use serde_json::Value;

use crate::target::{Capabilities, InfraError, Response, Target};

/// Why `response` to `operation` of `service` says the operation is not implemented, if it
/// does. Only operations in conform's scope count: an unknown operation sent on purpose (a
/// scenario's `NoSuchOperation`) is answered with the fault by a faithful target too, and a 404
/// with an error type is an answer (EVS's `ResourceNotFoundException`).
pub fn not_implemented(service: Service, operation: &str, response: &Response) -> Option<String> {
    if !conform_model::operations(service).contains(&operation) {
        return None;
    }
    let unknown = conform_model::ErrorCode::UnknownOperation.type_name();
    match (response.status, response.error_type.as_deref()) {
        (_, Some(e)) if e == unknown => Some(format!("it answered {e}")),
        (501, _) => Some("it answered 501".into()),
        (404, None) => Some("it answered 404 with no error type".into()),
        _ => None,
    }
}

/// A target whose unimplemented operations skip instead of failing, counted per operation.
pub struct Unimplemented<'a> {
    inner: &'a mut dyn Target,
    /// Operation (`Service.Operation`-free name) → (why, how many calls met it).
    pub seen: BTreeMap<String, (String, usize)>,
}

impl<'a> Unimplemented<'a> {
    pub fn new(inner: &'a mut dyn Target) -> Unimplemented<'a> {
        Unimplemented {
            inner,
            seen: BTreeMap::new(),
        }
    }

    fn note(&mut self, operation: &str, why: &str) -> InfraError {
        let entry = self
            .seen
            .entry(operation.to_string())
            .or_insert_with(|| (why.to_string(), 0));
        entry.1 += 1;
        InfraError::NotImplemented {
            operation: operation.to_string(),
            why: why.to_string(),
        }
    }
}

impl Target for Unimplemented<'_> {
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
        match self.inner.call(caller, service, operation, body) {
            Ok(r) => match not_implemented(service, operation, &r) {
                Some(why) => Err(self.note(operation, &why)),
                None => Ok(r),
            },
            Err(InfraError::NotImplemented { operation, why }) => Err(self.note(&operation, &why)),
            Err(e) => Err(e),
        }
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        self.inner.event(event)
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.inner.reset()
    }

    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        self.inner.now_ms()
    }

    fn connect(&self) -> Option<Result<Box<dyn Target + Send>, InfraError>> {
        self.inner.connect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, error: Option<&str>) -> Response {
        Response {
            status,
            error_type: error.map(str::to_string),
            body: Value::Null,
        }
    }

    #[test]
    fn only_operations_in_scope_answered_as_unknown_are_not_implemented() {
        let lm = Service::LicenseManager;
        let unknown = conform_model::ErrorCode::UnknownOperation.type_name();
        assert!(not_implemented(lm, "CreateLicense", &reply(400, Some(unknown))).is_some());
        assert!(not_implemented(lm, "CreateLicense", &reply(501, None)).is_some());
        assert!(not_implemented(lm, "CreateLicense", &reply(404, None)).is_some());
        // Sent on purpose, out of scope: the fault is the right answer.
        assert!(not_implemented(lm, "NoSuchOperation", &reply(400, Some(unknown))).is_none());
        assert!(not_implemented(lm, "CreateToken", &reply(400, Some(unknown))).is_none());
        // An answer.
        let evs = Service::Evs;
        assert!(not_implemented(
            evs,
            "GetEnvironment",
            &reply(404, Some("ResourceNotFoundException"))
        )
        .is_none());
        assert!(not_implemented(lm, "CreateLicense", &reply(200, None)).is_none());
    }
}
