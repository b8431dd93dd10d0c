"""`fleet status`: where each portal of a fleet stands now, from what the runners keep.

For each portal, in this order: `running` (its lease or lock is held now: the run id from its
record), `set_aside`, `queued` (tonight's task is queued, no worker has finished it yet), else
its last outcome (`done`, `failed`, `needs_operator`, `stopped`, `skipped`), or `stopped` for a
run whose runner died (its record says running, nobody holds the portal), or `never_run`.
The record of the nights is the portal's store (shared when the fleet's state is Redis); the
counts come from the outcome file of the run, when this machine's reports folder has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bulk_onboard.config import default_state_dir
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.model import Fleet, Portal
from bulk_onboard.fleet.outcome import STATE_ORDER, Outcome, read_outcome
from bulk_onboard.fleet.prepare import fleet_portal_store
from bulk_onboard.fleet.store import FleetStore


def fleet_status(fleet: Fleet, env: Mapping[str, str], night: str) -> list[dict[str, Any]]:
    """Every portal's status (failures first), as `fleet status --json` prints it."""
    store = FleetStore(fleet)
    rows = [portal_status(fleet, store, portal, env, night) for portal in fleet.portals]
    return sorted(rows, key=lambda r: (STATE_ORDER.index(r["state"]), r["portal"]))


def portal_status(
    fleet: Fleet, store: FleetStore, portal: Portal, env: Mapping[str, str], night: str
) -> dict[str, Any]:
    record = nights.read_record(fleet_portal_store(fleet, portal, env))
    outcome = _last(fleet, portal, record)
    holder = store.holder(portal.id, default_state_dir(env))
    running = record["running"]
    if holder is not None:
        run_id = running.get("run_id") if isinstance(running, dict) else None
        outcome = Outcome(portal.id, portal.url, "running", run_id=run_id, reason=holder)
    elif record["set_aside"] is not None:
        aside = record["set_aside"]
        outcome = replace(outcome, state="set_aside", reason=str(aside.get("reason")))
    elif store.queued(night, portal.id) and store.night_of(night, portal.id) is None:
        outcome = Outcome(portal.id, portal.url, "queued", reason=f"queued for {night}")
    elif isinstance(running, dict):  # noted as running, held by nobody: its runner died
        outcome = Outcome(
            portal.id,
            portal.url,
            "stopped",
            run_id=running.get("run_id"),
            reason=f"its runner ({running.get('holder')}) ended during the run, since "
            f"{running.get('since')}",
        )
    document = outcome.as_dict()
    document["night"] = _night_of(record, outcome.run_id)
    document["next"] = nights.next_step(outcome.state, record["set_aside"])
    return document


def _last(fleet: Fleet, portal: Portal, record: dict[str, Any]) -> Outcome:
    """The portal's last outcome: its latest night in the record, with the counts of the
    outcome file when that is the same run."""
    here = read_outcome(fleet.reports, portal.id)
    if not record["nights"]:
        return here or Outcome(portal.id, portal.url, "never_run")
    _, latest = max(record["nights"].items())
    if here is not None and (here.run_id == latest.get("run_id") or here.state == "set_aside"):
        return here
    return Outcome(
        portal.id,
        portal.url,
        latest["state"],
        verdict=latest.get("verdict"),
        run_id=latest.get("run_id"),
        reason=latest.get("reason"),
        finished_at=latest.get("at") or "",
    )


def _night_of(record: dict[str, Any], run_id: str | None) -> str | None:
    for night, said in sorted(record["nights"].items(), reverse=True):
        if run_id is None or said.get("run_id") == run_id:
            return str(night)
    return None
