//! The model's integration tests, in one binary:
//!
//! - `support`: fixtures (a world, callers, request bodies).
//! - `lm_rules`: one table-driven test per License Manager rule of SPEC 1.2 and 3.x.
//! - `lm_grants`: the grant rules of SPEC 3.9.
//! - `evs_requests`: typed EVS requests round-trip through JSON and the service model.
//! - `explanations`: every refusal of SPEC 3.3-3.6 and 4.2 names its rule (issue #18).
//! - `policy_alternatives`: every single-switch alternative changes a reply that names it.
//! - `spec_policies`: every `[P]` tag of SPEC.md has a named switch (docs/policies.md).
//! - `snapshot`: a world restored from a snapshot answers every later request as the original.
//!
//! The property tests over operation sequences (invariants, determinism, relied rules) run the
//! harness's one workload and auditor: `harness/tests/props.rs`.

mod support;

mod evs_requests;
mod explanations;
mod lm_grants;
mod lm_rules;
mod policy_alternatives;
mod snapshot;
mod spec_policies;
