//! Real AWS as a [`Target`]: the same signing and wire code as [`crate::http`], with credentials
//! from the standard AWS chain (`aws-config`: environment, shared files, profiles), one endpoint
//! per service and region, and the guards that make a run against a real account safe:
//!
//! - every name and SKU the harness sends gets the run prefix `conform-<run id>-<n>-` (and loses it
//!   again in replies, so transcripts compare with the model's);
//! - only what this run created is ever deleted or changed (licenses, grants, consumption tokens,
//!   EVS entitlements on the VMs the user named); any other mutation is refused before sending;
//! - EVS environments and connectors are never created, changed or deleted;
//! - a cap on calls per minute and on total calls, bounded exponential backoff on throttling;
//! - [`AwsTarget::cleanup`] deletes what is left (run at the end and after Ctrl-C).
//!
//! The model's accounts (`111122223333` seller, `444455556666` buyer) map to the accounts the
//! credentials belong to (learned from STS `GetCallerIdentity`, which also checks the credentials
//! before the first write); account ids are rewritten both ways so ARNs compare.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use conform_model::{Caller, Event, Service};
use serde_json::{json, Value};

use crate::http::{json_response, post, sign_post, signing_name, RawReply, Signing};
use crate::target::{Capabilities, InfraError, Response, Target};

/// Error types AWS answers for credentials or signatures it does not accept: infrastructure
/// failures of the harness, never compared as replies.
const AUTH_ERRORS: &[&str] = &[
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
];

/// Error types AWS answers when it throttles: retried with backoff.
const THROTTLE_ERRORS: &[&str] = &[
    "RateLimitExceededException",
    "ThrottlingException",
    "TooManyRequestsException",
    "Throttling",
];

/// Retries after throttling, and the bounds of the exponential backoff between them.
const THROTTLE_RETRIES: u32 = 6;
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(8);

mod cleanup;
mod credentials;
mod guard;
#[cfg(test)]
mod tests;

pub use credentials::{ChainCredentials, CredentialSource};

/// The user's own EVS resources a run may add entitlements to (never creates or deletes them).
#[derive(Clone, Debug, Default)]
pub struct EvsScope {
    pub environment: String,
    pub connector: String,
    pub vms: BTreeSet<String>,
}

/// How to reach AWS and how much a run may do there.
pub struct AwsOptions {
    pub region: String,
    /// One endpoint for every service (e.g. a simulator on loopback) instead of AWS's.
    pub endpoint_url: Option<String>,
    /// Names the run's resources: `conform-<run_id>-...`.
    pub run_id: String,
    pub max_calls_per_minute: u32,
    pub max_calls: u64,
    /// Signs with the clock moved by this many seconds (tests the refusal of a skewed clock).
    pub sign_clock_skew_seconds: i64,
    /// Sends no signature at all (tests the refusal of unsigned requests).
    pub unsigned: bool,
    pub evs: Option<EvsScope>,
    /// Set by the Ctrl-C handler: no further call is sent, cleanup still is.
    pub interrupted: Arc<AtomicBool>,
}

/// An account the run speaks as.
struct Identity {
    source: Box<dyn CredentialSource>,
    /// The real account id the credentials belong to.
    account: String,
}

/// What this run created, as the harness sees it (model account ids, no prefix).
#[derive(Default)]
struct Owned {
    /// ARN → the model account that created it.
    licenses: BTreeMap<String, String>,
    grants: BTreeMap<String, String>,
    tokens: BTreeSet<String>,
    /// VM id → (model account, region) holding the entitlement.
    entitlements: BTreeMap<String, (String, String)>,
}

struct Inner {
    agent: ureq::Agent,
    options: AwsOptions,
    /// Model account id → identity.
    identities: BTreeMap<String, Identity>,
    /// Which `reset` (scenario) the run is in: part of the prefix so scenarios stay apart.
    namespace: u32,
    sent: VecDeque<Instant>,
    calls: u64,
    owned: Owned,
}

/// Real AWS (or any endpoint through `endpoint_url`) behind the safety guards. Cloning gives
/// another handle on the same run (the CLI keeps one for cleanup).
#[derive(Clone)]
pub struct AwsTarget {
    inner: Arc<Mutex<Inner>>,
}

/// What [`AwsTarget::cleanup`] did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    pub deleted: Vec<String>,
    /// Already deleted (or pending deletion) when cleanup came.
    pub already_gone: usize,
    /// Resources cleanup could not remove, with the reason.
    pub left: Vec<String>,
}

impl AwsTarget {
    /// Checks every account's credentials with STS `GetCallerIdentity` and learns their account
    /// ids. `accounts` maps model account ids to credential sources.
    pub fn new(
        options: AwsOptions,
        accounts: Vec<(String, Box<dyn CredentialSource>)>,
    ) -> Result<AwsTarget, InfraError> {
        // One connection per call, as in `HttpTarget` (a stale pooled connection fails a POST,
        // which must not be retried blindly); at the capped call rates a handshake is cheap.
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .max_idle_connections(0)
            .build();
        let mut inner = Inner {
            agent,
            options,
            identities: BTreeMap::new(),
            namespace: 0,
            sent: VecDeque::new(),
            calls: 0,
            owned: Owned::default(),
        };
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (model_account, mut source) in accounts {
            let account = inner.caller_identity(source.as_mut())?;
            if let Some(other) = seen.insert(account.clone(), source.label()) {
                return Err(InfraError::Other(format!(
                    "{} and {other} are the same account {account}: multi-account steps need another account",
                    source.label()
                )));
            }
            inner
                .identities
                .insert(model_account, Identity { source, account });
        }
        Ok(AwsTarget {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; cleanup must still run.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The real account ids the run speaks as, by model account id.
    pub fn accounts(&self) -> BTreeMap<String, String> {
        self.lock()
            .identities
            .iter()
            .map(|(m, i)| (m.clone(), i.account.clone()))
            .collect()
    }

    /// The prefix of every name and SKU of the current scenario.
    pub fn prefix(&self) -> String {
        self.lock().prefix()
    }

    /// Calls sent so far (retries and cleanup included).
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Deletes every grant, license and EVS entitlement this run created that is still there.
    /// Ignores the interrupt flag and the total call cap (it only removes what the run made),
    /// but keeps the per-minute cap.
    pub fn cleanup(&self) -> CleanupReport {
        self.lock().cleanup()
    }
}

impl Inner {
    fn prefix(&self) -> String {
        format!("conform-{}-{}-", self.options.run_id, self.namespace)
    }

    fn run_prefix(&self) -> String {
        format!("conform-{}-", self.options.run_id)
    }

    fn endpoint(&self, name: &str) -> String {
        match &self.options.endpoint_url {
            Some(url) => format!("{}/", url.trim_end_matches('/')),
            None => format!("https://{name}.{}.amazonaws.com/", self.options.region),
        }
    }

    /// Waits for the per-minute cap; counts the call against the total unless it is cleanup.
    fn admit(&mut self, cleanup: bool) -> Result<(), InfraError> {
        if !cleanup {
            if self.options.interrupted.load(Ordering::SeqCst) {
                return Err(InfraError::Other("interrupted (Ctrl-C): no further calls".into()));
            }
            if self.calls >= self.options.max_calls {
                return Err(InfraError::Other(format!(
                    "the call budget is spent: {} calls (--max-calls)",
                    self.options.max_calls
                )));
            }
        }
        let window = Duration::from_secs(60);
        let cap = self.options.max_calls_per_minute.max(1) as usize;
        loop {
            let now = Instant::now();
            while self
                .sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                self.sent.pop_front();
            }
            if self.sent.len() < cap {
                break;
            }
            if !cleanup && self.options.interrupted.load(Ordering::SeqCst) {
                return Err(InfraError::Other("interrupted (Ctrl-C): no further calls".into()));
            }
            // Short sleeps so Ctrl-C is noticed while waiting for the window.
            std::thread::sleep(Duration::from_millis(100));
        }
        self.sent.push_back(Instant::now());
        self.calls += 1;
        Ok(())
    }

    fn signing_time(&self) -> SystemTime {
        let skew = self.options.sign_clock_skew_seconds;
        let by = Duration::from_secs(skew.unsigned_abs());
        if skew >= 0 {
            SystemTime::now() + by
        } else {
            SystemTime::now() - by
        }
    }

    /// Signs and sends one request; retries with backoff while AWS throttles.
    fn send(
        &mut self,
        model_account: &str,
        url: &str,
        signing_name: &str,
        mut headers: Vec<(String, String)>,
        body: &[u8],
        cleanup: bool,
    ) -> Result<RawReply, InfraError> {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(url)
            .to_string();
        headers.insert(0, ("host".to_string(), host));
        let mut backoff = BACKOFF_FIRST;
        for attempt in 0..=THROTTLE_RETRIES {
            self.admit(cleanup)?;
            let mut signed = headers.clone();
            if !self.options.unsigned {
                let region = self.options.region.clone();
                let time = self.signing_time();
                let identity = self.identities.get_mut(model_account).ok_or_else(|| {
                    InfraError::Skipped(format!("no credentials for account {model_account}"))
                })?;
                let credentials = identity.source.credentials()?;
                let signing = Signing {
                    credentials: &credentials,
                    region: &region,
                    signing_name,
                    time,
                };
                signed.extend(sign_post(url, &headers, body, &signing)?);
            }
            let reply = post(&self.agent, url, &signed, body)?;
            let throttled = reply.status >= 400
                && THROTTLE_ERRORS.iter().any(|t| {
                    reply.text.contains(t) || reply.error_header.as_deref().is_some_and(|h| h.contains(t))
                });
            if !throttled {
                return Ok(reply);
            }
            if attempt == THROTTLE_RETRIES {
                return Err(InfraError::Other(format!(
                    "still throttled after {THROTTLE_RETRIES} retries: {}",
                    reply.text
                )));
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        Err(InfraError::Other("unreachable: the retry loop returns".into()))
    }

    /// STS `GetCallerIdentity`: the account of `source`'s credentials, and a check that AWS
    /// accepts them before anything is written.
    fn caller_identity(&mut self, source: &mut dyn CredentialSource) -> Result<String, InfraError> {
        let url = self.endpoint("sts");
        let body = b"Action=GetCallerIdentity&Version=2011-06-15";
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(&url)
            .to_string();
        let headers = vec![
            ("host".to_string(), host),
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
        ];
        self.admit(false)?;
        let mut signed = headers.clone();
        if !self.options.unsigned {
            let credentials = source.credentials()?;
            let signing = Signing {
                credentials: &credentials,
                region: &self.options.region,
                signing_name: "sts",
                time: self.signing_time(),
            };
            signed.extend(sign_post(&url, &headers, body, &signing)?);
        }
        let reply = post(&self.agent, &url, &signed, body)?;
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = reply.text.find(&open)? + open.len();
            let end = reply.text[start..].find(&format!("</{name}>"))? + start;
            Some(reply.text[start..end].to_string())
        };
        if reply.status == 200 {
            return tag("Account").ok_or_else(|| {
                InfraError::Other(format!(
                    "STS GetCallerIdentity answered without an account: {}",
                    reply.text
                ))
            });
        }
        let code = tag("Code")
            .or(reply.error_header.clone())
            .unwrap_or_else(|| format!("HTTP {}", reply.status));
        let message = tag("Message").unwrap_or_default();
        Err(InfraError::Other(format!(
            "AWS refused the credentials of {} ({}): {code}: {message}",
            source.label(),
            auth_hint(&code, &message)
        )))
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
        cleanup: bool,
    ) -> Result<Response, InfraError> {
        if !self.identities.contains_key(&caller.account) {
            return Err(InfraError::Skipped(format!(
                "no credentials for the model's account {} (map it with --buyer-profile)",
                caller.account
            )));
        }
        let parsed: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
        if !cleanup {
            // A body that is not a JSON object names no resource: it can only be refused.
            let shown = parsed.clone().unwrap_or(Value::Null);
            self.guard(service, operation, &shown, caller)?;
        }
        let sent = match &parsed {
            Some(v) => {
                let mut v = v.clone();
                self.prefix_names(&mut v);
                self.account_map()
                    .to_target(&v.to_string())
                    .into_owned()
                    .into_bytes()
            }
            None => body.to_vec(),
        };
        let url = self.endpoint(signing_name(service));
        let headers = vec![
            ("content-type".to_string(), service.content_type().to_string()),
            (
                "x-amz-target".to_string(),
                format!("{}.{operation}", service.target_prefix()),
            ),
        ];
        let raw = self.send(
            &caller.account,
            &url,
            signing_name(service),
            headers,
            &sent,
            cleanup,
        )?;
        let mut response = json_response(raw)?;
        response.body = self.account_map().reply_to_harness(&response.body);
        if let Some(kind) = response.error_type.as_deref().filter(|t| AUTH_ERRORS.contains(t)) {
            let message = response
                .body
                .get("message")
                .or_else(|| response.body.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(InfraError::Other(format!(
                "AWS refused the request's credentials ({}): {kind}: {message}",
                auth_hint(kind, message)
            )));
        }
        self.strip_prefix(&mut response.body);
        if response.error_type.is_none() {
            if let Some(request) = &parsed {
                self.learn(caller, operation, request, &response.body);
            }
        }
        Ok(response)
    }
}

/// A person's reading of an auth error.
fn auth_hint(code: &str, message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if lower.contains("expired")
        || lower.contains("skew")
        || lower.contains("time") && code.contains("Signature")
    {
        "clock skew: the signing time is too far from AWS's clock"
    } else if code.contains("MissingAuthentication") {
        "missing signature: the request was not signed"
    } else if code.contains("Unrecognized") || code.contains("InvalidClientTokenId") {
        "unknown access key"
    } else if code.contains("Expired") {
        "expired credentials"
    } else if code.contains("Signature") {
        "wrong secret key: the signature does not match"
    } else {
        "credentials refused"
    }
}

impl Target for AwsTarget {
    fn name(&self) -> String {
        let inner = self.lock();
        match &inner.options.endpoint_url {
            Some(url) => format!("aws ({}, endpoint {url})", inner.options.region),
            None => format!("aws ({})", inner.options.region),
        }
    }

    /// No control plane: no reset, clock or fixtures.
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        self.lock().call(caller, service, operation, body, false)
    }

    /// Only "advance by zero" (reading the clock) exists on AWS; it answers the wall clock.
    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        let as_json = serde_json::to_value(event).map_err(|e| InfraError::Other(e.to_string()))?;
        let zero = |k: &str| as_json.get(k).and_then(Value::as_i64).unwrap_or(0) == 0;
        if as_json["event"] == "advance_clock" && zero("seconds") && zero("millis") {
            let now_ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            return Ok(json!({ "now_ms": now_ms }));
        }
        Err(InfraError::Skipped(format!(
            "AWS has no control plane for the event {as_json}"
        )))
    }

    /// AWS cannot forget resources: a reset starts a new name prefix, so what comes after does
    /// not see the previous scenario's names and SKUs (cleanup still removes them all).
    fn reset(&mut self) -> Result<(), InfraError> {
        self.lock().namespace += 1;
        Ok(())
    }
}
