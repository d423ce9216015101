//! The reference model's requests decoded once per thread: [`World::decode`] reads no state,
//! so the same service, operation and body always decode to the same request, and an
//! exploration or a campaign sends the same bodies from many states (decoding was a sixth of
//! an explored transition). The target's requests are never served from here.

use std::cell::RefCell;
use std::hash::BuildHasher;

use conform_model::{Decoded, Service, World};

/// Decoded requests kept per thread before the cache starts again empty.
const CAPACITY: usize = 8192;

struct Entry {
    service: Service,
    operation: String,
    body: Vec<u8>,
    decoded: Decoded,
}

thread_local! {
    static CACHE: RefCell<std::collections::HashMap<u64, Entry>> = RefCell::default();
}

/// `World::decode(service, operation, body)`, from this thread's cache where it was decoded
/// before.
pub(crate) fn decode(service: Service, operation: &str, body: &[u8]) -> Decoded {
    let key = foldhash::fast::FixedState::default().hash_one((service, operation, body));
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(e) = cache.get(&key) {
            if e.service == service && e.operation == operation && e.body == body {
                return e.decoded.clone();
            }
            // Another request with the same hash: decoded each time, the first one kept.
            return World::decode(service, operation, body);
        }
        let decoded = World::decode(service, operation, body);
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Entry {
                service,
                operation: operation.to_string(),
                body: body.to_vec(),
                decoded: decoded.clone(),
            },
        );
        decoded
    })
}

#[cfg(test)]
mod tests {
    use conform_model::{Policy, World};

    use super::*;

    /// A cached decode answers exactly as a fresh one, refusals included, while the world it
    /// is answered in changes: a license read before and after it exists, the same
    /// CreateLicense decoded twice, a body of the wrong type and one that is no JSON.
    #[test]
    fn a_cached_decode_answers_as_world_handle_does() {
        let create = crate::specs::cases::valid_requests(Service::LicenseManager, "CreateLicense")
            .into_iter()
            .next()
            .expect("a valid CreateLicense");
        let create = serde_json::to_vec(&create).expect("json");
        let mut cached = World::new(3, Policy::default());
        let mut fresh = World::new(3, Policy::default());
        let caller = fresh.default_caller();
        // The ARN the create will give, read from a world of the same seed.
        let mut probe = World::new(3, Policy::default());
        let arn = probe
            .handle(&caller, Service::LicenseManager, "CreateLicense", &create)
            .body["LicenseArn"]
            .clone();
        let get = serde_json::to_vec(&serde_json::json!({ "LicenseArn": arn })).expect("json");
        let calls: [(&str, &[u8]); 5] = [
            ("GetLicense", &get),
            ("CreateLicense", &create),
            ("GetLicense", &get),
            ("GetLicense", br#"{"LicenseArn": 7}"#),
            ("GetLicense", b"not json"),
        ];
        let mut answered = Vec::new();
        for _ in 0..2 {
            for (op, body) in calls {
                let a = cached.handle_decoded(&caller, decode(Service::LicenseManager, op, body));
                let b = fresh.handle(&caller, Service::LicenseManager, op, body);
                assert_eq!(a, b, "{op} {}", String::from_utf8_lossy(body));
                answered.push(a.is_error());
            }
        }
        // The first read is refused, the same read after the create answered.
        assert_eq!(answered[..3], [true, false, false]);
        assert_eq!(
            cached.lm().licenses().len(),
            1,
            "one license, the second create a replay"
        );
    }
}
