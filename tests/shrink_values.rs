//! Shrinking of values (issue: generation that reaches deep state): after steps, a failing
//! case's quantities and maxima are lowered toward the smallest that still fail, and the
//! account says what was lowered; references keep naming the resource they named while the
//! steps before them go.

use crate::common::faulty_simulator;
use conform_harness::driver::{self, CaseConfig};
use conform_harness::gen::{Qty, Step, Who};

fn license(max: i64) -> Step {
    borrowable(max, false, 1)
}

fn borrowable(max: i64, borrow: bool, token: u8) -> Step {
    Step::license(max, 60, borrow, token)
}

fn checkout(qty: &str) -> Step {
    Step::checkout(qty, 2)
}

#[test]
fn a_capacity_bug_shrinks_to_the_smallest_license_and_quantity() {
    // `capacity-off-by-one` lets a checkout take one unit past MaxCount (SPEC 3.4 refuses it).
    let (_server, mut target) = faulty_simulator(&["capacity-off-by-one"]);
    let cfg = CaseConfig::default();
    let steps = vec![license(4), Step::Advance { seconds: 300 }, checkout("5")];
    let run = driver::execute(&mut target, &cfg, 0, &steps).expect("runs");
    let finding = run.finding.expect("the fault is found");
    assert_eq!(finding.operation, "CheckoutLicense");
    let (minimal, f, account) =
        driver::shrink_with_account(&mut target, &cfg, 0, steps, &finding).expect("shrinks");
    assert_eq!(f.operation, "CheckoutLicense");
    assert_eq!(minimal, vec![license(0), checkout("1")], "{account:?}");
    assert_eq!((account.steps_before, account.steps_after), (3, 2));
    // Lowering one of the two alone loses the failure: they go down together.
    assert!(
        account
            .values
            .iter()
            .any(|v| v.contains("max 4 -> 0") && v.contains("qty 5 -> 1")),
        "{account:?}"
    );
    let again = driver::execute(&mut target, &cfg, 0, &minimal).expect("replays");
    assert!(again.finding.is_some(), "the shrunk case still fails");
}

#[test]
fn a_reference_keeps_its_license_while_the_licenses_before_it_go() {
    // Three licenses; the borrow names the third (license 2), the only one with MaxCount 4,
    // and takes 5 of it, which `capacity-off-by-one` lets through. The first two hold 9
    // seats: a borrow of 5 from either is right. Dropping either must renumber the reference
    // (license 2 becomes license 1, then 0), or the borrow moves to a license where it is
    // right and the smaller case no longer fails.
    let (_server, mut target) = faulty_simulator(&["capacity-off-by-one"]);
    let cfg = CaseConfig::default();
    let borrow = |license| Step::Borrow {
        who: Who::Seller,
        license,
        qty: Qty("5".into()),
        token: 3,
        extra: None,
    };
    let steps = vec![
        borrowable(9, true, 1),
        borrowable(9, true, 2),
        borrowable(4, true, 3),
        borrow(2),
    ];
    let run = driver::execute(&mut target, &cfg, 0, &steps).expect("runs");
    let finding = run.finding.expect("the fault is found");
    assert_eq!(finding.operation, "CheckoutBorrowLicense");
    let (minimal, f, account) =
        driver::shrink_with_account(&mut target, &cfg, 0, steps, &finding).expect("shrinks");
    assert_eq!(f.operation, "CheckoutBorrowLicense");
    assert_eq!(minimal.len(), 2, "{minimal:?} {account:?}");
    assert!(
        matches!(minimal[1], Step::Borrow { license: 0, .. }),
        "the borrow names the one license left: {minimal:?}"
    );
    let again = driver::execute(&mut target, &cfg, 0, &minimal).expect("replays");
    assert!(again.finding.is_some(), "the shrunk case still fails");
}
