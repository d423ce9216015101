//! Which members hold opaque values, decided from AWS's service models (`specs/aws/`).
//!
//! A member is opaque when its name, or the name of the shape it targets, ends in `Arn`, `ARN`,
//! `Id` or `Token` (or their plural or `…List` forms): the models name every identifier, ARN and
//! token that way (`LicenseArn`, `connectorId`, `nextToken` → `PaginationToken`,
//! `SignedToken`). The models say nothing about two groups, listed here explicitly:
//! - values the caller chose and the target only echoes, compared as values: idempotency tokens
//!   (`ClientToken`), VM ids of the inventory, node ids, secrets, IAM principals, account ids;
//! - members outside the models that carry the same ids: the control plane's event members
//!   (`environment_id`, `connector_id`) and the claims of a SignedToken (SPEC 3.8).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

const MODELS: [&str; 2] = [
    include_str!("../../../specs/aws/license-manager-2018-08-01.json"),
    include_str!("../../../specs/aws/evs-2023-07-27.json"),
];

/// Caller-chosen values under identifier-like names: compared as values.
const CALLER_CHOSEN: &[&str] = &[
    "ClientToken",
    "clientToken",
    "vmId",
    "vmIds",
    "vm_id",
    "NodeId",
    "nodeId",
    "secretArn",
    "secretIdentifier",
    "GranteePrincipalArn",
    "Principals",
    "OwnerAccountId",
    "ResourceOwnerId",
    "ResourceOwningAccountId",
];

/// Opaque members the models do not describe.
const OUTSIDE_THE_MODELS: &[&str] = &[
    "environment_id",
    "connector_id",
    "licenseArn",
    "licenseConsumptionToken",
];

fn identifier_like(name: &str) -> bool {
    let base = name.strip_suffix("List").unwrap_or(name);
    let base = base.strip_suffix('s').unwrap_or(base);
    ["Arn", "ARN", "Id", "Token"].iter().any(|s| base.ends_with(s))
}

/// The member names of every structure in `model` (a botocore-style service model) whose name
/// or target shape is identifier-like.
fn opaque_in(model: &Value, out: &mut BTreeSet<String>) {
    let Some(shapes) = model.get("shapes").and_then(Value::as_object) else {
        return;
    };
    for shape in shapes.values() {
        let Some(members) = shape.get("members").and_then(Value::as_object) else {
            continue;
        };
        for (name, member) in members {
            let target = member.get("shape").and_then(Value::as_str).unwrap_or_default();
            if identifier_like(name) || identifier_like(target) {
                out.insert(name.clone());
            }
        }
    }
}

/// The opaque members of both services.
pub fn opaque_members() -> &'static BTreeSet<String> {
    static MEMBERS: OnceLock<BTreeSet<String>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let mut out = BTreeSet::new();
        for text in MODELS {
            // The models are embedded at build time; one that does not parse yields no members,
            // and the tests below fail.
            if let Ok(model) = serde_json::from_str::<Value>(text) {
                opaque_in(&model, &mut out);
            }
        }
        out.extend(OUTSIDE_THE_MODELS.iter().map(|s| s.to_string()));
        for m in CALLER_CHOSEN {
            out.remove(*m);
        }
        out
    })
}

/// Whether values under `member` are opaque.
pub fn is_opaque(member: &str) -> bool {
    opaque_members().contains(member)
}

/// The kind a placeholder of a value under `member` is numbered in: a few fixed names (the
/// snapshot form), else the member's name without its suffix, in kebab case.
pub fn label(member: &str) -> String {
    match member {
        "LicenseConsumptionToken" | "licenseConsumptionToken" => return "token".into(),
        "NextToken" | "nextToken" => return "next-token".into(),
        "SignedToken" => return "signed-token".into(),
        "environmentId" | "environment_id" => return "environment".into(),
        "connectorId" | "connector_id" => return "connector".into(),
        _ => {}
    }
    let base = member.strip_suffix("List").unwrap_or(member);
    let base = base.strip_suffix('s').unwrap_or(base);
    let base = ["Arn", "ARN", "Id", "Token"]
        .iter()
        .find_map(|s| base.strip_suffix(s))
        .filter(|b| !b.is_empty())
        .unwrap_or(base);
    let mut out = String::new();
    for (i, c) in base.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '_' {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_name_the_opaque_members() {
        // SPEC "What a harness compares": identifiers, ARNs and tokens of both services.
        for m in [
            "LicenseArn",
            "GrantArn",
            "ParentArn",
            "LicenseConsumptionToken",
            "SignedToken",
            "NextToken",
            "nextToken",
            "environmentId",
            "connectorId",
            "environmentArn",
        ] {
            assert!(is_opaque(m), "{m} is opaque");
        }
        for m in [
            "ClientToken",
            "vmId",
            "ProductSKU",
            "Status",
            "Beneficiary",
            "Message",
        ] {
            assert!(!is_opaque(m), "{m} is compared as a value");
        }
    }

    #[test]
    fn labels_keep_the_snapshot_names() {
        assert_eq!(label("LicenseConsumptionToken"), "token");
        assert_eq!(label("connector_id"), "connector");
        assert_eq!(label("GrantArn"), "grant");
        assert_eq!(label("LicenseConfigurationArns"), "license-configuration");
    }
}
