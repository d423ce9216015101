//! The safety guard of a run against AWS: requests refused before sending unless they touch
//! only what this run created, the run prefix added to names and SKUs and stripped from
//! replies, account ids rewritten both ways, and what the run created learned from replies.

use super::*;
use crate::accounts::AccountMap;

impl Inner {
    /// The model's account ids → the real ones the credentials belong to.
    pub(super) fn account_map(&self) -> AccountMap {
        let pairs = self
            .identities
            .iter()
            .map(|(model, identity)| (model.clone(), identity.account.clone()));
        // STS gives 12-digit ids, one per credential source (checked at the start).
        AccountMap::new(pairs).unwrap_or_default()
    }

    /// Refuses any mutation of something this run did not create (the request is as the
    /// harness wrote it: model account ids, no prefix).
    pub(super) fn guard(
        &self,
        service: Service,
        op: &str,
        body: &Value,
        caller: &Caller,
    ) -> Result<(), InfraError> {
        let read_only = op.starts_with("Get") || op.starts_with("List");
        if read_only {
            return Ok(());
        }
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let owned = |set: &dyn Fn(&str) -> bool, name: &str| match field(name) {
            // Without the member the request names nothing; AWS refuses it as invalid.
            None => Ok(()),
            Some(v) if set(v) => Ok(()),
            Some(v) => Err(InfraError::Refused(format!(
                "{op} on {name} {v}, which this run did not create"
            ))),
        };
        let o = &self.owned;
        match (service, op) {
            (Service::LicenseManager, "CreateLicense" | "CheckoutLicense") => Ok(()),
            (
                Service::LicenseManager,
                "DeleteLicense" | "CreateLicenseVersion" | "CreateGrant" | "CheckoutBorrowLicense",
            ) => owned(&|v| o.licenses.contains_key(v), "LicenseArn"),
            (
                Service::LicenseManager,
                "DeleteGrant" | "CreateGrantVersion" | "AcceptGrant" | "RejectGrant",
            ) => owned(&|v| o.grants.contains_key(v), "GrantArn"),
            (Service::LicenseManager, "CheckInLicense" | "ExtendLicenseConsumption") => {
                owned(&|v| o.tokens.contains(v), "LicenseConsumptionToken")
            }
            (Service::Evs, "CreateEntitlement" | "DeleteEntitlement") => {
                let Some(scope) = &self.options.evs else {
                    return Err(InfraError::Skipped(
                        "EVS needs --evs-environment, --evs-connector and --evs-vms".to_string(),
                    ));
                };
                let env_ok = field("environmentId").is_none_or(|e| e == scope.environment);
                let conn_ok = field("connectorId").is_none_or(|c| c == scope.connector);
                let vms: Vec<&str> = body
                    .get("vmIds")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let foreign: Vec<&str> = vms
                    .iter()
                    .copied()
                    .filter(|vm| {
                        !scope.vms.contains(*vm)
                            || (op == "DeleteEntitlement"
                                && o.entitlements.get(*vm)
                                    != Some(&(caller.account.clone(), caller.region.clone())))
                    })
                    .collect();
                if env_ok && conn_ok && foreign.is_empty() {
                    Ok(())
                } else {
                    Err(InfraError::Refused(format!("{op} outside the given environment, connector and VMs (or on entitlements this run did not create): {body}"
                    )))
                }
            }
            _ => Err(InfraError::Refused(format!(
                "{op} is not an operation a run may send to AWS"
            ))),
        }
    }

    /// Prefixes names, SKUs and client tokens (non-empty ones: an empty value must stay
    /// invalid). Client tokens too, because AWS keeps them across runs and scenarios: a token
    /// reused with other parameters would be refused.
    pub(super) fn prefix_names(&self, v: &mut Value) {
        const KEYS: &[&str] = &[
            "LicenseName",
            "ProductSKU",
            "GrantName",
            "ClientToken",
            "clientToken",
        ];
        let prefix = self.prefix();
        let add = |s: &mut Value| {
            if let Some(text) = s.as_str().filter(|t| !t.is_empty()) {
                *s = Value::String(format!("{prefix}{text}"));
            }
        };
        match v {
            Value::Object(m) => {
                let filter_on_name = m
                    .get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n == "ProductSKU");
                for (k, x) in m.iter_mut() {
                    if KEYS.contains(&k.as_str()) {
                        add(x);
                    } else if filter_on_name && k == "Values" {
                        if let Value::Array(values) = x {
                            values.iter_mut().for_each(&add);
                        }
                    } else {
                        self.prefix_names(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.prefix_names(x)),
            _ => {}
        }
    }

    /// Removes the run prefix from every string of a reply.
    pub(super) fn strip_prefix(&self, v: &mut Value) {
        let run = self.run_prefix();
        match v {
            Value::String(s) => {
                if let Some(rest) = s.strip_prefix(&run) {
                    // `<namespace>-` follows the run id.
                    if let Some((n, tail)) = rest.split_once('-') {
                        if n.chars().all(|c| c.is_ascii_digit()) {
                            *s = tail.to_string();
                        }
                    }
                }
            }
            Value::Object(m) => m.values_mut().for_each(|x| self.strip_prefix(x)),
            Value::Array(a) => a.iter_mut().for_each(|x| self.strip_prefix(x)),
            _ => {}
        }
    }

    /// Remembers what a successful reply created or removed.
    pub(super) fn learn(&mut self, caller: &Caller, op: &str, request: &Value, reply: &Value) {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match op {
            "CreateLicense" => {
                if let Some(arn) = text(reply, "LicenseArn") {
                    self.owned.licenses.insert(arn, caller.account.clone());
                }
            }
            "CreateGrant" => {
                if let Some(arn) = text(reply, "GrantArn") {
                    self.owned.grants.insert(arn, caller.account.clone());
                }
            }
            "CheckoutLicense" | "CheckoutBorrowLicense" => {
                if let Some(token) = text(reply, "LicenseConsumptionToken") {
                    self.owned.tokens.insert(token);
                }
            }
            "CreateEntitlement" | "DeleteEntitlement" => {
                let vms = request
                    .get("vmIds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str);
                for vm in vms {
                    if op == "CreateEntitlement" {
                        self.owned
                            .entitlements
                            .insert(vm.to_string(), (caller.account.clone(), caller.region.clone()));
                    } else {
                        self.owned.entitlements.remove(vm);
                    }
                }
            }
            _ => {}
        }
    }
}
