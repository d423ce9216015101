//! Classifying a finding: a policy divergence when the model under one other `[P]` switch
//! value answers what the target answered, else a hard failure.

use conform_model::Policy;

use super::compare::differences_within;
use super::session::tolerance_of;
use super::{execute_with, CaseConfig, Classification, Finding};
use crate::gen::Step;
use crate::target::{InfraError, Target};

/// Single-switch alternatives of the default policy, each named, for classifying differences.
pub fn policy_alternatives(base: &Policy) -> Vec<(String, Policy)> {
    use conform_model::policy::{AcceptTo, ExtendFrom, SignedTokenOnCheckout};
    let mut out = Vec::new();
    let mut alt = |name: &str, f: &dyn Fn(&mut Policy)| {
        let mut p = base.clone();
        f(&mut p);
        if p != *base {
            out.push((name.to_string(), p));
        }
    };
    alt("deletion_delay_seconds=0", &|p| p.deletion_delay_seconds = 0);
    alt("extend_from=expiration", &|p| {
        p.extend_from = ExtendFrom::Expiration
    });
    alt("extend_from=now", &|p| p.extend_from = ExtendFrom::Now);
    alt("recheck_grant_on_token_ops=true", &|p| {
        p.recheck_grant_on_token_ops = true
    });
    alt("recheck_grant_on_token_ops=false", &|p| {
        p.recheck_grant_on_token_ops = false
    });
    alt("signed_token_on_checkout=always", &|p| {
        p.signed_token_on_checkout = SignedTokenOnCheckout::Always
    });
    alt("signed_token_on_checkout=never", &|p| {
        p.signed_token_on_checkout = SignedTokenOnCheckout::Never
    });
    alt("signed_token_on_checkout=when_sign_key", &|p| {
        p.signed_token_on_checkout = SignedTokenOnCheckout::WhenSignKey
    });
    alt("accept_to=ACTIVE", &|p| p.accept_to = AcceptTo::Active);
    alt("accept_to=DISABLED", &|p| p.accept_to = AcceptTo::Disabled);
    alt("list_deleted=true", &|p| p.list_deleted = true);
    alt("list_deleted=false", &|p| p.list_deleted = false);
    // ClientToken idempotency itself is documented; only the window's length is a policy.
    alt("idempotency_window_seconds=600", &|p| {
        p.idempotency_window_seconds = 600
    });
    out
}

/// Classifies a finding: a policy divergence when the model under one other switch value
/// answers what the target answered at that step.
pub fn classify(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
    finding: &Finding,
) -> Result<Classification, InfraError> {
    if finding.classification == Classification::SchemaViolation {
        return Ok(Classification::SchemaViolation);
    }
    let tolerance = tolerance_of(target);
    let prefix = &steps[..finding.step.min(steps.len())];
    for (name, policy) in policy_alternatives(&cfg.policy) {
        let mut alt = crate::target::ModelTarget::new(cfg.case_seed(case) ^ 1, policy.clone());
        let alt_run = execute_with(&mut alt, cfg, case, prefix, &cfg.policy)?;
        let Some(alt_record) = finding.step.checked_sub(1).and_then(|i| alt_run.records.get(i)) else {
            continue;
        };
        // Where the alternative model agrees with the target at the failing step, and agreed
        // with nothing less before it, the switch explains the difference; on a wall clock,
        // within the same tolerance as the comparison that found it.
        if differences_within(&alt_record.actual, &finding.actual, tolerance).is_empty() {
            return Ok(Classification::PolicyDivergence { switch: name });
        }
    }
    Ok(Classification::HardFailure)
}
