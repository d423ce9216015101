//! The accounts the harness speaks as: one table of account ids and the access keys it signs
//! with. The CLI, the embedded simulator, the tests and the benches all read it from here, so
//! an emulator with its own account table needs only one place to look.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::http::Credentials;

/// Who sends a step: the seller (issuer), a buyer (grantee), a stranger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum Who {
    Seller,
    Buyer,
    Stranger,
}

impl Who {
    /// Every role, in table order.
    pub const ALL: [Who; 3] = [Who::Seller, Who::Buyer, Who::Stranger];

    /// The 12-digit account the role acts as.
    pub fn account(self) -> &'static str {
        self.keys().account_id
    }

    /// The role's row of [`ACCOUNTS`].
    pub fn keys(self) -> &'static AccountKeys {
        match self {
            Who::Seller => &ACCOUNTS[0],
            Who::Buyer => &ACCOUNTS[1],
            Who::Stranger => &ACCOUNTS[2],
        }
    }
}

/// One account of the table: who it is, its id, and the keys requests are signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountKeys {
    pub who: Who,
    pub account_id: &'static str,
    pub access_key_id: &'static str,
    pub secret_access_key: &'static str,
}

/// The harness's accounts, with the keys the embedded simulator knows them by (the same keys as
/// `fixtures/harness.json`).
pub const ACCOUNTS: [AccountKeys; 3] = [
    AccountKeys {
        who: Who::Seller,
        account_id: "111122223333",
        access_key_id: "AKIDCONFORMSELLER",
        secret_access_key: "conform-seller-secret",
    },
    AccountKeys {
        who: Who::Buyer,
        account_id: "444455556666",
        access_key_id: "AKIDCONFORMBUYER",
        secret_access_key: "conform-buyer-secret",
    },
    AccountKeys {
        who: Who::Stranger,
        account_id: "777788889999",
        access_key_id: "AKIDCONFORMSTRANGER",
        secret_access_key: "conform-stranger-secret",
    },
];

/// The signing keys of every account, keyed by account id, as [`crate::http::HttpTarget`]
/// takes them.
pub fn credentials() -> BTreeMap<String, Credentials> {
    ACCOUNTS
        .iter()
        .map(|a| {
            (
                a.account_id.to_string(),
                Credentials {
                    access_key_id: a.access_key_id.to_string(),
                    secret_access_key: a.secret_access_key.to_string(),
                },
            )
        })
        .collect()
}

/// One row of the fixtures' `accounts` (`docs/fixtures.md`), as `--accounts FILE` reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    access_key_id: String,
    secret_access_key: String,
    account_id: String,
}

/// The signing keys of a fixtures document's `accounts` (`--accounts FILE`; other members, such
/// as `events`, are ignored) over the built-in ones: a row whose `account_id` is one of the
/// harness's accounts gives the keys it signs with. The harness's account ids are fixed (the
/// reference model's ARNs carry them), so a row for any other account is refused.
pub fn credentials_from(text: &str) -> Result<BTreeMap<String, Credentials>, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("accounts: {e}"))?;
    let rows = doc.get("accounts").cloned().unwrap_or(serde_json::Value::Null);
    let rows: Vec<Row> = serde_json::from_value(rows).map_err(|e| {
        format!("accounts: the document needs an `accounts` list as in the fixtures format: {e}")
    })?;
    let mut out = credentials();
    for row in rows {
        if row.access_key_id.is_empty() || row.secret_access_key.is_empty() {
            return Err(format!("accounts: account {} has an empty key", row.account_id));
        }
        let Some(slot) = out.get_mut(&row.account_id) else {
            let ids: Vec<&str> = ACCOUNTS.iter().map(|a| a.account_id).collect();
            return Err(format!(
                "accounts: {} is not one of the harness's accounts ({})",
                row.account_id,
                ids.join(", ")
            ));
        };
        *slot = Credentials {
            access_key_id: row.access_key_id,
            secret_access_key: row.secret_access_key,
        };
    }
    Ok(out)
}

/// One line per account for the start of a run: role, account id, access key (never the secret).
pub fn describe(credentials: &BTreeMap<String, Credentials>) -> Vec<String> {
    ACCOUNTS
        .iter()
        .map(|a| {
            let key = credentials
                .get(a.account_id)
                .map_or("(unsigned)", |c| c.access_key_id.as_str());
            format!(
                "{:<8} {}  {key}",
                format!("{:?}", a.who).to_lowercase(),
                a.account_id
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_file_sets_the_keys_of_the_harness_accounts() {
        let text = r#"{"accounts": [{"access_key_id": "AKIDMINE", "secret_access_key": "s", "account_id": "444455556666"}], "events": []}"#;
        let keys = credentials_from(text).unwrap();
        assert_eq!(keys["444455556666"].access_key_id, "AKIDMINE");
        assert_eq!(keys["111122223333"].access_key_id, "AKIDCONFORMSELLER");
        assert!(describe(&keys)
            .iter()
            .any(|l| l.starts_with("buyer") && l.ends_with("AKIDMINE")));
        // The committed table is the built-in one.
        assert_eq!(
            credentials_from(include_str!("../../fixtures/harness.json")).unwrap(),
            credentials()
        );
        let other = r#"{"accounts": [{"access_key_id": "A", "secret_access_key": "s", "account_id": "000000000000"}]}"#;
        assert!(credentials_from(other).unwrap_err().contains("not one of"));
        assert!(credentials_from("[]").is_err());
        assert!(credentials_from(
            r#"{"accounts": [{"access_key_id": "", "secret_access_key": "s", "account_id": "444455556666"}]}"#
        )
        .is_err());
    }

    #[test]
    fn every_role_has_its_own_row_and_the_harness_fixture_agrees() {
        for who in Who::ALL {
            assert_eq!(who.keys().who, who);
        }
        // fixtures/harness.json is the same table for `conform serve --fixtures`.
        let text = include_str!("../../fixtures/harness.json");
        let fixture: serde_json::Value = serde_json::from_str(text).unwrap();
        let rows: Vec<(String, String, String)> = fixture["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let s = |k: &str| a[k].as_str().unwrap().to_string();
                (s("account_id"), s("access_key_id"), s("secret_access_key"))
            })
            .collect();
        let table: Vec<(String, String, String)> = ACCOUNTS
            .iter()
            .map(|a| {
                (
                    a.account_id.into(),
                    a.access_key_id.into(),
                    a.secret_access_key.into(),
                )
            })
            .collect();
        assert_eq!(rows, table);
    }
}
