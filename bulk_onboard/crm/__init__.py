"""Announcing onboarded clients to a CRM: a signed webhook and/or JSONL and CSV files.

Modules:
    records   the record of one client and its idempotency key (pure)
    signing   the X-BulkOnboard-Signature scheme (pure)
    webhook   the webhook sink: signed POSTs, retries with backoff and jitter (aiohttp)
    files     the JSONL and CSV sinks: append, fsync, each key once per file
    deliver   CrmDelivery, the one entry point a run uses
"""

from bulk_onboard.crm.deliver import CrmDelivery, DeliveryResult, SinkResult, check_crm
from bulk_onboard.crm.payload import build_record, idempotency_key, room_url
from bulk_onboard.crm.signing import SIGNATURE_HEADER, sign, verify

__all__ = [
    "SIGNATURE_HEADER",
    "CrmDelivery",
    "DeliveryResult",
    "SinkResult",
    "build_record",
    "check_crm",
    "idempotency_key",
    "room_url",
    "sign",
    "verify",
]
