//! Cleanup of what a run against AWS created: grants and licenses deleted at their current
//! version, EVS entitlements removed; what could not be removed is reported.

use super::*;

impl Inner {
    pub(super) fn cleanup(&mut self) -> CleanupReport {
        let mut report = CleanupReport::default();
        let grants: Vec<(String, String)> = self
            .owned
            .grants
            .iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (arn, account) in grants {
            let caller = Caller::new(&account, &self.options.region);
            self.remove(
                &caller,
                "GetGrant",
                "Grant",
                "DeleteGrant",
                json!({"GrantArn": arn}),
                &arn,
                &mut report,
            );
        }
        let licenses: Vec<(String, String)> = self
            .owned
            .licenses
            .iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (arn, account) in licenses {
            let caller = Caller::new(&account, &self.options.region);
            self.remove(
                &caller,
                "GetLicense",
                "License",
                "DeleteLicense",
                json!({"LicenseArn": arn}),
                &arn,
                &mut report,
            );
        }
        let mut by_caller: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (vm, key) in &self.owned.entitlements {
            by_caller.entry(key.clone()).or_default().push(vm.clone());
        }
        if let Some(scope) = self.options.evs.clone() {
            for ((account, region), vms) in by_caller {
                let caller = Caller::new(&account, &region);
                // The client token gets the run prefix on its way out, like every other.
                let body = json!({"environmentId": scope.environment, "connectorId": scope.connector,
                    "entitlementType": "WINDOWS_SERVER", "vmIds": vms, "clientToken": "cleanup"});
                match self.call(
                    &caller,
                    Service::Evs,
                    "DeleteEntitlement",
                    body.to_string().as_bytes(),
                    true,
                ) {
                    Ok(r) if r.error_type.is_none() => report
                        .deleted
                        .extend(vms.iter().map(|v| format!("entitlement of {v}"))),
                    Ok(r) => report
                        .left
                        .push(format!("entitlements of {vms:?}: {}", r.outcome())),
                    Err(e) => report.left.push(format!("entitlements of {vms:?}: {e}")),
                }
            }
        }
        report
    }

    /// Reads a license or grant and deletes it at its current version unless it is already
    /// deleted or pending deletion.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn remove(
        &mut self,
        caller: &Caller,
        get: &str,
        member: &str,
        delete: &str,
        key: Value,
        arn: &str,
        report: &mut CleanupReport,
    ) {
        let lm = Service::LicenseManager;
        let current = match self.call(caller, lm, get, key.to_string().as_bytes(), true) {
            Ok(r) if r.error_type.is_none() => r.body,
            // Not found: nothing left to delete.
            Ok(r) if r.outcome() == "ResourceNotFoundException" => {
                report.already_gone += 1;
                return;
            }
            Ok(r) => {
                report.left.push(format!("{arn}: {get} answered {}", r.outcome()));
                return;
            }
            Err(e) => {
                report.left.push(format!("{arn}: {e}"));
                return;
            }
        };
        let status = current
            .pointer(&format!("/{member}/Status"))
            .and_then(Value::as_str);
        if matches!(status, Some("DELETED" | "PENDING_DELETE")) {
            report.already_gone += 1;
            return;
        }
        let version = current
            .pointer(&format!("/{member}/Version"))
            .and_then(Value::as_str)
            .unwrap_or("1");
        let mut body = key;
        let version_member = if delete == "DeleteLicense" {
            "SourceVersion"
        } else {
            "Version"
        };
        body[version_member] = json!(version);
        match self.call(caller, lm, delete, body.to_string().as_bytes(), true) {
            Ok(r) if r.error_type.is_none() => report.deleted.push(arn.to_string()),
            Ok(r) => report
                .left
                .push(format!("{arn}: {delete} answered {}", r.outcome())),
            Err(e) => report.left.push(format!("{arn}: {e}")),
        }
    }
}
