//! AWS CLI v1 and boto3 (from PyPI, clients nobody here wrote) against `conform serve`, with
//! endpoint overrides the way users set them. `.ci/run` installs both into a virtualenv and
//! sets `CONFORM_PYTHON_VENV`; without it the tests skip locally and fail under `CI=true`.

use std::path::PathBuf;
use std::process::Command;

use crate::common::Binary;
use serde_json::{json, Value};

const SELLER_KEY: &str = "AKIASELLER0000000001";
const SELLER_SECRET: &str = "seller-secret-access-key-0000000000000001";
const BUYER_KEY: &str = "AKIABUYER00000000002";
const BUYER_SECRET: &str = "buyer-secret-access-key-00000000000000002";
const STRANGER_KEY: &str = "AKIASTRANGER00000003";
const STRANGER_SECRET: &str = "stranger-secret-access-key-000000000003";
const SELLER: &str = "111122223333";
const BUYER: &str = "444455556666";
/// The EVS environment fixtures/example.json seeds for the buyer in us-east-1.
const EVS_ENV: &str = "env-example001";

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
        "AWS_ENDPOINT_URL_EVS",
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

fn evs(venv: &std::path::Path, url: &str, key: &str, secret: &str, args: &[&str]) -> Command {
    let mut cmd = isolated(venv.join("bin/aws"), key, secret);
    cmd.env("AWS_ENDPOINT_URL_EVS", url).arg("evs").args(args);
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

/// The `Grants` of a list-*-grants output, as (GrantArn, GrantStatus, Version).
fn grants_of(listed: &Value) -> Vec<(String, String, String)> {
    listed["Grants"]
        .as_array()
        .unwrap_or_else(|| panic!("no Grants list: {listed}"))
        .iter()
        .map(|g| {
            let field = |k: &str| g[k].as_str().unwrap_or_else(|| panic!("{k} in {g}")).to_string();
            (field("GrantArn"), field("GrantStatus"), field("Version"))
        })
        .collect()
}

/// The LicenseArns of a list-received-licenses output.
fn received_arns(listed: &Value) -> Vec<String> {
    listed["Licenses"]
        .as_array()
        .unwrap_or_else(|| panic!("no Licenses list: {listed}"))
        .iter()
        .map(|l| l["LicenseArn"].as_str().expect("LicenseArn").to_string())
        .collect()
}

#[test]
fn aws_cli_two_account_grant_flow() {
    let Some(venv) = venv() else { return };
    let server = Binary::start(&["--fixtures", &example_fixtures(), "--require-auth"]);
    let url = server.url.clone();
    let seller = |args: &[&str]| aws(&mut lm(&venv, &url, SELLER_KEY, SELLER_SECRET, args));
    let buyer = |args: &[&str]| aws(&mut lm(&venv, &url, BUYER_KEY, BUYER_SECRET, args));
    let stranger = |args: &[&str]| aws(&mut lm(&venv, &url, STRANGER_KEY, STRANGER_SECRET, args));

    // The seller issues a license and grants it to the buyer's account root.
    let create = input(json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "granted-sku",
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 2, "AllowCheckIn": true}],
        "Beneficiary": "seller-books",
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        "ClientToken": "grant-flow-license"
    }));
    let created = seller(&["create-license", "--cli-input-json", &create]).expect("create-license");
    let license_arn = created["LicenseArn"].as_str().expect("LicenseArn").to_string();
    let license = seller(&["get-license", "--license-arn", &license_arn]).expect("get-license");
    let seller_fingerprint = license["License"]["Issuer"]["KeyFingerprint"]
        .as_str()
        .expect("KeyFingerprint")
        .to_string();
    let buyer_root = format!("arn:aws:iam::{BUYER}:root");
    let grant = input(json!({
        "ClientToken": "grant-flow-grant", "GrantName": "Buyer seats", "LicenseArn": license_arn,
        "Principals": [buyer_root], "HomeRegion": "us-east-1",
        "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense"]
    }));
    let granted = seller(&["create-grant", "--cli-input-json", &grant]).expect("create-grant");
    let grant_arn = granted["GrantArn"].as_str().expect("GrantArn").to_string();
    assert!(
        grant_arn.starts_with(&format!("arn:aws:license-manager::{SELLER}:grant:g-")),
        "{grant_arn}"
    );
    assert_eq!(
        (&granted["Status"], &granted["Version"]),
        (&json!("PENDING_ACCEPT"), &json!("1"))
    );

    // Checking out before the grant is active: nothing is allowed.
    let checkout = |token: &str| {
        input(json!({
            "ProductSKU": "granted-sku", "CheckoutType": "PROVISIONAL",
            "KeyFingerprint": seller_fingerprint,
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
            "ClientToken": token
        }))
    };
    assert_eq!(
        buyer(&["checkout-license", "--cli-input-json", &checkout("early")]),
        Err("NoEntitlementsAllowedException".into())
    );

    // The buyer finds it pending, accepts (DISABLED) and activates it.
    // (The buyer also holds the Marketplace grant seeded by the fixtures.)
    let all = buyer(&["list-received-grants"]).expect("list-received-grants");
    let granters: Vec<String> = grants_of(&all)
        .into_iter()
        .map(|(arn, _, _)| arn.split(':').nth(4).unwrap_or_default().to_string())
        .collect();
    assert_eq!(granters, ["294406891311", SELLER]);
    let by_license = input(json!({"Filters": [{"Name": "LicenseArn", "Values": [license_arn]}]}));
    let received = buyer(&["list-received-grants", "--cli-input-json", &by_license])
        .expect("filtered list-received-grants");
    assert_eq!(
        grants_of(&received),
        [(grant_arn.clone(), "PENDING_ACCEPT".into(), "1".into())]
    );
    assert_eq!(received["Grants"][0]["GranteePrincipalArn"], buyer_root.as_str());
    assert_eq!(received["Grants"][0]["LicenseArn"], license_arn.as_str());
    let accepted = buyer(&["accept-grant", "--grant-arn", &grant_arn]).expect("accept-grant");
    assert_eq!(
        (&accepted["Status"], &accepted["Version"]),
        (&json!("DISABLED"), &json!("2"))
    );
    assert_eq!(
        buyer(&["accept-grant", "--grant-arn", &grant_arn]),
        Err("InvalidParameterValueException".into()),
        "accepting twice"
    );
    let activated = buyer(&[
        "create-grant-version",
        "--grant-arn",
        &grant_arn,
        "--status",
        "ACTIVE",
        "--source-version",
        "2",
        "--client-token",
        "grant-flow-on",
    ])
    .expect("create-grant-version");
    assert_eq!(
        (&activated["Status"], &activated["Version"]),
        (&json!("ACTIVE"), &json!("3"))
    );

    // The license is now among the buyer's received licenses, with the seller's fingerprint.
    let licenses = buyer(&["list-received-licenses"]).expect("list-received-licenses");
    let mine: Vec<&Value> = licenses["Licenses"]
        .as_array()
        .expect("Licenses")
        .iter()
        .filter(|l| l["LicenseArn"] == license_arn.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{licenses}");
    assert_eq!(mine[0]["Issuer"]["KeyFingerprint"], seller_fingerprint.as_str());
    assert_eq!(mine[0]["ReceivedMetadata"]["ReceivedStatus"], "ACTIVE");
    assert_eq!(
        mine[0]["ReceivedMetadata"]["AllowedOperations"],
        json!(["CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense"])
    );
    let own = buyer(&["get-license", "--license-arn", &license_arn]).expect("grantee reads the license");
    assert_eq!(own["License"]["ProductSKU"], "granted-sku");

    // Checkout without a Beneficiary draws from the granted license; check-in gives it back.
    let out =
        buyer(&["checkout-license", "--cli-input-json", &checkout("buyer-1")]).expect("checkout-license");
    assert_eq!(out["LicenseArn"], license_arn.as_str());
    assert_eq!(out["EntitlementsAllowed"][0]["Value"], "1");
    let token = out["LicenseConsumptionToken"]
        .as_str()
        .expect("token")
        .to_string();
    let usage = |who: &dyn Fn(&[&str]) -> Result<Value, String>| {
        who(&["get-license-usage", "--license-arn", &license_arn]).expect("get-license-usage")["LicenseUsage"]
            ["EntitlementUsages"][0]["ConsumedValue"]
            .clone()
    };
    assert_eq!(usage(&seller), "1");
    buyer(&["check-in-license", "--license-consumption-token", &token]).expect("check-in-license");
    assert_eq!(usage(&seller), "0");

    // The seller narrows the grant to check-in only: checkout is refused, reading still works.
    let narrowed = seller(&[
        "create-grant-version",
        "--grant-arn",
        &grant_arn,
        "--allowed-operations",
        "CheckInLicense",
        "--client-token",
        "grant-flow-narrow",
    ])
    .expect("narrowing create-grant-version");
    assert_eq!(
        (&narrowed["Status"], &narrowed["Version"]),
        (&json!("ACTIVE"), &json!("4"))
    );
    assert_eq!(
        buyer(&["checkout-license", "--cli-input-json", &checkout("buyer-2")]),
        Err("NoEntitlementsAllowedException".into())
    );
    let current = buyer(&["get-grant", "--grant-arn", &grant_arn]).expect("get-grant");
    assert_eq!(current["Grant"]["GrantedOperations"], json!(["CheckInLicense"]));
    assert_eq!(current["Grant"]["Version"], "4");

    // Deleting needs the current Version; then the buyer loses the license altogether.
    // (`--version` on the command line is CLI v1's own flag, so Version goes in as JSON.)
    let delete = |version: &str| input(json!({"GrantArn": grant_arn, "Version": version}));
    assert_eq!(
        seller(&["delete-grant", "--cli-input-json", &delete("3")]),
        Err("InvalidParameterValueException".into())
    );
    assert_eq!(
        buyer(&["delete-grant", "--cli-input-json", &delete("4")]),
        Err("InvalidParameterValueException".into()),
        "only the issuer deletes"
    );
    let deleted = seller(&["delete-grant", "--cli-input-json", &delete("4")]).expect("delete-grant");
    assert_eq!(
        (&deleted["Status"], &deleted["Version"]),
        (&json!("DELETED"), &json!("5"))
    );
    assert_eq!(
        buyer(&["checkout-license", "--cli-input-json", &checkout("buyer-3")]),
        Err("NoEntitlementsAllowedException".into())
    );
    assert_eq!(
        buyer(&["get-license", "--license-arn", &license_arn]),
        Err("InvalidParameterValueException".into())
    );
    let after = buyer(&["list-received-licenses"]).expect("list-received-licenses");
    assert!(!received_arns(&after).contains(&license_arn), "{after}");
    let distributed = seller(&["list-distributed-grants"]).expect("list-distributed-grants");
    assert_eq!(
        grants_of(&distributed),
        [(grant_arn.clone(), "DELETED".into(), "5".into())]
    );

    // A third account sees none of it.
    for list in ["list-received-grants", "list-distributed-grants"] {
        let none = stranger(&[list]).expect(list);
        assert_eq!(grants_of(&none), [], "{list}");
    }
    let none = stranger(&["list-received-licenses"]).expect("list-received-licenses");
    assert_eq!(received_arns(&none), Vec::<String>::new());
    assert_eq!(
        stranger(&["get-grant", "--grant-arn", &grant_arn]),
        Err("InvalidParameterValueException".into())
    );
    assert_eq!(
        stranger(&["get-license", "--license-arn", &license_arn]),
        Err("InvalidParameterValueException".into())
    );
}

#[test]
fn aws_cli_evs_entitlements_on_the_seeded_environment() {
    let Some(venv) = venv() else { return };
    let server = Binary::start(&["--fixtures", &example_fixtures(), "--require-auth"]);
    let url = server.url.clone();
    let buyer = |args: &[&str]| aws(&mut evs(&venv, &url, BUYER_KEY, BUYER_SECRET, args));

    let envs = buyer(&["list-environments"]).expect("list-environments");
    let ids: Vec<&str> = envs["environmentSummaries"]
        .as_array()
        .expect("environmentSummaries")
        .iter()
        .filter_map(|e| e["environmentId"].as_str())
        .collect();
    assert_eq!(ids, [EVS_ENV]);
    let env = buyer(&["get-environment", "--environment-id", EVS_ENV]).expect("get-environment");
    assert_eq!(env["environment"]["environmentState"], "CREATED");
    assert_eq!(env["environment"]["environmentName"], "lab");
    assert_eq!(
        env["environment"]["environmentArn"],
        format!("arn:aws:evs:us-east-1:{BUYER}:environment/{EVS_ENV}")
    );
    // EVS state is per account and region: the seller has no environment.
    let theirs = aws(&mut evs(
        &venv,
        &url,
        SELLER_KEY,
        SELLER_SECRET,
        &["list-environments"],
    ))
    .expect("seller list-environments");
    assert_eq!(theirs["environmentSummaries"], json!([]));

    let made = buyer(&[
        "create-environment-connector",
        "--environment-id",
        EVS_ENV,
        "--type",
        "VCENTER",
        "--appliance-fqdn",
        "vcenter.lab.example.com",
        "--secret-identifier",
        "evs/vcenter",
    ])
    .expect("create-environment-connector");
    let connector = made["connector"]["connectorId"]
        .as_str()
        .expect("connectorId")
        .to_string();
    assert!(connector.starts_with("cnctr-"), "{connector}");
    assert_eq!(made["connector"]["state"], "CREATING");

    let entitle = |vms: &[&str]| {
        let mut args = vec![
            "create-entitlement",
            "--environment-id",
            EVS_ENV,
            "--connector-id",
            &connector,
            "--entitlement-type",
            "WINDOWS_SERVER",
            "--vm-ids",
        ];
        args.extend_from_slice(vms);
        buyer(&args)
    };
    let created = entitle(&["vm-1001"]).expect("create-entitlement");
    assert_eq!(created["entitlements"][0]["vmId"], "vm-1001");
    assert_eq!(created["entitlements"][0]["vmName"], "sql-01");
    assert_eq!(created["entitlements"][0]["status"], "CREATING");
    assert_eq!(
        entitle(&["vm-1002", "vm-1002"]),
        Err("ValidationException".into())
    );
    let listed = buyer(&[
        "list-vm-entitlements",
        "--environment-id",
        EVS_ENV,
        "--connector-id",
        &connector,
        "--entitlement-type",
        "WINDOWS_SERVER",
    ])
    .expect("list-vm-entitlements");
    let vms: Vec<&str> = listed["entitlements"]
        .as_array()
        .expect("entitlements")
        .iter()
        .filter_map(|e| e["vmId"].as_str())
        .collect();
    assert_eq!(vms, ["vm-1001"]);
    assert_eq!(
        buyer(&["get-environment", "--environment-id", "env-0000000000"]),
        Err("ResourceNotFoundException".into())
    );
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
