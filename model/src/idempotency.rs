//! ClientToken idempotency (SPEC 3.4 `idempotency`): key = (account, operation, ClientToken);
//! only successful replies are recorded; a hit with the same canonical request replays the
//! recorded reply whatever the state is now; different parameters are refused.

use std::any::Any;
use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::clock::Millis;
use crate::FastMap;

#[derive(Clone)]
struct Record {
    /// The request with its ClientToken cleared.
    request: Arc<dyn Any + Send + Sync>,
    reply: Arc<dyn Any + Send + Sync>,
    expires_ms: Millis,
    /// A copy with a request and reply of its own (`copy_of::<Q, R>`).
    detach: fn(&Record) -> Record,
}

fn copy_of<Q, R>(r: &Record) -> Record
where
    Q: Clone + Send + Sync + 'static,
    R: Clone + Send + Sync + 'static,
{
    match (r.request.downcast_ref::<Q>(), r.reply.downcast_ref::<R>()) {
        (Some(request), Some(reply)) => Record {
            request: Arc::new(request.clone()),
            reply: Arc::new(reply.clone()),
            ..r.clone()
        },
        // `detach` is set with the types `record` was given: unreachable, and a shared
        // copy is still a correct one.
        _ => r.clone(),
    }
}

/// The recorded replies of one world.
#[derive(Clone, Default)]
pub struct Idempotency {
    records: FastMap<(String, &'static str, String), Record>,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("records", &self.records.len())
            .finish()
    }
}

/// What a lookup found.
pub enum Lookup<R> {
    /// No live record: run the operation.
    Miss,
    /// Same parameters: replay this reply.
    Replay(R),
    /// Same token, different parameters.
    Mismatch,
}

impl Idempotency {
    pub fn lookup<Q, R>(
        &self,
        account: &str,
        op: &'static str,
        token: &str,
        request: &Q,
        now: Millis,
    ) -> Lookup<R>
    where
        Q: PartialEq + 'static,
        R: Clone + 'static,
    {
        let key: &dyn RecordKey = &(account, op, token);
        match self.records.get(key) {
            Some(r) if r.expires_ms > now => {
                let same = r.request.downcast_ref::<Q>().is_some_and(|q| q == request);
                match (same, r.reply.downcast_ref::<R>()) {
                    (true, Some(reply)) => Lookup::Replay(reply.clone()),
                    _ => Lookup::Mismatch,
                }
            }
            _ => Lookup::Miss,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record<Q, R>(
        &mut self,
        account: &str,
        op: &'static str,
        token: &str,
        request: Q,
        reply: R,
        expires_ms: Millis,
    ) where
        Q: Clone + Send + Sync + 'static,
        R: Clone + Send + Sync + 'static,
    {
        let key = (account.to_string(), op, token.to_string());
        self.records.insert(
            key,
            Record {
                request: Arc::new(request),
                reply: Arc::new(reply),
                expires_ms,
                detach: copy_of::<Q, R>,
            },
        );
    }

    /// A copy whose records share no request or reply with these ([`crate::World::detached`]).
    pub(crate) fn detached(&self) -> Idempotency {
        Idempotency {
            records: self
                .records
                .iter()
                .map(|(key, r)| (key.clone(), (r.detach)(r)))
                .collect(),
        }
    }
}

/// One record as a snapshot reads it (`crate::snapshot`): its key, the typed request and reply
/// (the operation says which types), and when it stops replaying.
pub(crate) struct Entry<'a> {
    pub(crate) account: &'a str,
    pub(crate) op: &'static str,
    pub(crate) token: &'a str,
    pub(crate) request: &'a (dyn Any + Send + Sync),
    pub(crate) reply: &'a (dyn Any + Send + Sync),
    pub(crate) expires_ms: Millis,
}

impl Idempotency {
    /// Every record, in no particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.records.iter().map(|((account, op, token), r)| Entry {
            account,
            op,
            token,
            request: &*r.request,
            reply: &*r.reply,
            expires_ms: r.expires_ms,
        })
    }
}

/// A borrowed (account, operation, ClientToken) key, so a lookup builds no Strings. It compares
/// and hashes field by field, exactly as the owned tuple does, which `Borrow` requires.
trait RecordKey {
    fn parts(&self) -> (&str, &str, &str);
}

impl RecordKey for (String, &'static str, String) {
    fn parts(&self) -> (&str, &str, &str) {
        (&self.0, self.1, &self.2)
    }
}

impl RecordKey for (&str, &str, &str) {
    fn parts(&self) -> (&str, &str, &str) {
        *self
    }
}

impl<'a> Borrow<dyn RecordKey + 'a> for (String, &'static str, String) {
    fn borrow(&self) -> &(dyn RecordKey + 'a) {
        self
    }
}

impl PartialEq for dyn RecordKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn RecordKey + '_ {}

impl Hash for dyn RecordKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (account, op, token) = self.parts();
        account.hash(state);
        op.hash(state);
        token.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_copy_replays_alike_from_requests_and_replies_of_its_own() {
        let mut ids = Idempotency::default();
        ids.record(
            "111122223333",
            "CheckoutLicense",
            "t",
            7u32,
            "reply".to_string(),
            10,
        );
        let copy = ids.detached();
        let key: &dyn RecordKey = &("111122223333", "CheckoutLicense", "t");
        let (a, b) = (&ids.records[key], &copy.records[key]);
        assert!(!Arc::ptr_eq(&a.request, &b.request) && !Arc::ptr_eq(&a.reply, &b.reply));
        let replay = copy.lookup::<u32, String>("111122223333", "CheckoutLicense", "t", &7, 0);
        assert!(matches!(replay, Lookup::Replay(r) if r == "reply"));
        let other = copy.lookup::<u32, String>("111122223333", "CheckoutLicense", "t", &8, 0);
        assert!(matches!(other, Lookup::Mismatch));
    }
}
