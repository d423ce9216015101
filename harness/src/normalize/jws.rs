//! A SignedToken's header and claims, decoded without checking the signature (SPEC 3.8:
//! comparisons look at the decoded header and claims, never at signature bytes; another
//! implementation signs with its own key).

use serde_json::{json, Value};

fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => return None,
    }))
}

/// base64url without padding (RFC 7515 section 2).
fn base64url(text: &str) -> Option<Vec<u8>> {
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= sextet(*c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        out.push(a);
        if chunk.len() > 2 {
            out.push(b);
        }
        if chunk.len() > 3 {
            out.push(c);
        }
    }
    Some(out)
}

/// `{"header": …, "claims": …}` of a compact JWS, or `None` when `token` is not one.
pub fn decode(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let part = |p: &str| -> Option<Value> { serde_json::from_slice(&base64url(p)?).ok() };
    Some(json!({"header": part(header)?, "claims": part(claims)?}))
}

/// `token` with its claims segment's bytes rewritten by `f` and encoded again (header and
/// signature kept as they are), or `None` when `token` is not a compact JWS.
pub fn rewrite_claims(token: &str, f: impl FnOnce(&[u8]) -> Vec<u8>) -> Option<String> {
    use base64::Engine;
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(f(&base64url(claims)?));
    Some(format!("{header}.{claims}.{signature}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_header_and_claims_whatever_the_signature() {
        // SPEC 3.8: header {"alg":"PS384","typ":"JWT"}; the signature is never looked at.
        let token = "eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJsaWNlbnNlQXJuIjoiYSJ9.c2ln";
        assert_eq!(
            decode(token),
            Some(json!({"header": {"alg": "PS384", "typ": "JWT"}, "claims": {"licenseArn": "a"}}))
        );
        assert_eq!(decode("not.a-token"), None);
        assert_eq!(decode("e30.e30.x.y"), None);
        assert_eq!(decode("e30.e30.x"), Some(json!({"header": {}, "claims": {}})));
        let renamed = rewrite_claims(token, |c| {
            String::from_utf8_lossy(c).replace("\"a\"", "\"b\"").into_bytes()
        });
        assert_eq!(
            renamed.as_deref().and_then(decode),
            Some(json!({"header": {"alg": "PS384", "typ": "JWT"}, "claims": {"licenseArn": "b"}}))
        );
        assert!(renamed.unwrap().ends_with(".c2ln"), "the signature is kept");
        assert_eq!(rewrite_claims("not.a-token", |c| c.to_vec()), None);
    }
}
