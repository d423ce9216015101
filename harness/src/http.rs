//! Any HTTP endpoint that speaks the AWS wire protocol as a [`Target`]: the embedded simulator,
//! another emulator, or AWS itself. Requests are signed with SigV4 (`aws-sigv4`) for the
//! account the step speaks as; control-plane capabilities come from `/_conform/`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use conform_model::ids::hex;
use conform_model::{Caller, Event, Service};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::accounts::{AccountMap, AccountTable};
use crate::target::{Capabilities, InfraError, Response, Target};

/// The keys a target knows an account by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// An HTTP endpoint.
pub struct HttpTarget {
    base: String,
    agent: ureq::Agent,
    /// Account id (the target's) → its keys.
    accounts: BTreeMap<String, Credentials>,
    /// The harness's account ids as the target knows them, rewritten both ways on the wire.
    map: AccountMap,
    capabilities: Capabilities,
    /// What the probe of `/_conform/` found, for people.
    control_plane: String,
    /// The `Date` of the latest reply, in milliseconds since the epoch.
    date_ms: Option<i64>,
    signer: Signer,
}

/// SigV4 for a POST to `/` of an endpoint at its root (the simulator, an emulator): the
/// canonical request of exactly the headers sent, and the signing key (`aws-sigv4`'s
/// derivation) derived once per access key, day, region and service rather than per request.
#[derive(Default)]
struct Signer {
    keys: HashMap<(String, String, String, &'static str), Vec<u8>>,
}

impl Signer {
    /// The `x-amz-date` and `authorization` headers for `headers` (lowercase names, sorted,
    /// `host` among them) and `body`.
    fn sign(
        &mut self,
        keys: &Credentials,
        region: &str,
        service: &'static str,
        time: SystemTime,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Vec<(String, String)> {
        let amz_date = chrono::DateTime::<chrono::Utc>::from(time)
            .format("%Y%m%dT%H%M%SZ")
            .to_string();
        let date = &amz_date[..8];
        let mut signed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.trim())).collect();
        signed.push(("x-amz-date", &amz_date));
        signed.sort_unstable();
        let names = signed.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
        let mut canonical = String::from("POST\n/\n\n");
        for (k, v) in &signed {
            canonical.push_str(k);
            canonical.push(':');
            canonical.push_str(v);
            canonical.push('\n');
        }
        canonical.push('\n');
        canonical.push_str(&names);
        canonical.push('\n');
        canonical.push_str(&hex(&Sha256::digest(body)));
        let scope = format!("{date}/{region}/{service}/aws4_request");
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let key = self
            .keys
            .entry((
                keys.access_key_id.clone(),
                date.to_string(),
                region.to_string(),
                service,
            ))
            .or_insert_with(|| {
                aws_sigv4::sign::v4::generate_signing_key(&keys.secret_access_key, time, region, service)
                    .as_ref()
                    .to_vec()
            });
        let signature = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={names}, Signature={signature}",
            keys.access_key_id
        );
        vec![
            ("x-amz-date".to_string(), amz_date),
            ("authorization".to_string(), authorization),
        ]
    }
}

/// The signing name of each service.
pub fn signing_name(service: Service) -> &'static str {
    match service {
        Service::LicenseManager => "license-manager",
        Service::Evs => "evs",
    }
}

impl HttpTarget {
    /// A target at `base` (e.g. `http://127.0.0.1:4580`) signing for `accounts` (account id →
    /// keys; [`crate::accounts::credentials`] or `--accounts FILE`); discovers the capabilities
    /// of its control plane (`discover`).
    pub fn new(base: &str, accounts: BTreeMap<String, Credentials>) -> Result<HttpTarget, InfraError> {
        // Keep-alive connections, pooled. ureq reuses one only after its reply was read to the
        // end and did not say `Connection: close`, and drops one the server has closed while it
        // sat idle; it retries only idempotent requests on a reused connection, never these
        // POSTs (a call may have been applied). A server that closes a connection without
        // saying so fails the next request with "Unexpected EOF": the embedded simulator says
        // `close` whenever it will (see `conform_simulator::router`).
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        let base = base.trim_end_matches('/').to_string();
        let (capabilities, control_plane) = discover(&agent, &base)?;
        Ok(HttpTarget {
            base,
            agent,
            accounts,
            map: AccountMap::default(),
            capabilities,
            control_plane,
            date_ms: None,
            signer: Signer::default(),
        })
    }

    /// A target at `base` signing as `table`'s accounts (`--accounts FILE`): where a role's id
    /// on the target is not the harness's, every request, event and reply has its account ids
    /// rewritten, so the target is tested with its own account table as it is.
    pub fn with_accounts(base: &str, table: &AccountTable) -> Result<HttpTarget, InfraError> {
        let mut target = HttpTarget::new(base, table.credentials())?;
        target.map = table.map();
        Ok(target)
    }

    /// One AWS call as given (the target's account ids).
    fn send(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let target = format!("{}.{operation}", service.target_prefix());
        let headers = self.signed_headers(caller, service, &target, body)?;
        let raw = post(&self.agent, &format!("{}/", self.base), &headers, body)?;
        self.date_ms = raw.date_ms.or(self.date_ms);
        let text = raw.text.trim();
        if !text.is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            // An endpoint that does not know the operation answers a page of its own.
            return Err(InfraError::NotImplemented {
                operation: operation.to_string(),
                why: format!("it answered {} with a body that is not JSON", raw.status),
            });
        }
        json_response(raw)
    }

    /// What the probe of the control plane found (`docs/control-plane.md`).
    pub fn control_plane(&self) -> &str {
        &self.control_plane
    }

    fn signed_headers(
        &mut self,
        caller: &Caller,
        service: Service,
        target: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, InfraError> {
        let authority = self.base.split("://").nth(1).unwrap_or(&self.base);
        let mut headers = vec![
            ("host".to_string(), authority.to_string()),
            ("content-type".to_string(), service.content_type().to_string()),
            ("x-amz-target".to_string(), target.to_string()),
        ];
        let Some(keys) = self.accounts.get(&caller.account) else {
            return Ok(headers);
        };
        let time = SystemTime::now();
        if authority.contains('/') {
            // An endpoint under a path: aws-sigv4 builds its canonical URI.
            let identity = aws_credential_types::Credentials::new(
                &keys.access_key_id,
                &keys.secret_access_key,
                None,
                None,
                "conform",
            );
            let signing = Signing {
                credentials: &identity,
                region: &caller.region,
                signing_name: signing_name(service),
                time,
            };
            let extra = sign_post(&format!("{}/", self.base), &headers, body, &signing)?;
            headers.extend(extra);
            return Ok(headers);
        }
        let extra = self
            .signer
            .sign(keys, &caller.region, signing_name(service), time, &headers, body);
        headers.extend(extra);
        Ok(headers)
    }

    fn control(&self, path: &str, body: &Value) -> Result<Value, InfraError> {
        let url = format!("{}/_conform/{path}", self.base);
        let sent = self
            .agent
            .post(&url)
            .set("content-type", "application/json")
            .send_string(&body.to_string());
        match sent {
            Ok(r) => {
                let text = r
                    .into_string()
                    .map_err(|e| InfraError::Other(format!("{url}: {e}")))?;
                serde_json::from_str(&text).map_err(|e| InfraError::Other(format!("{url}: {e}: {text}")))
            }
            // A refused event is an answer (the model refuses it too), not a broken target.
            Err(ureq::Error::Status(400, r)) => {
                let text = r.into_string().unwrap_or_default();
                Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            Err(ureq::Error::Status(code, r)) => Err(InfraError::Other(format!(
                "{url} answered {code}: {}",
                r.into_string().unwrap_or_default()
            ))),
            Err(e) => Err(InfraError::Other(format!("{url}: {e}"))),
        }
    }
}

/// The capabilities of `base`'s control plane and what was found: `GET /_conform/capabilities`
/// (the protocol of `docs/control-plane.md`); failing that, an endpoint that answers
/// `GET /_conform/state` has all of them (a conform before the protocol said so); else none.
fn discover(agent: &ureq::Agent, base: &str) -> Result<(Capabilities, String), InfraError> {
    let url = format!("{base}/_conform/capabilities");
    match agent.get(&url).call() {
        Ok(r) => {
            let text = r.into_string().unwrap_or_default();
            let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let protocol = reply["protocol"].as_str().unwrap_or_default();
            if protocol.starts_with("conform-control-plane/") {
                let names = reply["capabilities"].as_array().cloned().unwrap_or_default();
                let caps = Capabilities::from_names(names.iter().filter_map(Value::as_str));
                let server = reply["server"].as_str().unwrap_or("an unnamed server");
                return Ok((caps, format!("{protocol} at {base}/_conform/ ({server})")));
            }
        }
        Err(ureq::Error::Status(..)) => {}
        Err(e) => return Err(InfraError::Other(format!("{base} does not answer: {e}"))),
    }
    match agent.get(&format!("{base}/_conform/state")).call() {
        Ok(r) if r.status() == 200 => Ok((
            Capabilities::ALL,
            format!("{base}/_conform/state answers, {base}/_conform/capabilities does not: every capability assumed"),
        )),
        Ok(_) | Err(ureq::Error::Status(..)) => Ok((
            Capabilities::NONE,
            format!("no control plane: {base}/_conform/capabilities does not answer"),
        )),
        Err(e) => Err(InfraError::Other(format!("{base} does not answer: {e}"))),
    }
}

/// What SigV4 signs a request with.
pub struct Signing<'a> {
    pub credentials: &'a aws_credential_types::Credentials,
    pub region: &'a str,
    /// The service's signing name (`license-manager`, `evs`, `sts`).
    pub signing_name: &'a str,
    /// The signing time (the caller's clock; a skewed one is refused by AWS).
    pub time: SystemTime,
}

/// The headers SigV4 adds to a POST of `body` to `url` that carries `headers` (which must
/// include `host`).
pub fn sign_post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    signing: &Signing<'_>,
) -> Result<Vec<(String, String)>, InfraError> {
    let identity = signing.credentials.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(signing.region)
        .name(signing.signing_name)
        .time(signing.time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| InfraError::Other(format!("signing: {e}")))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| InfraError::Other(format!("signing: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| InfraError::Other(format!("signing: {e}")))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A reply as raw text, with its status and `x-amzn-ErrorType` header.
pub struct RawReply {
    pub status: u16,
    pub error_header: Option<String>,
    pub text: String,
    /// The `Date` header (RFC 7231 IMF-fixdate), in milliseconds since the epoch.
    pub date_ms: Option<i64>,
}

fn date_ms(r: &ureq::Response) -> Option<i64> {
    let text = r.header("date")?;
    chrono::DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// POSTs `body` to `url` with `headers` (except `host`, which the agent sets itself).
pub fn post(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<RawReply, InfraError> {
    let mut req = agent.post(url);
    for (k, v) in headers {
        if k != "host" {
            req = req.set(k, v);
        }
    }
    let (status, header, date, text) = match req.send_bytes(body) {
        Ok(r) => (
            r.status(),
            r.header("x-amzn-ErrorType").map(str::to_string),
            date_ms(&r),
            r.into_string(),
        ),
        Err(ureq::Error::Status(code, r)) => (
            code,
            r.header("x-amzn-ErrorType").map(str::to_string),
            date_ms(&r),
            r.into_string(),
        ),
        Err(e) => return Err(InfraError::Other(format!("{url}: {e}"))),
    };
    let text = text.map_err(|e| InfraError::Other(format!("reading the reply: {e}")))?;
    Ok(RawReply {
        status,
        error_header: header,
        text,
        date_ms: date,
    })
}

/// An AWS JSON reply as a [`Response`].
pub fn json_response(raw: RawReply) -> Result<Response, InfraError> {
    let RawReply {
        status,
        error_header,
        text,
        ..
    } = raw;
    let body: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(&text)
            .map_err(|e| InfraError::Other(format!("reply is not JSON ({e}): {text}")))?
    };
    let error_type = if status >= 300 {
        error_type(&body, error_header)
    } else {
        None
    };
    Ok(Response {
        status,
        error_type,
        body,
    })
}

/// `__type` without its namespace (`com.amazonaws.evs#ValidationException` → the shape name).
fn error_type(body: &Value, header: Option<String>) -> Option<String> {
    let raw = body
        .get("__type")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or(header)?;
    let bare = raw.rsplit('#').next().unwrap_or(&raw);
    Some(bare.split(':').next().unwrap_or(bare).to_string())
}

impl Target for HttpTarget {
    fn name(&self) -> String {
        self.base.clone()
    }

    fn connect(&self) -> Option<Result<Box<dyn Target + Send>, InfraError>> {
        Some(HttpTarget::new(&self.base, self.accounts.clone()).map(|mut t| {
            t.map = self.map.clone();
            Box::new(t) as Box<dyn Target + Send>
        }))
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        if self.map.is_identity() {
            return self.send(caller, service, operation, body);
        }
        let caller = Caller::new(self.map.account_to_target(&caller.account), &caller.region);
        let body = self.map.bytes_to_target(body).into_owned();
        let mut response = self.send(&caller, service, operation, &body)?;
        response.body = self.map.reply_to_harness(&response.body);
        Ok(response)
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        let body = serde_json::to_value(vec![event]).map_err(|e| InfraError::Other(e.to_string()))?;
        let results = self.control("events", &self.map.value_to_target(&body))?;
        let result = results.pointer("/applied/0").cloned().unwrap_or(results);
        Ok(self.map.value_to_harness(&result))
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.control("reset", &Value::Object(Default::default()))
            .map(|_| ())
    }

    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        if self.date_ms.is_none() {
            // No reply yet: any answer carries the server's Date.
            let url = format!("{}/", self.base);
            self.date_ms = match self.agent.get(&url).call() {
                Ok(r) | Err(ureq::Error::Status(_, r)) => date_ms(&r),
                Err(e) => return Err(InfraError::Other(format!("{url}: {e}"))),
            };
        }
        Ok(self.date_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signer_signs_as_aws_sigv4_does() {
        let keys = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        };
        let headers: Vec<(String, String)> = [
            ("host", "127.0.0.1:4580"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSLicenseManager.CheckoutLicense"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let body = br#"{"ProductSKU":"sku","CheckoutType":"PROVISIONAL"}"#;
        let identity = aws_credential_types::Credentials::new(
            &keys.access_key_id,
            &keys.secret_access_key,
            None,
            None,
            "test",
        );
        let mut signer = Signer::default();
        // Two days, so a kept key is shown to be the day's own.
        for time in [
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
            SystemTime::now(),
        ] {
            for _ in 0..2 {
                let ours = signer.sign(&keys, "us-east-1", "license-manager", time, &headers, body);
                let signing = Signing {
                    credentials: &identity,
                    region: "us-east-1",
                    signing_name: "license-manager",
                    time,
                };
                let mut theirs = sign_post("http://127.0.0.1:4580/", &headers, body, &signing).unwrap();
                theirs.sort();
                let mut ours = ours;
                ours.sort();
                assert_eq!(ours, theirs);
            }
        }
        assert_eq!(signer.keys.len(), 2, "one key per day");
    }
}
