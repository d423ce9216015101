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

    /// A cached decode answers exactly as a fresh one, refusals included, whatever state the
    /// world is in when it is answered.
    #[test]
    fn a_cached_decode_answers_as_world_handle_does() {
        let bodies: [&[u8]; 3] = [
            br#"{"LicenseArn": "arn:aws:license-manager::111122223333:license:l-0"}"#,
            br#"{"LicenseArn": 7}"#,
            b"not json",
        ];
        let mut cached = World::new(3, Policy::default());
        let mut fresh = World::new(3, Policy::default());
        let caller = fresh.default_caller();
        for _ in 0..2 {
            for body in bodies {
                let a = cached.handle_decoded(&caller, decode(Service::LicenseManager, "GetLicense", body));
                let b = fresh.handle(&caller, Service::LicenseManager, "GetLicense", body);
                assert_eq!(a, b);
            }
        }
    }
}
