//! The fixtures format (`--fixtures FILE`, `POST /_conform/fixtures`): the accounts table SigV4
//! identity reads (SPEC 1.3) and model events applied in order (SPEC 2).
//!
//! Events are the model's own `Event` enum, read through serde, so a variant added to the model
//! is accepted here without a change to the simulator.

use conform_model::Event;
use serde::{Deserialize, Serialize};

/// One access key and the account it signs for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

/// A fixtures document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub events: Vec<Event>,
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
