"""SandboxConfig: every knob of the emulated portal, frozen once the server starts.

The numbers that can change while the server runs (limits, fault rates, the fault script)
are copied into their owners (limits.LimitSettings, faults.FaultInjector) at start-up and
changed there through the sandbox-only endpoints.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_OWNER_EMAIL = "owner@docspace-sandbox.example.com"
DAY_SECONDS = 86_400.0


def is_loopback_host(host: str) -> bool:
    """True for 'localhost' and any loopback IP literal (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How the emulated DocSpace portal behaves.

    db: SQLite path; ":memory:" keeps everything in this process, a file keeps rooms,
    people, shares, links, the outbox and the API token across restarts.
    token: the owner's API key ("sk-<hex>"); None = generate one (or reuse the one stored
    in a file db). clock: wall-clock seconds used by the rate limiter (inject a fake one in
    tests); None = time.time. fileop_ms: how long an archive/restore operation runs before the
    room moves (docspace-api.md 10.9: 300 ms). webhook_secret: the secret POST /sandbox/webhook checks
    signatures with (None = refuse every delivery until POST /sandbox/webhook/config sets one).
    """

    db: str = ":memory:"
    token: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: bool = False
    window_limit: int = 1500
    window_seconds: float = 60.0
    max_get_inflight: int = 50
    max_write_inflight: int = 15
    daily_write_limit: int = 10_000
    daily_window_seconds: float = DAY_SECONDS
    fault_5xx: float = 0.0
    fault_drop: float = 0.0
    fault_ambiguous: float = 0.0
    seed: int = 0
    public_url: str | None = None
    owner_email: str = DEFAULT_OWNER_EMAIL
    owner_password: str | None = None
    clock: Callable[[], float] | None = None
    webhook_secret: str | None = None
    fileop_ms: float = 300.0
    # room templates (docspace-api.md 11): how long a room-from-template job runs, and the
    # version GET settings/version/build reports (below 3.1 there are no templates)
    template_ms: float = 500.0
    docspace_version: str = "3.8.0"

    def __post_init__(self) -> None:
        if not is_loopback_host(self.host):
            raise ValueError(
                f"the sandbox listens on loopback addresses only (127.0.0.1, ::1, localhost), "
                f"not {self.host!r}"
            )
        if not 0 <= self.port <= 65_535:
            raise ValueError(f"port must be 0..65535, not {self.port}")
        for name in ("fault_5xx", "fault_drop", "fault_ambiguous"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is a probability (0..1), not {value}")
        for name in ("latency_ms", "jitter_ms", "fileop_ms", "template_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in (
            "window_limit",
            "max_get_inflight",
            "max_write_inflight",
            "daily_write_limit",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.window_seconds <= 0 or self.daily_window_seconds <= 0:
            raise ValueError("rate-limit windows must be longer than 0 seconds")
        if self.webhook_secret is not None and not self.webhook_secret:
            raise ValueError("webhook_secret must not be empty; use None for no secret")
        if self.token is not None and not _is_api_key(self.token):
            raise ValueError("token must look like a DocSpace API key: 'sk-' followed by hex")


def _is_api_key(token: str) -> bool:
    body = token[3:]
    return token.startswith("sk-") and len(body) >= 8 and all(c in "0123456789abcdef" for c in body)
