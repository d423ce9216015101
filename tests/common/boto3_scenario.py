"""boto3 against conform's simulator: the endpoint comes from AWS_ENDPOINT_URL_LICENSE_MANAGER
and AWS_ENDPOINT_URL (set by the Rust test). Prints one JSON object of what boto3 parsed; the
Rust test asserts on it. Errors are recorded by their code, as boto3 maps them."""

import json
import sys

import boto3
from botocore.exceptions import ClientError

out = {}


def call(name, fn, **kwargs):
    try:
        reply = fn(**kwargs)
        reply.pop("ResponseMetadata", None)
        out[name] = {"ok": reply}
    except ClientError as e:
        out[name] = {"error": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return out[name]


seller = boto3.client("license-manager", region_name="us-east-1")
created = call(
    "create",
    seller.create_license,
    LicenseName="Seats",
    ProductName="Editor",
    ProductSKU="boto-sku",
    Issuer={"Name": "Example Corp", "SignKey": "arn:aws:kms:us-east-1:111122223333:key/example"},
    HomeRegion="us-east-1",
    Validity={"Begin": "2025-01-01T00:00:00Z"},
    Entitlements=[{"Name": "Seat", "Unit": "Count", "MaxCount": 1, "AllowCheckIn": True}],
    Beneficiary="customer-1",
    ConsumptionConfiguration={"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
    ClientToken="boto-create",
)
arn = created["ok"]["LicenseArn"]
license = call("get", seller.get_license, LicenseArn=arn)["ok"]["License"]
fingerprint = license["Issuer"]["KeyFingerprint"]
checkout = dict(
    ProductSKU="boto-sku",
    CheckoutType="PROVISIONAL",
    KeyFingerprint=fingerprint,
    Entitlements=[{"Name": "Seat", "Unit": "Count", "Value": "1"}],
    Beneficiary="customer-1",
)
first = call("checkout", seller.checkout_license, ClientToken="boto-1", **checkout)
call("checkout_over", seller.checkout_license, ClientToken="boto-2", **checkout)
call("usage", seller.get_license_usage, LicenseArn=arn)
call("checkin", seller.check_in_license, LicenseConsumptionToken=first["ok"]["LicenseConsumptionToken"])
call("checkin_again", seller.check_in_license, LicenseConsumptionToken=first["ok"]["LicenseConsumptionToken"])
call("versions", seller.list_license_versions, LicenseArn=arn)
call("bad_arn", seller.get_license, LicenseArn="not-an-arn")

buyer = boto3.client(
    "license-manager",
    region_name="us-east-1",
    aws_access_key_id="AKIABUYER00000000002",
    aws_secret_access_key="buyer-secret-access-key-00000000000000002",
)
call(
    "marketplace",
    buyer.checkout_license,
    ProductSKU="prod-windows-server-2022",
    CheckoutType="PROVISIONAL",
    KeyFingerprint="aws:294406891311:AWS/Marketplace:issuer-fingerprint",
    Entitlements=[{"Name": "Cores", "Unit": "Count", "Value": "16"}],
    ClientToken="boto-mp",
)
sts = boto3.client("sts", region_name="us-east-1")
call("whoami", sts.get_caller_identity)

json.dump(out, sys.stdout, default=str)
