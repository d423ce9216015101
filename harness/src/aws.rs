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

/// Marks an [`InfraError`] that skips one case or scenario (a step the target cannot take, e.g.
/// another account's, or a clock event) rather than aborting the run.
pub const SKIPPED: &str = "skipped on AWS: ";
/// Marks an [`InfraError`] raised by the safety guard: the request was never sent.
pub const REFUSED: &str = "safety guard refused: ";

/// Whether `e` only skips the case or scenario it happened in.
pub fn is_skip(e: &InfraError) -> bool {
    e.0.starts_with(SKIPPED) || e.0.starts_with(REFUSED)
}

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

/// Where credentials come from.
pub trait CredentialSource: Send {
    /// What to name in messages (`profile buyer`, `the default chain`).
    fn label(&self) -> String;
    fn credentials(&mut self) -> Result<Credentials, InfraError>;
}

/// Fixed keys (tests, or keys the caller already holds).
pub struct StaticCredentials(pub Credentials);

impl CredentialSource for StaticCredentials {
    fn label(&self) -> String {
        "static keys".into()
    }

    fn credentials(&mut self) -> Result<Credentials, InfraError> {
        Ok(self.0.clone())
    }
}

/// The standard AWS chain through `aws-config`: a named profile of the shared files, or the
/// default chain (environment, then the default profile, then the rest of the chain).
pub struct ChainCredentials {
    runtime: tokio::runtime::Runtime,
    provider: SharedCredentialsProvider,
    label: String,
    cached: Option<Credentials>,
}

impl ChainCredentials {
    pub fn new(profile: Option<&str>, region: &str) -> Result<ChainCredentials, InfraError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| InfraError(format!("credential chain runtime: {e}")))?;
        // The chain's own calls (SSO, STS assume-role, IMDS) go through an HTTPS client on ring.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = aws_config::provider_config::ProviderConfig::default()
            .with_http_client(http)
            .with_region(Some(aws_config::Region::new(region.to_string())));
        let (provider, label) = match profile {
            // A named profile is taken from the shared files only, so environment keys cannot
            // stand in for another account's.
            Some(name) => (
                SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder()
                        .configure(&config)
                        .profile_name(name)
                        .build(),
                ),
                format!("profile {name}"),
            ),
            None => {
                let chain = runtime.block_on(
                    aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                        .configure(config)
                        .build(),
                );
                (
                    SharedCredentialsProvider::new(chain),
                    "the default credential chain".to_string(),
                )
            }
        };
        Ok(ChainCredentials {
            runtime,
            provider,
            label,
            cached: None,
        })
    }
}

impl CredentialSource for ChainCredentials {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn credentials(&mut self) -> Result<Credentials, InfraError> {
        // Temporary credentials are fetched again a few minutes before they expire.
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|t| t > SystemTime::now() + Duration::from_secs(300))
        };
        if let Some(c) = self.cached.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let provider = self.provider.clone();
        let c = self
            .runtime
            .block_on(provider.provide_credentials())
            .map_err(|e| InfraError(format!("no credentials from {}: {e}", self.label)))?;
        self.cached = Some(c.clone());
        Ok(c)
    }
}

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
                return Err(InfraError(format!(
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
                return Err(InfraError("interrupted (Ctrl-C): no further calls".into()));
            }
            if self.calls >= self.options.max_calls {
                return Err(InfraError(format!(
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
                return Err(InfraError("interrupted (Ctrl-C): no further calls".into()));
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
                    InfraError(format!("{SKIPPED}no credentials for account {model_account}"))
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
                return Err(InfraError(format!(
                    "still throttled after {THROTTLE_RETRIES} retries: {}",
                    reply.text
                )));
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        Err(InfraError("unreachable: the retry loop returns".into()))
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
                InfraError(format!(
                    "STS GetCallerIdentity answered without an account: {}",
                    reply.text
                ))
            });
        }
        let code = tag("Code")
            .or(reply.error_header.clone())
            .unwrap_or_else(|| format!("HTTP {}", reply.status));
        let message = tag("Message").unwrap_or_default();
        Err(InfraError(format!(
            "AWS refused the credentials of {} ({}): {code}: {message}",
            source.label(),
            auth_hint(&code, &message)
        )))
    }

    fn rewrite_accounts(&self, text: &str, to_real: bool) -> String {
        let mut out = text.to_string();
        for (model, identity) in &self.identities {
            let (from, to) = if to_real {
                (model.as_str(), identity.account.as_str())
            } else {
                (identity.account.as_str(), model.as_str())
            };
            if from != to {
                out = out.replace(from, to);
            }
        }
        out
    }

    /// Refuses any mutation of something this run did not create (the request is as the
    /// harness wrote it: model account ids, no prefix).
    fn guard(&self, service: Service, op: &str, body: &Value, caller: &Caller) -> Result<(), InfraError> {
        let read_only = op.starts_with("Get") || op.starts_with("List");
        if read_only {
            return Ok(());
        }
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let owned = |set: &dyn Fn(&str) -> bool, name: &str| match field(name) {
            // Without the member the request names nothing; AWS refuses it as invalid.
            None => Ok(()),
            Some(v) if set(v) => Ok(()),
            Some(v) => Err(InfraError(format!(
                "{REFUSED}{op} on {name} {v}, which this run did not create"
            ))),
        };
        let o = &self.owned;
        match (service, op) {
            (Service::LicenseManager, "CreateLicense" | "CheckoutLicense") => Ok(()),
            (
                Service::LicenseManager,
                "DeleteLicense" | "CreateLicenseVersion" | "CreateGrant" | "CheckoutBorrowLicense",
            ) => owned(&|v| o.licenses.contains_key(v), "LicenseArn"),
            (
                Service::LicenseManager,
                "DeleteGrant" | "CreateGrantVersion" | "AcceptGrant" | "RejectGrant",
            ) => owned(&|v| o.grants.contains_key(v), "GrantArn"),
            (Service::LicenseManager, "CheckInLicense" | "ExtendLicenseConsumption") => {
                owned(&|v| o.tokens.contains(v), "LicenseConsumptionToken")
            }
            (Service::Evs, "CreateEntitlement" | "DeleteEntitlement") => {
                let Some(scope) = &self.options.evs else {
                    return Err(InfraError(format!(
                        "{SKIPPED}EVS needs --evs-environment, --evs-connector and --evs-vms"
                    )));
                };
                let env_ok = field("environmentId").is_none_or(|e| e == scope.environment);
                let conn_ok = field("connectorId").is_none_or(|c| c == scope.connector);
                let vms: Vec<&str> = body
                    .get("vmIds")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let foreign: Vec<&str> = vms
                    .iter()
                    .copied()
                    .filter(|vm| {
                        !scope.vms.contains(*vm)
                            || (op == "DeleteEntitlement"
                                && o.entitlements.get(*vm)
                                    != Some(&(caller.account.clone(), caller.region.clone())))
                    })
                    .collect();
                if env_ok && conn_ok && foreign.is_empty() {
                    Ok(())
                } else {
                    Err(InfraError(format!(
                        "{REFUSED}{op} outside the given environment, connector and VMs (or on entitlements this run did not create): {body}"
                    )))
                }
            }
            _ => Err(InfraError(format!(
                "{REFUSED}{op} is not an operation a run may send to AWS"
            ))),
        }
    }

    /// Prefixes names, SKUs and client tokens (non-empty ones: an empty value must stay
    /// invalid). Client tokens too, because AWS keeps them across runs and scenarios: a token
    /// reused with other parameters would be refused.
    fn prefix_names(&self, v: &mut Value) {
        const KEYS: &[&str] = &[
            "LicenseName",
            "ProductSKU",
            "GrantName",
            "ClientToken",
            "clientToken",
        ];
        let prefix = self.prefix();
        let add = |s: &mut Value| {
            if let Some(text) = s.as_str().filter(|t| !t.is_empty()) {
                *s = Value::String(format!("{prefix}{text}"));
            }
        };
        match v {
            Value::Object(m) => {
                let filter_on_name = m
                    .get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n == "ProductSKU");
                for (k, x) in m.iter_mut() {
                    if KEYS.contains(&k.as_str()) {
                        add(x);
                    } else if filter_on_name && k == "Values" {
                        if let Value::Array(values) = x {
                            values.iter_mut().for_each(&add);
                        }
                    } else {
                        self.prefix_names(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.prefix_names(x)),
            _ => {}
        }
    }

    /// Removes the run prefix from every string of a reply.
    fn strip_prefix(&self, v: &mut Value) {
        let run = self.run_prefix();
        match v {
            Value::String(s) => {
                if let Some(rest) = s.strip_prefix(&run) {
                    // `<namespace>-` follows the run id.
                    if let Some((n, tail)) = rest.split_once('-') {
                        if n.chars().all(|c| c.is_ascii_digit()) {
                            *s = tail.to_string();
                        }
                    }
                }
            }
            Value::Object(m) => m.values_mut().for_each(|x| self.strip_prefix(x)),
            Value::Array(a) => a.iter_mut().for_each(|x| self.strip_prefix(x)),
            _ => {}
        }
    }

    /// Remembers what a successful reply created or removed.
    fn learn(&mut self, caller: &Caller, op: &str, request: &Value, reply: &Value) {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match op {
            "CreateLicense" => {
                if let Some(arn) = text(reply, "LicenseArn") {
                    self.owned.licenses.insert(arn, caller.account.clone());
                }
            }
            "CreateGrant" => {
                if let Some(arn) = text(reply, "GrantArn") {
                    self.owned.grants.insert(arn, caller.account.clone());
                }
            }
            "CheckoutLicense" | "CheckoutBorrowLicense" => {
                if let Some(token) = text(reply, "LicenseConsumptionToken") {
                    self.owned.tokens.insert(token);
                }
            }
            "CreateEntitlement" | "DeleteEntitlement" => {
                let vms = request
                    .get("vmIds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str);
                for vm in vms {
                    if op == "CreateEntitlement" {
                        self.owned
                            .entitlements
                            .insert(vm.to_string(), (caller.account.clone(), caller.region.clone()));
                    } else {
                        self.owned.entitlements.remove(vm);
                    }
                }
            }
            _ => {}
        }
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
            return Err(InfraError(format!(
                "{SKIPPED}no credentials for the model's account {} (map it with --buyer-profile)",
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
                self.rewrite_accounts(&v.to_string(), true).into_bytes()
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
        let mut raw = self.send(
            &caller.account,
            &url,
            signing_name(service),
            headers,
            &sent,
            cleanup,
        )?;
        raw.text = self.rewrite_accounts(&raw.text, false);
        let mut response = json_response(raw)?;
        if let Some(kind) = response.error_type.as_deref().filter(|t| AUTH_ERRORS.contains(t)) {
            let message = response
                .body
                .get("message")
                .or_else(|| response.body.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(InfraError(format!(
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

    fn cleanup(&mut self) -> CleanupReport {
        let mut report = CleanupReport::default();
        let grants: Vec<(String, String)> = self
            .owned
            .grants
            .iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (arn, account) in grants {
            let caller = Caller::new(&account, &self.options.region);
            self.remove(
                &caller,
                "GetGrant",
                "Grant",
                "DeleteGrant",
                json!({"GrantArn": arn}),
                &arn,
                &mut report,
            );
        }
        let licenses: Vec<(String, String)> = self
            .owned
            .licenses
            .iter()
            .map(|(a, o)| (a.clone(), o.clone()))
            .collect();
        for (arn, account) in licenses {
            let caller = Caller::new(&account, &self.options.region);
            self.remove(
                &caller,
                "GetLicense",
                "License",
                "DeleteLicense",
                json!({"LicenseArn": arn}),
                &arn,
                &mut report,
            );
        }
        let mut by_caller: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (vm, key) in &self.owned.entitlements {
            by_caller.entry(key.clone()).or_default().push(vm.clone());
        }
        if let Some(scope) = self.options.evs.clone() {
            for ((account, region), vms) in by_caller {
                let caller = Caller::new(&account, &region);
                // The client token gets the run prefix on its way out, like every other.
                let body = json!({"environmentId": scope.environment, "connectorId": scope.connector,
                    "entitlementType": "WINDOWS_SERVER", "vmIds": vms, "clientToken": "cleanup"});
                match self.call(
                    &caller,
                    Service::Evs,
                    "DeleteEntitlement",
                    body.to_string().as_bytes(),
                    true,
                ) {
                    Ok(r) if r.error_type.is_none() => report
                        .deleted
                        .extend(vms.iter().map(|v| format!("entitlement of {v}"))),
                    Ok(r) => report
                        .left
                        .push(format!("entitlements of {vms:?}: {}", r.outcome())),
                    Err(e) => report.left.push(format!("entitlements of {vms:?}: {e}")),
                }
            }
        }
        report
    }

    /// Reads a license or grant and deletes it at its current version unless it is already
    /// deleted or pending deletion.
    #[allow(clippy::too_many_arguments)]
    fn remove(
        &mut self,
        caller: &Caller,
        get: &str,
        member: &str,
        delete: &str,
        key: Value,
        arn: &str,
        report: &mut CleanupReport,
    ) {
        let lm = Service::LicenseManager;
        let current = match self.call(caller, lm, get, key.to_string().as_bytes(), true) {
            Ok(r) if r.error_type.is_none() => r.body,
            // Not found: nothing left to delete.
            Ok(r) if r.outcome() == "ResourceNotFoundException" => {
                report.already_gone += 1;
                return;
            }
            Ok(r) => {
                report.left.push(format!("{arn}: {get} answered {}", r.outcome()));
                return;
            }
            Err(e) => {
                report.left.push(format!("{arn}: {e}"));
                return;
            }
        };
        let status = current
            .pointer(&format!("/{member}/Status"))
            .and_then(Value::as_str);
        if matches!(status, Some("DELETED" | "PENDING_DELETE")) {
            report.already_gone += 1;
            return;
        }
        let version = current
            .pointer(&format!("/{member}/Version"))
            .and_then(Value::as_str)
            .unwrap_or("1");
        let mut body = key;
        let version_member = if delete == "DeleteLicense" {
            "SourceVersion"
        } else {
            "Version"
        };
        body[version_member] = json!(version);
        match self.call(caller, lm, delete, body.to_string().as_bytes(), true) {
            Ok(r) if r.error_type.is_none() => report.deleted.push(arn.to_string()),
            Ok(r) => report
                .left
                .push(format!("{arn}: {delete} answered {}", r.outcome())),
            Err(e) => report.left.push(format!("{arn}: {e}")),
        }
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
        Capabilities {
            reset: false,
            clock: false,
            fixtures: false,
        }
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
        let as_json = serde_json::to_value(event).map_err(|e| InfraError(e.to_string()))?;
        let zero = |k: &str| as_json.get(k).and_then(Value::as_i64).unwrap_or(0) == 0;
        if as_json["event"] == "advance_clock" && zero("seconds") && zero("millis") {
            let now_ms = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            return Ok(json!({ "now_ms": now_ms }));
        }
        Err(InfraError(format!(
            "{SKIPPED}AWS has no control plane for the event {as_json}"
        )))
    }

    /// AWS cannot forget resources: a reset starts a new name prefix, so what comes after does
    /// not see the previous scenario's names and SKUs (cleanup still removes them all).
    fn reset(&mut self) -> Result<(), InfraError> {
        self.lock().namespace += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(evs: Option<EvsScope>) -> Inner {
        Inner {
            agent: ureq::AgentBuilder::new().build(),
            options: AwsOptions {
                region: "us-east-1".into(),
                endpoint_url: None,
                run_id: "r1".into(),
                max_calls_per_minute: 10,
                max_calls: 2,
                sign_clock_skew_seconds: 0,
                unsigned: false,
                evs,
                interrupted: Arc::new(AtomicBool::new(false)),
            },
            identities: BTreeMap::new(),
            namespace: 3,
            sent: VecDeque::new(),
            calls: 0,
            owned: Owned::default(),
        }
    }

    #[test]
    fn names_and_skus_get_the_run_prefix_and_lose_it_in_replies() {
        let t = target(None);
        let mut body = json!({"LicenseName": "L", "ProductSKU": "", "Issuer": {"Name": "I"},
            "Filters": [{"Name": "ProductSKU", "Values": ["A"]}, {"Name": "Status", "Values": ["AVAILABLE"]}]});
        t.prefix_names(&mut body);
        assert_eq!(body["LicenseName"], "conform-r1-3-L");
        assert_eq!(body["ProductSKU"], "", "an empty SKU stays invalid");
        assert_eq!(body["Issuer"]["Name"], "I");
        assert_eq!(body["Filters"][0]["Values"][0], "conform-r1-3-A");
        assert_eq!(body["Filters"][1]["Values"][0], "AVAILABLE");
        t.strip_prefix(&mut body);
        assert_eq!(body["LicenseName"], "L");
        assert_eq!(body["Filters"][0]["Values"][0], "A");
    }

    #[test]
    fn mutations_of_anything_the_run_did_not_create_are_refused() {
        let mut t = target(None);
        let caller = Caller::new("111122223333", "us-east-1");
        let arn = "arn:aws:license-manager::111122223333:license:l-0123";
        for op in ["DeleteLicense", "CreateLicenseVersion", "CreateGrant"] {
            let e = t.guard(Service::LicenseManager, op, &json!({"LicenseArn": arn}), &caller);
            assert!(e.as_ref().is_err_and(|e| e.0.starts_with(REFUSED)), "{op}: {e:?}");
        }
        let e = t.guard(
            Service::LicenseManager,
            "DeleteGrant",
            &json!({"GrantArn": "g"}),
            &caller,
        );
        assert!(e.is_err());
        assert!(t
            .guard(Service::LicenseManager, "CreateToken", &json!({}), &caller)
            .is_err());
        assert!(t
            .guard(
                Service::LicenseManager,
                "GetLicense",
                &json!({"LicenseArn": arn}),
                &caller
            )
            .is_ok());
        t.learn(&caller, "CreateLicense", &json!({}), &json!({"LicenseArn": arn}));
        assert!(t
            .guard(
                Service::LicenseManager,
                "DeleteLicense",
                &json!({"LicenseArn": arn}),
                &caller
            )
            .is_ok());
    }

    #[test]
    fn evs_stays_inside_the_given_environment_connector_and_vms() {
        let scope = EvsScope {
            environment: "env-1".into(),
            connector: "c-1".into(),
            vms: ["vm-1".to_string()].into(),
        };
        let mut t = target(Some(scope));
        let caller = Caller::new("111122223333", "us-east-1");
        let body = |env: &str, vm: &str| json!({"environmentId": env, "connectorId": "c-1", "vmIds": [vm]});
        assert!(t
            .guard(Service::Evs, "CreateEntitlement", &body("env-1", "vm-1"), &caller)
            .is_ok());
        assert!(t
            .guard(Service::Evs, "CreateEntitlement", &body("env-2", "vm-1"), &caller)
            .is_err());
        assert!(t
            .guard(Service::Evs, "CreateEntitlement", &body("env-1", "vm-2"), &caller)
            .is_err());
        assert!(t
            .guard(Service::Evs, "DeleteEntitlement", &body("env-1", "vm-1"), &caller)
            .is_err());
        t.learn(&caller, "CreateEntitlement", &body("env-1", "vm-1"), &json!({}));
        assert!(t
            .guard(Service::Evs, "DeleteEntitlement", &body("env-1", "vm-1"), &caller)
            .is_ok());
        for op in [
            "DeleteEnvironmentConnector",
            "CreateEnvironmentConnector",
            "UpdateEnvironmentConnector",
        ] {
            assert!(t.guard(Service::Evs, op, &json!({}), &caller).is_err(), "{op}");
        }
    }

    #[test]
    fn the_total_call_cap_stops_the_run_but_not_cleanup() {
        let mut t = target(None);
        assert!(t.admit(false).is_ok());
        assert!(t.admit(false).is_ok());
        let e = t.admit(false).unwrap_err();
        assert!(e.0.contains("--max-calls"), "{e}");
        assert!(t.admit(true).is_ok());
        t.options.interrupted.store(true, Ordering::SeqCst);
        assert!(t.admit(true).is_ok());
    }
}
