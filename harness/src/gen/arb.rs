//! How the fuzz `sequence` target draws the fields whose whole range would only test integer
//! overflow in the harness itself: counts, TTLs, minutes and clock steps stay in the ranges a
//! request may name, around the instants the rules name; operations come from both models.

use arbitrary::{Result, Unstructured};

use super::all_operations;

/// Clock steps: around sync boundaries (300 s), the deletion delay (60 s), the provisional TTL
/// (60 min) and the page token lifetime (24 h), or any step up to two days.
const SECONDS: [i64; 12] = [0, 1, 59, 60, 61, 150, 299, 300, 301, 900, 3600, 86_400];

/// Operations besides the implemented ones: a modelled operation conform does not implement, an
/// unknown one, and a wrongly cased one (SPEC 1.2).
const EXTRA: [&str; 3] = ["CreateLicenseConfiguration", "NoSuchOperation", "checkoutLicense"];

pub fn count(u: &mut Unstructured) -> Result<i64> {
    u.int_in_range(-1..=6)
}

pub fn ttl(u: &mut Unstructured) -> Result<i32> {
    u.int_in_range(0..=3)
}

pub fn minutes(u: &mut Unstructured) -> Result<Option<i64>> {
    Ok(if u.arbitrary()? {
        Some(u.int_in_range(0..=240)?)
    } else {
        None
    })
}

pub fn cores(u: &mut Unstructured) -> Result<Option<i64>> {
    Ok(if u.arbitrary()? { Some(count(u)?) } else { None })
}

pub fn seconds(u: &mut Unstructured) -> Result<i64> {
    Ok(if u.ratio(3, 4)? {
        *u.choose(&SECONDS)?
    } else {
        u.int_in_range(0..=172_800)?
    })
}

pub fn operation(u: &mut Unstructured) -> Result<String> {
    let ops = all_operations();
    let i = u.choose_index(ops.len() + EXTRA.len())?;
    Ok(ops
        .get(i)
        .map_or_else(|| EXTRA[i - ops.len()], |(_, op)| *op)
        .to_string())
}

pub fn offset(u: &mut Unstructured) -> Result<i8> {
    u.int_in_range(-1..=1)
}
