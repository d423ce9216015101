//! The fixtures format (`--fixtures FILE`, `POST /_conform/fixtures`): the accounts table SigV4
//! identity reads (SPEC 1.3) and model events applied in order (SPEC 2).
//!
//! Events are the model's own `Event` enum, read through serde, so a variant added to the model
//! is accepted here without a change to the simulator. The JSON Schema of the format
//! (`schema()`, committed as docs/fixtures.schema.json, printed by
//! `conform serve --print-fixtures-schema`) is derived from the same types.

use conform_model::Event;
use serde::{Deserialize, Serialize};

/// One access key and the account it signs for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

/// A fixtures document: SigV4 accounts and model events applied in order, all or nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    /// Access keys and the 12-digit accounts they sign for (SPEC 1.3).
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Model events (SPEC 2), applied in order.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// The JSON Schema of the fixtures format, derived from `Fixtures` and the model's types.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Fixtures)).unwrap_or_default()
}

/// `schema()` as the committed file holds it: pretty JSON and a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

impl Fixtures {
    /// Reads a fixtures document; unknown members are refused so a typo is not silently ignored.
    pub fn from_json(text: &[u8]) -> Result<Fixtures, String> {
        let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| format!("fixtures: {e}"))?;
        // serde would also read a struct from a JSON array; the format is an object.
        if !value.is_object() {
            return Err("fixtures: the document must be a JSON object".into());
        }
        let f: Fixtures = serde_json::from_value(value).map_err(|e| format!("fixtures: {e}"))?;
        for a in &f.accounts {
            if a.access_key_id.is_empty() || a.secret_access_key.is_empty() {
                return Err("fixtures: an account has an empty access key or secret".into());
            }
            if a.account_id.len() != 12 || !a.account_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "fixtures: account_id '{}' of access key '{}' is not 12 digits",
                    a.account_id, a.access_key_id
                ));
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_example_parses() {
        let text = include_bytes!("../../fixtures/example.json");
        let f = Fixtures::from_json(text).unwrap();
        assert!(!f.accounts.is_empty());
        assert!(f
            .events
            .iter()
            .any(|e| matches!(e, Event::SeedMarketplaceLicense(_))));
    }

    const COMMITTED: &str = include_str!("../../docs/fixtures.schema.json");

    /// Regenerate with `conform serve --print-fixtures-schema > docs/fixtures.schema.json`.
    #[test]
    fn the_committed_schema_is_the_one_the_types_derive() {
        assert_eq!(schema_text(), COMMITTED, "docs/fixtures.schema.json is stale");
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::validator_for(&schema()).unwrap()
    }

    #[test]
    fn the_committed_fixtures_validate_and_broken_ones_do_not() {
        let v = validator();
        for text in [
            include_str!("../../fixtures/example.json"),
            include_str!("../../fixtures/harness.json"),
        ] {
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{errors:?}");
            assert!(Fixtures::from_json(text.as_bytes()).is_ok());
        }
        for bad in [
            r#"{"acounts": []}"#,
            r#"{"events": [{"event": "no_such_event"}]}"#,
            r#"{"events": [{"event": "add_vm", "environment_id": "e", "vm_id": "v", "name": "n"}]}"#,
            r#"{"events": [{"event": "advance_clock", "seconds": "5"}]}"#,
        ] {
            let doc: serde_json::Value = serde_json::from_str(bad).unwrap();
            assert!(!v.is_valid(&doc), "{bad}");
            assert!(Fixtures::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// Every member the schema names is in the field reference, docs/fixtures.md.
    #[test]
    fn the_field_reference_names_every_member() {
        fn members(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                        out.extend(props.keys().cloned());
                    }
                    map.values().for_each(|x| members(x, out));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|x| members(x, out)),
                _ => {}
            }
        }
        let doc = include_str!("../../docs/fixtures.md");
        let mut names = Vec::new();
        members(&schema(), &mut names);
        assert!(names.len() > 20, "{names:?}");
        let missing: Vec<_> = names
            .iter()
            .filter(|n| !doc.contains(&format!("`{n}`")))
            .collect();
        assert!(missing.is_empty(), "docs/fixtures.md does not name {missing:?}");
    }

    #[test]
    fn bad_fixtures_are_refused_with_a_reason() {
        for bad in [
            r#"{"acounts": []}"#,
            r#"{"accounts": [{"access_key_id": "A", "secret_access_key": "s", "account_id": "12"}]}"#,
            r#"{"accounts": [{"access_key_id": "", "secret_access_key": "s", "account_id": "111122223333"}]}"#,
            r#"{"events": [{"event": "no_such_event"}]}"#,
            r#"[]"#,
        ] {
            assert!(Fixtures::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
