//! AWS requests on `POST /`: route by `X-Amz-Target` (parsed once, here), read the body within
//! its limit, find the caller (SigV4), hand the operation and bytes to the model and render its
//! `Reply`; STS `GetCallerIdentity` beside it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use conform_model::explain::Explanation;
use conform_model::{AwsError, Caller, ErrorCode, Reply, Service, World};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::journal::{self, Note};
use crate::sigv4::{self, AuthFault, SignedRequest};
use crate::{Failure, Simulator, MAX_BODY_BYTES};

const TARGET: &str = "x-amz-target";
pub(crate) const REQUEST_ID: &str = "x-amzn-requestid";
pub(crate) const ERROR_TYPE: &str = "x-amzn-errortype";
/// The model's explanation of a refusal, short (issue #18); never part of the AWS reply body.
pub(crate) const EXPLANATION: &str = "x-conform-explanation";

/// Who the request is for: an operation of a JSON service, STS on the query protocol, or a
/// target no service answers (the header as sent, empty when absent).
#[derive(Clone, PartialEq, Eq)]
enum Api {
    Json(Service, String),
    Sts,
    Unknown(String),
}

/// `POST /`: answers the request, then logs and journals it (`journal`).
pub(crate) async fn aws(State(sim): State<Arc<Simulator>>, req: Request) -> Response {
    let started = Instant::now();
    let mut note = Note::default();
    let response = answer(&sim, req, &mut note).await;
    journal::record(&sim, note, response, started).await
}

async fn answer(sim: &Arc<Simulator>, req: Request, note: &mut Note) -> Response {
    let sim = sim.clone();
    let (parts, body) = req.into_parts();
    let target = parts
        .headers
        .get(TARGET)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    note.target = target.clone().unwrap_or_default();
    let route = target.as_deref().map(|t| {
        Service::from_target(t)
            .map(|(service, op)| (service, op.to_string()))
            .ok_or_else(|| t.to_string())
    });
    // Errors before routing speak the service the target names; License Manager otherwise, as
    // an unknown target is answered (SPEC 1.2).
    let service = match &route {
        Some(Ok((service, _))) => *service,
        _ => Service::LicenseManager,
    };

    let body = match read_body(&parts.headers, body).await {
        Ok(b) => b,
        Err(BodyFault::TooLarge) => {
            let e = service.parse_fault(format!(
                "Request body is larger than the limit of {MAX_BODY_BYTES} bytes"
            ));
            return error_response(&sim, service, StatusCode::PAYLOAD_TOO_LARGE, &e);
        }
        Err(BodyFault::Broken(m)) => {
            let e = service.parse_fault(format!("Request body could not be read: {m}"));
            return error_response(&sim, service, status_of(e.code, service), &e);
        }
    };

    note.body(&body);
    let api = match route {
        Some(Ok((service, op))) => Api::Json(service, op),
        Some(Err(target)) => Api::Unknown(target),
        None if sts_action(&body).is_some() => Api::Sts,
        None => Api::Unknown(String::new()),
    };

    // A service conform does not serve (IAM, KMS, ...) gets its own protocol's
    // unknown-operation fault before any signature check: a 403 would send a user hunting for
    // a credentials problem that is not there (issue #18).
    match &api {
        Api::Unknown(target) => {
            let e = service.unknown_operation(format!("Unknown target '{target}'"));
            return error_response(&sim, service, status_of(e.code, service), &e);
        }
        Api::Sts if sts_action(&body).as_deref() != Some("GetCallerIdentity") => {
            return sts(&sim, &sim.default_caller, &body);
        }
        _ => {}
    }

    let signed = SignedRequest {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let caller = match identify(&sim, &signed) {
        Ok(c) => c,
        Err(fault) => {
            let e = auth_error(fault);
            return match api {
                Api::Json(..) | Api::Unknown(_) => {
                    error_response(&sim, service, status_of(e.code, service), &e)
                }
                Api::Sts => sts_error(
                    &sim,
                    status_of(e.code, Service::LicenseManager),
                    e.code.type_name(),
                    &e.message,
                ),
            };
        }
    };

    note.caller = Some(caller.clone());
    match api {
        Api::Sts => sts(&sim, &caller, &body),
        Api::Unknown(target) => {
            let e = service.unknown_operation(format!("Unknown target '{target}'"));
            error_response(&sim, service, status_of(e.code, service), &e)
        }
        Api::Json(service, operation) => {
            #[cfg(feature = "faults")]
            let raced = crate::faults::race::answer(&sim, &caller, service, &operation, &body).await;
            #[cfg(not(feature = "faults"))]
            let raced = None;
            let reply = match raced {
                Some(reply) => reply,
                None => {
                    // Parsing and type-checking the body reads no state: it is done before
                    // the lock, which then covers only the model's own work.
                    match std::panic::catch_unwind(|| World::decode(service, &operation, &body)) {
                        Err(_) => Err(Failure::Panicked),
                        Ok(decoded) => {
                            let (reply, ticket) = {
                                let mut inner = sim.lock();
                                sim.answer(&mut inner, &caller, &operation, &body, decoded)
                            };
                            sim.durable(ticket).await.map_err(Failure::Journal).and(reply)
                        }
                    }
                }
            };
            match reply {
                Ok(mut reply) => {
                    note.explanation = reply.explanation.take();
                    redirect_to_self(&mut reply, &parts.headers);
                    let mut response = render(&reply);
                    explain(&mut response, note.explanation.as_ref());
                    response
                }
                Err(failure) => {
                    let code = match service {
                        Service::LicenseManager => ErrorCode::ServerInternal,
                        Service::Evs => ErrorCode::InternalServer,
                    };
                    let message = match failure {
                        Failure::Panicked => "The server failed to process the request.".to_string(),
                        Failure::Journal(m) => {
                            tracing::error!(target: "conform::state", "{m}");
                            format!("{m}; conform serves no more requests until it is restarted")
                        }
                    };
                    let e = AwsError::new(code, message);
                    error_response(&sim, service, status_of(code, service), &e)
                }
            }
        }
    }
}

/// Anything but `POST /` and the control plane.
pub(crate) async fn no_route(State(sim): State<Arc<Simulator>>, req: Request) -> Response {
    let service = Service::LicenseManager;
    let e = service.unknown_operation(format!(
        "No AWS operation at {} {}; AWS requests are POST / with X-Amz-Target",
        req.method(),
        req.uri().path()
    ));
    error_response(&sim, service, StatusCode::NOT_FOUND, &e)
}

enum BodyFault {
    TooLarge,
    Broken(String),
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, BodyFault> {
    // Refuse a declared oversize before reading any of it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyFault::TooLarge);
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyFault::TooLarge),
        Err(e) => Err(BodyFault::Broken(e.to_string())),
    }
}

/// The caller of a request (SPEC 1.3): the account of a known access key, else the policy's
/// default account; the region of the credential scope, else the policy's default region.
fn identify(sim: &Simulator, req: &SignedRequest) -> Result<Caller, AuthFault> {
    let default = sim.default_caller.clone();
    let header = req.headers.get(header::AUTHORIZATION);
    let Some(header) = header else {
        return if sim.require_auth {
            Err(AuthFault::Missing)
        } else {
            Ok(default)
        };
    };
    let parsed = header
        .to_str()
        .map_err(|_| "Authorization header is not text".to_string())
        .and_then(sigv4::parse_authorization);
    let auth = match parsed {
        Ok(a) => a,
        Err(m) if sim.require_auth => return Err(AuthFault::Malformed(m)),
        Err(_) => return Ok(default),
    };
    let account = sim.account(&auth.credential.access_key);
    if sim.require_auth {
        let Some(account) = &account else {
            return Err(AuthFault::UnknownKey(auth.credential.access_key.clone()));
        };
        sigv4::verify(&auth, &account.secret_access_key, req, SystemTime::now())?;
    }
    Ok(Caller::new(
        account.map_or(default.account, |a| a.account_id),
        auth.credential.region,
    ))
}

fn auth_error(fault: AuthFault) -> AwsError {
    match fault {
        AuthFault::Missing => AwsError::new(
            ErrorCode::MissingAuthenticationToken,
            "Missing Authentication Token",
        ),
        AuthFault::Malformed(m) => AwsError::new(ErrorCode::IncompleteSignature, m),
        AuthFault::UnknownKey(k) => AwsError::new(
            ErrorCode::UnrecognizedClient,
            format!("The security token included in the request is invalid (access key '{k}')."),
        ),
        AuthFault::BadSignature(m) => AwsError::new(ErrorCode::InvalidSignature, m),
    }
}

fn status_of(code: ErrorCode, service: Service) -> StatusCode {
    StatusCode::from_u16(code.http_status(service)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Renders a model reply: status, content type, request id, error type and `Location`.
pub(crate) fn render(reply: &Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, reply.service, &reply.request_id, &reply.body);
    let headers = response.headers_mut();
    if let Some(kind) = reply.error_type() {
        headers.insert(ERROR_TYPE, HeaderValue::from_static(kind));
    }
    if let Some(location) = reply
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.insert(header::LOCATION, location);
    }
    explain(&mut response, reply.explanation.as_ref());
    response
}

/// Points a RedirectException back at this simulator (issue #18): `http://<Host>/?region=<home
/// region>` in the header and the body's `Location`, instead of AWS's regional endpoint, so a
/// client that follows it stays offline. The region is informative: requests take theirs from
/// the signature. Without a Host header the model's Location stays.
fn redirect_to_self(reply: &mut Reply, headers: &HeaderMap) {
    let home = reply.location.as_deref().and_then(|l| {
        l.strip_prefix("https://license-manager.")?
            .strip_suffix(".amazonaws.com/")
    });
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let (Some(home), Some(host)) = (home, host) else {
        return;
    };
    let location = format!("http://{host}/?region={home}");
    if let Some(body) = reply.body.as_object_mut() {
        body.insert("Location".into(), serde_json::Value::String(location.clone()));
    }
    reply.location = Some(location);
}

/// Adds `x-conform-explanation`: the model's explanation, short.
fn explain(response: &mut Response, explanation: Option<&Explanation>) {
    // `summary` is printable ASCII by construction, so the header value always parses.
    if let Some(value) = explanation.and_then(|e| HeaderValue::from_str(&e.summary()).ok()) {
        response.headers_mut().insert(EXPLANATION, value);
    }
}

/// An error the simulator answers itself, shaped as the model shapes its own.
fn error_response(sim: &Simulator, service: Service, status: StatusCode, e: &AwsError) -> Response {
    let mut response = json_response(status, service, &sim.fault_request_id(), &e.body(service));
    response
        .headers_mut()
        .insert(ERROR_TYPE, HeaderValue::from_static(e.code.type_name()));
    response
}

fn json_response(
    status: StatusCode,
    service: Service,
    request_id: &str,
    body: &serde_json::Value,
) -> Response {
    // Most replies fit the first allocation (growing from empty was four reallocations).
    let mut bytes = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes = b"{}".to_vec();
    }
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(service.content_type()),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, id);
    }
    response
}

/// The `Action` of a form-encoded (query protocol) body, if it is one.
fn sts_action(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
}

/// STS on the query protocol: only `GetCallerIdentity` (SPEC 1.3).
fn sts(sim: &Simulator, caller: &Caller, body: &[u8]) -> Response {
    let action = sts_action(body).unwrap_or_default();
    if action != "GetCallerIdentity" {
        return sts_error(
            sim,
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!("Could not find operation {action} for version 2011-06-15 (conform answers only GetCallerIdentity)"),
        );
    }
    let request_id = sim.fault_request_id();
    let account = xml_escape(&caller.account);
    let xml = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
         <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::{account}:root</Arn>\n    \
         <UserId>{account}</UserId>\n    <Account>{account}</Account>\n  </GetCallerIdentityResult>\n  \
         <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </GetCallerIdentityResponse>\n"
    );
    xml_response(StatusCode::OK, &request_id, xml)
}

fn sts_error(sim: &Simulator, status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = sim.fault_request_id();
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let xml = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
         <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        xml_escape(code),
        xml_escape(message)
    );
    let mut response = xml_response(status, &request_id, xml);
    if let Ok(v) = HeaderValue::from_str(code) {
        response.headers_mut().insert(ERROR_TYPE, v);
    }
    response
}

fn xml_response(status: StatusCode, request_id: &str, xml: String) -> Response {
    let mut response = (status, xml).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, id);
    }
    response
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::{router, Config, Simulator};

    async fn post(sim: &Arc<Simulator>, target: Option<&str>) -> (StatusCode, Option<String>, Vec<u8>) {
        let mut request = Request::builder().method("POST").uri("/");
        if let Some(t) = target {
            request = request.header(TARGET, t);
        }
        let request = request.body(Body::from("{}")).expect("a fixed request");
        let response = router(sim.clone())
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let kind = response
            .headers()
            .get(ERROR_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes()
            .to_vec();
        (status, kind, body)
    }

    #[tokio::test]
    async fn spec_1_2_a_target_no_service_answers_is_the_license_manager_unknown_operation() {
        let sim = Simulator::new(&Config {
            frozen_clock: true,
            ..Config::default()
        })
        .expect("simulator");
        let before = sim.state_text();
        for target in [Some("Bogus.ListLicenses"), Some("AWSLicenseManager"), None] {
            let (status, kind, body) = post(&sim, target).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{target:?}");
            assert_eq!(kind.as_deref(), Some("UnknownOperationException"), "{target:?}");
            let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
            assert_eq!(body["__type"], "UnknownOperationException", "{target:?}");
        }
        assert_eq!(sim.state_text(), before, "an unknown target changes nothing");
        let (status, kind, _) = post(&sim, Some("AWSLicenseManager.ListLicenses")).await;
        assert_eq!(
            (status, kind),
            (StatusCode::OK, None),
            "a known target reaches the model"
        );
    }
}
