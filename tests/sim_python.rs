//! AWS CLI v1 and boto3 (from PyPI, clients nobody here wrote) against `conform serve`, with
//! endpoint overrides the way users set them. `.ci/run` installs both into a virtualenv and
//! sets `CONFORM_PYTHON_VENV`; without it the tests skip locally and fail under `CI=true`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Binary;
use serde_json::{json, Value};

const SELLER_KEY: &str = "AKIASELLER0000000001";
const SELLER_SECRET: &str = "seller-secret-access-key-0000000000000001";
const BUYER_KEY: &str = "AKIABUYER00000000002";
const BUYER_SECRET: &str = "buyer-secret-access-key-00000000000000002";

fn example_fixtures() -> String {
    format!("{}/fixtures/example.json", env!("CARGO_MANIFEST_DIR"))
}

/// The virtualenv with awscli and boto3, or `None` (skip) outside CI.
fn venv() -> Option<PathBuf> {
    match std::env::var_os("CONFORM_PYTHON_VENV") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.join("bin/aws").exists() && dir.join("bin/python").exists(),
                "CONFORM_PYTHON_VENV={} has no bin/aws or bin/python",
                dir.display()
            );
            Some(dir)
        }
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but CONFORM_PYTHON_VENV is not set: .ci/run installs awscli and boto3 and sets it"
            )
        }
        None => {
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: CONFORM_PYTHON_VENV is not set. To run: python3 -m venv .venv && \
                 .venv/bin/pip install awscli boto3 && CONFORM_PYTHON_VENV=$PWD/.venv cargo test --test sim_python"
            );
            None
        }
    }
}

/// A command with credentials and nothing from the user's own AWS configuration.
fn isolated(program: PathBuf, key: &str, secret: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_LICENSE_MANAGER",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "");
    cmd
}

/// Runs the AWS CLI; `Ok(parsed JSON output)` or `Err(error code)` parsed from its message.
fn aws(cmd: &mut Command) -> Result<Value, String> {
    let out = cmd.arg("--output").arg("json").output().expect("aws runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        return Ok(if stdout.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws output is not JSON ({e}): {stdout}"))
        });
    }
    // "An error occurred (Code) when calling the Op operation: message"
    let code = stderr
        .split_once("An error occurred (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(code, _)| code.to_string());
    Err(code.unwrap_or_else(|| panic!("aws failed without an AWS error: {stderr}")))
}

fn lm(venv: &std::path::Path, url: &str, key: &str, secret: &str, args: &[&str]) -> Command {
    let mut cmd = isolated(venv.join("bin/aws"), key, secret);
    // The service-specific override, as users set it for one service.
    cmd.env("AWS_ENDPOINT_URL_LICENSE_MANAGER", url)
        .arg("license-manager")
        .args(args);
    cmd
}

fn input(value: Value) -> String {
    value.to_string()
}

#[test]
fn aws_cli_seller_and_buyer_scenario() {
    let Some(venv) = venv() else { return };
    let server = Binary::start(&["--fixtures", &example_fixtures(), "--require-auth"]);
    let url = server.url.clone();
    let seller = |args: &[&str]| aws(&mut lm(&venv, &url, SELLER_KEY, SELLER_SECRET, args));

    let create = input(json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "cli-sku",
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 3, "AllowCheckIn": true}],
        "Beneficiary": "customer-1",
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        "ClientToken": "cli-create"
    }));
    let created = seller(&["create-license", "--cli-input-json", &create]).expect("create-license");
    let arn = created["LicenseArn"].as_str().expect("LicenseArn").to_string();
    assert!(arn.contains(":111122223333:license:l-"), "{arn}");
    assert_eq!(created["Version"], "1");

    let license = seller(&["get-license", "--license-arn", &arn]).expect("get-license");
    let fingerprint = license["License"]["Issuer"]["KeyFingerprint"]
        .as_str()
        .expect("KeyFingerprint")
        .to_string();
    assert_eq!(fingerprint, "aws:111122223333:Example Corp:issuer-fingerprint");

    let checkout = input(json!({
        "ProductSKU": "cli-sku", "CheckoutType": "PROVISIONAL", "KeyFingerprint": fingerprint,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "2"}],
        "Beneficiary": "customer-1", "ClientToken": "cli-checkout"
    }));
    let out = seller(&["checkout-license", "--cli-input-json", &checkout]).expect("checkout-license");
    let token = out["LicenseConsumptionToken"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(out["EntitlementsAllowed"][0]["Value"], "2");
    let over = input(json!({
        "ProductSKU": "cli-sku", "CheckoutType": "PROVISIONAL", "KeyFingerprint": fingerprint,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "2"}],
        "Beneficiary": "customer-1", "ClientToken": "cli-over"
    }));
    assert_eq!(
        seller(&["checkout-license", "--cli-input-json", &over]),
        Err("NoEntitlementsAllowedException".into())
    );

    let extended = seller(&[
        "extend-license-consumption",
        "--license-consumption-token",
        &token,
    ])
    .expect("extend");
    assert_eq!(extended["LicenseConsumptionToken"], token.as_str());
    let usage = seller(&["get-license-usage", "--license-arn", &arn]).expect("usage");
    assert_eq!(
        usage["LicenseUsage"]["EntitlementUsages"][0]["ConsumedValue"],
        "2"
    );
    seller(&["check-in-license", "--license-consumption-token", &token]).expect("check-in");
    let usage = seller(&["get-license-usage", "--license-arn", &arn]).expect("usage");
    assert_eq!(
        usage["LicenseUsage"]["EntitlementUsages"][0]["ConsumedValue"],
        "0"
    );

    let v2 = input(json!({
        "LicenseArn": arn, "LicenseName": "Seats v2", "ProductName": "Editor",
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 10}],
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        "Status": "AVAILABLE", "ClientToken": "cli-v2", "SourceVersion": "1"
    }));
    let made = seller(&["create-license-version", "--cli-input-json", &v2]).expect("create-license-version");
    assert_eq!(made["Version"], "2");

    assert_eq!(
        seller(&["delete-license", "--license-arn", &arn, "--source-version", "1"]),
        Err("ConflictException".into())
    );
    let deleted =
        seller(&["delete-license", "--license-arn", &arn, "--source-version", "2"]).expect("delete");
    assert_eq!(deleted["Status"], "PENDING_DELETE");

    // The buyer checks out the Marketplace license seeded by fixtures/example.json.
    let mp = input(json!({
        "ProductSKU": "prod-windows-server-2022", "CheckoutType": "PROVISIONAL",
        "KeyFingerprint": "aws:294406891311:AWS/Marketplace:issuer-fingerprint",
        "Entitlements": [{"Name": "Cores", "Unit": "Count", "Value": "16"}, {"Name": "Support", "Unit": "None"}],
        "ClientToken": "cli-mp"
    }));
    let bought = aws(&mut lm(
        &venv,
        &url,
        BUYER_KEY,
        BUYER_SECRET,
        &["checkout-license", "--cli-input-json", &mp],
    ))
    .expect("Marketplace checkout");
    assert!(bought["LicenseArn"]
        .as_str()
        .expect("arn")
        .contains(":294406891311:license:"));
    assert_eq!(bought["EntitlementsAllowed"][1]["Value"], "Enabled");

    // STS through the global override; the account is the buyer's.
    let mut sts = isolated(venv.join("bin/aws"), BUYER_KEY, BUYER_SECRET);
    sts.env("AWS_ENDPOINT_URL", &url)
        .args(["sts", "get-caller-identity"]);
    let me = aws(&mut sts).expect("get-caller-identity");
    assert_eq!(me["Account"], "444455556666");
    assert_eq!(me["Arn"], "arn:aws:iam::444455556666:root");

    // --endpoint-url works too, and --require-auth refuses a wrong secret and an unknown key.
    let mut wrong = isolated(venv.join("bin/aws"), SELLER_KEY, "wrong-secret");
    wrong.args(["--endpoint-url", &url, "license-manager", "list-licenses"]);
    assert_eq!(aws(&mut wrong), Err("InvalidSignatureException".into()));
    let mut stranger = isolated(venv.join("bin/aws"), "AKIANOBODY", "x");
    stranger.args(["--endpoint-url", &url, "license-manager", "list-licenses"]);
    assert_eq!(aws(&mut stranger), Err("UnrecognizedClientException".into()));
}

#[test]
fn boto3_scenario() {
    let Some(venv) = venv() else { return };
    let server = Binary::start(&["--fixtures", &example_fixtures()]);
    let script = format!("{}/tests/common/boto3_scenario.py", env!("CARGO_MANIFEST_DIR"));
    let out = isolated(venv.join("bin/python"), SELLER_KEY, SELLER_SECRET)
        .env("AWS_ENDPOINT_URL", &server.url)
        .env("AWS_ENDPOINT_URL_LICENSE_MANAGER", &server.url)
        .arg(script)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "boto3 scenario failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("scenario prints JSON");

    assert_eq!(r["create"]["ok"]["Status"], "AVAILABLE");
    let token = r["checkout"]["ok"]["LicenseConsumptionToken"]
        .as_str()
        .expect("token");
    assert_eq!(token.len(), 32);
    // The issuer has a SignKey, so CheckoutLicense signs (SPEC 3.8) with the served key.
    let signed = r["checkout"]["ok"]["SignedToken"].as_str().expect("SignedToken");
    let (_, claims) = conform_model::lm::verify_signed_token(signed).expect("verifies");
    assert_eq!(claims["licenseConsumptionToken"], token);
    assert_eq!(r["checkout_over"]["error"], "NoEntitlementsAllowedException");
    assert_eq!(r["checkout_over"]["status"], 400);
    assert_eq!(
        r["usage"]["ok"]["LicenseUsage"]["EntitlementUsages"][0]["ConsumedValue"],
        "1"
    );
    assert_eq!(r["checkin"]["ok"], json!({}));
    assert_eq!(r["checkin_again"]["error"], "ResourceNotFoundException");
    assert_eq!(r["versions"]["ok"]["Licenses"][0]["Version"], "1");
    assert_eq!(r["bad_arn"]["error"], "ValidationException");
    assert_eq!(r["marketplace"]["ok"]["EntitlementsAllowed"][0]["Value"], "16");
    assert_eq!(r["whoami"]["ok"]["Account"], "111122223333");
}
