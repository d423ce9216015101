//! The two AWS services, their official service models (embedded from `specs/aws/`), and request
//! decoding against those models: parse, type-check, then every shape constraint (SPEC 1.2).
//!
//! Validation is driven by the service model itself, so shapes, required members, enums, lengths,
//! ranges and patterns are AWS's, never a second copy written by hand.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{AwsError, ErrorCode, EvsReason, FieldViolation};
use crate::pattern::anchored_regex;

mod path;
use path::Path;

/// Which AWS service a request speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Service {
    #[serde(rename = "license-manager")]
    LicenseManager,
    #[serde(rename = "evs")]
    Evs,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::LicenseManager, Service::Evs];

    /// The `X-Amz-Target` prefix before the dot.
    pub fn target_prefix(self) -> &'static str {
        match self {
            Service::LicenseManager => "AWSLicenseManager",
            Service::Evs => "AmazonElasticVMwareService",
        }
    }

    /// The content type both ways (SPEC 1.1).
    pub fn content_type(self) -> &'static str {
        match self {
            Service::LicenseManager => "application/x-amz-json-1.1",
            Service::Evs => "application/x-amz-json-1.0",
        }
    }

    /// The service's short name, as used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Service::LicenseManager => "license-manager",
            Service::Evs => "evs",
        }
    }

    /// The member an error body carries its text in (SPEC 1.1): LM `Message`, EVS `message`.
    pub fn message_member(self) -> &'static str {
        match self {
            Service::LicenseManager => "Message",
            Service::Evs => "message",
        }
    }

    /// An error body's `__type` (SPEC 1.1): the bare shape name for LM, namespaced for EVS.
    pub fn error_type(self, code: ErrorCode) -> String {
        match self {
            Service::LicenseManager => code.type_name().to_string(),
            Service::Evs => format!("com.amazonaws.evs#{}", code.type_name()),
        }
    }

    /// Splits an `X-Amz-Target` header into service and operation name.
    pub fn from_target(target: &str) -> Option<(Service, &str)> {
        let (prefix, op) = target.split_once('.')?;
        Service::ALL
            .into_iter()
            .find(|s| s.target_prefix() == prefix)
            .map(|s| (s, op))
    }

    /// The official service model, parsed once.
    pub fn model(self) -> &'static ServiceModel {
        static LM: OnceLock<ServiceModel> = OnceLock::new();
        static EVS: OnceLock<ServiceModel> = OnceLock::new();
        match self {
            Service::LicenseManager => LM.get_or_init(|| {
                ServiceModel::parse(
                    self,
                    include_str!("../../specs/aws/license-manager-2018-08-01.json"),
                )
            }),
            Service::Evs => EVS.get_or_init(|| {
                ServiceModel::parse(self, include_str!("../../specs/aws/evs-2023-07-27.json"))
            }),
        }
    }

    /// A protocol fault (SPEC 1.2): LM `SerializationException`, EVS `ValidationException`
    /// with reason `cannotParse`.
    pub fn parse_fault(self, message: impl Into<String>) -> AwsError {
        match self {
            Service::LicenseManager => AwsError::new(ErrorCode::Serialization, message),
            Service::Evs => AwsError::evs_validation(EvsReason::CannotParse, message),
        }
    }

    /// The unknown-operation fault (SPEC 1.2).
    pub fn unknown_operation(self, message: impl Into<String>) -> AwsError {
        match self {
            Service::LicenseManager => AwsError::new(ErrorCode::UnknownOperation, message),
            Service::Evs => AwsError::evs_validation(EvsReason::UnknownOperation, message),
        }
    }
}

/// The type of a shape in the service model.
#[derive(Debug, Clone)]
pub enum ShapeKind {
    Structure {
        members: Vec<(String, String)>,
        required: Vec<String>,
    },
    List {
        member: String,
    },
    Map {
        key: String,
        value: String,
    },
    String,
    Integer,
    Long,
    Boolean,
    Timestamp,
    Double,
    Blob,
}

/// One shape with its constraints.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub kind: ShapeKind,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    regex: Option<Regex>,
    pub enum_values: Option<Vec<String>>,
    pub is_error: bool,
}

/// One operation of the service model.
#[derive(Debug, Clone)]
pub struct OperationDef {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
    pub errors: Vec<String>,
}

impl OperationDef {
    /// Whether the operation's model lists the error (SPEC 1.1 `modelled_errors_only`).
    pub fn lists(&self, code: ErrorCode) -> bool {
        self.errors.iter().any(|e| e == code.type_name())
    }

    /// The error for invalid input the model's rules refuse: IPVE where listed, else Validation.
    pub fn invalid_parameter(&self, message: impl Into<String>) -> AwsError {
        if self.lists(ErrorCode::InvalidParameterValue) {
            AwsError::ipve(message)
        } else {
            AwsError::validation(message)
        }
    }

    /// The error for a shape violation: Validation where listed, else IPVE (SPEC 1.2).
    fn shape_error_code(&self) -> ErrorCode {
        if self.lists(ErrorCode::Validation) {
            ErrorCode::Validation
        } else {
            ErrorCode::InvalidParameterValue
        }
    }
}

/// A parsed AWS service model.
#[derive(Debug)]
pub struct ServiceModel {
    pub service: Service,
    pub shapes: HashMap<String, Shape>,
    pub operations: BTreeMap<String, OperationDef>,
}

/// Enum shapes whose values the server does not check (SPEC 1.2, 3.5).
const ENUM_EXEMPT: &[&str] = &["DigitalSignatureMethod"];

impl Shape {
    /// The shape's pattern compiled (anchored, as `pattern::anchored_regex` makes it), once,
    /// when the service model was loaded.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref()
    }
}

impl ServiceModel {
    fn parse(service: Service, text: &str) -> ServiceModel {
        // The embedded models are part of the build; a broken one is a build defect, not input.
        let raw: Value = serde_json::from_str(text).expect("embedded service model is JSON");
        let mut shapes = HashMap::new();
        for (name, s) in raw["shapes"].as_object().expect("service model has shapes") {
            shapes.insert(name.clone(), parse_shape(name, s));
        }
        let mut operations = BTreeMap::new();
        for (name, o) in raw["operations"]
            .as_object()
            .expect("service model has operations")
        {
            let shape_of = |key: &str| o[key]["shape"].as_str().map(str::to_string);
            let errors = o["errors"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .filter_map(|e| e["shape"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            operations.insert(
                name.clone(),
                OperationDef {
                    name: name.clone(),
                    input: shape_of("input"),
                    output: shape_of("output"),
                    errors,
                },
            );
        }
        ServiceModel {
            service,
            shapes,
            operations,
        }
    }

    pub fn operation(&self, name: &str) -> Option<&OperationDef> {
        self.operations.get(name)
    }

    pub fn shape(&self, name: &str) -> &Shape {
        // Every reference inside an official model resolves; see the test below.
        &self.shapes[name]
    }

    /// Decodes a request body for `op`: parse (protocol fault on failure), type-check and normalize
    /// (nulls and unknown members dropped), then every shape constraint (one error listing all).
    pub fn decode(&self, op: &OperationDef, body: &[u8]) -> Result<Value, AwsError> {
        let mut value = parse_body(body).map_err(|m| self.service.parse_fault(m))?;
        let Some(input) = &op.input else {
            return Ok(Value::Object(Map::new()));
        };
        self.normalize(input, &mut value, &Path::Root)
            .map_err(|m| self.service.parse_fault(m))?;
        let mut violations = Vec::new();
        self.check(input, Some(&value), &Path::Root, &mut violations);
        if violations.is_empty() {
            Ok(value)
        } else {
            Err(self.violation_error(op, violations))
        }
    }

    fn violation_error(&self, op: &OperationDef, violations: Vec<FieldViolation>) -> AwsError {
        let count = violations.len();
        let plural = if count == 1 { "error" } else { "errors" };
        let list: Vec<String> = violations.iter().map(|v| v.message.clone()).collect();
        let message = format!("{count} validation {plural} detected: {}", list.join("; "));
        let mut error = AwsError::new(op.shape_error_code(), message);
        if self.service == Service::Evs {
            error.detail.reason = Some(EvsReason::FieldValidationFailed);
            error.detail.field_list = violations;
        }
        error
    }

    /// Type-checks `value` against `shape_name` in place, dropping nulls and unknown members
    /// (the members kept stay in body order). The first mismatch in body order is the error.
    fn normalize(&self, shape_name: &str, value: &mut Value, path: &Path) -> Result<(), String> {
        let shape = self.shape(shape_name);
        let wrong = |expected: &str| {
            let path = path.render();
            Err(format!(
                "Expected {expected} at '{}'",
                if path.is_empty() { "<body>" } else { &path }
            ))
        };
        match (&shape.kind, value) {
            (ShapeKind::Structure { members, .. }, Value::Object(map)) => {
                let mut first = Ok(());
                map.retain(|name, v| {
                    if first.is_err() || v.is_null() {
                        return false;
                    }
                    let Some((_, target)) = members.iter().find(|(m, _)| m == name) else {
                        return false;
                    };
                    first = self.normalize(target, v, &Path::Member(path, name));
                    true
                });
                first
            }
            (ShapeKind::Structure { .. }, _) => wrong("an object"),
            (ShapeKind::List { member }, Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let item_path = Path::Item(path, i);
                    if item.is_null() {
                        return Err(format!("Unexpected null at '{}'", item_path.render()));
                    }
                    self.normalize(member, item, &item_path)?;
                }
                Ok(())
            }
            (ShapeKind::List { .. }, _) => wrong("an array"),
            (ShapeKind::Map { value: target, .. }, Value::Object(map)) => {
                let mut first = Ok(());
                map.retain(|k, v| {
                    if first.is_err() || v.is_null() {
                        return false;
                    }
                    first = self.normalize(target, v, &Path::Key(path, k));
                    true
                });
                first
            }
            (ShapeKind::Map { .. }, _) => wrong("an object"),
            (ShapeKind::String | ShapeKind::Blob, Value::String(_)) => Ok(()),
            (ShapeKind::String | ShapeKind::Blob, _) => wrong("a string"),
            (ShapeKind::Boolean, Value::Bool(_)) => Ok(()),
            (ShapeKind::Boolean, _) => wrong("a boolean"),
            (ShapeKind::Integer, Value::Number(n)) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => Ok(()),
                _ => wrong("a 32-bit integer"),
            },
            (ShapeKind::Long, Value::Number(n)) => match n.as_i64() {
                Some(_) => Ok(()),
                None => wrong("a 64-bit integer"),
            },
            (ShapeKind::Integer | ShapeKind::Long, _) => wrong("an integer"),
            (ShapeKind::Double | ShapeKind::Timestamp, Value::Number(_)) => Ok(()),
            (ShapeKind::Double | ShapeKind::Timestamp, _) => wrong("a number"),
        }
    }

    /// Collects every constraint violation under `shape_name`.
    fn check(&self, shape_name: &str, value: Option<&Value>, path: &Path, out: &mut Vec<FieldViolation>) {
        let shape = self.shape(shape_name);
        let Some(value) = value else { return };
        match (&shape.kind, value) {
            (ShapeKind::Structure { members, required }, Value::Object(map)) => {
                for (name, target) in members {
                    let child_path = Path::Member(path, name);
                    match map.get(name) {
                        Some(v) => self.check(target, Some(v), &child_path, out),
                        None if required.contains(name) => {
                            let child_path = child_path.render();
                            out.push(FieldViolation {
                                message: format!(
                                    "Value null at '{child_path}' failed to satisfy constraint: Member must not be null"
                                ),
                                name: child_path,
                            })
                        }
                        None => {}
                    }
                }
            }
            (ShapeKind::List { member }, Value::Array(items)) => {
                self.check_length(shape, value, items.len(), path, out);
                for (i, item) in items.iter().enumerate() {
                    self.check(member, Some(item), &Path::Item(path, i), out);
                }
            }
            (ShapeKind::Map { value: target, .. }, Value::Object(map)) => {
                self.check_length(shape, value, map.len(), path, out);
                for (k, v) in map {
                    self.check(target, Some(v), &Path::Key(path, k), out);
                }
            }
            (ShapeKind::String | ShapeKind::Blob, Value::String(s)) => {
                self.check_length(shape, value, s.chars().count(), path, out);
                if let Some(values) = &shape.enum_values {
                    if !values.contains(s) && !ENUM_EXEMPT.contains(&shape.name.as_str()) {
                        out.push(violation(
                            path,
                            value,
                            &format!("Member must satisfy enum value set: [{}]", values.join(", ")),
                        ));
                    }
                }
                if let (Some(re), Some(p)) = (&shape.regex, &shape.pattern) {
                    if !re.is_match(s) {
                        out.push(violation(
                            path,
                            value,
                            &format!("Member must satisfy regular expression pattern: {p}"),
                        ));
                    }
                }
            }
            (ShapeKind::Integer | ShapeKind::Long | ShapeKind::Double, Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(0.0);
                if let Some(min) = shape.min {
                    if x < min {
                        out.push(violation(
                            path,
                            value,
                            &format!("Member must have value greater than or equal to {min}"),
                        ));
                    }
                }
                if let Some(max) = shape.max {
                    if x > max {
                        out.push(violation(
                            path,
                            value,
                            &format!("Member must have value less than or equal to {max}"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    fn check_length(
        &self,
        shape: &Shape,
        value: &Value,
        len: usize,
        path: &Path,
        out: &mut Vec<FieldViolation>,
    ) {
        let len = len as f64;
        if let Some(min) = shape.min {
            if len < min {
                out.push(violation(
                    path,
                    value,
                    &format!("Member must have length greater than or equal to {min}"),
                ));
            }
        }
        if let Some(max) = shape.max {
            if len > max {
                out.push(violation(
                    path,
                    value,
                    &format!("Member must have length less than or equal to {max}"),
                ));
            }
        }
    }
}

fn violation(path: &Path, value: &Value, constraint: &str) -> FieldViolation {
    let path = path.render();
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    FieldViolation {
        message: format!("Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}"),
        name: path,
    }
}

/// Parses a request body: empty means `{}`; anything but a JSON object is a protocol fault.
fn parse_body(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("Request body must be a JSON object".to_string()),
        Err(e) => Err(format!("Request body is not valid JSON: {e}")),
    }
}

/// `ProductSKU` → `productSKU`: AWS's validation paths use lowerCamel member names.
pub fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn parse_shape(name: &str, s: &Value) -> Shape {
    let member_shape = |v: &Value| v["shape"].as_str().unwrap_or_default().to_string();
    let kind = match s["type"].as_str().unwrap_or_default() {
        "structure" => ShapeKind::Structure {
            members: s["members"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), member_shape(v))).collect())
                .unwrap_or_default(),
            required: s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        },
        "list" => ShapeKind::List {
            member: member_shape(&s["member"]),
        },
        "map" => ShapeKind::Map {
            key: member_shape(&s["key"]),
            value: member_shape(&s["value"]),
        },
        "integer" => ShapeKind::Integer,
        "long" => ShapeKind::Long,
        "boolean" => ShapeKind::Boolean,
        "timestamp" => ShapeKind::Timestamp,
        "double" | "float" => ShapeKind::Double,
        "blob" => ShapeKind::Blob,
        _ => ShapeKind::String,
    };
    let pattern = s["pattern"].as_str().map(str::to_string);
    let regex = pattern.as_deref().map(anchored_regex);
    Shape {
        name: name.to_string(),
        kind,
        min: s["min"].as_f64(),
        max: s["max"].as_f64(),
        pattern,
        regex,
        enum_values: s["enum"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
        is_error: s["exception"].as_bool().unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_reference_resolves_in_both_models() {
        for service in Service::ALL {
            let model = service.model();
            for shape in model.shapes.values() {
                let refs: Vec<&String> = match &shape.kind {
                    ShapeKind::Structure { members, .. } => members.iter().map(|(_, t)| t).collect(),
                    ShapeKind::List { member } => vec![member],
                    ShapeKind::Map { key, value } => vec![key, value],
                    _ => vec![],
                };
                for r in refs {
                    assert!(model.shapes.contains_key(r), "{service:?}: {} -> {r}", shape.name);
                }
            }
        }
    }

    #[test]
    fn spec_1_2_target_header_maps_to_service_and_operation() {
        assert_eq!(
            Service::from_target("AWSLicenseManager.CheckoutLicense"),
            Some((Service::LicenseManager, "CheckoutLicense"))
        );
        assert_eq!(
            Service::from_target("AmazonElasticVMwareService.CreateEntitlement"),
            Some((Service::Evs, "CreateEntitlement"))
        );
        assert_eq!(Service::from_target("Nope.CheckoutLicense"), None);
        assert_eq!(Service::from_target("AWSLicenseManager"), None);
    }
}
