//! An emulator with an account table of its own, tested as it is: `conform serve` knows three
//! accounts whose ids and keys are not the harness's, and `--accounts FILE` (the same file)
//! makes the run sign as them, with every account id rewritten both ways on the wire.

use std::process::Command;

use conform_harness::accounts::AccountTable;
use conform_harness::campaign::{Campaign, Config};
use conform_harness::http::HttpTarget;
use conform_harness::report::Silent;

use crate::common::Binary;

/// Three accounts the harness does not know: ids, keys and secrets all the emulator's own.
const OWN: &str = r#"{"accounts": [
  {"access_key_id": "AKIDTHEIRSELLER", "secret_access_key": "their-seller-secret", "account_id": "210987654321"},
  {"access_key_id": "AKIDTHEIRBUYER", "secret_access_key": "their-buyer-secret", "account_id": "123456789012"},
  {"access_key_id": "AKIDTHEIRSTRANGER", "secret_access_key": "their-stranger-secret", "account_id": "999988887777"}
]}"#;

fn own_file() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-own-accounts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("accounts.json");
    std::fs::write(&path, OWN).unwrap();
    path
}

fn server(path: &std::path::Path) -> Binary {
    let fixtures = path.to_str().unwrap();
    Binary::start(&["--fixtures", fixtures, "--frozen-clock", "--require-auth"])
}

#[test]
fn a_target_with_its_own_account_ids_conforms_through_the_library() {
    let path = own_file();
    let sim = server(&path);
    let table = AccountTable::from_fixtures(OWN).unwrap();
    let mut target = HttpTarget::with_accounts(&sim.url, &table).unwrap();
    let mut config = Config::default();
    config.cases = 30;
    let mut concurrent = conform_harness::concurrent::Config::default();
    concurrent.calls = 600;
    config.concurrent = Some(concurrent);
    let summary = Campaign::new(config.clone())
        .run(&mut target, &mut Silent)
        .unwrap();
    assert_eq!(summary.exit_code(), 0, "{:#?}", summary.findings);
    assert!(summary.steps > 100);
    let concurrent = summary.concurrent.as_ref().expect("the concurrent phase ran");
    assert!(concurrent.calls >= 600, "{concurrent:?}");
    assert_eq!(concurrent.violations, 0, "{concurrent:?}");

    // The same target signed for as the harness's own accounts: nothing the emulator knows, so
    // the run fails (this is what the rewriting mends).
    let mut unmapped = HttpTarget::with_accounts(&sim.url, &AccountTable::builtin()).unwrap();
    config.concurrent = None;
    config.cases = 5;
    let summary = Campaign::new(config).run(&mut unmapped, &mut Silent).unwrap();
    assert_ne!(summary.exit_code(), 0, "unknown keys cannot pass");
}

#[test]
fn conform_run_prints_the_accounts_it_signs_as_and_passes_with_them() {
    let path = own_file();
    let sim = server(&path);
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--target", &sim.url, "--cases", "10", "--accounts"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (id, key, ours) in [
        ("210987654321", "AKIDTHEIRSELLER", "111122223333"),
        ("123456789012", "AKIDTHEIRBUYER", "444455556666"),
        ("999988887777", "AKIDTHEIRSTRANGER", "777788889999"),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} is printed: {stdout}"));
        assert!(line.contains(key) && line.contains(ours), "{line}");
        assert!(
            !stdout.contains("their-seller-secret"),
            "secrets are never printed"
        );
    }
}
