//! Constraint-derived request cases: for every constrained member of a valid base request,
//! values on both sides of each bound (length, range), every enum value and one outside it,
//! pattern matches and near-misses, and each required member left out. Every case is a full
//! request body, labelled with the member's path and whether the service model allows it.
//!
//! The base requests are the first body per operation of `valid_requests.json`; only members
//! present there are varied, so the bases set every constrained optional member.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use conform_model::service::{lower_camel, OperationDef, ServiceModel, Shape, ShapeKind};
use conform_model::Service;
use regex::Regex;
use serde_json::{json, Value};

use super::scope;

/// Lengths beyond this are not generated: no request member in scope needs more to reach its
/// bound, and bodies stay small.
const MAX_GENERATED_LENGTH: f64 = 5000.0;

/// One generated request.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub service: Service,
    pub operation: &'static str,
    /// The member varied, as SPEC 1.2 writes paths: lowerCamel names, list items 1-based.
    pub member: String,
    /// What was varied, e.g. `length 2049 (max 2048)`.
    pub constraint: String,
    pub body: Value,
    /// Whether the service model's constraints allow the body.
    pub valid: bool,
    /// For an invalid body, the error the service answers (SPEC 1.2; 3.5 for
    /// DigitalSignatureMethod).
    pub expected_error: Option<&'static str>,
}

/// The hand-written valid bodies of `operation`, in file order.
pub fn valid_requests(service: Service, operation: &str) -> Vec<Value> {
    table()
        .get(service.name())
        .and_then(|ops| ops.get(operation))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn table() -> &'static Value {
    static TABLE: OnceLock<Value> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Embedded at build time and covered by tests: a broken table is a build defect.
        serde_json::from_str(include_str!("valid_requests.json")).expect("valid_requests.json is JSON")
    })
}

/// Every case of every in-scope operation of both services.
pub fn all_cases() -> Vec<Case> {
    Service::ALL
        .into_iter()
        .flat_map(|service| {
            scope::operations(service)
                .iter()
                .flat_map(move |op| cases(service, op))
        })
        .collect()
}

/// The cases of one operation: the base request itself, then every variation of it.
pub fn cases(service: Service, operation: &'static str) -> Vec<Case> {
    let model = service.model();
    let (Some(op), Some(base)) = (
        model.operation(operation),
        valid_requests(service, operation).into_iter().next(),
    ) else {
        return Vec::new();
    };
    let Some(input) = op.input.as_deref() else {
        return Vec::new();
    };
    let mut walk = Walk {
        model,
        service,
        operation,
        shape_error: shape_error(op),
        base: &base,
        out: Vec::new(),
    };
    walk.push(
        String::new(),
        "base request".into(),
        &[],
        Some(base.clone()),
        true,
        None,
    );
    walk.visit(input, &base, &[], "");
    walk.out
}

/// The error a shape violation answers: ValidationException where the operation lists it, else
/// InvalidParameterValueException (SPEC 1.2).
fn shape_error(op: &OperationDef) -> &'static str {
    if op.errors.iter().any(|e| e == "ValidationException") {
        "ValidationException"
    } else {
        "InvalidParameterValueException"
    }
}

/// A step from a body to one of its members.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

struct Walk<'a> {
    model: &'static ServiceModel,
    service: Service,
    operation: &'static str,
    shape_error: &'static str,
    base: &'a Value,
    out: Vec<Case>,
}

impl Walk<'_> {
    fn visit(&mut self, shape_name: &str, value: &Value, at: &[Step], path: &str) {
        let shape = self.model.shape(shape_name);
        match (&shape.kind, value) {
            (ShapeKind::Structure { members, required }, Value::Object(map)) => {
                for (name, target) in members {
                    let child_path = join(path, &lower_camel(name));
                    let child_at = extend(at, Step::Key(name.clone()));
                    let Some(child) = map.get(name) else { continue };
                    if required.contains(name) {
                        self.invalid(
                            child_path.clone(),
                            "required member missing".into(),
                            &child_at,
                            None,
                        );
                    }
                    self.visit(target, child, &child_at, &child_path);
                }
            }
            (ShapeKind::List { member }, Value::Array(items)) => {
                self.list_lengths(shape, items, at, path);
                if let Some(first) = items.first() {
                    self.visit(member, first, &extend(at, Step::Index(0)), &format!("{path}.1"));
                }
            }
            (ShapeKind::Map { value: target, .. }, Value::Object(map)) => {
                if let Some((key, first)) = map.iter().next() {
                    self.visit(
                        target,
                        first,
                        &extend(at, Step::Key(key.clone())),
                        &format!("{path}.{key}"),
                    );
                }
            }
            (ShapeKind::String, Value::String(s)) => self.string(shape, s, at, path),
            (ShapeKind::Integer, Value::Number(_)) => {
                self.range(shape, i64::from(i32::MIN), i64::from(i32::MAX), at, path)
            }
            (ShapeKind::Long, Value::Number(_)) => self.range(shape, i64::MIN, i64::MAX, at, path),
            _ => {}
        }
    }

    fn string(&mut self, shape: &Shape, base: &str, at: &[Step], path: &str) {
        if let Some(values) = &shape.enum_values {
            return self.enum_values(shape, values, at, path);
        }
        let fits = |s: &str| within(shape, s.chars().count() as f64) && fits_except_length(shape, s);
        self.string_lengths(shape, base, &fits, at, path);
        if let (Some(regex), Some(pattern)) = (shape.regex(), &shape.pattern) {
            if fits(base) {
                self.valid(path.into(), format!("pattern {pattern} matched"), at, json!(base));
            }
            for miss in near_misses(base, regex, shape) {
                self.invalid(
                    path.into(),
                    format!("pattern {pattern} near miss {miss:?}"),
                    at,
                    Some(json!(miss)),
                );
            }
        }
    }

    fn enum_values(&mut self, shape: &Shape, values: &[String], at: &[Step], path: &str) {
        for v in values {
            self.valid(path.into(), format!("enum value {v}"), at, json!(v));
        }
        let Some(first) = values.first() else { return };
        let outside = [
            first.to_lowercase(),
            format!("{first}_"),
            "NOT_A_VALUE".to_string(),
        ]
        .into_iter()
        .find(|c| !values.contains(c))
        .unwrap_or_default();
        // SPEC 1.2 and 3.5: DigitalSignatureMethod is exempt from enum validation and answers its
        // own error instead.
        let error = if shape.name == "DigitalSignatureMethod" {
            "UnsupportedDigitalSignatureMethodException"
        } else {
            self.shape_error
        };
        let constraint = format!("outside enum {outside:?}");
        self.push(
            path.into(),
            constraint,
            at,
            Some(json!(outside)),
            false,
            Some(error),
        );
    }

    fn string_lengths(
        &mut self,
        shape: &Shape,
        base: &str,
        fits: &dyn Fn(&str) -> bool,
        at: &[Step],
        path: &str,
    ) {
        for (n, label) in boundaries(shape) {
            let Ok(n) = usize::try_from(n) else { continue };
            let candidates = of_length(base, n);
            let valid = within(shape, n as f64);
            // A valid length needs a value that fits every other constraint too; an invalid one
            // preferably breaks only the length.
            let chosen = candidates
                .iter()
                .find(|c| fits(c) || (!valid && fits_except_length(shape, c)))
                .or(if valid { None } else { candidates.first() });
            let Some(value) = chosen else { continue };
            let constraint = format!("length {n} ({label})");
            self.push(path.into(), constraint, at, Some(json!(value)), valid, None);
        }
    }

    fn list_lengths(&mut self, shape: &Shape, items: &[Value], at: &[Step], path: &str) {
        if items.is_empty() {
            return;
        }
        for (n, label) in boundaries(shape) {
            let Ok(n) = usize::try_from(n) else { continue };
            let list: Vec<Value> = items.iter().cycle().take(n).cloned().collect();
            let valid = within(shape, n as f64);
            self.push(
                path.into(),
                format!("{n} items ({label})"),
                at,
                Some(Value::Array(list)),
                valid,
                None,
            );
        }
    }

    fn range(&mut self, shape: &Shape, type_min: i64, type_max: i64, at: &[Step], path: &str) {
        let mut values = Vec::new();
        if let Some(min) = shape.min {
            values.push((min as i64 - 1, format!("min {min}")));
            values.push((min as i64, format!("min {min}")));
        }
        if let Some(max) = shape.max {
            values.push((max as i64, format!("max {max}")));
            values.push((max as i64 + 1, format!("max {max}")));
        }
        for (v, label) in values {
            // Outside the wire width a number is a protocol fault, not a constraint violation.
            if v < type_min || v > type_max {
                continue;
            }
            let valid = within(shape, v as f64);
            self.push(
                path.into(),
                format!("value {v} ({label})"),
                at,
                Some(json!(v)),
                valid,
                None,
            );
        }
    }

    fn valid(&mut self, path: String, constraint: String, at: &[Step], value: Value) {
        self.push(path, constraint, at, Some(value), true, None);
    }

    fn invalid(&mut self, path: String, constraint: String, at: &[Step], value: Option<Value>) {
        self.push(path, constraint, at, value, false, None);
    }

    /// Records the base with the member at `at` replaced by `value` (removed when `None`).
    fn push(
        &mut self,
        member: String,
        constraint: String,
        at: &[Step],
        value: Option<Value>,
        valid: bool,
        error: Option<&'static str>,
    ) {
        let mut body = self.base.clone();
        if at.is_empty() {
            body = value.unwrap_or_else(|| json!({}));
        } else {
            replace(&mut body, at, value);
        }
        self.out.push(Case {
            service: self.service,
            operation: self.operation,
            member,
            constraint,
            body,
            valid,
            expected_error: if valid {
                None
            } else {
                Some(error.unwrap_or(self.shape_error))
            },
        });
    }
}

/// The lengths or counts on both sides of each bound, each with the bound it probes.
fn boundaries(shape: &Shape) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    if let Some(min) = shape.min {
        out.push((min as i64 - 1, format!("min {min}")));
        out.push((min as i64, format!("min {min}")));
    }
    if let Some(max) = shape.max.filter(|m| *m < MAX_GENERATED_LENGTH) {
        out.push((max as i64, format!("max {max}")));
        out.push((max as i64 + 1, format!("max {max}")));
    }
    out.retain(|(n, _)| *n >= 0);
    out
}

fn within(shape: &Shape, x: f64) -> bool {
    shape.min.is_none_or(|m| x >= m) && shape.max.is_none_or(|m| x <= m)
}

fn fits_except_length(shape: &Shape, s: &str) -> bool {
    shape.regex().is_none_or(|r| r.is_match(s))
}

/// Strings of `n` characters built from `base`: cut, padded with its own characters, or one of
/// its characters repeated; the first that fits the other constraints is used.
fn of_length(base: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = base.chars().collect();
    let mut out = Vec::new();
    if n <= chars.len() {
        out.push(chars[..n].iter().collect());
        out.push(chars[chars.len() - n..].iter().collect());
    }
    let mut fillers: Vec<char> = chars.iter().rev().copied().collect();
    fillers.extend(['a', '0']);
    let mut seen = BTreeSet::new();
    fillers.retain(|c| seen.insert(*c));
    for &fill in &fillers {
        if n > chars.len() {
            let mut s: String = chars.iter().collect();
            s.extend(std::iter::repeat_n(fill, n - chars.len()));
            out.push(s);
        }
        out.push(std::iter::repeat_n(fill, n).collect());
    }
    out
}

/// Values one edit away from `base` that the pattern refuses while the length still fits:
/// white space around it (the match is anchored), a non-ASCII letter (the classes are ASCII).
fn near_misses(base: &str, regex: &Regex, shape: &Shape) -> Vec<String> {
    let mut rest = base.chars();
    let first_replaced = rest
        .next()
        .map(|_| format!("é{}", rest.as_str()))
        .unwrap_or_default();
    let candidates = [
        format!("{base} "),
        format!(" {base}"),
        format!("{base}\n"),
        first_replaced,
        format!("{base}é"),
        String::new(),
    ];
    let mut out: Vec<String> = Vec::new();
    for c in candidates {
        if out.len() == 2 {
            break;
        }
        if !regex.is_match(&c) && within(shape, c.chars().count() as f64) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

fn extend(at: &[Step], step: Step) -> Vec<Step> {
    let mut v = at.to_vec();
    v.push(step);
    v
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Replaces (or removes, for `None`) the member at `at`; `at` was walked from this very body.
fn replace(body: &mut Value, at: &[Step], value: Option<Value>) {
    let Some((last, parents)) = at.split_last() else {
        return;
    };
    let mut node = body;
    for step in parents {
        let next = match step {
            Step::Key(k) => node.get_mut(k.as_str()),
            Step::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (last, value) {
        (Step::Key(k), Some(v)) => {
            if let Some(map) = node.as_object_mut() {
                map.insert(k.clone(), v);
            }
        }
        (Step::Key(k), None) => {
            if let Some(map) = node.as_object_mut() {
                map.remove(k);
            }
        }
        (Step::Index(i), Some(v)) => {
            if let Some(slot) = node.get_mut(*i) {
                *slot = v;
            }
        }
        (Step::Index(i), None) => {
            if let Some(items) = node.as_array_mut() {
                if *i < items.len() {
                    items.remove(*i);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_in_scope_operation_has_a_valid_base_request() {
        for service in Service::ALL {
            for op in scope::operations(service) {
                assert!(!valid_requests(service, op).is_empty(), "{} {op}", service.name());
            }
        }
    }

    #[test]
    fn client_token_gets_both_sides_of_its_bounds_and_pattern() {
        let cases = cases(Service::LicenseManager, "CheckoutLicense");
        let token: Vec<&Case> = cases.iter().filter(|c| c.member == "clientToken").collect();
        let labels: Vec<(String, bool)> = token.iter().map(|c| (c.constraint.clone(), c.valid)).collect();
        assert!(
            labels.contains(&("length 2048 (max 2048)".into(), true)),
            "{labels:?}"
        );
        assert!(
            labels.contains(&("length 2049 (max 2048)".into(), false)),
            "{labels:?}"
        );
        assert!(
            labels.contains(&("required member missing".into(), false)),
            "{labels:?}"
        );
        assert!(labels
            .iter()
            .any(|(l, v)| l.starts_with("pattern") && l.contains("near miss") && !v));
        let long = token
            .iter()
            .find(|c| c.constraint == "length 2049 (max 2048)")
            .expect("case exists");
        assert_eq!(
            long.body["ClientToken"].as_str().map(|s| s.chars().count()),
            Some(2049)
        );
        assert_eq!(long.expected_error, Some("ValidationException"));
    }

    #[test]
    fn list_items_are_numbered_from_one_and_ipve_where_validation_is_not_listed() {
        let cases = cases(Service::LicenseManager, "ListLicenseVersions");
        let max = cases
            .iter()
            .find(|c| c.constraint == "value 101 (max 100)")
            .expect("case exists");
        assert_eq!(max.member, "maxResults");
        assert_eq!(max.expected_error, Some("InvalidParameterValueException"));
        let entitlement = cases_named(Service::LicenseManager, "CheckoutLicense", "entitlements.1.unit");
        assert!(entitlement
            .iter()
            .any(|c| !c.valid && c.constraint.starts_with("outside enum")));
    }

    fn cases_named(service: Service, op: &'static str, member: &str) -> Vec<Case> {
        cases(service, op)
            .into_iter()
            .filter(|c| c.member == member)
            .collect()
    }
}
