//! The explorer (issue #16): every reachable state of the default small world up to a depth,
//! every always property on every transition; an injected model bug found with its shortest
//! path; the covering cases of `conform run --exhaustive`.

use conform_harness::explore::{cover, explore, Bounds, ExploreConfig, Stop};

fn at_depth(depth: usize) -> ExploreConfig {
    ExploreConfig {
        bounds: Bounds {
            depth,
            ..Bounds::default()
        },
        ..ExploreConfig::default()
    }
}

#[test]
fn probe_speed() {
    let r = explore(&at_depth(3));
    eprintln!("{}", r.describe());
    assert!(r.violations.is_empty());
}
