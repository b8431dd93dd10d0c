"""What a fleet's runners share, kept where `[fleet] state` says.

Without `state` (the default) everything stays local, as for `run`: the portal lock in the
state folder keeps a second run off a portal on this machine (a portal whose lock is held is
skipped before its run is prepared, and said so). With `state = "redis://…"` the
portal lease (fleet/lease.py), the nightly queue marks and each portal's record of the night
are in Redis under the fleet's own prefix (a digest of its portals: the same fleet file on
every machine names the same keys). The lease is keyed by the portal's address alone, so two
runners whose fleet files differ (a portal added on one machine) still exclude each other.
Nothing stored there is a token.

The CRM ledger, the daily-budget memory, the other per-portal memories and each portal's
record of its nights (fleet/nights.py) go through the portal's store (state/store.py: Redis
and the local state folder); each run's journal goes to Redis too (state/run_store.py), so a
run whose machine died is resumed on another (fleet/restore.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from bulk_onboard.config import default_state_dir, portal_state_dir
from bulk_onboard.errors import RunLocked
from bulk_onboard.fleet.model import Fleet
from bulk_onboard.runs.folder import portal_lock_holder

NIGHT_SECONDS = 7 * 86_400  # how long a night's marks and records are kept


def fleet_prefix(fleet: Fleet) -> str:
    """The fleet's keys and queue: `bulk-onboard:<digest of its portals' ids and urls>`."""
    names = "\n".join(sorted(f"{p.id} {p.url}" for p in fleet.portals))
    return f"bulk-onboard:{hashlib.sha256(names.encode()).hexdigest()[:12]}"


class FleetStore:
    def __init__(self, fleet: Fleet, state_dir: Path | None = None) -> None:
        self.fleet = fleet
        self.prefix = fleet_prefix(fleet)
        self.state_dir = state_dir or default_state_dir(os.environ)
        self.client: Any = None
        if fleet.state:
            from bulk_onboard.state.store import redis_client  # the [fleet] extra

            self.client = redis_client(fleet.state)

    def lease(
        self,
        portal: str,
        lost: Callable[[str], None],
        renew_every: float | None = None,
        state_dir: Path | None = None,
    ) -> AbstractContextManager[object]:
        """The portal's lease for a run (RunLocked when another runner holds it); local state:
        RunLocked when the portal's lock (in `state_dir`) is held now (the engine's lock still
        decides)."""
        if self.client is None:
            return self._free_here(portal, state_dir)
        from bulk_onboard.fleet.lease import Lease

        key = self.lease_key(portal)
        return Lease(self.client, key, self.fleet.lease_seconds, lost, renew_every)

    @contextmanager
    def _free_here(self, portal: str, state_dir: Path | None) -> Iterator[None]:
        holder = self.holder(portal, state_dir)
        if holder is not None:
            raise RunLocked(holder)
        yield

    def holder(self, portal: str, state_dir: Path | None = None) -> str | None:
        """Who runs the portal now (None: nobody): the lease's holder, or the lock's."""
        if self.client is not None:
            raw = self.client.get(self.lease_key(portal))
            return None if raw is None else f"the portal's lease is held by {raw.decode()}"
        url = self._url(portal)
        held = portal_lock_holder(portal_state_dir(state_dir or self.state_dir, url))
        return None if held is None else f"its lock is held by {held}"

    def _url(self, portal: str) -> str:
        return next(p.url for p in self.fleet.portals if p.id == portal)

    def lease_key(self, portal: str) -> str:
        """`bulk-onboard:lease:<digest of the portal's address>`: the same for every fleet
        file that names this portal, whatever else it lists."""
        url = self._url(portal)
        return f"bulk-onboard:lease:{hashlib.sha256(url.encode()).hexdigest()[:12]}"

    def mark_queued(self, night: str, portal: str) -> bool:
        """True the first time the portal is queued for `night` (False: it already was)."""
        key = f"{self.prefix}:queued:{night}:{portal}"
        return bool(self.client.set(key, "1", nx=True, ex=NIGHT_SECONDS))

    def record_night(self, night: str, portal: str, outcome: dict[str, Any]) -> None:
        key = f"{self.prefix}:night:{night}:{portal}"
        self.client.set(key, json.dumps(outcome), ex=NIGHT_SECONDS)

    def queued(self, night: str, portal: str) -> bool:
        return self.client is not None and bool(
            self.client.exists(f"{self.prefix}:queued:{night}:{portal}")
        )

    def night_of(self, night: str, portal: str) -> dict[str, Any] | None:
        raw = self.client.get(f"{self.prefix}:night:{night}:{portal}")
        return None if raw is None else dict(json.loads(raw))
