//! Grants (SPEC 3.3, 3.9): how an account other than the issuer receives a license, and their
//! lifecycle: CreateGrant, GetGrant, AcceptGrant, RejectGrant, CreateGrantVersion, DeleteGrant.
//! Every grant operation lists only Validation, IPVE and ResourceLimitExceeded, so every refusal
//! answers IPVE.

use super::license::idempotent;
use super::types::*;
use super::LicenseId;
use crate::error::{AwsError, ErrorCode};
use crate::explain::Rule;
use crate::policy::{AcceptTo, AllowedOperationsOrder, GrantOnDeletingLicense, PolicyRule};
use crate::world::{Caller, World};

/// The Marketplace issuer account (SPEC 3.1).
pub const MARKETPLACE_ACCOUNT: &str = "294406891311";
/// The Marketplace issuer name (SPEC 3.1).
pub const MARKETPLACE_ISSUER: &str = "AWS/Marketplace";
/// At most this many grants on one license (SPEC 3.9).
pub const MAX_GRANTS_PER_LICENSE: usize = 2_000;

/// The mutable fields of a grant, one per version.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GrantVersion {
    pub name: String,
    pub status: GrantStatus,
    pub status_reason: Option<String>,
    pub allowed_operations: Vec<AllowedOperation>,
    pub options: Option<Options>,
}

/// One grant of a license to an account.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GrantRecord {
    pub arn: String,
    pub seq: u64,
    pub license: LicenseId,
    pub owner_account: String,
    pub grantee_account: String,
    pub home_region: String,
    pub grant_type: GrantType,
    pub versions: Vec<GrantVersion>,
}

impl GrantRecord {
    pub fn current(&self) -> &GrantVersion {
        // A grant is created with its first version and versions are never removed.
        &self.versions[self.versions.len() - 1]
    }

    pub fn status(&self) -> GrantStatus {
        self.current().status
    }

    pub fn version(&self) -> String {
        self.versions.len().to_string()
    }

    /// ACTIVE, a buyer grant, and listing `operation` (SPEC 3.3; delegate grants never check out).
    pub fn allows(&self, operation: AllowedOperation) -> bool {
        self.refusal(operation).is_ok()
    }

    /// The first of `allows`'s conditions the grant fails, as the rule an explanation names.
    pub fn refusal(&self, operation: AllowedOperation) -> Result<(), Rule> {
        let v = self.current();
        if v.status != GrantStatus::Active {
            Err(Rule::GrantNotActive)
        } else if self.grant_type != GrantType::BuyerGrant {
            Err(Rule::GrantDelegate)
        } else if !v.allowed_operations.contains(&operation) {
            Err(Rule::GrantLacksOperation)
        } else {
            Ok(())
        }
    }

    /// Not DELETED or REJECTED: the grantee can read the license (SPEC 3.2 `access`).
    pub fn is_visible(&self) -> bool {
        !matches!(self.status(), GrantStatus::Deleted | GrantStatus::Rejected)
    }
}

/// Whether `account` holds a grant on `license` that is not DELETED or REJECTED (SPEC 3.2).
pub(crate) fn holds_visible_grant(world: &World, account: &str, license: LicenseId) -> bool {
    grants_of(world, account, license).any(GrantRecord::is_visible)
}

/// The grants `account` holds on `license`.
pub(crate) fn grants_of<'a>(
    world: &'a World,
    account: &str,
    license: LicenseId,
) -> impl Iterator<Item = &'a GrantRecord> + 'a {
    let ids = world
        .lm
        .grants_by_grantee
        .get(account)
        .map(Vec::as_slice)
        .unwrap_or_default();
    ids.iter()
        .map(|&g| &world.lm.grants[g])
        .filter(move |g| g.license == license)
}

/// Licenses `account` received through an ACTIVE grant allowing `operation` (SPEC 3.3).
pub(crate) fn received_allowing(world: &World, account: &str, operation: AllowedOperation) -> Vec<LicenseId> {
    let ids = world
        .lm
        .grants_by_grantee
        .get(account)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out: Vec<LicenseId> = ids
        .iter()
        .map(|&g| &world.lm.grants[g])
        .filter(|g| g.allows(operation))
        .map(|g| g.license)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Adds a grant record, drawing its id and creation sequence.
pub(crate) fn insert_grant(
    world: &mut World,
    license: LicenseId,
    name: &str,
    grantee_account: &str,
    status: GrantStatus,
    allowed_operations: Vec<AllowedOperation>,
) -> usize {
    let record = &world.lm.licenses[license];
    let owner = record.issuer_account.clone();
    let home_region = record.home_region.clone();
    let arn = format!("arn:aws:license-manager::{owner}:grant:g-{}", world.ids.hex32());
    let seq = world.next_seq();
    let id = world.lm.grants.len();
    world.lm_mut().grants.push(GrantRecord {
        arn: arn.clone(),
        seq,
        license,
        owner_account: owner,
        grantee_account: grantee_account.to_string(),
        home_region,
        grant_type: GrantType::BuyerGrant,
        versions: vec![GrantVersion {
            name: name.to_string(),
            status,
            status_reason: None,
            allowed_operations,
            options: None,
        }],
    });
    world.lm_mut().grant_by_arn.insert(arn, id);
    world
        .lm_mut()
        .grants_by_grantee
        .entry(grantee_account.to_string())
        .or_default()
        .push(id);
    world
        .lm_mut()
        .grants_by_license
        .entry(license)
        .or_default()
        .push(id);
    id
}

/// The account of an `arn:aws:iam::<12 digits>:root` principal.
fn principal_account(principal: &str) -> Option<&str> {
    let account = principal.strip_prefix("arn:aws:iam::")?.strip_suffix(":root")?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

fn create_grant_checked(
    world: &mut World,
    caller: &Caller,
    req: CreateGrantRequest,
) -> Result<GrantChangeResponse, AwsError> {
    let canonical = CreateGrantRequest {
        client_token: String::new(),
        ..req.clone()
    };
    let token = req.client_token.clone();
    idempotent(world, caller, "CreateGrant", &token, canonical, |world| {
        world.rely(PolicyRule::GrantRefusalError);
        let license = world
            .lm
            .license_by_arn(&req.license_arn)
            .filter(|&id| world.lm.licenses[id].issuer_account == caller.account)
            .ok_or_else(|| {
                AwsError::ipve(format!("License {} not found", req.license_arn))
                    .because_message(Rule::GrantLicenseUnknown)
            })?;
        world.rely(PolicyRule::GrantOnDeletingLicense);
        let refuse_deleting = world.policy.grant_on_deleting_license == GrantOnDeletingLicense::Refuse;
        let record = &world.lm.licenses[license];
        if record.is_deleting() && refuse_deleting {
            return Err(AwsError::ipve("The license is being deleted").because_message(Rule::LicenseDeleting));
        }
        let [principal] = req.principals.as_slice() else {
            return Err(AwsError::ipve("Principals must name exactly one account")
                .because_message(Rule::GrantPrincipal));
        };
        let grantee = principal_account(principal).ok_or_else(|| {
            AwsError::ipve(format!("Principal '{principal}' is not an account root ARN"))
                .because_message(Rule::GrantPrincipal)
        })?;
        if grantee == caller.account {
            return Err(AwsError::ipve("A license cannot be granted to its issuer")
                .because_message(Rule::GrantPrincipal));
        }
        if req.home_region != record.home_region {
            return Err(AwsError::ipve(format!(
                "HomeRegion must be the license's, {}",
                record.home_region
            ))
            .because_message(Rule::GrantHomeRegion));
        }
        let grant_type = req.grant_type.unwrap_or(GrantType::BuyerGrant);
        if grant_type == GrantType::DelegateGrant
            && req.allowed_operations != [AllowedOperation::ListReceivedLicenses]
        {
            return Err(AwsError::ipve("A DelegateGrant allows only ListReceivedLicenses")
                .because_message(Rule::DelegateOperations));
        }
        let count = world.lm.grants_by_license.get(&license).map_or(0, Vec::len);
        if count >= MAX_GRANTS_PER_LICENSE {
            return Err(AwsError::new(
                ErrorCode::ResourceLimitExceeded,
                "A license has at most 2000 grants",
            )
            .because_message(Rule::GrantLimit));
        }
        world.rely(PolicyRule::AllowedOperationsOrder);
        let ops = dedup(&req.allowed_operations, world.policy.allowed_operations_order);
        let id = insert_grant(
            world,
            license,
            &req.grant_name,
            grantee,
            GrantStatus::PendingAccept,
            ops,
        );
        let g = &mut world.lm_mut().grants[id];
        g.grant_type = grant_type;
        g.versions[0].options = req.options.clone();
        Ok(change_reply(g))
    })
}

/// AllowedOperations as stored (SPEC 3.9): duplicates dropped, the first occurrence kept, in
/// the order the `allowed_operations_order` policy gives.
fn dedup(ops: &[AllowedOperation], order: AllowedOperationsOrder) -> Vec<AllowedOperation> {
    let mut out: Vec<AllowedOperation> = Vec::with_capacity(ops.len());
    for op in ops {
        if !out.contains(op) {
            out.push(*op);
        }
    }
    if order == AllowedOperationsOrder::Sorted {
        out.sort();
    }
    out
}

/// Every grant refusal answers the `grant_refusal_error` policy's error (SPEC 3.9: IPVE by
/// default, the error the grant operations list for invalid input).
fn refusal_policy<R>(world: &mut World, result: Result<R, AwsError>) -> Result<R, AwsError> {
    world.rely(PolicyRule::GrantRefusalError);
    let kind = world.policy.grant_refusal_error;
    result.map_err(|e| {
        if e.code == ErrorCode::InvalidParameterValue {
            let explanation = e.explanation;
            AwsError {
                explanation,
                ..AwsError::refusal(kind, e.message)
            }
        } else {
            e
        }
    })
}

macro_rules! grant_operations {
    ($($op:ident => $checked:ident($req:ty) -> $reply:ty),+ $(,)?) => {$(
        pub(crate) fn $op(world: &mut World, caller: &Caller, req: $req) -> Result<$reply, AwsError> {
            let result = $checked(world, caller, req);
            refusal_policy(world, result)
        }
    )+};
}

grant_operations! {
    create_grant => create_grant_checked(CreateGrantRequest) -> GrantChangeResponse,
    get_grant => get_grant_checked(GetGrantRequest) -> GetGrantResponse,
    accept_grant => accept_grant_checked(AcceptGrantRequest) -> GrantChangeResponse,
    reject_grant => reject_grant_checked(RejectGrantRequest) -> GrantChangeResponse,
    create_grant_version => create_grant_version_checked(CreateGrantVersionRequest) -> GrantChangeResponse,
    delete_grant => delete_grant_checked(DeleteGrantRequest) -> GrantChangeResponse,
}

fn change_reply(g: &GrantRecord) -> GrantChangeResponse {
    GrantChangeResponse {
        grant_arn: g.arn.clone(),
        status: g.status(),
        version: g.version(),
    }
}

/// Who the caller is to a grant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Issuer,
    Grantee,
}

/// Finds a grant the caller is party to; anyone else gets IPVE, so existence does not leak.
fn party_grant(world: &mut World, caller: &Caller, arn: &str) -> Result<(usize, Role), AwsError> {
    let unknown = || AwsError::ipve(format!("Grant {arn} not found")).because_message(Rule::GrantUnknown);
    let id = world.lm.grant_by_arn.get(arn).copied().ok_or_else(unknown)?;
    world.rely_license(world.lm.grants[id].license);
    world.rely(PolicyRule::AllowedOperationsOrder);
    let g = &world.lm.grants[id];
    if g.owner_account == caller.account {
        Ok((id, Role::Issuer))
    } else if g.grantee_account == caller.account {
        Ok((id, Role::Grantee))
    } else {
        Err(unknown())
    }
}

/// Appends a version with `change` applied to the current fields.
fn new_version(world: &mut World, id: usize, change: impl FnOnce(&mut GrantVersion)) -> GrantChangeResponse {
    world.next_seq();
    let g = &mut world.lm_mut().grants[id];
    let mut v = g.current().clone();
    change(&mut v);
    g.versions.push(v);
    change_reply(g)
}

fn get_grant_checked(
    world: &mut World,
    caller: &Caller,
    req: GetGrantRequest,
) -> Result<GetGrantResponse, AwsError> {
    world.rely(PolicyRule::GrantRefusalError);
    let (id, _) = party_grant(world, caller, &req.grant_arn)?;
    let g = &world.lm.grants[id];
    let index = match &req.version {
        Some(v) => (1..=g.versions.len())
            .find(|n| n.to_string() == *v)
            .ok_or_else(|| {
                AwsError::ipve(format!("Version {v} of grant {} not found", g.arn))
                    .because_message(Rule::GrantVersion)
            })?,
        None => g.versions.len(),
    };
    Ok(GetGrantResponse {
        grant: render_grant(world, g, index),
    })
}

/// The `Grant` shape of version `index` (1-based).
pub(crate) fn render_grant(world: &World, g: &GrantRecord, index: usize) -> Grant {
    let v = &g.versions[index - 1];
    let license_arn = world.lm.licenses[g.license].arn.clone();
    Grant {
        grant_arn: g.arn.clone(),
        grant_name: v.name.clone(),
        parent_arn: license_arn.clone(),
        license_arn,
        grantee_principal_arn: format!("arn:aws:iam::{}:root", g.grantee_account),
        home_region: g.home_region.clone(),
        grant_status: v.status,
        status_reason: v.status_reason.clone(),
        version: index.to_string(),
        granted_operations: v.allowed_operations.clone(),
        options: v.options.clone(),
        grant_type: g.grant_type,
    }
}

fn accept_grant_checked(
    world: &mut World,
    caller: &Caller,
    req: AcceptGrantRequest,
) -> Result<GrantChangeResponse, AwsError> {
    world.rely(PolicyRule::AcceptTo);
    let id = pending_for_grantee(world, caller, &req.grant_arn)?;
    let to = match world.policy.accept_to {
        AcceptTo::Disabled => GrantStatus::Disabled,
        AcceptTo::Active => GrantStatus::Active,
    };
    Ok(new_version(world, id, |v| v.status = to))
}

fn reject_grant_checked(
    world: &mut World,
    caller: &Caller,
    req: RejectGrantRequest,
) -> Result<GrantChangeResponse, AwsError> {
    world.rely(PolicyRule::GrantRefusalError);
    let id = pending_for_grantee(world, caller, &req.grant_arn)?;
    Ok(new_version(world, id, |v| v.status = GrantStatus::Rejected))
}

/// A PENDING_ACCEPT grant the caller received (SPEC 3.9: only the grantee accepts or rejects).
fn pending_for_grantee(world: &mut World, caller: &Caller, arn: &str) -> Result<usize, AwsError> {
    let (id, role) = party_grant(world, caller, arn)?;
    if role != Role::Grantee {
        return Err(
            AwsError::ipve("Only the grantee can accept or reject a grant").because_message(Rule::GrantRole)
        );
    }
    let status = world.lm.grants[id].status();
    if status != GrantStatus::PendingAccept {
        return Err(
            AwsError::ipve(format!("The grant is {status}, not PENDING_ACCEPT"))
                .because_message(Rule::GrantState),
        );
    }
    Ok(id)
}

fn create_grant_version_checked(
    world: &mut World,
    caller: &Caller,
    req: CreateGrantVersionRequest,
) -> Result<GrantChangeResponse, AwsError> {
    let canonical = CreateGrantVersionRequest {
        client_token: String::new(),
        ..req.clone()
    };
    let token = req.client_token.clone();
    idempotent(world, caller, "CreateGrantVersion", &token, canonical, |world| {
        world.rely(PolicyRule::GrantRefusalError);
        let (id, role) = party_grant(world, caller, &req.grant_arn)?;
        let g = &world.lm.grants[id];
        if req.source_version.as_ref().is_some_and(|v| *v != g.version()) {
            return Err(AwsError::ipve(format!(
                "SourceVersion does not match the grant's version {}",
                g.version()
            ))
            .because_message(Rule::GrantVersion));
        }
        let status = g.status();
        match role {
            Role::Grantee => {
                if req.grant_name.is_some() || req.allowed_operations.is_some() || req.options.is_some() {
                    return Err(
                        AwsError::ipve("A grantee can change only Status and StatusReason")
                            .because_message(Rule::GrantRole),
                    );
                }
                let Some(to) = req.status else {
                    return Err(AwsError::ipve("Status is required to change a received grant")
                        .because_message(Rule::GrantRequest));
                };
                if !matches!(to, GrantStatus::Active | GrantStatus::Disabled)
                    || !matches!(status, GrantStatus::Active | GrantStatus::Disabled)
                {
                    return Err(AwsError::ipve(format!("A grant cannot go from {status} to {to}"))
                        .because_message(Rule::GrantState));
                }
            }
            Role::Issuer => {
                if req.status.is_some() {
                    return Err(AwsError::ipve("The issuer cannot change a grant's Status")
                        .because_message(Rule::GrantRole));
                }
                if req.grant_name.is_none() && req.allowed_operations.is_none() && req.options.is_none() {
                    return Err(AwsError::ipve("Nothing to change").because_message(Rule::GrantRequest));
                }
                if matches!(status, GrantStatus::Deleted | GrantStatus::Rejected) {
                    return Err(
                        AwsError::ipve(format!("The grant is {status}")).because_message(Rule::GrantState)
                    );
                }
                let delegate = g.grant_type == GrantType::DelegateGrant;
                if delegate
                    && req
                        .allowed_operations
                        .as_ref()
                        .is_some_and(|o| *o != [AllowedOperation::ListReceivedLicenses])
                {
                    return Err(AwsError::ipve("A DelegateGrant allows only ListReceivedLicenses")
                        .because_message(Rule::DelegateOperations));
                }
            }
        }
        world.rely(PolicyRule::AllowedOperationsOrder);
        let order = world.policy.allowed_operations_order;
        Ok(new_version(world, id, |v| {
            if let Some(s) = req.status {
                v.status = s;
            }
            if let Some(n) = &req.grant_name {
                v.name = n.clone();
            }
            if let Some(ops) = &req.allowed_operations {
                v.allowed_operations = dedup(ops, order);
            }
            if req.options.is_some() {
                v.options = req.options.clone();
            }
            v.status_reason = req.status_reason.clone();
        }))
    })
}

fn delete_grant_checked(
    world: &mut World,
    caller: &Caller,
    req: DeleteGrantRequest,
) -> Result<GrantChangeResponse, AwsError> {
    world.rely(PolicyRule::GrantRefusalError);
    let (id, role) = party_grant(world, caller, &req.grant_arn)?;
    let g = &world.lm.grants[id];
    if role != Role::Issuer {
        return Err(AwsError::ipve("Only the issuer can delete a grant").because_message(Rule::GrantRole));
    }
    if g.status() == GrantStatus::Deleted {
        return Err(AwsError::ipve("The grant is already DELETED").because_message(Rule::GrantState));
    }
    if req.version != g.version() {
        return Err(AwsError::ipve(format!(
            "Version does not match the grant's version {}",
            g.version()
        ))
        .because_message(Rule::GrantVersion));
    }
    Ok(new_version(world, id, |v| {
        v.status = GrantStatus::Deleted;
        v.status_reason = req.status_reason.clone();
    }))
}
