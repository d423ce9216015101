//! The journal, the explanation header and unknown services, through the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::{router, Config, Simulator};

async fn send(
    sim: &std::sync::Arc<Simulator>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:4580");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Body::from(body.to_string()))
        .expect("a fixed request");
    let response = router(sim.clone())
        .oneshot(request)
        .await
        .expect("the router answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

async fn list_licenses(sim: &std::sync::Arc<Simulator>) {
    let target = ("x-amz-target", "AWSLicenseManager.ListLicenses");
    let (status, _, _) = send(sim, "POST", "/", &[target], "{}").await;
    assert_eq!(status, StatusCode::OK);
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a JSON body")
}

const CHECKOUT: &str = r#"{"ProductSKU":"p","CheckoutType":"PROVISIONAL","KeyFingerprint":"k","Entitlements":[{"Name":"Seat","Unit":"Count","Value":"1"}],"ClientToken":"c"}"#;

fn frozen() -> std::sync::Arc<Simulator> {
    Simulator::new(&Config {
        frozen_clock: true,
        ..Config::default()
    })
    .expect("simulator")
}

#[tokio::test]
async fn a_refusal_carries_its_explanation_in_the_header_and_the_journal() {
    let sim = frozen();
    let target = ("x-amz-target", "AWSLicenseManager.CheckoutLicense");
    let (status, headers, body) = send(&sim, "POST", "/", &[target], CHECKOUT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json(&body),
        serde_json::json!({"__type": "NoEntitlementsAllowedException", "Message": "No Entitlements Allowed"}),
        "the AWS reply is unchanged"
    );
    let header = headers
        .get("x-conform-explanation")
        .and_then(|v| v.to_str().ok())
        .expect("an explanation header");
    assert!(header.starts_with("no_candidate (SPEC 3.3)"), "{header}");
    list_licenses(&sim).await;

    let (_, _, listed) = send(&sim, "GET", "/_conform/requests", &[], "").await;
    let listed = json(&listed);
    let requests = listed["requests"].as_array().expect("requests");
    let ops: Vec<&str> = requests.iter().filter_map(|r| r["operation"].as_str()).collect();
    assert_eq!(ops, ["CheckoutLicense", "ListLicenses"], "newest last");
    let first = &requests[0];
    assert_eq!(first["account"], "123456789012");
    assert_eq!(first["outcome"], "NoEntitlementsAllowedException");
    assert_eq!(first["request"]["ProductSKU"], "p", "what the product sent");
    assert_eq!(first["explanation"]["rule"], "no_candidate");
    assert_eq!(first["explanation"]["section"], "3.3");
    assert_eq!(requests[1].get("explanation"), None, "a success has none");

    let filtered = |q: &'static str| {
        let sim = sim.clone();
        async move {
            json(&send(&sim, "GET", q, &[], "").await.2)["requests"]
                .as_array()
                .map(Vec::len)
        }
    };
    assert_eq!(filtered("/_conform/requests?outcome=ok").await, Some(1));
    assert_eq!(
        filtered("/_conform/requests?operation=CheckoutLicense&account=123456789012").await,
        Some(1)
    );
    assert_eq!(filtered("/_conform/requests?account=999999999999").await, Some(0));
    let (status, _, _) = send(&sim, "GET", "/_conform/requests?nope=1", &[], "").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an unknown filter is refused, not ignored"
    );

    let (_, _, cleared) = send(&sim, "DELETE", "/_conform/requests", &[], "").await;
    assert_eq!(json(&cleared)["cleared"], 2);
    assert_eq!(filtered("/_conform/requests").await, Some(0));
}

#[tokio::test]
async fn the_journal_is_bounded_by_its_capacity() {
    let sim = Simulator::new(&Config {
        frozen_clock: true,
        journal_capacity: 2,
        ..Config::default()
    })
    .expect("simulator");
    for _ in 0..5 {
        list_licenses(&sim).await;
    }
    let (_, _, listed) = send(&sim, "GET", "/_conform/requests", &[], "").await;
    let seqs: Vec<u64> = json(&listed)["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["seq"].as_u64())
        .collect();
    assert_eq!(seqs, [4, 5], "the oldest are dropped first");
}

#[tokio::test]
async fn unknown_services_get_their_protocols_unknown_operation_fault_even_under_require_auth() {
    let sim = Simulator::new(&Config {
        frozen_clock: true,
        require_auth: true,
        ..Config::default()
    })
    .expect("simulator");
    let (status, headers, _) = send(
        &sim,
        "POST",
        "/",
        &[("x-amz-target", "TrentService.ListKeys")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "KMS (JSON protocol)");
    assert_eq!(headers["x-amzn-errortype"], "UnknownOperationException");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let (status, headers, body) =
        send(&sim, "POST", "/", &[form], "Action=ListUsers&Version=2010-05-08").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "IAM (query protocol)");
    assert_eq!(headers["x-amzn-errortype"], "InvalidAction");
    assert!(String::from_utf8_lossy(&body).contains("<Code>InvalidAction</Code>"));
    let target = ("x-amz-target", "AWSLicenseManager.ListLicenses");
    let (status, _, _) = send(&sim, "POST", "/", &[target], "{}").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a served operation still needs a signature"
    );
}
