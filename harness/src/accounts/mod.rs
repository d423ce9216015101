//! The accounts the harness speaks as: one table of account ids and the access keys it signs
//! with. The CLI, the embedded simulator, the tests and the benches all read it from here, so
//! an emulator with its own account table needs only one place to look.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::http::Credentials;

mod map;

pub use map::{is_account_id, AccountMap};

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

/// One role as a target knows it: its account id there and the keys it signs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetAccount {
    pub who: Who,
    pub account_id: String,
    pub credentials: Credentials,
}

/// The accounts a run signs as on one target, a row per role in [`Who::ALL`] order. The
/// built-in table is [`ACCOUNTS`]; `--accounts FILE` gives another ([`AccountTable::from_fixtures`]).
/// Where a role's id on the target is not the harness's, [`AccountTable::map`] rewrites it both
/// ways on the wire (`HttpTarget::with_accounts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountTable {
    rows: Vec<TargetAccount>,
}

impl Default for AccountTable {
    fn default() -> Self {
        AccountTable::builtin()
    }
}

impl AccountTable {
    /// [`ACCOUNTS`]: the ids and keys the embedded simulator and `fixtures/harness.json` have.
    pub fn builtin() -> AccountTable {
        let rows = ACCOUNTS
            .iter()
            .map(|a| TargetAccount {
                who: a.who,
                account_id: a.account_id.to_string(),
                credentials: Credentials {
                    access_key_id: a.access_key_id.to_string(),
                    secret_access_key: a.secret_access_key.to_string(),
                },
            })
            .collect();
        AccountTable { rows }
    }

    /// The table of a fixtures document's `accounts` (`--accounts FILE`; other members, such as
    /// `events`, are ignored), over the built-in one. A row whose `account_id` is one of the
    /// harness's gives that role's keys; the other rows are the target's own accounts and take,
    /// in order, the roles no row named (seller, buyer, stranger). A role no row takes keeps its
    /// built-in id and keys.
    pub fn from_fixtures(text: &str) -> Result<AccountTable, String> {
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("accounts: {e}"))?;
        let rows = doc.get("accounts").cloned().unwrap_or(serde_json::Value::Null);
        let rows: Vec<Row> = serde_json::from_value(rows).map_err(|e| {
            format!("accounts: the document needs an `accounts` list as in the fixtures format: {e}")
        })?;
        let mut table = AccountTable::builtin();
        let mut named = [false; 3];
        let mut own = Vec::new();
        let mut seen = BTreeMap::new();
        for row in rows {
            if row.access_key_id.is_empty() || row.secret_access_key.is_empty() {
                return Err(format!("accounts: account {} has an empty key", row.account_id));
            }
            if !is_account_id(&row.account_id) {
                return Err(format!(
                    "accounts: account id {:?} is not 12 digits",
                    row.account_id
                ));
            }
            if seen.insert(row.account_id.clone(), ()).is_some() {
                return Err(format!("accounts: account {} has two rows", row.account_id));
            }
            match ACCOUNTS.iter().position(|a| a.account_id == row.account_id) {
                Some(i) => {
                    named[i] = true;
                    table.rows[i].credentials = row.credentials();
                }
                None => own.push(row),
            }
        }
        let free: Vec<usize> = (0..3).filter(|i| !named[*i]).collect();
        if own.len() > free.len() {
            return Err(format!(
                "accounts: {} accounts of the target's own, but only {} role(s) left for them (seller, buyer, stranger)",
                own.len(),
                free.len()
            ));
        }
        for (i, row) in free.into_iter().zip(own) {
            table.rows[i].credentials = row.credentials();
            table.rows[i].account_id = row.account_id;
        }
        Ok(table)
    }

    /// The rows, in [`Who::ALL`] order.
    pub fn rows(&self) -> &[TargetAccount] {
        &self.rows
    }

    /// The signing keys by the target's account id, as [`crate::http::HttpTarget::new`] takes them.
    pub fn credentials(&self) -> BTreeMap<String, Credentials> {
        self.rows
            .iter()
            .map(|r| (r.account_id.clone(), r.credentials.clone()))
            .collect()
    }

    /// The harness's ids → the target's.
    pub fn map(&self) -> AccountMap {
        let pairs = self
            .rows
            .iter()
            .map(|r| (r.who.account().to_string(), r.account_id.clone()));
        // Each row's id is 12 digits and appears once, and the built-in ids are distinct.
        AccountMap::new(pairs).unwrap_or_default()
    }

    /// One line per account for the start of a run: role, account id, access key (never the
    /// secret), and the harness's id where the target's differs.
    pub fn describe(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| {
                let role = format!("{:?}", r.who).to_lowercase();
                let mut line = format!("{role:<8} {}  {}", r.account_id, r.credentials.access_key_id);
                if r.account_id != r.who.account() {
                    line.push_str(&format!(
                        "  (the harness's {}, rewritten both ways)",
                        r.who.account()
                    ));
                }
                line
            })
            .collect()
    }
}

impl Row {
    fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_file_sets_the_keys_of_the_harness_accounts() {
        let text = r#"{"accounts": [{"access_key_id": "AKIDMINE", "secret_access_key": "s", "account_id": "444455556666"}], "events": []}"#;
        let table = AccountTable::from_fixtures(text).unwrap();
        let keys = table.credentials();
        assert_eq!(keys["444455556666"].access_key_id, "AKIDMINE");
        assert_eq!(keys["111122223333"].access_key_id, "AKIDCONFORMSELLER");
        assert!(table.map().is_identity());
        assert!(table
            .describe()
            .iter()
            .any(|l| l.starts_with("buyer") && l.ends_with("AKIDMINE")));
        // The committed table is the built-in one.
        assert_eq!(
            AccountTable::from_fixtures(include_str!("../../../fixtures/harness.json")).unwrap(),
            AccountTable::builtin()
        );
        assert_eq!(AccountTable::builtin().credentials(), credentials());
        assert!(AccountTable::from_fixtures("[]").is_err());
        assert!(AccountTable::from_fixtures(
            r#"{"accounts": [{"access_key_id": "", "secret_access_key": "s", "account_id": "444455556666"}]}"#
        )
        .is_err());
    }

    #[test]
    fn the_targets_own_accounts_take_the_roles_no_row_named_in_order() {
        let row = |id: &str, key: &str| {
            format!(r#"{{"access_key_id": "{key}", "secret_access_key": "s", "account_id": "{id}"}}"#)
        };
        let text = format!(
            r#"{{"accounts": [{}, {}, {}]}}"#,
            row("210987654321", "AKIDA"),
            row("444455556666", "AKIDB"),
            row("123456789012", "AKIDC")
        );
        let table = AccountTable::from_fixtures(&text).unwrap();
        let ids: Vec<&str> = table.rows().iter().map(|r| r.account_id.as_str()).collect();
        assert_eq!(ids, ["210987654321", "444455556666", "123456789012"]);
        let m = table.map();
        assert_eq!(m.account_to_target(Who::Seller.account()), "210987654321");
        assert_eq!(m.account_to_target(Who::Buyer.account()), "444455556666");
        assert_eq!(m.account_to_target(Who::Stranger.account()), "123456789012");
        assert_eq!(table.credentials()["123456789012"].access_key_id, "AKIDC");
        assert!(table.describe()[0].contains("the harness's 111122223333"));
        // Four accounts of its own for three roles, a short id, a repeated id: refused.
        let four = format!(
            r#"{{"accounts": [{}, {}, {}, {}]}}"#,
            row("210987654321", "A"),
            row("210987654322", "B"),
            row("210987654323", "C"),
            row("210987654324", "D")
        );
        assert!(AccountTable::from_fixtures(&four).unwrap_err().contains("role"));
        let short = format!(r#"{{"accounts": [{}]}}"#, row("2109", "A"));
        assert!(AccountTable::from_fixtures(&short)
            .unwrap_err()
            .contains("12 digits"));
        let twice = format!(
            r#"{{"accounts": [{}, {}]}}"#,
            row("210987654321", "A"),
            row("210987654321", "B")
        );
        assert!(AccountTable::from_fixtures(&twice)
            .unwrap_err()
            .contains("two rows"));
    }

    #[test]
    fn every_role_has_its_own_row_and_the_harness_fixture_agrees() {
        for who in Who::ALL {
            assert_eq!(who.keys().who, who);
        }
        // fixtures/harness.json is the same table for `conform serve --fixtures`.
        let text = include_str!("../../../fixtures/harness.json");
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
