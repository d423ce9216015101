//! What grants make visible (SPEC 3.9): ListDistributedGrants, ListReceivedGrants and
//! ListReceivedLicenses.

use super::grant::{render_grant, GrantRecord};
use super::license::render;
use super::listing::{after_token, arn_set, list_query, page_size_of, Filters};
use super::types::*;
use crate::error::AwsError;
use crate::pagination;
use crate::world::{Caller, World};

/// Lists grants chosen by `pick` (the caller's distributed or received ones) with `filters`.
fn list_grants(
    world: &mut World,
    caller: &Caller,
    op: &str,
    req: ListGrantsRequest,
    names: &[&str],
    pick: impl Fn(&GrantRecord) -> bool,
) -> Result<ListGrantsResponse, AwsError> {
    let filters = Filters::parse(world, req.filters.as_deref().unwrap_or_default(), names)?;
    let shown: Vec<usize> = world
        .lm
        .grants
        .iter()
        .filter(|g| pick(g))
        .map(|g| g.license)
        .collect();
    for id in shown {
        world.rely_license(id);
    }
    world.rely(crate::policy::PolicyRule::AllowedOperationsOrder);
    let arns = arn_set(req.grant_arns.as_ref());
    let query = list_query(op, caller, &filters, arns.as_ref());
    let after = after_token(world, req.next_token.as_deref(), query)?;
    let now = world.now_ms();
    let w: &World = world;
    let items = w.lm.grants.iter().filter(|g| pick(g)).filter_map(|g| {
        if arns.as_ref().is_some_and(|a| !a.contains(g.arn.as_str())) {
            return None;
        }
        let license = &w.lm.licenses[g.license];
        let latest = license.latest();
        let pass = filters.pass("LicenseArn", &license.arn)
            && filters.pass("GrantStatus", g.status().as_str())
            && filters.pass(
                "GranteePrincipalARN",
                &format!("arn:aws:iam::{}:root", g.grantee_account),
            )
            && filters.pass("ProductSKU", &license.product_sku)
            && filters.pass("LicenseIssuerName", &latest.issuer.name)
            && filters.pass("GranterAccountId", &g.owner_account);
        pass.then(|| (g.seq, render_grant(w, g, g.versions.len())))
    });
    let (grants, last) = pagination::page(items, after, page_size_of(req.max_results));
    let next_token = last.map(|l| pagination::encode(w.seed, query, l, now));
    Ok(ListGrantsResponse { grants, next_token })
}

pub(crate) fn list_distributed_grants(
    world: &mut World,
    caller: &Caller,
    req: ListDistributedGrantsRequest,
) -> Result<ListGrantsResponse, AwsError> {
    const NAMES: &[&str] = &[
        "LicenseArn",
        "GrantStatus",
        "GranteePrincipalARN",
        "ProductSKU",
        "LicenseIssuerName",
    ];
    let account = caller.account.clone();
    list_grants(world, caller, "ListDistributedGrants", req.0, NAMES, |g| {
        g.owner_account == account
    })
}

pub(crate) fn list_received_grants(
    world: &mut World,
    caller: &Caller,
    req: ListReceivedGrantsRequest,
) -> Result<ListGrantsResponse, AwsError> {
    const NAMES: &[&str] = &[
        "ProductSKU",
        "LicenseIssuerName",
        "LicenseArn",
        "GrantStatus",
        "GranterAccountId",
    ];
    let account = caller.account.clone();
    list_grants(world, caller, "ListReceivedGrants", req.0, NAMES, |g| {
        g.grantee_account == account
    })
}

/// One GrantedLicense per license the caller holds a non-DELETED grant on, with the metadata of
/// the newest such grant, in the license's creation order.
pub(crate) fn list_received_licenses(
    world: &mut World,
    caller: &Caller,
    req: ListReceivedLicensesRequest,
) -> Result<ListReceivedLicensesResponse, AwsError> {
    const NAMES: &[&str] = &["ProductSKU", "Status", "Fingerprint", "IssuerName", "Beneficiary"];
    let req = req.0;
    let filters = Filters::parse(world, req.filters.as_deref().unwrap_or_default(), NAMES)?;
    let held: Vec<usize> = world
        .lm
        .grants_by_grantee
        .get(&caller.account)
        .map(|gs| gs.iter().map(|&g| world.lm.grants[g].license).collect())
        .unwrap_or_default();
    for id in held {
        world.rely_license(id);
    }
    world.rely(crate::policy::PolicyRule::AllowedOperationsOrder);
    let arns = arn_set(req.license_arns.as_ref());
    let query = list_query("ListReceivedLicenses", caller, &filters, arns.as_ref());
    let after = after_token(world, req.next_token.as_deref(), query)?;
    let now = world.now_ms();
    let w: &World = world;
    let mut newest: std::collections::BTreeMap<usize, &GrantRecord> = std::collections::BTreeMap::new();
    for &g in
        w.lm.grants_by_grantee
            .get(&caller.account)
            .map(Vec::as_slice)
            .unwrap_or_default()
    {
        let grant = &w.lm.grants[g];
        if grant.status() != GrantStatus::Deleted {
            // Grants are held in creation order, so the last one seen is the newest.
            newest.insert(grant.license, grant);
        }
    }
    let items = newest.into_iter().filter_map(|(id, grant)| {
        let record = &w.lm.licenses[id];
        if arns.as_ref().is_some_and(|a| !a.contains(record.arn.as_str())) {
            return None;
        }
        let license = render(record, record.latest(), now);
        if !filters.pass_license(&license) {
            return None;
        }
        let v = grant.current();
        let received_metadata = ReceivedMetadata {
            received_status: v.status,
            received_status_reason: v.status_reason.clone(),
            allowed_operations: v.allowed_operations.clone(),
            grant_type: grant.grant_type,
        };
        Some((
            record.seq,
            GrantedLicense {
                license,
                received_metadata,
            },
        ))
    });
    let (licenses, last) = pagination::page(items, after, page_size_of(req.max_results));
    let next_token = last.map(|l| pagination::encode(w.seed, query, l, now));
    Ok(ListReceivedLicensesResponse { licenses, next_token })
}
