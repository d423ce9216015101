//! Check 3 of every step: what the step changed, read back from the target.

use conform_model::Service;
use serde_json::Value;

use super::compare::{differences_within, reply_of};
use super::session::Session;
use super::{caller, Classification, Finding};
use crate::gen::{Concrete, Who};
use crate::target::{InfraError, Response, Target};

impl Session {
    /// Check 3: the invariants of SPEC 3.10, observed on the target. After a step that moves
    /// usage (a checkout, check-in, extension, new version, or the clock), both sides are asked
    /// for GetLicenseUsage of the licenses involved and must agree; the model's counts keep the
    /// invariants, so a target whose counts differ has broken one.
    pub(super) fn read_back(
        &mut self,
        target: &mut dyn Target,
        concrete: &Concrete,
        reply: &Response,
    ) -> Result<Option<Finding>, InfraError> {
        if reply.error_type.is_some() {
            return Ok(None);
        }
        let licenses: Vec<String> = match concrete {
            Concrete::Call { op, body, .. } => match op.as_str() {
                "CheckoutLicense" | "CheckoutBorrowLicense" => reply.body["LicenseArn"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                "CreateLicenseVersion" => reply.body["LicenseArn"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                "CheckInLicense" | "ExtendLicenseConsumption" => {
                    let token: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                    let id = token["LicenseConsumptionToken"].as_str().unwrap_or_default();
                    let lm = self.world().lm();
                    lm.tokens()
                        .iter()
                        .find(|t| t.id == id)
                        .map(|t| lm.license(t.license).arn.clone())
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            },
            Concrete::Event(e) if e["event"] == "advance_clock" => {
                self.known().licenses.iter().rev().take(3).cloned().collect()
            }
            Concrete::Event(_) => Vec::new(),
        };
        for arn in licenses {
            // The issuer reads its own licenses; Marketplace licenses are read by their buyer.
            let who = if arn.contains(&format!("::{}:", Who::Seller.account())) {
                Who::Seller
            } else {
                Who::Buyer
            };
            let body = serde_json::json!({ "LicenseArn": arn });
            let bytes = body.to_string().into_bytes();
            let before = self.follow.is_some().then(|| self.world().clone());
            let r = self.reference.world_mut().handle(
                &caller(who),
                Service::LicenseManager,
                "GetLicenseUsage",
                &bytes,
            );
            if r.is_error() {
                continue;
            }
            let expected_raw = Response {
                status: r.status,
                error_type: None,
                body: r.body,
            };
            let call = (who, Service::LicenseManager, "GetLicenseUsage", bytes.as_slice());
            if before.is_some_and(|w| self.time_dependent(&w, call, &expected_raw)) {
                continue;
            }
            let sent = self.outgoing(&body).to_string().into_bytes();
            let actual_raw = target.call(&caller(who), Service::LicenseManager, "GetLicenseUsage", &sent)?;
            let expected = reply_of(&expected_raw, &mut self.model_n);
            let actual = reply_of(&actual_raw, &mut self.target_n);
            let paths = differences_within(&expected, &actual, self.tolerance_seconds);
            if !paths.is_empty() {
                return Ok(Some(Finding {
                    step: self.index,
                    operation: "GetLicenseUsage (read-back)".into(),
                    classification: Classification::HardFailure,
                    expected,
                    actual,
                    paths,
                    rules: vec!["Usage".into()],
                }));
            }
        }
        Ok(None)
    }
}
