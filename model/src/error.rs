//! AWS errors as the model answers them: one closed enum of error codes, the HTTP status each maps
//! to (SPEC 1.1, policy `http_status=smithy`), and the body each service renders.

use serde_json::{json, Map, Value};

use crate::explain::{Explanation, Rule};
use crate::policy::{ErrorTypeForm, HttpStatus, Policy, RefusalError};
use crate::service::Service;

/// Every error the model can answer, AWS errors and protocol faults alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum ErrorCode {
    // License Manager
    Validation,
    InvalidParameterValue,
    ResourceNotFound,
    NoEntitlementsAllowed,
    EntitlementNotAllowed,
    UnsupportedDigitalSignatureMethod,
    Conflict,
    Redirect,
    ResourceLimitExceeded,
    RateLimitExceeded,
    AccessDenied,
    Authorization,
    ServerInternal,
    // License Manager protocol faults
    Serialization,
    UnknownOperation,
    // EVS-only errors
    Throttling,
    InternalServer,
    ServiceQuotaExceeded,
    // Authentication faults (SPEC 1.3), both services
    MissingAuthenticationToken,
    IncompleteSignature,
    UnrecognizedClient,
    InvalidSignature,
}

impl ErrorCode {
    /// The error's shape name, as `__type` and `x-amzn-ErrorType` carry it.
    pub const fn type_name(self) -> &'static str {
        match self {
            ErrorCode::Validation => "ValidationException",
            ErrorCode::InvalidParameterValue => "InvalidParameterValueException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::NoEntitlementsAllowed => "NoEntitlementsAllowedException",
            ErrorCode::EntitlementNotAllowed => "EntitlementNotAllowedException",
            ErrorCode::UnsupportedDigitalSignatureMethod => "UnsupportedDigitalSignatureMethodException",
            ErrorCode::Conflict => "ConflictException",
            ErrorCode::Redirect => "RedirectException",
            ErrorCode::ResourceLimitExceeded => "ResourceLimitExceededException",
            ErrorCode::RateLimitExceeded => "RateLimitExceededException",
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::Authorization => "AuthorizationException",
            ErrorCode::ServerInternal => "ServerInternalException",
            ErrorCode::Serialization => "SerializationException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::Throttling => "ThrottlingException",
            ErrorCode::InternalServer => "InternalServerException",
            ErrorCode::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignature => "IncompleteSignatureException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::InvalidSignature => "InvalidSignatureException",
        }
    }

    /// HTTP status per AWS's Smithy model (SPEC 1.1).
    pub fn http_status(self, service: Service) -> u16 {
        match self {
            ErrorCode::ResourceNotFound if service == Service::Evs => 404,
            ErrorCode::Validation
            | ErrorCode::InvalidParameterValue
            | ErrorCode::ResourceNotFound
            | ErrorCode::NoEntitlementsAllowed
            | ErrorCode::EntitlementNotAllowed
            | ErrorCode::UnsupportedDigitalSignatureMethod
            | ErrorCode::ResourceLimitExceeded
            | ErrorCode::Serialization
            | ErrorCode::UnknownOperation
            | ErrorCode::IncompleteSignature => 400,
            ErrorCode::ServiceQuotaExceeded => 402,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimitExceeded | ErrorCode::Throttling => 429,
            ErrorCode::AccessDenied => 401,
            ErrorCode::Authorization
            | ErrorCode::MissingAuthenticationToken
            | ErrorCode::UnrecognizedClient
            | ErrorCode::InvalidSignature => 403,
            ErrorCode::Redirect => 308,
            ErrorCode::ServerInternal | ErrorCode::InternalServer => 500,
        }
    }
}

/// One violated constraint: the lowerCamel path and the message AWS would give for it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldViolation {
    pub name: String,
    pub message: String,
}

/// EVS `ValidationExceptionReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum EvsReason {
    #[serde(rename = "unknownOperation")]
    UnknownOperation,
    #[serde(rename = "cannotParse")]
    CannotParse,
    #[serde(rename = "fieldValidationFailed")]
    FieldValidationFailed,
    #[serde(rename = "other")]
    Other,
}

/// The members an error carries beyond its message.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    /// RedirectException `Location` (also sent as a header).
    pub location: Option<String>,
    /// EVS ValidationException `reason`.
    pub reason: Option<EvsReason>,
    /// EVS ValidationException `fieldList`.
    pub field_list: Vec<FieldViolation>,
    /// EVS ResourceNotFoundException `resourceId` and `resourceType`.
    pub resource: Option<(String, String)>,
}

/// An error reply of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Box<ErrorDetail>,
    /// Why the model refused (issue #18): kept beside the reply, never rendered into it.
    pub explanation: Option<Box<Explanation>>,
}

impl AwsError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AwsError {
            code,
            message: message.into(),
            detail: Box::default(),
            explanation: None,
        }
    }

    /// The error with the rule that refused it and a detail for people.
    pub fn because(mut self, rule: Rule, detail: impl Into<String>) -> Self {
        self.explanation = Some(Box::new(Explanation::new(rule, detail)));
        self
    }

    /// The error with an explanation built by the refusing site.
    pub fn explained(mut self, explanation: Explanation) -> Self {
        self.explanation = Some(Box::new(explanation));
        self
    }

    /// `because`, with the error's own message as the detail.
    pub fn because_message(self, rule: Rule) -> Self {
        let detail = self.message.clone();
        self.because(rule, detail)
    }

    pub fn ipve(message: impl Into<String>) -> Self {
        AwsError::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new(ErrorCode::Validation, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        AwsError::new(ErrorCode::ResourceNotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AwsError::new(ErrorCode::Conflict, message)
    }

    pub fn no_entitlements() -> Self {
        AwsError::new(ErrorCode::NoEntitlementsAllowed, "No Entitlements Allowed")
    }

    /// An EVS ValidationException with a reason and optional field list.
    pub fn evs_validation(reason: EvsReason, message: impl Into<String>) -> Self {
        let mut e = AwsError::validation(message);
        e.detail.reason = Some(reason);
        e
    }

    /// An EVS ResourceNotFoundException naming the resource.
    pub fn evs_not_found(resource_type: &str, resource_id: &str) -> Self {
        let mut e = AwsError::not_found(format!("The {resource_type} {resource_id} does not exist."));
        e.detail.resource = Some((resource_id.to_string(), resource_type.to_string()));
        e
    }

    pub fn redirect(home_region: &str) -> Self {
        let location = format!("https://license-manager.{home_region}.amazonaws.com/");
        let mut e = AwsError::new(
            ErrorCode::Redirect,
            format!("This resource is managed in {home_region}; send the request there."),
        );
        e.detail.location = Some(location);
        e
    }

    pub fn http_status(&self, service: Service) -> u16 {
        self.code.http_status(service)
    }

    /// A refusal whose error a policy switch chooses (SPEC 1.1 `modelled_errors_only`: every
    /// value a switch offers is one the operations it governs list).
    pub fn refusal(kind: RefusalError, message: impl Into<String>) -> Self {
        let code = match kind {
            RefusalError::Validation => ErrorCode::Validation,
            RefusalError::InvalidParameterValue => ErrorCode::InvalidParameterValue,
            RefusalError::ResourceNotFound => ErrorCode::ResourceNotFound,
            RefusalError::Conflict => ErrorCode::Conflict,
            RefusalError::AccessDenied => ErrorCode::AccessDenied,
            RefusalError::NoEntitlementsAllowed => ErrorCode::NoEntitlementsAllowed,
            RefusalError::EntitlementNotAllowed => ErrorCode::EntitlementNotAllowed,
        };
        AwsError::new(code, message)
    }

    /// The HTTP status under `policy` (SPEC 1.1 `http_status`).
    pub fn status_under(&self, service: Service, policy: &Policy) -> u16 {
        match (policy.http_status, self.code, service) {
            (HttpStatus::NotFound404, ErrorCode::ResourceNotFound, Service::LicenseManager) => 404,
            _ => self.http_status(service),
        }
    }

    /// The JSON error body under `policy` (SPEC 1.1 `__type` forms).
    pub fn body_under(&self, service: Service, policy: &Policy) -> Value {
        let mut body = self.body(service);
        let form = match service {
            Service::LicenseManager => policy.lm_error_type,
            Service::Evs => policy.evs_error_type,
        };
        let name = self.code.type_name();
        let namespace = match service {
            Service::LicenseManager => "com.amazonaws.licensemanager",
            Service::Evs => "com.amazonaws.evs",
        };
        let shown = match form {
            ErrorTypeForm::Bare => json!(name),
            ErrorTypeForm::Qualified => json!(format!("{namespace}#{name}")),
        };
        if let Some(o) = body.as_object_mut() {
            o.insert("__type".into(), shown);
        }
        body
    }

    /// The JSON error body for `service` (SPEC 1.1).
    pub fn body(&self, service: Service) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), json!(service.error_type(self.code)));
        body.insert(service.message_member().into(), json!(self.message));
        match service {
            Service::LicenseManager => {
                if let Some(location) = &self.detail.location {
                    body.insert("Location".into(), json!(location));
                }
            }
            Service::Evs => {
                if let Some(reason) = self.detail.reason {
                    body.insert("reason".into(), json!(reason));
                    if !self.detail.field_list.is_empty() {
                        body.insert("fieldList".into(), json!(self.detail.field_list));
                    }
                }
                if let Some((id, kind)) = &self.detail.resource {
                    body.insert("resourceId".into(), json!(id));
                    body.insert("resourceType".into(), json!(kind));
                }
            }
        }
        Value::Object(body)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.type_name(), self.message)
    }
}

impl std::error::Error for AwsError {}

impl crate::world::World {
    /// An error reply relies on the switches that shape every error: its status and `__type`.
    pub(crate) fn rely_error_form(&mut self, service: Service) {
        use crate::policy::PolicyRule;
        self.rely(PolicyRule::HttpStatus);
        self.rely(match service {
            Service::LicenseManager => PolicyRule::LmErrorType,
            Service::Evs => PolicyRule::EvsErrorType,
        });
    }
}
