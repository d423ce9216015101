//! The simulator's wire behaviour over real HTTP: concurrency, a battery of malformed requests,
//! the body limit, SigV4 refusals (signed by the `aws-sigv4` crate), panics, STS and the
//! control plane.

use std::time::{Duration, SystemTime};

use crate::common::{create_license_body, fingerprint, Conn, InProcess, Resp};
use conform_model::{Caller, Decoded, ErrorCode, Policy, Service, World};
use conform_simulator::{Account, Config, Fixtures, Simulator, MAX_BODY_BYTES};
use serde_json::{json, Value};

const SELLER_KEY: &str = "AKIASELLER";
const SELLER_SECRET: &str = "seller-secret";
const SELLER: &str = "111122223333";

fn accounts() -> Fixtures {
    Fixtures {
        accounts: vec![Account {
            access_key_id: SELLER_KEY.into(),
            secret_access_key: SELLER_SECRET.into(),
            account_id: SELLER.into(),
        }],
        events: Vec::new(),
    }
}

fn frozen() -> Config {
    Config {
        frozen_clock: true,
        fixtures: accounts(),
        ..Config::default()
    }
}

/// Headers of a License Manager request signed by the `aws-sigv4` crate at `time`.
fn signed_headers(
    addr: &str,
    op: &str,
    body: &[u8],
    key: &str,
    secret: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let target = format!("AWSLicenseManager.{op}");
    let base = vec![
        ("host".to_string(), addr.to_string()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("x-amz-target".to_string(), target),
    ];
    let creds = aws_sdk_licensemanager::config::Credentials::new(key, secret, None, None, "test");
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("license-manager")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("http://{addr}/"),
        base.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut headers = base;
    for (k, v) in instructions.headers() {
        headers.push((k.to_string(), v.to_string()));
    }
    headers
}

async fn send_with(conn: &mut Conn, headers: &[(String, String)], body: Vec<u8>) -> Resp {
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| k != "host")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    conn.send("POST", "/", &refs, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_get_exactly_max_count_seats() {
    let server = InProcess::start(frozen()).await;
    let mut admin = Conn::open(server.addr).await;
    let created = admin
        .lm("CreateLicense", &create_license_body("race", 1000, "c"))
        .await;
    assert_eq!(created.status, 200, "{}", String::from_utf8_lossy(&created.body));
    let arn = created.json()["LicenseArn"].as_str().expect("arn").to_string();
    let account = World::new(1, Policy::default()).default_caller().account;

    let mut clients = Vec::new();
    for c in 0..64 {
        let addr = server.addr;
        let fp = fingerprint(&account);
        clients.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let (mut granted, mut server_errors) = (0u32, 0u32);
            for i in 0.. {
                let body = json!({
                    "ProductSKU": "race", "CheckoutType": "PROVISIONAL", "KeyFingerprint": fp,
                    "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
                    "Beneficiary": "customer-1", "ClientToken": format!("c{c}-{i}")
                });
                let r = conn.lm("CheckoutLicense", &body).await;
                match r.status {
                    200 => granted += 1,
                    s if s >= 500 => server_errors += 1,
                    _ => {
                        assert_eq!(r.error_type().as_deref(), Some("NoEntitlementsAllowedException"));
                        break;
                    }
                }
            }
            (granted, server_errors)
        }));
    }
    let (mut granted, mut server_errors) = (0, 0);
    for c in clients {
        let (g, e) = c.await.expect("client task");
        granted += g;
        server_errors += e;
    }
    assert_eq!(server_errors, 0);
    assert_eq!(granted, 1000);
    let usage = admin
        .lm("GetLicenseUsage", &json!({ "LicenseArn": arn }))
        .await
        .json();
    assert_eq!(
        usage["LicenseUsage"]["EntitlementUsages"][0]["ConsumedValue"],
        "1000"
    );
}

/// One malformed request and what the SPEC says it must get.
struct Case {
    name: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    error: &'static str,
}

/// License Manager operations conform implements, with a string member of each (for type
/// faults) and an integer member where the operation has one.
const OPS: &[(&str, &str, Option<&str>)] = &[
    ("CreateLicense", "LicenseName", None),
    ("CreateLicenseVersion", "LicenseArn", None),
    ("GetLicense", "LicenseArn", None),
    ("ListLicenses", "NextToken", Some("MaxResults")),
    ("ListLicenseVersions", "LicenseArn", Some("MaxResults")),
    ("DeleteLicense", "LicenseArn", None),
    ("CheckoutLicense", "ProductSKU", None),
    ("CheckoutBorrowLicense", "LicenseArn", None),
    ("CheckInLicense", "LicenseConsumptionToken", None),
    ("ExtendLicenseConsumption", "LicenseConsumptionToken", None),
    ("GetLicenseUsage", "LicenseArn", None),
    ("CreateGrant", "GrantName", None),
    ("GetGrant", "GrantArn", None),
    ("AcceptGrant", "GrantArn", None),
    ("RejectGrant", "GrantArn", None),
    ("CreateGrantVersion", "GrantArn", None),
    ("DeleteGrant", "GrantArn", None),
    ("ListDistributedGrants", "NextToken", Some("MaxResults")),
    ("ListReceivedGrants", "NextToken", Some("MaxResults")),
    ("ListReceivedLicenses", "NextToken", Some("MaxResults")),
];

/// Operations whose input has no required member: `{}` is a valid request for them.
const NOTHING_REQUIRED: &[&str] = &[
    "ListLicenses",
    "ListDistributedGrants",
    "ListReceivedGrants",
    "ListReceivedLicenses",
];

fn lm_headers(op: &str) -> Vec<(String, String)> {
    vec![
        ("x-amz-target".into(), format!("AWSLicenseManager.{op}")),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
    ]
}

/// The shape-stage error of an operation, as its service model lists it (SPEC 1.2).
fn shape_error(op: &str) -> &'static str {
    let def = Service::LicenseManager.model().operation(op).expect("modelled");
    if def.lists(ErrorCode::Validation) {
        "ValidationException"
    } else {
        "InvalidParameterValueException"
    }
}

fn battery(addr: &str) -> Vec<Case> {
    let serialization = "SerializationException";
    let mut cases = Vec::new();
    for &(op, string_member, int_member) in OPS {
        let mut case =
            |name: &str, headers: Vec<(String, String)>, body: Vec<u8>, status: u16, error: &'static str| {
                cases.push(Case {
                    name: format!("{op}: {name}"),
                    headers,
                    body,
                    status,
                    error,
                })
            };
        let h = lm_headers(op);
        let now = SystemTime::now();
        // The server requires auth: every protocol fault is validly signed, so it is the body
        // that gets judged.
        let sign = |body: &[u8]| signed_headers(addr, op, body, SELLER_KEY, SELLER_SECRET, now);
        for (name, body) in [
            ("not JSON", b"{".to_vec()),
            ("trailing garbage", b"{} x".to_vec()),
            ("top-level array", b"[]".to_vec()),
            ("top-level null", b"null".to_vec()),
            ("top-level string", b"\"x\"".to_vec()),
            ("top-level number", b"5".to_vec()),
            ("invalid UTF-8", b"{\"a\": \"\xff\xfe\"}".to_vec()),
            (
                "number for a string",
                format!("{{\"{string_member}\": 5}}").into_bytes(),
            ),
            (
                "object for a string",
                format!("{{\"{string_member}\": {{}}}}").into_bytes(),
            ),
            (
                "boolean for a string",
                format!("{{\"{string_member}\": true}}").into_bytes(),
            ),
        ] {
            case(name, sign(&body), body, 400, serialization);
        }
        if let Some(int) = int_member {
            for (name, v) in [
                ("fraction", "1.0"),
                ("exponent", "1e2"),
                ("beyond i32", "4294967296"),
            ] {
                let body = format!("{{\"{int}\": {v}}}").into_bytes();
                case(name, sign(&body), body, 400, serialization);
            }
        }
        // Valid JSON the service model refuses: a range violation where the operation has no
        // required member to miss, else control characters plus the missing required members.
        // (The token operations constrain nothing but presence: a null member is absent.)
        let refused = match (op, int_member) {
            ("CheckInLicense" | "ExtendLicenseConsumption", _) => format!("{{\"{string_member}\": null}}"),
            (_, Some(int)) => format!("{{\"{int}\": 0}}"),
            (_, None) => format!("{{\"{string_member}\": \"\\u0000\\u0001\"}}"),
        };
        case(
            "constraint violated",
            sign(refused.as_bytes()),
            refused.into_bytes(),
            400,
            shape_error(op),
        );
        if !NOTHING_REQUIRED.contains(&op) {
            case(
                "required members missing",
                sign(b"{}"),
                b"{}".to_vec(),
                400,
                shape_error(op),
            );
        }
        let mut big = b"{\"Pad\": \"".to_vec();
        big.resize(MAX_BODY_BYTES + 1, b'a');
        case("body over 1 MiB", h.clone(), big, 413, serialization);

        // SigV4 faults (the server requires auth).
        let body = b"{}".to_vec();
        case(
            "no signature",
            h.clone(),
            body.clone(),
            403,
            "MissingAuthenticationTokenException",
        );
        let _ = &sign;
        let mut malformed = h.clone();
        malformed.push((
            "authorization".into(),
            "AWS4-HMAC-SHA256 Credential=broken".into(),
        ));
        case(
            "malformed signature",
            malformed,
            body.clone(),
            400,
            "IncompleteSignatureException",
        );
        let unknown = signed_headers(addr, op, &body, "AKIANOBODY", "x", now);
        case(
            "unknown access key",
            unknown,
            body.clone(),
            403,
            "UnrecognizedClientException",
        );
        let wrong = signed_headers(addr, op, &body, SELLER_KEY, "not-the-secret", now);
        case(
            "wrong secret",
            wrong,
            body.clone(),
            403,
            "InvalidSignatureException",
        );
        let old = signed_headers(
            addr,
            op,
            &body,
            SELLER_KEY,
            SELLER_SECRET,
            now - Duration::from_secs(6 * 60),
        );
        case(
            "six minutes old",
            old,
            body.clone(),
            403,
            "InvalidSignatureException",
        );
        let mut tampered = signed_headers(addr, op, &body, SELLER_KEY, SELLER_SECRET, now);
        tampered.retain(|(k, _)| k != "x-amz-target");
        tampered.push(("x-amz-target".into(), "AWSLicenseManager.DeleteLicense".into()));
        if op != "DeleteLicense" {
            case(
                "signed target swapped",
                tampered,
                body.clone(),
                403,
                "InvalidSignatureException",
            );
        }
    }
    for op in ["NoSuchOperation", "ListLicenseConfigurations"] {
        cases.push(Case {
            name: format!("{op}: unknown or unimplemented operation"),
            headers: signed_headers(addr, op, b"{}", SELLER_KEY, SELLER_SECRET, SystemTime::now()),
            body: b"{}".to_vec(),
            status: 400,
            error: "UnknownOperationException",
        });
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_battery_gets_typed_errors_and_changes_nothing() {
    let server = InProcess::start(Config {
        require_auth: true,
        ..frozen()
    })
    .await;
    let addr = server.addr.to_string();
    let mut conn = Conn::open(server.addr).await;

    // Some state first, created with valid signatures, so "unchanged" means something.
    let body = serde_json::to_vec(&create_license_body("battery", 3, "c")).expect("json");
    let ok = send_with(
        &mut conn,
        &signed_headers(
            &addr,
            "CreateLicense",
            &body,
            SELLER_KEY,
            SELLER_SECRET,
            SystemTime::now(),
        ),
        body,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let license_arn = ok.json()["LicenseArn"].as_str().expect("arn").to_string();
    assert!(license_arn.contains(SELLER));
    let grant = serde_json::to_vec(&json!({
        "ClientToken": "g", "GrantName": "Buyer seats", "LicenseArn": license_arn,
        "Principals": ["arn:aws:iam::444455556666:root"], "HomeRegion": "us-east-1",
        "AllowedOperations": ["CheckoutLicense"]
    }))
    .expect("json");
    let granted = send_with(
        &mut conn,
        &signed_headers(
            &addr,
            "CreateGrant",
            &grant,
            SELLER_KEY,
            SELLER_SECRET,
            SystemTime::now(),
        ),
        grant,
    )
    .await;
    assert_eq!(granted.status, 200, "{}", String::from_utf8_lossy(&granted.body));
    let before = conn.get_json("/_conform/state").await;
    assert_eq!(before["grants"].as_array().map(Vec::len), Some(1), "{before}");

    let cases = battery(&addr);
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut request_ids = std::collections::BTreeSet::new();
    for case in &cases {
        let r = if case.body.len() > MAX_BODY_BYTES {
            // The reply to an oversized body may come, and the connection close, before the
            // client has written it all: a write error is not the reply.
            raw_send(server.addr, &case.headers, &case.body).await
        } else {
            let mut conn = Conn::open(server.addr).await;
            send_with(&mut conn, &case.headers, case.body.clone()).await
        };
        let got = (r.status, r.error_type());
        if got != (case.status, Some(case.error.to_string())) {
            failures.push(format!(
                "{}: expected {} {}, got {got:?}",
                case.name, case.status, case.error
            ));
        }
        let id = r.header("x-amzn-requestid").unwrap_or_default().to_string();
        assert_eq!(id.len(), 36, "{}: request id {id:?}", case.name);
        request_ids.insert(id);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_eq!(request_ids.len(), cases.len(), "request ids repeat");
    let after = conn.get_json("/_conform/state").await;
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_replies_match_the_model_byte_for_byte() {
    // Translation only: the same requests through HTTP and through World::handle give
    // the same status, error type and body (the model's request ids included, same seed).
    let server = InProcess::start(frozen()).await;
    let mut conn = Conn::open(server.addr).await;
    let mut world = World::new(1, Policy::default());
    let caller = world.default_caller();
    let script = [
        ("CreateLicense", create_license_body("same", 1, "t1")),
        ("CreateLicense", create_license_body("same", 1, "t1")),
        ("ListLicenses", json!({})),
        (
            "GetLicense",
            json!({"LicenseArn": "arn:aws:license-manager::123456789012:license:l-00000000000000000000000000000000"}),
        ),
        (
            "CheckoutLicense",
            json!({"ProductSKU": "same", "CheckoutType": "PERPETUAL",
            "KeyFingerprint": fingerprint(&caller.account), "Beneficiary": "customer-1",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": "k"}),
        ),
        (
            "CheckoutLicense",
            json!({"ProductSKU": "same", "CheckoutType": "PERPETUAL",
            "KeyFingerprint": fingerprint(&caller.account), "Beneficiary": "customer-1",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": "k2"}),
        ),
    ];
    for (op, body) in script {
        let bytes = serde_json::to_vec(&body).expect("json");
        let expected = world.handle(&caller, Service::LicenseManager, op, &bytes);
        let got = conn.lm(op, &body).await;
        assert_eq!(got.status, expected.status, "{op}");
        assert_eq!(got.error_type().as_deref(), expected.error_type(), "{op}");
        assert_eq!(got.json(), expected.body, "{op}");
        assert_eq!(
            got.header("x-amzn-requestid"),
            Some(expected.request_id.as_str()),
            "{op}"
        );
        assert_eq!(got.header("content-type"), Some("application/x-amz-json-1.1"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_carries_location_header() {
    let server = InProcess::start(frozen()).await;
    let addr = server.addr.to_string();
    let mut conn = Conn::open(server.addr).await;
    let mut body = create_license_body("elsewhere", 1, "r");
    body["HomeRegion"] = json!("eu-west-1");
    let bytes = serde_json::to_vec(&body).expect("json");
    let headers = signed_headers(
        &addr,
        "CreateLicense",
        &bytes,
        SELLER_KEY,
        SELLER_SECRET,
        SystemTime::now(),
    );
    let r = send_with(&mut conn, &headers, bytes).await;
    assert_eq!(r.status, 308);
    assert_eq!(r.error_type().as_deref(), Some("RedirectException"));
    // Issue #18: back at the simulator's own address, naming the home region.
    let own = format!("http://{addr}/?region=eu-west-1");
    assert_eq!(r.header("location"), Some(own.as_str()));
    assert_eq!(r.json()["Location"], own.as_str());
}

fn panicking(world: &mut World, caller: &Caller, op: &str, decoded: Decoded) -> conform_model::Reply {
    if op == "Panic" {
        panic!("injected panic for {op}");
    }
    world.handle_decoded(caller, decoded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_becomes_the_services_500_and_serving_goes_on() {
    let sim = Simulator::with_dispatch(&frozen(), panicking).expect("simulator");
    let server = InProcess::start_with(sim).await;
    let mut conn = Conn::open(server.addr).await;
    for (target, error, content_type) in [
        (
            "AWSLicenseManager.Panic",
            "ServerInternalException",
            "application/x-amz-json-1.1",
        ),
        (
            "AmazonElasticVMwareService.Panic",
            "InternalServerException",
            "application/x-amz-json-1.0",
        ),
    ] {
        let r = conn
            .send("POST", "/", &[("x-amz-target", target)], b"{}".to_vec())
            .await;
        assert_eq!(r.status, 500);
        assert_eq!(r.error_type().as_deref(), Some(error));
        assert_eq!(r.header("content-type"), Some(content_type));
    }
    let r = conn
        .lm("CreateLicense", &create_license_body("after", 1, "p"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_get_caller_identity_names_the_signing_account() {
    let server = InProcess::start(frozen()).await;
    let mut conn = Conn::open(server.addr).await;
    let form = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let form_type = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");
    let unsigned = conn.send("POST", "/", &[form_type], form.clone()).await;
    assert_eq!(unsigned.status, 200);
    let xml = String::from_utf8_lossy(&unsigned.body).to_string();
    let default = World::new(1, Policy::default()).default_caller().account;
    assert!(xml.contains(&format!("<Account>{default}</Account>")), "{xml}");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={SELLER_KEY}/20260101/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature={}",
        "0".repeat(64)
    );
    let signed = conn
        .send("POST", "/", &[form_type, ("authorization", &auth)], form)
        .await;
    let xml = String::from_utf8_lossy(&signed.body).to_string();
    assert!(
        xml.contains(&format!("<Arn>arn:aws:iam::{SELLER}:root</Arn>")),
        "{xml}"
    );
    assert!(xml.contains(&format!("<UserId>{SELLER}</UserId>")), "{xml}");
    assert!(signed.header("x-amzn-requestid").is_some());
    let other = conn
        .send("POST", "/", &[form_type], b"Action=AssumeRole".to_vec())
        .await;
    assert_eq!(other.status, 400);
    assert!(String::from_utf8_lossy(&other.body).contains("<Code>InvalidAction</Code>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_plane_applies_all_or_nothing() {
    let server = InProcess::start(frozen()).await;
    let mut conn = Conn::open(server.addr).await;
    let before = conn.get_json("/_conform/state").await;
    let now = before["clock"]["now_ms"].as_i64().expect("now_ms");

    let seed = |buyer: &str| {
        json!({"event": "seed_marketplace_license", "buyer_account": buyer, "product_sku": "mp",
               "entitlements": [{"Name": "Cores", "Unit": "Count", "MaxCount": 4}]})
    };
    let refused = conn
        .post_json("/_conform/events", &json!([seed("444455556666"), seed("12")]))
        .await;
    assert_eq!(refused.status, 400, "{}", String::from_utf8_lossy(&refused.body));
    assert_eq!(conn.get_json("/_conform/state").await, before);
    for bad in [json!({"seconds": -1}), json!({"second": 5}), json!([1])] {
        let r = conn.post_json("/_conform/clock", &bad).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = conn
        .post_json(
            "/_conform/fixtures",
            &json!({"accounts": [{"access_key_id": "A"}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(conn.get_json("/_conform/state").await, before);

    let ok = conn
        .post_json("/_conform/events", &json!([seed("444455556666")]))
        .await;
    assert_eq!(ok.status, 200);
    let clock = conn.post_json("/_conform/clock", &json!({"seconds": 3600})).await;
    assert_eq!(clock.json()["applied"][0]["now_ms"], now + 3_600_000);
    let state = conn.get_json("/_conform/state").await;
    assert_eq!(state["licenses"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        state["licenses"][0]["Versions"][0]["EffectiveStatus"],
        "AVAILABLE"
    );
    assert_eq!(state["grants"][0]["Status"], "ACTIVE");

    let reset = conn.post_json("/_conform/reset", &json!({})).await;
    assert_eq!(reset.status, 200);
    let state = conn.get_json("/_conform/state").await;
    assert_eq!(state["licenses"], json!([]));
    assert_eq!(state["clock"]["now_ms"], now + 3_600_000, "reset keeps the clock");

    let nowhere = conn.send("GET", "/nowhere", &[], Vec::new()).await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.error_type().as_deref(), Some("UnknownOperationException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limit_is_exact() {
    let server = InProcess::start(frozen()).await;
    let mut conn = Conn::open(server.addr).await;
    // Exactly the limit is read and judged by the model (an unknown member, then validation).
    let mut body = b"{\"Pad\": \"".to_vec();
    body.resize(MAX_BODY_BYTES - 2, b'a');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), MAX_BODY_BYTES);
    let headers = lm_headers("GetLicense");
    let r = send_with(&mut conn, &headers, body).await;
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (400, Some("ValidationException"))
    );
    // Without Content-Length (chunked), the limit is enforced while reading.
    let r = chunked_post(server.addr, "AWSLicenseManager.GetLicense", MAX_BODY_BYTES + 10).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{}", &r[..r.len().min(200)]);
    assert!(r.contains("SerializationException"));
}

/// One request with Content-Length over a fresh connection, written as far as the server reads
/// it; the reply is read whole (the server closes the connection after it).
async fn raw_send(addr: std::net::SocketAddr, headers: &[(String, String)], body: &[u8]) -> Resp {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.expect("head");
    let _ = s.write_all(body).await; // the server may answer and close before reading it all
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await; // data received before a reset stays in `out`
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no reply head: {}", String::from_utf8_lossy(&out)));
    let text = String::from_utf8_lossy(&out[..split]).to_string();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {text}"));
    let mut map = hyper::HeaderMap::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header {line:?}"));
        map.append(
            hyper::header::HeaderName::from_bytes(k.trim().as_bytes()).expect("header name"),
            hyper::header::HeaderValue::from_str(v.trim()).expect("header value"),
        );
    }
    assert!(map.get("transfer-encoding").is_none(), "chunked reply: {text}");
    let mut body = out[split + 4..].to_vec();
    if let Some(n) = map
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        assert!(body.len() >= n, "reply body cut short: {text}");
        body.truncate(n);
    }
    Resp {
        status,
        headers: map,
        body,
    }
}

/// A raw chunked request of `size` bytes; returns the reply's text.
async fn chunked_post(addr: std::net::SocketAddr, target: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: {target}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        let frame = format!("{n:x}\r\n");
        if s.write_all(frame.as_bytes()).await.is_err()
            || s.write_all(&chunk[..n]).await.is_err()
            || s.write_all(b"\r\n").await.is_err()
        {
            break; // the server may answer and close before the whole body is sent
        }
        sent += n;
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_auth_accepts_the_sdk_and_refuses_the_unsigned() {
    let server = InProcess::start(Config {
        require_auth: true,
        ..frozen()
    })
    .await;
    let config = aws_sdk_licensemanager::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_licensemanager::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_licensemanager::config::Credentials::new(
            SELLER_KEY,
            SELLER_SECRET,
            None,
            None,
            "t",
        ))
        .endpoint_url(server.url())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let sdk = aws_sdk_licensemanager::Client::from_conf(config);
    let listed = sdk
        .list_licenses()
        .send()
        .await
        .expect("a valid signature passes");
    assert!(listed.licenses().is_empty());

    let mut conn = Conn::open(server.addr).await;
    let r = conn.lm("ListLicenses", &json!({})).await;
    assert_eq!(
        (r.status, r.error_type().as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );
    let state: Value = conn.get_json("/_conform/state").await;
    assert_eq!(
        state["licenses"],
        json!([]),
        "the control plane needs no signature"
    );
}

#[test]
fn sigterm_right_after_the_banner_shuts_down_cleanly() {
    // The banner promises connections are accepted; the signal handlers are already in place.
    for signal in ["-TERM", "-INT"] {
        let mut server = crate::common::Binary::start(&["--frozen-clock"]);
        let pid = server.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = server.child.try_wait().expect("wait") {
                break status;
            }
            assert!(std::time::Instant::now() < deadline, "{signal}: still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{signal}: exit {status:?}");
    }
}
