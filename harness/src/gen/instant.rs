//! The instants a step's reference resolves to ([`Step::AdvanceTo`]), and the pages a next-page
//! step reads.

use conform_model::World;

use super::*;

/// The instant `to` of the `item`-th known token or license (as a step resolves the
/// reference), or the next sync; `None` if it has none.
pub(crate) fn instant(to: Instant, item: u32, known: &Known, world: &World) -> Option<i64> {
    let lm = world.lm();
    let record = || {
        let arn = pick(&known.licenses, item, NO_LICENSE.to_string());
        lm.license_by_arn(&arn).map(|id| lm.license(id))
    };
    match to {
        Instant::TokenExpiry => {
            let id = pick(&known.tokens, item, (Who::Seller, NO_TOKEN.to_string())).1;
            lm.tokens().iter().find(|t| t.id == id).map(|t| t.expires_ms)
        }
        Instant::ValidityEnd => record().and_then(|r| r.latest().end_ms),
        Instant::DeletionDue => record().and_then(|r| r.deletion_ms),
        Instant::NextSync => Some(world.next_sync_ms()),
        // The `item`-th most recent request's record, were it one (as a replay resolves it).
        Instant::IdempotencyEnd => {
            let i = known.calls.len().checked_sub(1 + (item % 8) as usize)?;
            let window = world.policy().idempotency_window_seconds.saturating_mul(1000);
            Some(known.sent_ms.get(i)?.saturating_add(window))
        }
        Instant::PageTokenEnd => {
            let page = pick_page(known, item)?;
            Some(
                page.issued_ms
                    .saturating_add(conform_model::evs::PAGE_TOKEN_TTL_MS),
            )
        }
    }
}

/// The `k`-th list answered with a next-page token, if any.
pub(super) fn pick_page(known: &Known, k: u32) -> Option<Page> {
    let n = known.pages.len();
    (n > 0).then(|| known.pages[k as usize % n].clone())
}
