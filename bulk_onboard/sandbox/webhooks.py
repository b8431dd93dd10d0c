"""A webhook receiver standing in for a CRM: it checks each request's signature, keeps what
it received, and can be told to fail, so demos show deliveries and tests can count them.

POST /sandbox/webhook    a delivery. Answers, in this order:
                          - the scripted failure status (default 503, with Retry-After when
                            set) while an outage is on or failNext > 0 (failNext counts down);
                          - 401 {"error"} when no secret is set, or X-BulkOnboard-Signature is
                            missing, wrong, or more than 300 s away from the receiver's clock;
                          - 200 {"received": seq, "duplicate": bool} otherwise; duplicate when
                            an earlier accepted delivery had the same Idempotency-Key.
                          Every request is listed, whatever it was answered.
GET  /sandbox/webhook    {count, accepted, uniqueKeys, deliveries:[{seq, idempotencyKey,
                          verified, status, attempt, body, time}]}; body is the parsed JSON (or
                          the text when it is not JSON); uniqueKeys counts accepted keys
DELETE /sandbox/webhook  forget the deliveries → the same shape, empty
GET|POST /sandbox/webhook/config  {secret, failNext, status, retryAfter, outage, delayMs,
                          clear} (snake_case accepted too) → {secretSet, failNext, status,
                          retryAfter, outage, delayMs}; the secret itself is never shown

The signature scheme is the one bulk-onboard documents (X-BulkOnboard-Signature:
t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>). It is written out again here on
purpose instead of imported: the sandbox imports nothing from bulk_onboard, so a bug in the
client's signing cannot be mirrored by the receiver that is meant to catch it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox.envelopes import api_datetime, json_response

SIGNATURE_HEADER = "X-BulkOnboard-Signature"
TOLERANCE_SECONDS = 300.0
MAX_BODY_CHARS = 64 * 1024


class ConfigRefused(Exception):
    pass


@dataclass(slots=True)
class Delivery:
    seq: int
    key: str | None
    verified: bool
    status: int
    attempt: str | None
    body: Any
    time: float

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "idempotencyKey": self.key,
            "verified": self.verified,
            "status": self.status,
            "attempt": self.attempt,
            "body": self.body,
            "time": api_datetime(self.time),
        }


@dataclass(slots=True)
class WebhookReceiver:
    """What the receiver was told (secret, scripted failures) and what it received."""

    secret: str | None = None
    clock: Callable[[], float] = time.time
    fail_next: int = 0
    status: int = 503
    retry_after: int | None = None
    outage: bool = False
    delay_ms: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    _configured_secret: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._configured_secret = self.secret

    def reset(self) -> None:
        """Back to the sandbox configuration, nothing received."""
        self.secret = self._configured_secret
        self.fail_next, self.status, self.retry_after = 0, 503, None
        self.outage, self.delay_ms = False, 0.0
        self.deliveries.clear()

    def verified(self, header: str, body: bytes) -> bool:
        if not self.secret:
            return False
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            fields.setdefault(name, []).append(value)
        stamps, signatures = fields.get("t", []), fields.get("v1", [])
        if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
            return False
        if abs(self.clock() - int(stamps[0])) > TOLERANCE_SECONDS:
            return False
        message = stamps[0].encode() + b"." + body
        expected = hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()
        return any(s.isascii() and hmac.compare_digest(expected, s.lower()) for s in signatures)

    def scripted_failure(self) -> web.Response | None:
        if not self.outage and self.fail_next <= 0:
            return None
        if not self.outage:
            self.fail_next -= 1
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return json_response({"error": "scripted failure"}, status=self.status, **headers)

    def configure(self, body: Any) -> None:  # noqa: C901  one checked branch per receiver setting
        if not isinstance(body, dict):
            raise ConfigRefused("body must be an object")
        changes: dict[str, Any] = {}
        for key, value in body.items():
            name = key.replace("_", "").lower()
            if name == "secret":
                if value is not None and (not isinstance(value, str) or not value):
                    raise ConfigRefused("secret must be a non-empty text, or null for none")
                changes["secret"] = value
            elif name == "retryafter" and value is None:
                changes["retry_after"] = None
            elif name in ("failnext", "retryafter", "delayms"):
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ConfigRefused(f"{key} must be a number of at least 0")
                attr = {"failnext": "fail_next", "retryafter": "retry_after"}.get(name, "delay_ms")
                changes[attr] = float(value) if attr == "delay_ms" else int(value)
            elif name == "status":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ConfigRefused("status must be a whole number")
                if not 300 <= value <= 599:
                    raise ConfigRefused("status must be an HTTP status from 300 to 599")
                changes["status"] = value
            elif name in ("outage", "clear"):
                if not isinstance(value, bool):
                    raise ConfigRefused(f"{key} must be true or false")
                changes[name] = value
            else:
                raise ConfigRefused(f"unknown setting {key!r}")
        if changes.pop("clear", False):
            self.deliveries.clear()
        for attr, value in changes.items():
            setattr(self, attr, value)

    def settings(self) -> dict[str, Any]:
        return {
            "secretSet": bool(self.secret),
            "failNext": self.fail_next,
            "status": self.status,
            "retryAfter": self.retry_after,
            "outage": self.outage,
            "delayMs": self.delay_ms,
        }

    def listing(self) -> dict[str, Any]:
        accepted = [d for d in self.deliveries if 200 <= d.status < 300]
        return {
            "count": len(self.deliveries),
            "accepted": len(accepted),
            "uniqueKeys": len({d.key for d in accepted}),
            "deliveries": [d.as_json() for d in self.deliveries],
        }


WEBHOOKS = web.AppKey("webhooks", WebhookReceiver)


def _body(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text[:MAX_BODY_CHARS]


def _key(request: web.Request, body: Any) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None and isinstance(body, dict) and isinstance(body.get("idempotency_key"), str):
        key = body["idempotency_key"]
    return key


async def receive(request: web.Request) -> web.Response:
    receiver = request.app[WEBHOOKS]
    raw = await request.read()  # a sender going away here is a quiet note (middleware.py)
    if receiver.delay_ms > 0:
        await asyncio.sleep(receiver.delay_ms / 1000)
    verified = receiver.verified(request.headers.get(SIGNATURE_HEADER, ""), raw)
    body = _body(raw)
    key = _key(request, body)
    accepted_keys = {d.key for d in receiver.deliveries if 200 <= d.status < 300}
    response = receiver.scripted_failure()
    if response is None and not verified:
        why = (
            'no secret is set; POST /sandbox/webhook/config {"secret": ...}'
            if not receiver.secret
            else f"{SIGNATURE_HEADER} is missing, wrong or older than {TOLERANCE_SECONDS:g} s"
        )
        response = json_response({"error": why}, status=401)
    seq = len(receiver.deliveries) + 1
    if response is None:
        response = json_response({"received": seq, "duplicate": key in accepted_keys})
    receiver.deliveries.append(
        Delivery(
            seq=seq,
            key=key,
            verified=verified,
            status=response.status,
            attempt=request.headers.get("X-BulkOnboard-Attempt"),
            body=body,
            time=receiver.clock(),
        )
    )
    return response


async def listing(request: web.Request) -> web.Response:
    return json_response(request.app[WEBHOOKS].listing())


async def clear(request: web.Request) -> web.Response:
    receiver = request.app[WEBHOOKS]
    receiver.deliveries.clear()
    return json_response(receiver.listing())


async def config(request: web.Request) -> web.Response:
    receiver = request.app[WEBHOOKS]
    if request.method == "POST":
        raw = await request.read()
        try:
            receiver.configure(json.loads(raw) if raw.strip() else {})
        except (ValueError, ConfigRefused) as exc:
            return json_response({"error": str(exc)}, status=400)
    return json_response(receiver.settings())


def add_routes(app: web.Application, receiver: WebhookReceiver) -> None:
    app[WEBHOOKS] = receiver
    app.router.add_post("/sandbox/webhook", receive)
    app.router.add_get("/sandbox/webhook", listing)
    app.router.add_delete("/sandbox/webhook", clear)
    app.router.add_get("/sandbox/webhook/config", config)
    app.router.add_post("/sandbox/webhook/config", config)
