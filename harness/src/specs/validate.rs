//! The committed schemas, compiled once, and the check every request and reply goes through.

use std::collections::HashMap;
use std::sync::OnceLock;

use conform_model::Service;
use jsonschema::{PatternOptions, Validator};
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// What a body is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
    /// An error reply, by its shape name (`ValidationException`).
    Error(String),
}

/// Protocol faults (SPEC 1.2): errors of the wire, not shapes of the service model.
pub const PROTOCOL_FAULTS: &[&str] = &[
    conform_model::ErrorCode::Serialization.type_name(),
    conform_model::ErrorCode::UnknownOperation.type_name(),
];

impl Direction {
    /// The schema a reply with this error type (or none) is checked against; `None` for a
    /// protocol fault, which has no schema.
    pub fn of_reply(error_type: Option<&str>) -> Option<Direction> {
        match error_type {
            Some(e) if PROTOCOL_FAULTS.contains(&e) => None,
            Some(e) => Some(Direction::Error(e.to_string())),
            None => Some(Direction::Response),
        }
    }
}

/// A constraint the body breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the body (`/License/CreateTime`); empty for the body itself.
    pub path: String,
    pub message: String,
}

/// Something worth telling that is no failure: a reply member the service model does not define.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

/// The outcome of one validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub violations: Vec<Violation>,
    pub warnings: Vec<Warning>,
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

struct Compiled {
    validator: Validator,
    schema: Value,
}

/// Which schemas of a service a name is looked up among.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Slot {
    Request,
    Response,
    Error,
}

/// A schema's place: its service and slot, then its operation's or error's name (two levels, so
/// a lookup by `&str` allocates nothing).
type Key = ((Service, Slot), String);

/// Every committed schema, compiled.
pub struct Specs {
    compiled: HashMap<(Service, Slot), HashMap<String, Compiled>>,
}

impl Specs {
    /// The committed schemas, compiled on first use and shared afterwards.
    pub fn load() -> &'static Specs {
        static SPECS: OnceLock<Specs> = OnceLock::new();
        SPECS.get_or_init(|| {
            // The schemas are embedded at build time and `specs_check` proves them generated;
            // one that does not compile is a build defect, not input.
            Specs::compile(EMBEDDED).unwrap_or_else(|e| panic!("embedded schemas: {e}"))
        })
    }

    /// Compiles `(path under specs/schemas/, text)` pairs.
    pub fn compile(files: &[(&str, &str)]) -> Result<Specs, String> {
        let mut compiled: HashMap<(Service, Slot), HashMap<String, Compiled>> = HashMap::new();
        for (path, text) in files {
            let (slot, name) =
                key_of(path).ok_or_else(|| format!("{path}: not a schema path conform knows"))?;
            let schema: Value = serde_json::from_str(text).map_err(|e| format!("{path}: {e}"))?;
            let validator = jsonschema::draft202012::options()
                // The patterns are already rewritten for the `regex` crate (ASCII classes,
                // anchored), the engine the model validates with.
                .with_pattern_options(PatternOptions::regex())
                .build(&schema)
                .map_err(|e| format!("{path}: {e}"))?;
            compiled
                .entry(slot)
                .or_default()
                .insert(name, Compiled { validator, schema });
        }
        Ok(Specs { compiled })
    }

    /// How many schemas are loaded.
    pub fn len(&self) -> usize {
        self.compiled.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// Validates one body of `operation`. An error the operation's model does not list is a
    /// violation too (SPEC 1.1 `modelled_errors_only`).
    pub fn validate(&self, service: Service, operation: &str, direction: Direction, body: &Value) -> Report {
        let mut warnings = Vec::new();
        let violations = self.checked(service, operation, &direction, body, Some(&mut warnings));
        Report { violations, warnings }
    }

    /// The violations [`Specs::validate`] reports, without looking for unmodelled members (the
    /// warnings): what the comparison of every step needs.
    pub fn violations(
        &self,
        service: Service,
        operation: &str,
        direction: Direction,
        body: &Value,
    ) -> Vec<Violation> {
        self.checked(service, operation, &direction, body, None)
    }

    fn checked(
        &self,
        service: Service,
        operation: &str,
        direction: &Direction,
        body: &Value,
        warnings: Option<&mut Vec<Warning>>,
    ) -> Vec<Violation> {
        let (slot, name) = match direction {
            Direction::Request => (Slot::Request, operation),
            Direction::Response => (Slot::Response, operation),
            Direction::Error(name) => (Slot::Error, name.as_str()),
        };
        let found = self.compiled.get(&(service, slot)).and_then(|m| m.get(name));
        let mut violations = match found {
            Some(compiled) => check(compiled, body, warnings),
            None => vec![Violation {
                path: String::new(),
                message: format!("no schema for {} {operation} {direction:?}", service.name()),
            }],
        };
        if let Direction::Error(name) = direction {
            if !lists_error(service, operation, name) {
                violations.push(Violation {
                    path: String::new(),
                    message: format!("{operation} does not list {name} in the {} model", service.name()),
                });
            }
        }
        violations
    }
}

fn lists_error(service: Service, operation: &str, name: &str) -> bool {
    service
        .model()
        .operation(operation)
        .is_some_and(|op| op.errors.iter().any(|e| e == name))
}

/// The body's violations (the error list is built only for a body that breaks its schema) and,
/// where `warnings` is given, its unmodelled members.
fn check(compiled: &Compiled, body: &Value, warnings: Option<&mut Vec<Warning>>) -> Vec<Violation> {
    if let Some(out) = warnings {
        unmodelled(&compiled.schema, &compiled.schema, body, "", out);
    }
    if compiled.validator.is_valid(body) {
        return Vec::new();
    }
    compiled
        .validator
        .iter_errors(body)
        .map(|e| Violation {
            path: e.instance_path().to_string(),
            message: e.to_string(),
        })
        .collect()
}

/// `license-manager/CheckoutLicense.request.json`, `evs/errors/ValidationException.json`.
fn key_of(path: &str) -> Option<Key> {
    let (service, rest) = path.split_once('/')?;
    let service = Service::ALL.into_iter().find(|s| s.name() == service)?;
    if let Some(name) = rest.strip_prefix("errors/").and_then(|r| r.strip_suffix(".json")) {
        return Some(((service, Slot::Error), name.to_string()));
    }
    let (operation, direction) = rest.strip_suffix(".json")?.split_once('.')?;
    let slot = match direction {
        "request" => Slot::Request,
        "response" => Slot::Response,
        _ => return None,
    };
    Some(((service, slot), operation.to_string()))
}

/// Members the schema does not define, found by walking the body beside its schema. Schemas
/// allow them (AWS adds members before its published models catch up), so they are warnings.
fn unmodelled(root: &Value, schema: &Value, body: &Value, path: &str, out: &mut Vec<Warning>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(resolved) = resolve(root, target) {
            unmodelled(root, resolved, body, path, out);
        }
        return;
    }
    match body {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, value) in map {
                let child = format!("{path}/{}", escape_pointer(key));
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(s), _) | (None, Some(s)) => unmodelled(root, s, value, &child, out),
                    (None, None) if properties.is_some() => out.push(Warning {
                        path: child,
                        message: format!("unmodelled member '{key}'"),
                    }),
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    unmodelled(root, item_schema, item, &format!("{path}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let name = reference.strip_prefix("#/$defs/")?;
    root.get("$defs")?.get(name)
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
