"""`bulk-onboard demo`: the sample workbook onboarded into a throttled local sandbox portal.

The sandbox runs in this process on a free loopback port with the real server's rate limits
and a realistic latency. Its portal already has the company's account managers (as a real
portal would); everything else comes from the spreadsheet.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.sandbox import SandboxConfig
from bulk_onboard.sandbox.inspect import sandbox_call

# The account managers the sample clients name, as they exist in the company's portal.
# (sofia.rossi@northwind.example is new: the users sheet creates her as a room admin.)
EXISTING_MANAGERS = [
    {
        "email": "maria.garcia@northwind.example",
        "firstName": "María",
        "lastName": "García",
        "type": 1,
    },
    {
        "email": "kenji.tanaka@northwind.example",
        "firstName": "Kenji",
        "lastName": "Tanaka",
        "type": 1,
    },
    {
        "email": "amara.okafor@northwind.example",
        "firstName": "Amara",
        "lastName": "Okafor",
        "type": 3,
    },
    {
        "email": "lukas.novak@northwind.example",
        "firstName": "Lukáš",
        "lastName": "Novák",
        "type": 1,
    },
]


DEMO_SECRET_ENV = "BULK_ONBOARD_DEMO_CRM_SECRET"


def demo_sandbox_config(
    latency_ms: float = 40.0, jitter_ms: float = 10.0, webhook_secret: str | None = None
) -> SandboxConfig:
    """The real server's limits (1,500 requests a minute, 50 GETs and 15 writes in flight)."""
    return SandboxConfig(
        db=":memory:",
        rate_limit=True,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        webhook_secret=webhook_secret,
    )


def demo_playbook(folder: Path, sandbox_url: str, crm_file: Path) -> Path:
    """The built-in playbook plus a [crm] section (the sandbox's webhook receiver stands in for
    the company's CRM, and every record also goes to a JSONL file) and the groups every client
    room is shared with."""
    path = folder / "demo-playbook.toml"
    path.write_text(
        "# The built-in playbook, announcing each onboarded client to the sandbox's CRM stand-in\n"
        "# and sharing every client room with the Accounting team.\n"
        "[room]\n"
        'groups = ["Accounting team"]\n'
        "[crm]\n"
        f'webhook_url = "{sandbox_url}/sandbox/webhook"\n'
        f'secret_env = "{DEMO_SECRET_ENV}"\n'
        f"jsonl_path = {json.dumps(str(crm_file.resolve()))}\n",
        encoding="utf-8",
    )
    return path


async def seed_managers(url: str) -> None:
    await sandbox_call(url, "POST", "/sandbox/people", EXISTING_MANAGERS)


@dataclass
class Audit:
    outbox: list[dict[str, Any]]
    audit: dict[str, Any]

    def mail_lines(self) -> list[str]:
        kinds = Counter(str(mail.get("kind")) for mail in self.outbox)
        return [f"{count:4d} {kind}" for kind, count in sorted(kinds.items())]


async def read_audit(url: str) -> Audit:
    outbox = await sandbox_call(url, "GET", "/sandbox/outbox")
    audit = await sandbox_call(url, "GET", "/sandbox/audit")
    mails = outbox.get("mails", outbox) if isinstance(outbox, dict) else outbox
    return Audit(outbox=list(mails), audit=audit)


@dataclass
class Webhooks:
    """What the sandbox's webhook receiver (standing in for the CRM) was sent."""

    deliveries: list[dict[str, Any]]  # {seq, idempotencyKey, verified, status, body, time}
    accepted: int  # answered 2xx: signature verified and recorded
    unique_keys: int  # different clients among the accepted ones

    def summary(self) -> str:
        """'27 requests: 25 accepted for 25 clients (0 repeats), 2 refused or failed'."""
        total, repeats = len(self.deliveries), self.accepted - self.unique_keys
        return (
            f"{total} request{_s(total)}: {self.accepted} accepted for {self.unique_keys} "
            f"client{_s(self.unique_keys)} ({repeats} repeat{_s(repeats)}), "
            f"{total - self.accepted} refused or failed"
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


async def read_webhooks(url: str) -> Webhooks:
    """The deliveries the sandbox at `url` received on POST /sandbox/webhook."""
    listing = await sandbox_call(url, "GET", "/sandbox/webhook")
    return Webhooks(
        deliveries=list(listing["deliveries"]),
        accepted=int(listing["accepted"]),
        unique_keys=int(listing["uniqueKeys"]),
    )


__all__ = [
    "EXISTING_MANAGERS",
    "demo_sandbox_config",
    "read_audit",
    "read_webhooks",
    "seed_managers",
]
