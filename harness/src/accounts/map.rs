//! The harness's account ids as a target knows them: [`AccountMap`] rewrites every 12-digit
//! account id in a request from the harness's id to the target's, and in a reply back, so the
//! reference model (whose ARNs carry the harness's ids) compares with a target that has an
//! account table of its own (`--accounts FILE`), or with real AWS.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::normalize::jws;

/// A one-to-one map from the harness's account ids to a target's. Empty: the ids agree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountMap {
    to_target: BTreeMap<String, String>,
    to_harness: BTreeMap<String, String>,
}

/// Whether `id` is an account id: exactly 12 ASCII digits (SPEC 1.3).
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

impl AccountMap {
    /// The map of `pairs` (harness id, target id); pairs that agree are left out. Refused: an id
    /// that is not 12 digits, or two ids on either side sharing one on the other.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Result<AccountMap, String> {
        let mut map = AccountMap::default();
        for (harness, target) in pairs {
            for id in [&harness, &target] {
                if !is_account_id(id) {
                    return Err(format!("account id {id:?} is not 12 digits"));
                }
            }
            if let Some(other) = map.to_target.insert(harness.clone(), target.clone()) {
                return Err(format!(
                    "account {harness} is mapped twice ({other} and {target})"
                ));
            }
            if let Some(other) = map.to_harness.insert(target.clone(), harness.clone()) {
                return Err(format!("account {target} stands for both {other} and {harness}"));
            }
        }
        map.to_target.retain(|h, t| h != t);
        map.to_harness.retain(|t, h| h != t);
        Ok(map)
    }

    /// Whether every id stays as it is.
    pub fn is_identity(&self) -> bool {
        self.to_target.is_empty()
    }

    /// The target's id for the harness's account `id` (itself where it is not mapped).
    pub fn account_to_target<'a>(&'a self, id: &'a str) -> &'a str {
        self.to_target.get(id).map_or(id, String::as_str)
    }

    /// `text` with every harness account id as the target's.
    pub fn to_target<'a>(&self, text: &'a str) -> Cow<'a, str> {
        rewrite(text, &self.to_target)
    }

    /// A request body (any bytes) with every harness account id as the target's.
    pub fn bytes_to_target<'a>(&self, body: &'a [u8]) -> Cow<'a, [u8]> {
        replaced(body, &self.to_target).map_or(Cow::Borrowed(body), Cow::Owned)
    }

    /// `text` with every target account id as the harness's.
    pub fn to_harness<'a>(&self, text: &'a str) -> Cow<'a, str> {
        rewrite(text, &self.to_harness)
    }

    /// `value` with every harness account id as the target's, in keys and strings.
    pub fn value_to_target(&self, value: &Value) -> Value {
        rewrite_value(value, &self.to_target)
    }

    /// `value` with every target account id as the harness's, in keys and strings.
    pub fn value_to_harness(&self, value: &Value) -> Value {
        rewrite_value(value, &self.to_harness)
    }

    /// A reply with every target account id as the harness's, also in the claims of each
    /// `SignedToken` (re-encoded, so its signature no longer matches; comparisons never look at
    /// signatures, SPEC 3.8).
    pub fn reply_to_harness(&self, value: &Value) -> Value {
        let mut out = self.value_to_harness(value);
        if !self.is_identity() {
            self.tokens_to_harness(&mut out);
        }
        out
    }

    fn tokens_to_harness(&self, value: &mut Value) {
        match value {
            Value::Object(members) => {
                for (k, v) in members.iter_mut() {
                    match v {
                        Value::String(token) if k == "SignedToken" => {
                            let rewritten =
                                jws::rewrite_claims(token, |claims| rewrite_bytes(claims, &self.to_harness));
                            if let Some(t) = rewritten {
                                *token = t;
                            }
                        }
                        other => self.tokens_to_harness(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.tokens_to_harness(v)),
            _ => {}
        }
    }
}

/// Every run of exactly 12 digits (bounded by non-digits) that `table` names, replaced in one
/// pass: a replacement is never rewritten again, so the map may swap ids. `None`: nothing to
/// replace. Only ASCII digits are replaced, by ASCII digits, so UTF-8 stays UTF-8.
fn replaced(bytes: &[u8], table: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    if table.is_empty() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = std::str::from_utf8(&bytes[start..i]).unwrap_or_default();
        if let Some(to) = table.get(run) {
            let s = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
            s.extend_from_slice(&bytes[copied..start]);
            s.extend_from_slice(to.as_bytes());
            copied = i;
        }
    }
    let mut s = out?;
    s.extend_from_slice(&bytes[copied..]);
    Some(s)
}

fn rewrite_bytes(bytes: &[u8], table: &BTreeMap<String, String>) -> Vec<u8> {
    replaced(bytes, table).unwrap_or_else(|| bytes.to_vec())
}

fn rewrite<'a>(text: &'a str, table: &BTreeMap<String, String>) -> Cow<'a, str> {
    match replaced(text.as_bytes(), table).map(String::from_utf8) {
        Some(Ok(s)) => Cow::Owned(s),
        // Digits for digits cannot break UTF-8; were it ever so, the text is kept whole.
        Some(Err(_)) | None => Cow::Borrowed(text),
    }
}

fn rewrite_value(value: &Value, table: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(rewrite(s, table).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(|v| rewrite_value(v, table)).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (rewrite(k, table).into_owned(), rewrite_value(v, table)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swap() -> AccountMap {
        AccountMap::new([
            ("111122223333".to_string(), "444455556666".to_string()),
            ("444455556666".to_string(), "111122223333".to_string()),
            ("777788889999".to_string(), "210987654321".to_string()),
        ])
        .unwrap()
    }

    #[test]
    fn ids_are_rewritten_in_one_pass_and_only_whole() {
        let m = swap();
        let text = r#"{"LicenseArn":"arn:aws:license-manager::111122223333:license:l-1","Principals":["arn:aws:iam::444455556666:root"],"n":1111222233334,"x":"7777888899990"}"#;
        let there = m.to_target(text);
        assert_eq!(
            there,
            r#"{"LicenseArn":"arn:aws:license-manager::444455556666:license:l-1","Principals":["arn:aws:iam::111122223333:root"],"n":1111222233334,"x":"7777888899990"}"#
        );
        assert_eq!(m.to_harness(&there), text);
        // Bodies that are not UTF-8 keep every other byte.
        let raw = b"\xff111122223333\xfe";
        assert_eq!(&*m.bytes_to_target(raw), b"\xff444455556666\xfe");
        assert_eq!(m.account_to_target("777788889999"), "210987654321");
        assert_eq!(m.account_to_target("123456789012"), "123456789012");
        let v = serde_json::json!({"777788889999": ["x 777788889999 y", 777788889999_u64]});
        assert_eq!(
            m.value_to_target(&v),
            serde_json::json!({"210987654321": ["x 210987654321 y", 777788889999_u64]})
        );
        assert_eq!(m.value_to_harness(&m.value_to_target(&v)), v);
    }

    #[test]
    fn a_map_is_one_to_one_over_account_ids() {
        assert!(AccountMap::new([("111122223333".into(), "1".into())]).is_err());
        assert!(AccountMap::new([
            ("111122223333".into(), "210987654321".into()),
            ("444455556666".into(), "210987654321".into()),
        ])
        .is_err());
        // Kept ids leave nothing to rewrite.
        let same = AccountMap::new([("111122223333".into(), "111122223333".into())]).unwrap();
        assert!(same.is_identity());
        assert_eq!(same.to_target("111122223333"), "111122223333");
        // One kept and another mapped onto it: two harness ids would be one target id.
        assert!(AccountMap::new([
            ("111122223333".into(), "111122223333".into()),
            ("444455556666".into(), "111122223333".into()),
        ])
        .is_err());
    }
}
