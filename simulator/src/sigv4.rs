//! SigV4 identity (SPEC 1.3): who a request comes from, and, with `require_auth`, whether its
//! signature holds.
//!
//! The key derivation and the HMAC come from the `aws-sigv4` crate. Its request signer cannot
//! verify (it decides itself which headers to sign), so the canonical request is rebuilt here
//! from exactly the headers the client listed in `SignedHeaders`, as the SigV4 specification
//! describes it for services other than S3.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, Uri};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// How far a request's `X-Amz-Date` may be from the server's wall clock (SPEC 1.3).
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SigV4's unreserved characters: everything else is percent-encoded.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The credential scope of an `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub credential: Credential,
    /// Lowercase header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// 64 lowercase hex digits.
    pub signature: String,
}

/// Why a request is refused when signatures are required (SPEC 1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFault {
    /// No `Authorization` header at all.
    Missing,
    /// The header or the values it relies on do not parse.
    Malformed(String),
    /// The access key is not in the accounts table.
    UnknownKey(String),
    /// The signature does not match, or the request is too old or too new.
    BadSignature(String),
}

/// Parses the `Authorization` header; the error says what is malformed.
pub fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| format!("Authorization header must start with '{ALGORITHM} '"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("Authorization component '{}' is not key=value", part.trim()))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => return Err(format!("unknown Authorization component '{other}'")),
        };
        if slot.replace(val.to_string()).is_some() {
            return Err(format!("Authorization component '{key}' given twice"));
        }
    }
    let credential = credential.ok_or("Authorization header requires a Credential parameter")?;
    let signed = signed.ok_or("Authorization header requires a SignedHeaders parameter")?;
    let signature = signature.ok_or("Authorization header requires a Signature parameter")?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts.as_slice() else {
        return Err("Credential must be <key>/<date>/<region>/<service>/aws4_request".into());
    };
    if *terminator != "aws4_request" {
        return Err("Credential must end with aws4_request".into());
    }
    if access_key.is_empty() || region.is_empty() || service.is_empty() {
        return Err("Credential has an empty component".into());
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("Credential date '{date}' is not YYYYMMDD"));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    if signed_headers.iter().any(|h| {
        h.is_empty()
            || h.bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())
    }) {
        return Err("SignedHeaders must be lowercase names separated by ';'".into());
    }
    if !signed_headers.iter().any(|h| h == "host") {
        return Err("SignedHeaders must include host".into());
    }
    if signature.len() != 64 || !signature.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("Signature must be 64 lowercase hex digits".into());
    }
    Ok(Authorization {
        credential: Credential {
            access_key: access_key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        },
        signed_headers,
        signature,
    })
}

/// Parses an `X-Amz-Date` value (`YYYYMMDDTHHMMSSZ`).
pub fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = value.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let date = chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(4..6)?, digits(6..8)?)?;
    let time = date.and_hms_opt(digits(9..11)?, digits(11..13)?, digits(13..15)?)?;
    let secs = u64::try_from(time.and_utc().timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Everything of a request that its signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies a parsed signature with the access key's secret, against the wall clock `now`.
pub fn verify(
    auth: &Authorization,
    secret: &str,
    req: &SignedRequest,
    now: SystemTime,
) -> Result<(), AuthFault> {
    let amz_date = req
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AuthFault::Malformed("a signed request needs an X-Amz-Date header".into()))?;
    let when = parse_amz_date(amz_date)
        .ok_or_else(|| AuthFault::Malformed(format!("X-Amz-Date '{amz_date}' is not YYYYMMDDTHHMMSSZ")))?;
    let skew = now.duration_since(when).unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(AuthFault::BadSignature(format!(
            "Signature expired: {amz_date} is more than 5 minutes from the server time"
        )));
    }
    if !amz_date.starts_with(&auth.credential.date) {
        return Err(AuthFault::BadSignature(
            "the Credential date does not match X-Amz-Date".into(),
        ));
    }
    let canonical = canonical_request(auth, req)?;
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.credential.date, auth.credential.region, auth.credential.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical.as_bytes())
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        secret,
        when,
        &auth.credential.region,
        &auth.credential.service,
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthFault::BadSignature(
            "The request signature we calculated does not match the signature you provided.".into(),
        ))
    }
}

/// The canonical request of SigV4 over exactly the headers the client signed.
fn canonical_request(auth: &Authorization, req: &SignedRequest) -> Result<String, AuthFault> {
    let mut out = String::new();
    out.push_str(req.method.as_str());
    out.push('\n');
    out.push_str(&canonical_uri(req.uri.path()));
    out.push('\n');
    out.push_str(&canonical_query(req.uri.query().unwrap_or("")));
    out.push('\n');
    for name in &auth.signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                v.to_str()
                    .map(collapse_spaces)
                    .map_err(|_| AuthFault::Malformed(format!("signed header '{name}' is not text")))
            })
            .collect::<Result<_, _>>()?;
        if values.is_empty() {
            return Err(AuthFault::Malformed(format!(
                "signed header '{name}' is not in the request"
            )));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&auth.signed_headers.join(";"));
    out.push('\n');
    match req
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(declared) => out.push_str(declared),
        None => out.push_str(&hex_sha256(req.body)),
    }
    Ok(out)
}

/// Services other than S3 encode each path segment of the (already encoded) path once more.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(|seg| utf8_percent_encode(seg, SIGV4_ENCODE).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let enc = |s: &str| {
                let decoded = percent_decode_str(s).decode_utf8_lossy();
                utf8_percent_encode(&decoded, SIGV4_ENCODE).to_string()
            };
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hex_sha256(bytes: &[u8]) -> String {
    conform_model::ids::hex(&Sha256::digest(bytes))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of AWS's SigV4 documentation ("Examples of the complete Signature
    // Version 4 signing process", IAM ListUsers, GET with a query string).
    const DOC_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn doc_request() -> (Method, Uri, HeaderMap) {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08".parse().unwrap();
        (Method::GET, uri, headers)
    }

    fn doc_auth() -> Authorization {
        parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        )
        .unwrap()
    }

    #[test]
    fn spec_1_3_verifies_the_documented_example() {
        let (method, uri, headers) = doc_request();
        let req = SignedRequest {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let now = parse_amz_date("20150830T123700Z").unwrap();
        assert_eq!(verify(&doc_auth(), DOC_SECRET, &req, now), Ok(()));
        let wrong = verify(&doc_auth(), "not-the-secret", &req, now);
        assert!(matches!(wrong, Err(AuthFault::BadSignature(_))), "{wrong:?}");
    }

    #[test]
    fn spec_1_3_skew_over_five_minutes_is_refused() {
        let (method, uri, headers) = doc_request();
        let req = SignedRequest {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let late = parse_amz_date("20150830T124101Z").unwrap();
        assert!(matches!(
            verify(&doc_auth(), DOC_SECRET, &req, late),
            Err(AuthFault::BadSignature(_))
        ));
        let early = parse_amz_date("20150830T123059Z").unwrap();
        assert!(matches!(
            verify(&doc_auth(), DOC_SECRET, &req, early),
            Err(AuthFault::BadSignature(_))
        ));
    }

    #[test]
    fn spec_1_3_malformed_headers_are_told_apart() {
        let bad = [
            "",
            "AWS4-HMAC-SHA1 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request",
            "AWS4-HMAC-SHA256 Credential=a/2015083/r/s/aws4_request, SignedHeaders=host, Signature=",
            "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4, SignedHeaders=host, Signature=",
            "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature=XYZ",
        ];
        for b in bad {
            assert!(parse_authorization(b).is_err(), "{b:?} parsed");
        }
        let ok = doc_auth();
        assert_eq!(ok.credential.access_key, "AKIDEXAMPLE");
        assert_eq!(ok.credential.region, "us-east-1");
        assert_eq!(ok.signed_headers, ["content-type", "host", "x-amz-date"]);
    }

    #[test]
    fn amz_dates_parse_strictly() {
        assert!(parse_amz_date("20150830T123600Z").is_some());
        for bad in [
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "2015083+T123600Z",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }
}
