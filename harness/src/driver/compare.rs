//! Comparing a target's reply with the model's: normalized bodies, error types, times within a
//! tolerance on a wall clock, and the reply's JSON Schema.

use conform_model::Service;
use serde_json::Value;

use super::Reply;
use crate::normalize::Normalizer;
use crate::target::Response;

/// Whether two lists hold the same items in another order.
fn reordered(x: &[Value], y: &[Value]) -> bool {
    let sorted = |v: &[Value]| {
        let mut items: Vec<String> = v.iter().map(Value::to_string).collect();
        items.sort();
        items
    };
    x != y && sorted(x) == sorted(y)
}

/// Paths where two JSON values differ. A list with the same items in another order is one
/// path, marked `(reordered)`, not a path per item.
pub fn diff_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    // Equal values have no differing path; the walk below only names where unequal ones part.
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => diff_paths(l, r, &p, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if reordered(x, y) => {
            out.push(format!(
                "{} (reordered)",
                if path.is_empty() { "/" } else { path }
            ));
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                diff_paths(l, r, &format!("{path}/{i}"), out);
            }
        }
        _ => out.push(if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        }),
    }
}

/// Schema violations of a target's reply (check 1 of 3), as `path: message`. Protocol faults
/// have no schema; unmodelled members are warnings, not violations.
pub(super) fn schema_violations(service: Service, op: &str, r: &Response) -> Vec<String> {
    let Some(direction) = crate::specs::Direction::of_reply(r.error_type.as_deref()) else {
        return Vec::new();
    };
    crate::specs::Specs::load()
        .violations(service, op, direction, &r.body)
        .iter()
        .map(|v| format!("schema {}: {}", v.path, v.message))
        .collect()
}

/// Compares the normalized replies: status and error type always; bodies of successes only
/// (error messages are never compared, SPEC 1.2).
pub(super) fn differences(expected: &Reply, actual: &Reply) -> Vec<String> {
    let mut paths = Vec::new();
    if expected.status != actual.status {
        paths.push("status".into());
    }
    if expected.error != actual.error {
        paths.push("__type".into());
    }
    if paths.is_empty() && expected.error.is_none() {
        diff_paths(&expected.body, &actual.body, "", &mut paths);
    }
    paths
}

/// How far apart two times may be on a target that runs on the wall clock (requests take time,
/// and its clock is not ours).
pub const WALL_CLOCK_TOLERANCE_SECONDS: i64 = 60;

/// A normalized time (`<t0+5s>`, `<t0-250ms>`) in milliseconds from the start.
pub fn normalized_time_ms(v: &Value) -> Option<i64> {
    let inner = v.as_str()?.strip_prefix("<t0")?.strip_suffix('>')?;
    if let Some(ms) = inner.strip_suffix("ms") {
        return ms.parse().ok();
    }
    inner.strip_suffix('s')?.parse::<i64>().ok().map(|s| s * 1000)
}

/// As [`differences`], where normalized times within `tolerance_seconds` of each other count
/// as equal.
pub fn differences_within(expected: &Reply, actual: &Reply, tolerance_seconds: Option<i64>) -> Vec<String> {
    let paths = differences(expected, actual);
    let Some(tolerance) = tolerance_seconds else {
        return paths;
    };
    paths
        .into_iter()
        .filter(|p| {
            let at = |r: &Reply| r.body.pointer(p).and_then(normalized_time_ms);
            match (at(expected), at(actual)) {
                (Some(e), Some(a)) => (e - a).abs() > tolerance * 1000,
                _ => true,
            }
        })
        .collect()
}

/// A reply normalized: the body of a success, only the type of an error.
pub fn reply_of(r: &Response, n: &mut Normalizer) -> Reply {
    Reply {
        status: r.status,
        error: r.error_type.clone(),
        body: if r.error_type.is_some() {
            Value::Null
        } else {
            n.value(&r.body)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reordered_list_is_one_path_not_one_per_item() {
        let mut out = Vec::new();
        let a = json!({"Licenses": [{"n": 1}, {"n": 2}, {"n": 3}]});
        let b = json!({"Licenses": [{"n": 3}, {"n": 1}, {"n": 2}]});
        diff_paths(&a, &b, "", &mut out);
        assert_eq!(out, vec!["/Licenses (reordered)".to_string()]);
        // Other items in the same places are still named one by one.
        let mut out = Vec::new();
        diff_paths(
            &a,
            &json!({"Licenses": [{"n": 1}, {"n": 5}, {"n": 3}]}),
            "",
            &mut out,
        );
        assert_eq!(out, vec!["/Licenses/1/n".to_string()]);
    }
}
