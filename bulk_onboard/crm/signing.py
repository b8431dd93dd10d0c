"""Signing webhook bodies, so a CRM can tell a genuine delivery from a forged or replayed one.

The scheme (the one Stripe and Slack use, so receivers often have code for it already):

    X-BulkOnboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

The HMAC key is the shared secret (UTF-8 bytes of the environment variable the playbook names);
the message is the timestamp, a full stop, then the exact request body bytes:

    v1 = hex(hmac_sha256(secret, f"{t}.".encode() + body))

A receiver recomputes v1 over the raw body it received, compares in constant time, and refuses
a timestamp more than five minutes away from its own clock, so a captured request cannot be
replayed later. Several v1 entries may be present (one per secret while a secret is rotated);
one match is enough. Each attempt is signed afresh, so a retry carries a new timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-BulkOnboard-Signature"
TOLERANCE_SECONDS = 300
SCHEME = "v1"


def digest(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.` followed by the body."""
    return hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The X-BulkOnboard-Signature header value for `body` sent at `timestamp`."""
    if not secret:
        raise ValueError("a signing secret must not be empty")
    return f"t={timestamp},{SCHEME}={digest(secret, timestamp, body)}"


def parse(header: str) -> tuple[int, tuple[str, ...]] | None:
    """(timestamp, v1 signatures) of a header value; None when it is malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif name == SCHEME:
            if not value.isascii():
                return None
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        return None
    return timestamp, tuple(signatures)


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether `header` is a valid signature of `body` by `secret`, made within `tolerance`
    seconds of `now` (either side: a clock running ahead is refused as well)."""
    parsed = parse(header)
    if parsed is None or not secret:
        return False
    timestamp, signatures = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
