//! Keyset pagination shared by every list operation (SPEC 3.2, 4.2): a `NextToken` names the query
//! it belongs to (a hash of its filter arguments) and the creation sequence of the last item
//! returned, under a MAC so a forged or foreign token is refused.

use sha2::{Digest, Sha256};

use crate::clock::Millis;

/// A decoded page token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageToken {
    pub last_seq: u64,
    pub issued_ms: Millis,
}

/// Hashes the arguments that define a query (everything but NextToken and MaxResults).
pub fn query_hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    first_u64(&h.finalize())
}

fn first_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

fn mac(secret: u64, query: u64, last_seq: u64, issued_ms: Millis) -> u64 {
    let mut h = Sha256::new();
    h.update(b"conform-page-token");
    h.update(secret.to_le_bytes());
    h.update(query.to_le_bytes());
    h.update(last_seq.to_le_bytes());
    h.update(issued_ms.to_le_bytes());
    first_u64(&h.finalize())
}

/// Encodes a token for `query` after the item with creation sequence `last_seq`.
pub fn encode(secret: u64, query: u64, last_seq: u64, issued_ms: Millis) -> String {
    format!(
        "{last_seq:016x}{issued_ms:016x}{:016x}",
        mac(secret, query, last_seq, issued_ms)
    )
}

/// Decodes a token, or `None` when it is malformed, forged, or from another query.
pub fn decode(secret: u64, query: u64, token: &str) -> Option<PageToken> {
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let last_seq = u64::from_str_radix(&token[0..16], 16).ok()?;
    let issued_ms = u64::from_str_radix(&token[16..32], 16).ok()? as Millis;
    let tag = u64::from_str_radix(&token[32..48], 16).ok()?;
    (tag == mac(secret, query, last_seq, issued_ms)).then_some(PageToken { last_seq, issued_ms })
}

/// One page of `items` (already in creation order, with their sequence numbers) after `after`.
/// Returns the page and the sequence of its last item when more remain.
pub fn page<T>(
    items: impl Iterator<Item = (u64, T)>,
    after: Option<u64>,
    max: usize,
) -> (Vec<T>, Option<u64>) {
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (seq, item) in items.filter(|(seq, _)| after.is_none_or(|a| *seq > a)) {
        if out.len() == max {
            more = true;
            break;
        }
        last = Some(seq);
        out.push(item);
    }
    (out, if more { last } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_3_2_tokens_are_bound_to_their_query_and_unforgeable() {
        let q = query_hash(&["account", "ProductSKU=a"]);
        let other = query_hash(&["account", "ProductSKU=b"]);
        let t = encode(9, q, 41, 1000);
        assert_eq!(
            decode(9, q, &t),
            Some(PageToken {
                last_seq: 41,
                issued_ms: 1000
            })
        );
        assert_eq!(decode(9, other, &t), None, "a token from another query");
        assert_eq!(decode(8, q, &t), None, "a token from another world");
        let mut forged = t.clone();
        forged.replace_range(0..16, &format!("{:016x}", 3));
        assert_eq!(decode(9, q, &forged), None, "a forged position");
        assert_eq!(decode(9, q, "zz"), None);
    }

    #[test]
    fn spec_3_2_pages_are_keyset_based_and_the_last_has_no_token() {
        let items = || (1..=5u64).map(|s| (s * 10, s));
        let (p1, next) = page(items(), None, 2);
        assert_eq!(p1, vec![1, 2]);
        assert_eq!(next, Some(20));
        let (p2, next) = page(items(), next, 3);
        assert_eq!(p2, vec![3, 4, 5]);
        assert_eq!(next, None, "the last page has no NextToken");
        let (p, next) = page(items(), None, 5);
        assert_eq!((p.len(), next), (5, None));
    }
}
