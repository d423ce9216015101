//! `conform run --target aws` proven against `conform serve --require-auth` on loopback through
//! `--endpoint-url`: credentials from the environment through `aws-config`, SigV4 by `aws-sigv4`,
//! the safety flag, refusals as infrastructure errors, the run prefix and cleanup (SPEC 1.3).

use std::process::{Command, Output};

use conform_model::Policy;
use conform_simulator::{Account, Background, Config, Fixtures};
use serde_json::Value;

const KEY: &str = "AKIDAWSPATHSELLER";
const SECRET: &str = "aws-path-seller-secret";
/// Not the model's seller account: the target must map account ids both ways.
const ACCOUNT: &str = "555566667777";
const BUYER_KEY: &str = "AKIDAWSPATHBUYER";
const BUYER_SECRET: &str = "aws-path-buyer-secret";
const BUYER_ACCOUNT: &str = "888899990000";

/// A simulator that verifies SigV4 and runs on the wall clock, like AWS.
fn simulator() -> Background {
    let config = Config {
        seed: 7,
        policy: Policy::default(),
        fixtures: Fixtures {
            accounts: vec![
                Account {
                    access_key_id: KEY.into(),
                    secret_access_key: SECRET.into(),
                    account_id: ACCOUNT.into(),
                },
                Account {
                    access_key_id: BUYER_KEY.into(),
                    secret_access_key: BUYER_SECRET.into(),
                    account_id: BUYER_ACCOUNT.into(),
                },
            ],
            events: vec![],
        },
        frozen_clock: false,
        require_auth: true,
        faults: Vec::new(),
        ..Config::default()
    };
    Background::start(&config).expect("simulator starts")
}

/// `conform run --target aws --endpoint-url URL ...` with the seller's credentials in the
/// environment and the buyer's as profile `buyer` of a shared credentials file of its own.
fn run_aws(url: &str, secret: &str, extra: &[&str]) -> Output {
    let home = std::env::temp_dir().join(format!(
        "conform-aws-test-{}-{}",
        std::process::id(),
        url.rsplit(':').next().unwrap_or("0")
    ));
    std::fs::create_dir_all(&home).expect("temp home");
    std::fs::write(
        home.join("credentials"),
        format!("[buyer]\naws_access_key_id = {BUYER_KEY}\naws_secret_access_key = {BUYER_SECRET}\n"),
    )
    .expect("credentials file");
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "run",
            "--target",
            "aws",
            "--endpoint-url",
            url,
            "--region",
            "us-east-1",
        ])
        .args([
            "--cases",
            "3",
            "--max-steps",
            "12",
            "--services",
            "license-manager",
        ])
        .args(["--max-calls-per-minute", "5000"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        // Nothing from this machine's own AWS setup may leak in.
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("conform runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn state(url: &str) -> Value {
    let body = ureq::get(&format!("{url}/_conform/state"))
        .call()
        .expect("state answers")
        .into_string()
        .expect("state body");
    serde_json::from_str(&body).expect("state is JSON")
}

#[test]
fn writes_need_allow_aws_writes() {
    let sim = simulator();
    let out = run_aws(&sim.url(), SECRET, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("--allow-aws-writes"), "{said}");
    assert!(
        said.contains("conform-<run id>-"),
        "it says what it would touch: {said}"
    );
    let s = state(&sim.url());
    assert_eq!(
        s["licenses"].as_array().map(Vec::len),
        Some(0),
        "nothing sent: {s}"
    );
}

/// A license of the account that the run did not create (the user's own).
fn users_own_license(url: &str) -> String {
    use conform_harness::http::{Credentials, HttpTarget};
    use conform_harness::target::Target;
    let keys = Credentials {
        access_key_id: KEY.into(),
        secret_access_key: SECRET.into(),
    };
    let mut t = HttpTarget::new(url, [(ACCOUNT.to_string(), keys)].into()).expect("target");
    let body = conform_harness::scenarios::lm::license("users-own", "users-own-sku");
    let r = t
        .call(
            &conform_model::Caller::new(ACCOUNT, "us-east-1"),
            conform_model::Service::LicenseManager,
            "CreateLicense",
            body.to_string().as_bytes(),
        )
        .expect("created");
    r.body["LicenseArn"].as_str().expect("an ARN").to_string()
}

#[test]
fn a_signed_run_passes_and_cleanup_leaves_nothing_behind() {
    let sim = simulator();
    let own = users_own_license(&sim.url());
    let out = run_aws(
        &sim.url(),
        SECRET,
        &[
            "--allow-aws-writes",
            "--run-id",
            "itest",
            "--buyer-profile",
            "buyer",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(" 0 failed"), "{said}");
    assert!(
        said.contains(&format!("[\"{ACCOUNT}\", \"{BUYER_ACCOUNT}\"]")),
        "learned both accounts from STS: {said}"
    );
    let s = state(&sim.url());
    let licenses = s["licenses"].as_array().expect("licenses");
    assert!(!licenses.is_empty(), "the run created licenses: {s}");
    let (own_license, licenses): (Vec<&Value>, Vec<&Value>) =
        licenses.iter().partition(|l| l["LicenseArn"] == own.as_str());
    assert_eq!(
        own_license
            .first()
            .map(|l| l["Versions"][0]["EffectiveStatus"].clone()),
        Some(Value::from("AVAILABLE")),
        "the user's own license is untouched"
    );
    for l in licenses {
        assert_eq!(l["IssuerAccount"], ACCOUNT);
        let sku = l["ProductSKU"].as_str().unwrap_or_default();
        assert!(sku.starts_with("conform-itest-"), "run prefix on the SKU: {sku}");
        let name = l["Versions"][0]["LicenseName"].as_str().unwrap_or_default();
        assert!(
            name.starts_with("conform-itest-"),
            "run prefix on the name: {name}"
        );
        let latest = l["Versions"]
            .as_array()
            .and_then(|v| v.last())
            .expect("a version");
        let status = latest["EffectiveStatus"].as_str();
        assert!(
            matches!(status, Some("DELETED" | "PENDING_DELETE")),
            "license left behind: {l}"
        );
    }
    let grants = s["grants"].as_array().expect("grants");
    assert!(
        !grants.is_empty(),
        "the buyer's profile let grant scenarios run: {said}"
    );
    for g in grants {
        assert_eq!(g["Status"], "DELETED", "grant left behind: {g}");
    }
    assert!(said.contains("cleanup: deleted"), "{said}");
}

#[test]
fn a_wrong_secret_is_an_infrastructure_error() {
    let sim = simulator();
    let out = run_aws(&sim.url(), "not-the-secret", &["--allow-aws-writes"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("InvalidSignatureException"), "{said}");
    assert!(said.contains("wrong secret key"), "{said}");
    assert!(
        !said.contains("passed"),
        "never compared as nonconformance: {said}"
    );
}

#[test]
fn a_skewed_clock_is_an_infrastructure_error() {
    let sim = simulator();
    let out = run_aws(
        &sim.url(),
        SECRET,
        &["--allow-aws-writes", "--sign-clock-skew-seconds", "-900"],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("InvalidSignatureException"), "{said}");
    assert!(said.contains("clock skew"), "{said}");
}

#[test]
fn a_missing_signature_is_an_infrastructure_error() {
    let sim = simulator();
    let out = run_aws(&sim.url(), SECRET, &["--allow-aws-writes", "--unsigned"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("MissingAuthenticationToken"), "{said}");
    assert!(said.contains("missing signature"), "{said}");
}

/// Ctrl-C while the run waits for its per-minute window: no further call, then cleanup removes
/// what the run created (it waits for the window too: the cap holds for cleanup).
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_run_and_cleans_up() {
    let sim = simulator();
    let home = std::env::temp_dir().join(format!("conform-aws-ctrlc-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("temp home");
    let child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "run",
            "--target",
            "aws",
            "--endpoint-url",
            &sim.url(),
            "--allow-aws-writes",
        ])
        .args([
            "--services",
            "license-manager",
            "--cases",
            "0",
            "--max-calls-per-minute",
            "6",
        ])
        .args(["--run-id", "ctrlc"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("conform starts");
    // Six calls go out at once; then the run waits for the minute to pass.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let created = loop {
        let n = state(&sim.url())["licenses"].as_array().map_or(0, Vec::len);
        if n > 0 || std::time::Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(created > 0, "the run created a license before waiting");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("conform ends");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    assert!(said.contains("cleanup: deleted"), "{said}");
    let s = state(&sim.url());
    for l in s["licenses"].as_array().into_iter().flatten() {
        let status = l["Versions"]
            .as_array()
            .and_then(|v| v.last())
            .map(|v| v["EffectiveStatus"].clone());
        assert!(
            matches!(
                status.as_ref().and_then(Value::as_str),
                Some("DELETED" | "PENDING_DELETE")
            ),
            "license left behind after Ctrl-C: {l}"
        );
    }
}
