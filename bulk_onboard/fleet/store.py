"""What a fleet's runners share, kept where `[fleet] state` says.

Without `state` (the default) everything stays local, as for `run`: the portal lock in the
state folder keeps a second run off a portal on this machine. With `state = "redis://…"` the
portal lease (fleet/lease.py), the nightly queue marks and each portal's record of the night
are in Redis under the fleet's own prefix (a digest of its portals: the same fleet file on
every machine names the same keys). The lease is keyed by the portal's address alone, so two
runners whose fleet files differ (a portal added on one machine) still exclude each other.
Nothing stored there is a token.

The run journal, the CRM ledger and the daily-budget memory stay in the local state and
report folders: a portal resumed on another machine starts from what that portal holds
(the engine looks before it writes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from bulk_onboard.fleet.model import Fleet

NIGHT_SECONDS = 7 * 86_400  # how long a night's marks and records are kept


def fleet_prefix(fleet: Fleet) -> str:
    """The fleet's keys and queue: `bulk-onboard:<digest of its portals' ids and urls>`."""
    names = "\n".join(sorted(f"{p.id} {p.url}" for p in fleet.portals))
    return f"bulk-onboard:{hashlib.sha256(names.encode()).hexdigest()[:12]}"


class FleetStore:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.prefix = fleet_prefix(fleet)
        self.client: Any = None
        if fleet.state:
            import redis  # the [fleet] extra

            self.client = redis.Redis.from_url(fleet.state)

    def lease(
        self, portal: str, lost: Callable[[str], None], renew_every: float | None = None
    ) -> AbstractContextManager[object]:
        """The portal's lease for a run (RunLocked when another runner holds it); local state:
        nothing here (the engine's portal lock does it)."""
        if self.client is None:
            return nullcontext()
        from bulk_onboard.fleet.lease import Lease

        key = self.lease_key(portal)
        return Lease(self.client, key, self.fleet.lease_seconds, lost, renew_every)

    def lease_key(self, portal: str) -> str:
        """`bulk-onboard:lease:<digest of the portal's address>`: the same for every fleet
        file that names this portal, whatever else it lists."""
        url = next(p.url for p in self.fleet.portals if p.id == portal)
        return f"bulk-onboard:lease:{hashlib.sha256(url.encode()).hexdigest()[:12]}"

    def mark_queued(self, night: str, portal: str) -> bool:
        """True the first time the portal is queued for `night` (False: it already was)."""
        key = f"{self.prefix}:queued:{night}:{portal}"
        return bool(self.client.set(key, "1", nx=True, ex=NIGHT_SECONDS))

    def record_night(self, night: str, portal: str, outcome: dict[str, Any]) -> None:
        key = f"{self.prefix}:night:{night}:{portal}"
        self.client.set(key, json.dumps(outcome), ex=NIGHT_SECONDS)

    def night_of(self, night: str, portal: str) -> dict[str, Any] | None:
        raw = self.client.get(f"{self.prefix}:night:{night}:{portal}")
        return None if raw is None else dict(json.loads(raw))
