//! Listing licenses (SPEC 3.2): ListLicenses, ListLicenseVersions, and what every list of License
//! Manager shares: filters, NextTokens, page sizes and list orders.

use std::collections::{BTreeMap, BTreeSet};

use super::license::{readable, render};
use super::types::*;
use crate::error::AwsError;
use crate::pagination;
use crate::policy::{ListOrder, PolicyRule};
use crate::world::{Caller, World};

fn page_size(max_results: Option<i32>) -> usize {
    max_results.map_or(100, |m| m.clamp(1, 100) as usize)
}

/// Reads a NextToken for the query `query`, refusing foreign or forged ones with IPVE.
pub(crate) fn after_token(
    world: &mut World,
    token: Option<&str>,
    query: u64,
) -> Result<Option<u64>, AwsError> {
    world.rely(PolicyRule::Pagination);
    match token {
        None => Ok(None),
        Some(t) => pagination::decode(world.seed, query, t)
            .map(|p| Some(p.last_seq))
            .ok_or_else(|| AwsError::refusal(world.policy.bad_next_token_error, "Invalid NextToken")),
    }
}

/// List filters (SPEC 3.2): names from a closed set, one value each, each name once, combined
/// with AND, compared exactly.
#[derive(Default)]
pub(crate) struct Filters(BTreeMap<String, String>);

impl Filters {
    /// Parses the filters; a refusal answers the `filter_error` policy's error.
    pub(crate) fn parse(
        world: &mut World,
        filters: &[Filter],
        allowed: &[&str],
    ) -> Result<Filters, AwsError> {
        world.rely(PolicyRule::FilterError);
        let refuse = |message: String| AwsError::refusal(world.policy.filter_error, message);
        let mut out = BTreeMap::new();
        for f in filters {
            let name = f.name.as_deref().unwrap_or_default();
            let values = f.values.as_deref().unwrap_or_default();
            if !allowed.contains(&name) {
                return Err(refuse(format!("Unsupported filter name '{name}'")));
            }
            let [value] = values else {
                return Err(refuse(format!("Filter '{name}' takes exactly one value")));
            };
            if out.insert(name.to_string(), value.clone()).is_some() {
                return Err(refuse(format!("Filter '{name}' given twice")));
            }
        }
        Ok(Filters(out))
    }

    /// Whether the item's value under `name` passes (an absent filter passes everything).
    pub(crate) fn pass(&self, name: &str, have: &str) -> bool {
        self.0.get(name).is_none_or(|want| want == have)
    }

    /// Whether a license passes the license filters of ListLicenses / ListReceivedLicenses.
    pub(crate) fn pass_license(&self, l: &License) -> bool {
        self.pass("Beneficiary", &l.beneficiary)
            && self.pass("ProductSKU", &l.product_sku)
            && self.pass("Fingerprint", &l.issuer.key_fingerprint)
            && self.pass("Status", l.status.as_str())
            && self.pass("IssuerName", &l.issuer.name)
    }

    /// The filter arguments as parts of a pagination query hash.
    pub(crate) fn query_parts(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

/// The query hash of a list request: operation, caller, filters and the ARN set.
pub(crate) fn list_query(op: &str, caller: &Caller, filters: &Filters, arns: Option<&BTreeSet<&str>>) -> u64 {
    let mut parts = vec![op.to_string(), caller.account.clone()];
    parts.extend(filters.query_parts());
    parts.extend(arns.into_iter().flatten().map(|s| format!("arn={s}")));
    pagination::query_hash(&parts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A non-empty ARN list as a set; an empty one means the same as an absent one (SPEC 1.1).
pub(crate) fn arn_set(arns: Option<&Vec<String>>) -> Option<BTreeSet<&str>> {
    arns.filter(|a| !a.is_empty())
        .map(|a| a.iter().map(String::as_str).collect())
}

pub(crate) fn page_size_of(max_results: Option<i32>) -> usize {
    page_size(max_results)
}

pub(crate) fn list_licenses(
    world: &mut World,
    caller: &Caller,
    req: ListLicensesRequest,
) -> Result<ListLicensesResponse, AwsError> {
    const NAMES: &[&str] = &["Beneficiary", "ProductSKU", "Fingerprint", "Status"];
    let filters = Filters::parse(world, req.filters.as_deref().unwrap_or_default(), NAMES)?;
    let arns = arn_set(req.license_arns.as_ref());
    let query = list_query("ListLicenses", caller, &filters, arns.as_ref());
    let after = after_token(world, req.next_token.as_deref(), query)?;
    let now = world.now_ms();
    let ids = world
        .lm
        .issued_by
        .get(&caller.account)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let items: Vec<_> = ids
        .iter()
        .filter_map(|&id| {
            let record = &world.lm.licenses[id];
            if arns.as_ref().is_some_and(|a| !a.contains(record.arn.as_str())) {
                return None;
            }
            let license = render(record, record.latest(), now);
            filters
                .pass_license(&license)
                .then_some((id, record.seq, license))
        })
        .collect();
    for (id, _, _) in &items {
        world.rely_license(*id);
    }
    world.rely(PolicyRule::ListLicensesOrder);
    let order = world.policy.list_licenses_order;
    let items = in_order(order, items.into_iter().map(|(_, seq, l)| (seq, l)).collect());
    let (licenses, last) = pagination::page(items, after, page_size(req.max_results));
    let next_token = last.map(|l| pagination::encode(world.seed, query, l, now));
    Ok(ListLicensesResponse { licenses, next_token })
}

pub(crate) fn list_license_versions(
    world: &mut World,
    caller: &Caller,
    req: ListLicenseVersionsRequest,
) -> Result<ListLicensesResponse, AwsError> {
    let id = readable(world, caller, &req.license_arn)?;
    let query = pagination::query_hash(&["ListLicenseVersions", &caller.account, &req.license_arn]);
    let after = after_token(world, req.next_token.as_deref(), query)?;
    let now = world.now_ms();
    world.rely(PolicyRule::ListVersionsOrder);
    let order = world.policy.list_versions_order;
    let record = &world.lm.licenses[id];
    let items = record
        .versions
        .iter()
        .map(|v| (u64::from(v.version), render(record, v, now)))
        .collect();
    let (licenses, last) = pagination::page(in_order(order, items), after, page_size(req.max_results));
    let next_token = last.map(|l| pagination::encode(world.seed, query, l, now));
    Ok(ListLicensesResponse { licenses, next_token })
}

/// Items with ascending keys in the order a list policy chooses, keyed so that pagination's
/// "after the last key" still holds: descending order pages over reversed keys.
pub(crate) fn in_order<T>(order: ListOrder, items: Vec<(u64, T)>) -> impl Iterator<Item = (u64, T)> {
    let items: Vec<(u64, T)> = match order {
        ListOrder::Ascending => items,
        ListOrder::Descending => items.into_iter().rev().map(|(k, v)| (u64::MAX - k, v)).collect(),
    };
    items.into_iter()
}
