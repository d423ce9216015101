//! An emulator under construction, as conform's users write them: no control plane, and only
//! part of License Manager (a hand router over the model; EVS answers 404 pages). The campaign
//! against it says what it cannot do, skips every scenario (listed, with why), reports each
//! operation it lacks once as not implemented, runs the cases that need nothing more, and exits
//! 2 only when nothing at all could be tested.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use conform_harness::accounts::{credentials, ACCOUNTS};
use conform_harness::campaign::{Campaign, Config};
use conform_harness::http::HttpTarget;
use conform_harness::report::matrix::{markdown, matrix, Status};
use conform_harness::report::{json_report, Silent};
use conform_harness::target::{self, Capabilities, InfraError, ModelTarget, Target};
use conform_model::{Caller, Policy, Service, World};

/// The License Manager operations the partial emulator lacks (grants, borrowing, versions,
/// deletion); it implements every other.
const MISSING: &[&str] = &[
    "DeleteLicense",
    "CreateLicenseVersion",
    "CheckoutBorrowLicense",
    "ExtendLicenseConsumption",
    "CreateGrant",
    "CreateGrantVersion",
    "AcceptGrant",
    "RejectGrant",
    "DeleteGrant",
];

struct Partial {
    world: Mutex<World>,
    /// Whether it implements nothing at all.
    nothing: bool,
}

fn caller_of(headers: &HeaderMap) -> Option<Caller> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let mut parts = credential.split('/');
    let key = parts.next()?;
    let region = parts.nth(1)?;
    let account = ACCOUNTS.iter().find(|a| a.access_key_id == key)?;
    Some(Caller::new(account.account_id, region))
}

async fn aws(state: axum::extract::State<Arc<Partial>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((prefix, op)) = target.split_once('.') else {
        return (StatusCode::BAD_REQUEST, "no X-Amz-Target").into_response();
    };
    if prefix == Service::Evs.target_prefix() {
        return (StatusCode::NOT_FOUND, "<html>Not Found</html>").into_response();
    }
    if state.nothing || MISSING.contains(&op) {
        let body = serde_json::json!({"__type": "UnknownOperationException", "message": format!("{op} is not supported yet")});
        return (StatusCode::BAD_REQUEST, body.to_string()).into_response();
    }
    let Some(caller) = caller_of(&headers) else {
        return (
            StatusCode::FORBIDDEN,
            r#"{"__type":"UnrecognizedClientException"}"#,
        )
            .into_response();
    };
    let mut world = state.world.lock().unwrap();
    // Its clock is the wall clock, as the Date of its replies says.
    let behind = wall_ms() - world.now_ms();
    if behind > 0 {
        let _ = world.apply(conform_model::Event::AdvanceClock {
            seconds: 0,
            millis: behind,
        });
    }
    let reply = world.handle(&caller, Service::LicenseManager, op, &body);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, reply.body.to_string()).into_response()
}

fn wall_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Serves the partial emulator on a loopback port from a thread of its own.
fn start(nothing: bool) -> String {
    start_declaring(nothing, false)
}

fn start_declaring(nothing: bool, declares: bool) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Partial {
        world: Mutex::new(World::starting_at(7, Policy::default(), wall_ms())),
        nothing,
    });
    let mut app = Router::new().route("/", post(aws));
    if declares {
        // It declares reset and clock, and nothing else, under the protocol's name.
        app = app.route(
            "/_conform/capabilities",
            axum::routing::get(|| async {
                r#"{"protocol": "conform-control-plane/1", "server": "partial/0.1", "capabilities": ["reset", "clock", "something-new"]}"#
            }),
        );
    }
    let app = app.with_state(state);
    std::thread::spawn(move || {
        let _ = runtime.block_on(async { axum::serve(listener, app).await });
    });
    format!("http://{addr}")
}

fn config() -> Config {
    let mut config = Config::default();
    config.cases = 30;
    config.max_steps = 15;
    config
}

#[test]
fn a_partial_emulator_without_a_control_plane_is_tested_for_what_it_has() {
    let url = start(false);
    let mut target = HttpTarget::new(&url, credentials()).unwrap();
    assert_eq!(target.capabilities(), Capabilities::NONE);
    assert!(
        target.control_plane().starts_with("no control plane"),
        "{}",
        target.control_plane()
    );
    // License Manager only, and a mix of mostly what it implements: a delete now and then, and
    // requests invalid on purpose, which may name any operation.
    let mut config = config();
    config.services = vec![Service::LicenseManager];
    config.mix =
        "create_license=6,checkout=12,check_in=6,list_licenses=2,list_received=2,delete_license=1,invalid=10"
            .parse()
            .unwrap();
    let campaign = Campaign::new(config.clone());
    let summary = campaign.run(&mut target, &mut Silent).unwrap();

    // Every scenario skipped, each listed with why.
    let scenarios: Vec<String> = campaign.scenarios().iter().map(|s| s.name.to_string()).collect();
    let skipped: Vec<String> = summary.skipped_scenarios.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(skipped, scenarios);
    assert!(summary
        .skipped_scenarios
        .iter()
        .all(|(_, why)| why.contains("cannot reset")));

    // Each missing operation once, with why; none of those it implements.
    let missing: Vec<&String> = summary.not_implemented.keys().collect();
    assert!(!missing.is_empty());
    for op in &missing {
        assert!(MISSING.contains(&op.as_str()), "{op} is implemented");
        let in_scope = conform_model::operations(Service::LicenseManager).contains(&op.as_str())
            || conform_model::operations(Service::Evs).contains(&op.as_str());
        assert!(in_scope, "{op}");
    }
    assert!(
        summary.not_implemented.contains_key("DeleteLicense"),
        "{missing:?}"
    );
    for (op, (reason, calls)) in &summary.not_implemented {
        assert!(*calls >= 1);
        assert!(reason.contains("UnknownOperationException"), "{op}: {reason}");
    }
    // The same in the JSON report, and what the run could not do.
    let json = json_report(&summary);
    assert_eq!(json["not_implemented"].as_array().unwrap().len(), missing.len());
    assert_eq!(
        json["skipped_scenarios"].as_array().unwrap().len(),
        scenarios.len()
    );
    assert!(!json["limits"].as_array().unwrap().is_empty());

    // The matrix: the missing operations met are rows "not implemented", with their calls;
    // EVS, not run, is not reached; the score counts them.
    let m = matrix(&summary);
    for row in &m.rows {
        let met = summary.not_implemented.get(&row.operation).map(|(_, n)| *n);
        match met {
            Some(n) => assert_eq!((row.status, row.not_implemented), (Status::NotImplemented, n)),
            None => assert_ne!(row.status, Status::NotImplemented, "{row:?}"),
        }
        if row.service == "evs" {
            assert_eq!(row.status, Status::NotReached, "{row:?}");
        }
    }
    assert!(m
        .rows
        .iter()
        .any(|r| r.operation == "CheckoutLicense" && r.status == Status::Conformant));
    assert!(
        m.score.contains(&format!("{} not implemented", missing.len())),
        "{}",
        m.score
    );
    assert_eq!(json["matrix"]["score"], m.score);
    assert!(markdown(&m).contains("| DeleteLicense | license-manager | not implemented |"));

    // The cases that needed nothing more ran, and found nothing: the run passes.
    assert!(
        !summary.cases.is_empty(),
        "no case ran: {:?}",
        summary.skipped_cases
    );
    assert!(summary.findings.is_empty(), "{:#?}", summary.findings);
    assert_eq!(
        summary.cases.len() + summary.skipped_cases.len(),
        config.cases as usize
    );
    assert!(!summary.skipped_cases.is_empty(), "no case met DeleteLicense");
    // Once an operation is known missing, later cases draw other steps instead: each missing
    // operation skips at most the case that met it first.
    assert!(
        summary.skipped_cases.len() <= missing.len(),
        "{} cases skipped for {} missing operations: {:?}",
        summary.skipped_cases.len(),
        missing.len(),
        summary.skipped_cases
    );
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn an_emulator_that_implements_nothing_exits_2() {
    let url = start(true);
    let mut target = HttpTarget::new(&url, credentials()).unwrap();
    let summary = Campaign::new(config()).run(&mut target, &mut Silent).unwrap();
    assert!(summary.cases.is_empty());
    assert_eq!(summary.skipped_cases.len(), config().cases as usize);
    assert!(
        summary.not_implemented.contains_key("CreateLicense"),
        "{:?}",
        summary.not_implemented
    );
    for (op, (reason, _)) in &summary.not_implemented {
        if conform_model::operations(Service::Evs).contains(&op.as_str()) {
            assert!(reason.contains("not JSON"), "{op}: {reason}");
        } else {
            assert!(reason.contains("UnknownOperationException"), "{op}: {reason}");
        }
    }
    let evs = summary
        .not_implemented
        .keys()
        .any(|op| conform_model::operations(Service::Evs).contains(&op.as_str()));
    assert!(evs, "{:?}", summary.not_implemented);
    assert_eq!(summary.exit_code(), 2);
}

#[test]
fn capabilities_are_discovered_one_by_one() {
    let url = start_declaring(false, true);
    let target = HttpTarget::new(&url, credentials()).unwrap();
    let expected = Capabilities {
        reset: true,
        clock: true,
        ..Capabilities::NONE
    };
    assert_eq!(target.capabilities(), expected);
    assert!(
        target.control_plane().contains("partial/0.1"),
        "{}",
        target.control_plane()
    );
}

/// The model, claiming only reset and clock.
struct ResetAndClock(ModelTarget);

impl Target for ResetAndClock {
    fn name(&self) -> String {
        "model with reset and clock only".into()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reset: true,
            clock: true,
            ..Capabilities::NONE
        }
    }
    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        op: &str,
        body: &[u8],
    ) -> Result<target::Response, InfraError> {
        self.0.call(caller, service, op, body)
    }
    fn event(&mut self, event: &conform_model::Event) -> Result<serde_json::Value, InfraError> {
        assert!(
            self.capabilities().takes(event),
            "sent an event it does not take: {event:?}"
        );
        self.0.event(event)
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        self.0.reset()
    }
}

#[test]
fn a_target_with_reset_and_clock_gets_every_scenario_that_needs_no_more() {
    let mut target = ResetAndClock(ModelTarget::new(1, Policy::default()));
    let mut config = config();
    config.cases = 5;
    let campaign = Campaign::new(config);
    let summary = campaign.run(&mut target, &mut Silent).unwrap();
    let all = campaign.scenarios();
    let needing_more: Vec<&str> = all
        .iter()
        .filter(|s| {
            let n = conform_harness::campaign::needs(s);
            n.marketplace || n.evs_inventory || n.connector_health
        })
        .map(|s| s.name)
        .collect();
    assert!(!needing_more.is_empty() && needing_more.len() < all.len());
    let skipped: Vec<&str> = summary
        .skipped_scenarios
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(skipped, needing_more);
    assert!(summary
        .skipped_scenarios
        .iter()
        .all(|(_, why)| why.starts_with("needs ")));
    assert_eq!(summary.scenarios.len(), all.len() - needing_more.len());
    assert!(summary.scenarios.iter().all(|s| s.failures.is_empty()));
    assert_eq!(summary.cases.len(), 5);
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn generated_cases_draw_each_event_whose_capability_the_target_has() {
    use conform_harness::gen::Step;
    let mut target = ResetAndClock(ModelTarget::new(1, Policy::default()));
    let mut config = config();
    config.cases = 20;
    config.scenarios = false;
    let cfg = config.case_config(target.capabilities());
    let steps: Vec<Step> = (0..20)
        .flat_map(|case| conform_harness::driver::generate(&cfg, case))
        .collect();
    let clock = steps
        .iter()
        .filter(|s| matches!(s, Step::Advance { .. } | Step::AdvanceTo { .. }))
        .count();
    assert!(
        clock >= 20,
        "clock steps are drawn where the clock moves: {clock}"
    );
    let other = steps.iter().find(|s| {
        matches!(
            s,
            Step::Marketplace { .. }
                | Step::AddVm { .. }
                | Step::RemoveVm { .. }
                | Step::SetGuestOs { .. }
                | Step::SetHealth { .. }
        )
    });
    assert!(other.is_none(), "an event the target does not take: {other:?}");
    // Every case runs (the wrapper panics on an event it does not take) and passes.
    let summary = Campaign::new(config).run(&mut target, &mut Silent).unwrap();
    assert!(summary.skipped_cases.is_empty(), "{:?}", summary.skipped_cases);
    assert_eq!(summary.cases.len(), 20);
    assert_eq!(summary.exit_code(), 0, "{:#?}", summary.findings);
}
