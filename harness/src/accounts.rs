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

#[cfg(test)]
mod tests {
    use super::*;

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
