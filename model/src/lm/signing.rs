//! SignedToken (SPEC 3.8): a compact JWS (PS384) over the checkout's claims, signed with the
//! fixed key shipped in `model/keys/`, its PSS salt drawn from the world's salt stream so replies
//! stay deterministic.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::pss::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::Sha384;

use super::types::{EntitlementData, Metadata};

const PRIVATE_PEM: &str = include_str!("../../keys/signing-key.pem");
const PUBLIC_PEM: &str = include_str!("../../keys/signing-key.pub.pem");
const HEADER: &str = r#"{"alg":"PS384","typ":"JWT"}"#;

fn signing_key() -> &'static SigningKey<Sha384> {
    static KEY: OnceLock<SigningKey<Sha384>> = OnceLock::new();
    KEY.get_or_init(|| {
        // The key is part of the build; a broken file is a build defect, not input.
        let key = RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).expect("shipped signing key parses");
        SigningKey::<Sha384>::new(key)
    })
}

/// The public key that verifies every SignedToken, as PEM (served under `/_conform/jwks`).
pub fn public_key_pem() -> &'static str {
    PUBLIC_PEM
}

/// The claims of a SignedToken, in the order SPEC 3.8 gives.
pub(crate) struct Claims<'a> {
    pub license_arn: &'a str,
    pub token: &'a str,
    pub entitlements: &'a [EntitlementData],
    pub node_id: Option<&'a str>,
    pub issued_at: &'a str,
    pub expiration: Option<&'a str>,
    pub checkout_metadata: Option<&'a [Metadata]>,
}

fn claims_json(c: &Claims) -> String {
    let mut m = Map::new();
    m.insert("licenseArn".into(), c.license_arn.into());
    m.insert("licenseConsumptionToken".into(), c.token.into());
    let ents: Vec<Value> = c
        .entitlements
        .iter()
        .map(|e| {
            let mut o = Map::new();
            o.insert("name".into(), e.name.clone().into());
            o.insert("unit".into(), e.unit.as_str().into());
            if let Some(v) = &e.value {
                o.insert("value".into(), v.clone().into());
            }
            Value::Object(o)
        })
        .collect();
    m.insert("entitlementsAllowed".into(), Value::Array(ents));
    if let Some(n) = c.node_id {
        m.insert("nodeId".into(), n.into());
    }
    m.insert("issuedAt".into(), c.issued_at.into());
    if let Some(e) = c.expiration {
        m.insert("expiration".into(), e.into());
    }
    if let Some(meta) = c.checkout_metadata {
        let obj: Map<String, Value> = meta
            .iter()
            .filter_map(|x| Some((x.name.clone()?, Value::from(x.value.clone().unwrap_or_default()))))
            .collect();
        m.insert("checkoutMetadata".into(), Value::Object(obj));
    }
    Value::Object(m).to_string()
}

/// Whether a world's SignedTokens carry their signature. Not a rule of AWS's but a choice of
/// whoever runs the model: the harness's reference model omits them, because comparisons look
/// at a SignedToken's header and claims only (SPEC 3.8) and an RSA signature costs a
/// millisecond, a hundred times the rest of a checkout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signatures {
    /// `header.claims.signature`, verifiable with [`public_key_pem`] (the default).
    #[default]
    Computed,
    /// The same header and claims, and in place of the signature 256 zero bytes (the length
    /// of a real one), so the token keeps the compact JWS shape every reply schema checks.
    Omitted,
}

/// Signs the claims. The salt and the signature's other randomness come from a seed drawn from
/// `salts`, which is drawn whether or not the signature is `Omitted`: both kinds of world stay
/// at the same point of the stream, and hand out the same tokens afterwards.
pub(crate) fn sign(salts: &mut ChaCha8Rng, claims: &Claims, signatures: Signatures) -> String {
    let mut seed = [0u8; 32];
    salts.fill_bytes(&mut seed);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(claims_json(claims))
    );
    match signatures {
        Signatures::Omitted => {
            static ZEROS: OnceLock<String> = OnceLock::new();
            let zeros = ZEROS.get_or_init(|| URL_SAFE_NO_PAD.encode([0u8; 256]));
            format!("{input}.{zeros}")
        }
        Signatures::Computed => {
            let mut rng = ChaCha8Rng::from_seed(seed);
            let signature: Signature = signing_key().sign_with_rng(&mut rng, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
        }
    }
}

/// Verifies a SignedToken against the shipped public key and returns its decoded header and
/// claims, or why it does not verify.
pub fn verify_signed_token(token: &str) -> Result<(Value, Value), String> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("not a compact JWS".into());
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|e| e.to_string());
    let key = RsaPublicKey::from_public_key_pem(PUBLIC_PEM).map_err(|e| e.to_string())?;
    let signature = Signature::try_from(decode(s)?.as_slice()).map_err(|e| e.to_string())?;
    VerifyingKey::<Sha384>::new(key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|e| e.to_string())?;
    let header = serde_json::from_slice(&decode(h)?).map_err(|e| e.to_string())?;
    let claims = serde_json::from_slice(&decode(c)?).map_err(|e| e.to_string())?;
    Ok((header, claims))
}
