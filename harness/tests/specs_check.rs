//! `conform specs --check`: the committed specs/ equal a fresh generation (GitHub issue 4).

use std::path::Path;

use conform_harness::specs::generate;

#[test]
fn committed_specs_equal_a_fresh_generation() {
    let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = generate::find_source(root, None);
    let files = generate::generate(root, &source).expect("specs generate");
    let report = generate::check(root, &files).expect("specs check runs");
    println!(
        "checked {} files from {} ({})",
        files.len(),
        source.dir.display(),
        if source.official {
            "official models"
        } else {
            "committed stripped models"
        }
    );
    assert!(
        report.is_clean(),
        "specs/ is out of date; run `cargo run -- specs`:\n{}",
        report.summary()
    );
}

#[test]
fn check_reports_a_changed_file_and_a_stale_one() {
    let root = &Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = generate::find_source(root, None);
    let mut files = generate::generate(root, &source).expect("specs generate");
    let first_schema = files
        .iter()
        .position(|f| f.path.starts_with(generate::SCHEMAS_DIR))
        .expect("some schema is generated");
    files[first_schema].text.push_str("changed\n");
    let dropped = files.pop().expect("files are generated");
    let report = generate::check(root, &files).expect("specs check runs");
    assert_eq!(report.differing.len(), 1, "{}", report.summary());
    assert_eq!(report.stale, vec![dropped.path], "{}", report.summary());
}
