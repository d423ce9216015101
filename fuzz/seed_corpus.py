#!/usr/bin/env python3
"""Writes the seed corpora of the lm_request and evs_request targets.

Seeds are the requests of the scenario snapshots (snapshots/*.snap, which redact ids to the
placeholders the targets substitute: <license-1>, <token-1>, <env-1>, <cnctr-1>, ...) plus
hand-written malformed bodies. A request target's input is one byte picking the operation (its
index in the model's operation list), one byte picking the caller, then the body.

Run from the repository root: python3 fuzz/seed_corpus.py
"""
import hashlib
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def operations(path, macro):
    """The operation names in the order of the model's request macro (= OPERATIONS)."""
    text = (ROOT / path).read_text()
    block = text[text.index(macro + "! {"):]
    block = block[: block.index("\n}")]
    return re.findall(r"^\s+([A-Z][A-Za-z]+)\(", block, re.M)


LM_OPS = operations("model/src/lm/mod.rs", "lm_requests")
EVS_OPS = operations("model/src/evs/mod.rs", "evs_requests")
LM_CALLERS = {"seller": 0, "buyer": 1, "stranger": 2}

# Bodies no scenario sends: protocol faults and edge values of SPEC 1.2.
MALFORMED = [
    b"", b"{}", b"null", b"[]", b"not json", b"{", b'"text"', b"\xff\xfe{}",
    b'{"MaxResults": 1.0}', b'{"MaxResults": 1e2}', b'{"MaxResults": 99999999999}',
    b'{"maxResults": 1.5}', b'{"maxResults": -1}', b'{"a":' * 40 + b"1" + b"}" * 40,
    b'{"LicenseArn": null}', b'{"LicenseArn": "\\ud800"}', b'{"LicenseArn": "<license-1>", "Version": "01"}',
    b'{"vmIds": [null]}', b'{"environmentId": "<env-1>", "connectorId": "<cnctr-1>", "entitlementType": "WINDOWS_SERVER", "vmIds": []}',
]


def snapshot_requests(prefix):
    for snap in sorted((ROOT / "snapshots").glob(prefix + "_*.snap")):
        text = snap.read_text()
        body = text.split("\n---\n", 1)[1]
        for step in json.loads(body):
            if "operation" in step and "request" in step:
                yield step.get("caller", ""), step["operation"], step["request"]


def write(target, ops, callers, prefix):
    out = ROOT / "fuzz" / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    seen = set()

    def put(op_index, caller, body):
        data = bytes([op_index, caller]) + body
        digest = hashlib.sha1(data).hexdigest()[:16]
        if digest not in seen:
            seen.add(digest)
            (out / digest).write_bytes(data)

    for caller, op, request in snapshot_requests(prefix):
        if op not in ops:
            continue
        raw = request.encode() if isinstance(request, str) else json.dumps(request).encode()
        put(ops.index(op), callers.get(caller, 0), raw)
    for i, body in enumerate(MALFORMED):
        put(i % (len(ops) + 3), 0, body)
    print(target, len(seen), "files")


write("lm_request", LM_OPS, LM_CALLERS, "lm")
write("evs_request", EVS_OPS, {}, "evs")

# The sequence target decodes any bytes into steps; start it from a few fixed pseudo-random inputs
# (a generator with a fixed seed, so reruns write the same files). Its committed corpus is
# otherwise what cargo fuzz cmin kept from the measured run (see README.md).
import random

rng = random.Random(2026)
seq = ROOT / "fuzz" / "corpus" / "sequence"
seq.mkdir(parents=True, exist_ok=True)
for n in (64, 128, 256, 512, 1024):
    data = bytes(rng.randrange(256) for _ in range(n))
    (seq / ("seed-%04d" % n)).write_bytes(data)
