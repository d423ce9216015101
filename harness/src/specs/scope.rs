//! Which operations conform covers (SPEC 5) and where each service's model lives.

use conform_model::Service;

/// The operations of `service` in scope (SPEC 5), grant operations included, that specs/ holds
/// schemas for: the model's implemented operations, read from the model.
pub fn operations(service: Service) -> &'static [&'static str] {
    conform_model::operations(service)
}

/// The file name of the service's official model, as botocore names it.
pub fn model_file(service: Service) -> &'static str {
    match service {
        Service::LicenseManager => "license-manager-2018-08-01.json",
        Service::Evs => "evs-2023-07-27.json",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use conform_model::implements;

    use super::*;

    /// SPEC 5: the harness covers exactly the operations the model implements, and the committed
    /// schemas are exactly those operations' requests and responses.
    #[test]
    fn spec_5_the_in_scope_operations_are_the_models_and_the_committed_schemas() {
        for service in Service::ALL {
            let ours = operations(service);
            assert!(!ours.is_empty(), "{}", service.name());
            for op in ours {
                assert!(
                    implements(service, op),
                    "{} {op} is not implemented",
                    service.name()
                );
                assert!(
                    service.model().operation(op).is_some(),
                    "{} {op} is not modelled",
                    service.name()
                );
            }
            let lm = conform_model::lm::LmRequest::OPERATIONS;
            let evs = conform_model::evs::EvsRequest::OPERATIONS;
            let model = match service {
                Service::LicenseManager => lm,
                Service::Evs => evs,
            };
            assert_eq!(ours, model, "{}", service.name());
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(crate::specs::generate::SCHEMAS_DIR)
                .join(service.name());
            let committed: BTreeSet<String> = std::fs::read_dir(&dir)
                .expect("committed schemas")
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".request.json").map(str::to_string))
                .collect();
            let want: BTreeSet<String> = ours.iter().map(|s| s.to_string()).collect();
            assert_eq!(committed, want, "{}", dir.display());
        }
    }
}
