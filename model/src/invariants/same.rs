//! Whether two worlds hold the same state: what a refused request or an idempotent replay must
//! leave untouched (the auditor's "changes nothing" properties), compared table by table.

use crate::evs::{ConnectorRecord, EnvironmentRecord, Partition};
use crate::lm::{LicenseRecord, Token};
use crate::world::World;

/// Whether two worlds hold the same License Manager state (licenses, tokens, grants) and the
/// same EVS state (every partition's environments, connectors and records): what a refused
/// request or an idempotent replay must leave untouched. Field by field, every field of every
/// record (each destructured in full, so a field added to a record without being compared here
/// does not compile); the lookup indexes are derived from these tables and not compared.
pub fn same_state(a: &World, b: &World) -> bool {
    same_lm(a, b) && same_evs(a, b)
}

fn same_lm(a: &World, b: &World) -> bool {
    let (a, b) = (a.lm(), b.lm());
    a.licenses().len() == b.licenses().len()
        && a.tokens().len() == b.tokens().len()
        && a.grants() == b.grants()
        && a.tokens().iter().zip(b.tokens()).all(|(x, y)| same_token(x, y))
        && a.licenses()
            .iter()
            .zip(b.licenses())
            .all(|(x, y)| same_license(x, y))
}

fn same_license(x: &LicenseRecord, y: &LicenseRecord) -> bool {
    let LicenseRecord {
        arn,
        seq,
        issuer_account,
        home_region,
        product_sku,
        beneficiary,
        tags,
        versions,
        deletion_ms,
        usage_period,
        in_use,
    } = x;
    *seq == y.seq
        && *usage_period == y.usage_period
        && *deletion_ms == y.deletion_ms
        && *in_use == y.in_use
        && *versions == y.versions
        && *arn == y.arn
        && *issuer_account == y.issuer_account
        && *home_region == y.home_region
        && *product_sku == y.product_sku
        && *beneficiary == y.beneficiary
        && *tags == y.tags
}

fn same_token(x: &Token, y: &Token) -> bool {
    let Token {
        id,
        seq,
        account,
        license,
        kind,
        held,
        items,
        period,
        expires_ms,
        state,
    } = x;
    *seq == y.seq
        && *state == y.state
        && *expires_ms == y.expires_ms
        && *license == y.license
        && *kind == y.kind
        && *period == y.period
        && *held == y.held
        && *items == y.items
        && *id == y.id
        && *account == y.account
}

fn same_evs(a: &World, b: &World) -> bool {
    let (a, b) = (a.evs(), b.evs());
    let mut bs = b.partitions();
    a.partitions()
        .all(|(key, p)| bs.next().is_some_and(|(k, q)| k == key && same_partition(p, q)))
        && bs.next().is_none()
}

fn same_partition(p: &Partition, q: &Partition) -> bool {
    let Partition {
        environments,
        connectors,
    } = p;
    environments.len() == q.environments.len()
        && connectors.len() == q.connectors.len()
        && environments
            .iter()
            .zip(&q.environments)
            .all(|((i, x), (j, y))| i == j && same_environment(x, y))
        && connectors
            .iter()
            .zip(&q.connectors)
            .all(|((i, x), (j, y))| i == j && same_connector(x, y))
}

fn same_environment(x: &EnvironmentRecord, y: &EnvironmentRecord) -> bool {
    let EnvironmentRecord {
        id,
        seq,
        name,
        state,
        vcf_version,
        created_ms,
        modified_ms,
        vms,
    } = x;
    *seq == y.seq
        && *state == y.state
        && *vcf_version == y.vcf_version
        && *created_ms == y.created_ms
        && *modified_ms == y.modified_ms
        && *vms == y.vms
        && *id == y.id
        && *name == y.name
}

fn same_connector(x: &ConnectorRecord, y: &ConnectorRecord) -> bool {
    let ConnectorRecord {
        id,
        seq,
        environment_id,
        kind,
        fqdn,
        secret,
        state,
        health,
        created_ms,
        modified_ms,
        checked_ms,
        impaired_since_ms,
        pending,
        records,
        by_vm,
    } = x;
    *seq == y.seq
        && *state == y.state
        && *health == y.health
        && *kind == y.kind
        && *created_ms == y.created_ms
        && *modified_ms == y.modified_ms
        && *checked_ms == y.checked_ms
        && *impaired_since_ms == y.impaired_since_ms
        && *pending == y.pending
        && *records == y.records
        && *by_vm == y.by_vm
        && *id == y.id
        && *environment_id == y.environment_id
        && *fqdn == y.fqdn
        && *secret == y.secret
}
