//! What replaying a world's requests needs besides the requests and the clock instants: where
//! its counters stood (issue #18, `conform serve --state-dir`).
//!
//! The world is deterministic, so the same requests at the same instants rebuild the same
//! world. A journal that keeps only the requests that can change state (not the refused ones)
//! would still drift: every reply, refused or not, draws a request id, so a replay that skips a
//! refusal hands later replies other ids. Saving the counters before each kept request and
//! putting them back before replaying it makes the replay exact whatever was skipped.
//!
//! A journal is bounded by a snapshot of the whole world (`crate::snapshot`); the records after
//! it replay with their counters as here. See docs/state-journal.md.

use crate::ids::StreamPositions;
use crate::world::World;

/// The world's counters: the creation sequence (SPEC 2) and the id streams' positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub next_seq: u64,
    pub streams: StreamPositions,
}

impl World {
    /// Where the world's counters stand now.
    pub fn counters(&self) -> Counters {
        Counters {
            next_seq: self.next_seq,
            streams: self.ids.positions(),
        }
    }

    /// Puts the counters back where `counters` saw them (a world of the same seed).
    pub fn set_counters(&mut self, counters: Counters) {
        self.next_seq = counters.next_seq;
        self.ids.seek(counters.streams);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Caller, Policy, Service};

    const CREATE: &[u8] = br#"{"LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "sku",
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 1}],
        "Beneficiary": "b", "ConsumptionConfiguration": {"ProvisionalConfiguration":
        {"MaxTimeToLiveInMinutes": 60}}, "ClientToken": "c1"}"#;

    #[test]
    fn a_replay_that_skips_refusals_matches_once_the_counters_are_put_back() {
        let caller = Caller::new("111122223333", "us-east-1");
        let lm = Service::LicenseManager;
        let mut live = World::new(3, Policy::default());
        let refused = live.handle(
            &caller,
            lm,
            "CheckInLicense",
            br#"{"LicenseConsumptionToken": "x"}"#,
        );
        assert!(refused.is_error());
        let before = live.counters();
        let created = live.handle(&caller, lm, "CreateLicense", CREATE);
        assert_eq!(created.status, 200);

        let mut skipped = World::new(3, Policy::default());
        assert_ne!(skipped.counters(), before, "the refusal drew a request id");
        let drifted = skipped.clone().handle(&caller, lm, "CreateLicense", CREATE);
        assert_ne!(drifted.request_id, created.request_id);

        skipped.set_counters(before);
        let replayed = skipped.handle(&caller, lm, "CreateLicense", CREATE);
        assert_eq!(replayed.request_id, created.request_id);
        assert_eq!(replayed.body, created.body);
        assert_eq!(skipped.dump(), live.dump());
        assert_eq!(skipped.counters(), live.counters());
    }
}
