//! Classifying a finding: a policy divergence when the model under one other `[P]` switch
//! value answers what the target answered, else a hard failure.

use super::compare::differences_within;
use super::session::tolerance_of;
use super::{execute_with, CaseConfig, Classification, Finding};
use crate::gen::Step;
use crate::target::{InfraError, Target};

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
    for (name, policy) in cfg.policy.alternatives() {
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
