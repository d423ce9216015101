//! The model's integration tests, in one binary:
//!
//! - `support`: fixtures (a world, callers, request bodies) and the relied-rules comparison.
//! - `lm_rules`: one table-driven test per License Manager rule of SPEC 1.2 and 3.x.
//! - `lm_grants`: the grant rules of SPEC 3.9.
//! - `lm_props`: property tests of the SPEC 3.10 invariants, determinism and relied rules.
//! - `evs_props`: property tests of the SPEC 4.4 invariants, determinism and relied rules.
//! - `explanations`: every refusal of SPEC 3.3-3.6 and 4.2 names its rule (issue #18).
//! - `policy_alternatives`: every single-switch alternative changes a reply that names it.
//! - `spec_policies`: every `[P]` tag of SPEC.md has a named switch (docs/policies.md).

mod support;

mod evs_props;
mod explanations;
mod lm_grants;
mod lm_props;
mod lm_rules;
mod policy_alternatives;
mod spec_policies;
