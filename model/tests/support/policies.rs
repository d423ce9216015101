//! The relied-rules completeness property (Reply::policies): the same requests on a world with
//! the default policy and on one with a single switch flipped give equal replies wherever the
//! default world's reply did not name that switch's rule.

use conform_model::{Policy, PolicyRule, Reply};

/// Every single-switch alternative with the rule it flips.
pub fn alternatives() -> Vec<(String, Policy, PolicyRule)> {
    Policy::default()
        .alternatives()
        .into_iter()
        .filter_map(|(name, policy)| {
            let member = name.split_once('=').map(|(m, _)| m.to_string())?;
            let rule = PolicyRule::ALL.iter().copied().find(|r| r.switch() == member)?;
            Some((name, policy, rule))
        })
        .collect()
}

/// What must be equal: status, error type, body and request id.
fn observed(r: &Reply) -> (u16, Option<&'static str>, String, &str) {
    (
        r.status,
        r.error_type(),
        r.body.to_string(),
        r.request_id.as_str(),
    )
}

/// Whether the two worlds still agree after one step: `Ok(true)` when they do, `Ok(false)` when
/// they differ on a reply that named `rule` (the worlds have diverged legitimately: later steps
/// are not compared), `Err` when they differ on a reply that did not name it.
pub fn agree(
    alternative: &str,
    rule: PolicyRule,
    step: usize,
    default: &Reply,
    flipped: &Reply,
) -> Result<bool, String> {
    if observed(default) == observed(flipped) {
        return Ok(true);
    }
    if default.policies.contains(&rule) {
        return Ok(false);
    }
    Err(format!(
        "under {alternative}, step {step} answered differently but did not name {rule:?}:\n default {} {}\n flipped {} {}\n named {:?}",
        default.status, default.body, flipped.status, flipped.body, default.policies
    ))
}
