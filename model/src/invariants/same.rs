//! Whether two worlds hold the same state: what a refused request or an idempotent replay must
//! leave untouched (the auditor's "changes nothing" properties), compared table by table.

use crate::world::World;

/// Whether two worlds hold the same License Manager state (licenses, tokens, grants) and the
/// same EVS state (every partition's environments, connectors and records): what a refused
/// request or an idempotent replay must leave untouched. Every field of every record (the
/// records derive `PartialEq`, so a field added to one is compared too); the lookup indexes are
/// derived from these tables and not compared.
/// Tables the two worlds share (a clone's, unchanged since) are the same without a look.
pub fn same_state(a: &World, b: &World) -> bool {
    let (x, y) = (a.lm(), b.lm());
    let lm = std::sync::Arc::ptr_eq(&a.lm, &b.lm)
        || (x.tokens() == y.tokens() && x.grants() == y.grants() && x.licenses() == y.licenses());
    lm && (std::sync::Arc::ptr_eq(&a.evs, &b.evs) || a.evs().partitions().eq(b.evs().partitions()))
}
