use super::*;
use serde_json::json;

const L1: &str = "arn:aws:license-manager::111122223333:license:<license-1>";
const L2: &str = "arn:aws:license-manager::111122223333:license:<license-2>";

#[test]
fn requests_bind_nothing_new() {
    let mut n = Normalizer::new(0);
    n.value(&json!({"LicenseArn": "arn:aws:license-manager::111122223333:license:l-1"}));
    assert_eq!(
        n.request(&json!({"LicenseArn": ["arn:aws:license-manager::111122223333:license:l-1", "nope"]})),
        json!({"LicenseArn": [L1, "nope"]})
    );
    assert_eq!(
        n.value(&json!({"LicenseArn": "nope"})),
        json!({"LicenseArn": "<license-2>"})
    );
}

#[test]
fn equal_ids_get_equal_placeholders_in_order_of_first_appearance() {
    // SPEC "What a harness compares": opaque values by identity, first appearance numbered.
    let arn = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef";
    let other = "arn:aws:license-manager::111122223333:license:l-ffffffffffffffffffffffffffffffff";
    let mut n = Normalizer::new(1_000_000);
    let v = n.value(&json!({"LicenseArn": other, "LicenseArns": [arn, other], "IssuedAt": "1970-01-01T00:16:41", "CreateTime": "1060"}));
    assert_eq!(
        v,
        json!({"LicenseArn": L1, "LicenseArns": [L2, L1], "IssuedAt": "<t0+1s>", "CreateTime": "<t0+60s>"})
    );
    assert_eq!(
        n.value(&json!({"ParentArn": arn})),
        json!({"ParentArn": L2}),
        "the mapping lasts across values"
    );
}

#[test]
fn opaque_values_are_bound_whatever_their_format() {
    // Another implementation's ids, ARNs and tokens compare like the model's.
    let ours = json!({
        "LicenseArn": "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef",
        "LicenseConsumptionToken": "0123456789abcdef0123456789abcdef",
        "NextToken": "00112233445566778899aabbccddeeff0011223344556677",
        "connector": {"connectorId": "cnctr-abcdefghij", "environmentId": "env-0123456789",
            "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/env-0123456789"},
    });
    let theirs = json!({
        "LicenseArn": "arn:aws:license-manager::111122223333:license:LIC_7",
        "LicenseConsumptionToken": "tok/1",
        "NextToken": "page 2",
        "connector": {"connectorId": "C9", "environmentId": "E-1",
            "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/E-1"},
    });
    let a = Normalizer::new(0).value(&ours);
    let b = Normalizer::new(0).value(&theirs);
    assert_eq!(a, b);
    // The snapshot form recognizes the model's formats only, so it must never compare targets.
    assert_ne!(
        transcript::Transcript::new(0).value(&ours),
        transcript::Transcript::new(0).value(&theirs)
    );
    assert_eq!(
        a["connector"]["environmentArn"],
        json!("arn:aws:evs:us-east-1:444455556666:environment/<environment-1>")
    );
    // The account of an ARN is compared.
    let moved = json!({"LicenseArn": "arn:aws:license-manager::999999999999:license:LIC_7"});
    assert_ne!(
        Normalizer::new(0).value(&moved),
        Normalizer::new(0).value(&json!({"LicenseArn": ours["LicenseArn"]}))
    );
}

#[test]
fn nothing_is_learned_from_free_text() {
    // SPEC: error messages are never compared and nothing may be learned from their text.
    let mut n = Normalizer::new(0);
    let v = n.value(&json!({"message": "connector cnctr-abcdefghij not found", "error": "env-0123456789"}));
    assert_eq!(
        v,
        json!({"message": "connector cnctr-abcdefghij not found", "error": "env-0123456789"})
    );
    assert_eq!(
        n.value(&json!({"connectorId": "cnctr-abcdefghij"})),
        json!({"connectorId": "<connector-1>"})
    );
}

#[test]
fn caller_chosen_values_are_compared_as_values() {
    let mut n = Normalizer::new(0);
    let v =
        json!({"vmId": "vm-1", "ClientToken": "c1", "GranteePrincipalArn": "arn:aws:iam::444455556666:root"});
    assert_eq!(n.value(&v), v);
}

#[test]
fn signed_tokens_compare_by_decoded_claims_with_ids_bound() {
    // SPEC 3.8: decoded header and claims, never signature bytes.
    let token = |arn: &str, sig: &str| {
        let enc = |v: Value| {
            let text = v.to_string();
            let mut out = String::new();
            let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            for chunk in text.as_bytes().chunks(3) {
                let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..=chunk.len() {
                    out.push(char::from(table[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        };
        format!(
            "{}.{}.{sig}",
            enc(json!({"alg": "PS384", "typ": "JWT"})),
            enc(json!({"licenseArn": arn, "issuedAt": "1970-01-01T00:00:01Z"}))
        )
    };
    let ours = json!({"LicenseArn": "arn:aws:license-manager::1:license:l-1", "SignedToken": token("arn:aws:license-manager::1:license:l-1", "AAAA")});
    let theirs = json!({"LicenseArn": "arn:aws:license-manager::1:license:X", "SignedToken": token("arn:aws:license-manager::1:license:X", "BBBB")});
    let a = Normalizer::new(0).value(&ours);
    assert_eq!(a, Normalizer::new(0).value(&theirs));
    assert_eq!(
        a["SignedToken"]["claims"]["licenseArn"],
        json!("arn:aws:license-manager::1:license:<license-1>")
    );
    assert_eq!(a["SignedToken"]["claims"]["issuedAt"], json!("<t0+1s>"));
    let wrong = json!({"LicenseArn": "arn:aws:license-manager::1:license:X", "SignedToken": token("arn:aws:license-manager::1:license:Y", "AAAA")});
    assert_ne!(
        a,
        Normalizer::new(0).value(&wrong),
        "a claim naming another license differs"
    );
}

#[test]
fn bindings_translate_between_sides() {
    let mut model = Normalizer::new(0);
    let mut target = Normalizer::new(0);
    model.value(
        &json!({"connectorId": "cnctr-abcdefghij", "LicenseArn": "arn:aws:license-manager::1:license:l-1"}),
    );
    target.value(&json!({"connectorId": "C9", "LicenseArn": "arn:aws:license-manager::1:license:X"}));
    let request = json!({"connector_id": "cnctr-abcdefghij", "LicenseArn": "arn:aws:license-manager::1:license:l-1", "vmId": "vm-1"});
    assert_eq!(
        model.translate(&request, &target),
        json!({"connector_id": "C9", "LicenseArn": "arn:aws:license-manager::1:license:X", "vmId": "vm-1"})
    );
}

#[test]
fn evs_epoch_seconds_and_ids_are_normalized() {
    // 1_000_000 ms is 1000 s: EVS replies carry integer epoch seconds (SPEC 1.1).
    let mut n = Normalizer::new(1_000_000);
    let v = n.value(&json!({
        "connectorId": "cnctr-abcdefghij", "environmentId": "env-0123456789",
        "checks": [{"lastCheckAttempt": 1000, "impairedSince": 1300}],
        "createdAt": 1000, "modifiedAt": 1010, "startedAt": 1290, "stoppedAt": 1590, "lastSyncedAt": 1590,
        "other": 1000, "vmId": "vm-1",
        "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/env-0123456789"
    }));
    assert_eq!(
        v,
        json!({
            "connectorId": "<connector-1>", "environmentId": "<environment-1>",
            "checks": [{"lastCheckAttempt": "<t0+0s>", "impairedSince": "<t0+300s>"}],
            "createdAt": "<t0+0s>", "modifiedAt": "<t0+10s>", "startedAt": "<t0+290s>",
            "stoppedAt": "<t0+590s>", "lastSyncedAt": "<t0+590s>",
            "other": 1000, "vmId": "vm-1",
            "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/<environment-1>"
        })
    );
}
