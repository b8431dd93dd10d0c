"""`fleet enqueue` and `fleet worker`: a fleet's nights on Celery, with Redis as the broker.

A task names a portal and a night, nothing else (never a token): the worker reads the fleet
file it was started with, and the portal's token from where that file says. Tasks are
acknowledged late (after the night's run), so a task whose worker died is delivered again
(after `visibility_timeout`); one queued twice for a night is not queued again (a mark in the
shared state), and one delivered again finds the night's record (done: nothing to do) or the
portal's lease held (it waits, without counting an attempt). A portal that failed (could not be
reached, or its run stopped) is tried again up to `max_attempts` times, a stopped run (or one
whose worker died) resumed from its journal (its run folder, or the shared state's); one that
needs an operator is not tried again, and one set aside (fleet/nights.py) is neither queued nor
run.
Each worker process runs one portal at a time in its own asyncio loop.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from celery import Celery, Task

from bulk_onboard.cli.progress import LogProgress
from bulk_onboard.errors import ConfigError
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.model import Fleet
from bulk_onboard.fleet.outcome import Outcome
from bulk_onboard.fleet.prepare import fleet_portal_store
from bulk_onboard.fleet.runner import ready_or_not, run_portal, set_aside_outcome, settle
from bulk_onboard.fleet.store import NIGHT_SECONDS, FleetStore, fleet_prefix

TASK = "bulk_onboard.fleet.night"
FINAL = {"done", "needs_operator", "set_aside"}  # a night's outcomes not tried again


def shared_fleet(fleet: Fleet) -> None:
    """A fleet run by workers shares its state and has a broker (ConfigError: what to add)."""
    for key, value in (("broker", fleet.broker), ("state", fleet.state)):
        if not value.startswith(("redis://", "rediss://")):
            raise ConfigError(
                f"{fleet.path}: [fleet] {key} must be a redis://… address (e.g. {key} = "
                f'"redis://127.0.0.1:6379/0") for the fleet to run on workers'
            )


def queue_of(fleet: Fleet) -> str:
    return f"{fleet_prefix(fleet)}:nights"


def fleet_app(fleet: Fleet) -> Celery:
    """The Celery app of the fleet: its broker, its own queue, late acknowledgement."""
    shared_fleet(fleet)
    app = Celery("bulk_onboard_fleet", broker=fleet.broker, set_as_current=False)
    app.conf.update(
        task_default_queue=queue_of(fleet),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # a task lost with its worker comes back within about the visibility timeout: the
        # unacknowledged tasks are swept every tenth of it (kombu's default: every ~100 s)
        broker_transport_options={
            "visibility_timeout": fleet.visibility_timeout,
            "unacked_restore_interval": max(1, fleet.visibility_timeout // 10),
            "unacked_restore_throttle": 1,
        },
    )
    path = fleet.path

    @app.task(name=TASK, bind=True, max_retries=None, shared=False)  # type: ignore[untyped-decorator]
    def night(task: Task, portal_id: str, night: str) -> dict[str, Any]:
        current = read_fleet(path)  # read again: the file may have changed since
        outcome = night_of(current, portal_id, night)
        again = retry_in(current, outcome, night)
        if again is not None:
            raise task.retry(countdown=again)
        return outcome.as_dict()

    return app


def night_of(fleet: Fleet, portal_id: str, night: str) -> Outcome:
    """The portal's run for `night` (nothing when that night's record says it was done)."""
    store = FleetStore(fleet)
    recorded = store.night_of(night, portal_id)
    if recorded is not None and recorded["state"] in FINAL:
        return Outcome(**recorded)
    (portal,) = fleet.chosen([portal_id])
    ready = ready_or_not(fleet, portal, os.environ)
    if isinstance(ready, Outcome):
        outcome = ready
    else:
        outcome = asyncio.run(
            run_portal(
                fleet, ready, env=os.environ, progress=LogProgress(), store=store, night=night
            )
        )
    outcome = settle(fleet, portal, night, outcome, os.environ)
    if outcome.state in FINAL:
        store.record_night(night, portal_id, outcome.as_dict())
    return outcome


def retry_in(fleet: Fleet, outcome: Outcome, night: str) -> float | None:
    """Seconds until the task runs again, None when the night's outcome is final: a lease
    held elsewhere waits (not an attempt); a failure or a stop is tried `max_attempts` times."""
    if outcome.state in FINAL:
        return None
    if outcome.state == "skipped":
        return min(fleet.lease_seconds, 30, 0.8 * fleet.visibility_timeout)
    store = FleetStore(fleet)
    key = f"{store.prefix}:attempts:{night}:{outcome.portal}"
    attempts = int(store.client.incr(key))
    store.client.expire(key, NIGHT_SECONDS)
    if attempts >= fleet.max_attempts:
        store.record_night(night, outcome.portal, outcome.as_dict())
        return None
    # a task waiting longer than the visibility timeout would be handed out again meanwhile
    return float(min(60 * 2 ** (attempts - 1), 3600, 0.8 * fleet.visibility_timeout))


def enqueue(fleet: Fleet, portals: list[str], night: str) -> list[tuple[str, str]]:
    """One task per portal for `night`, unless it was queued already or the portal is set
    aside: (portal, what was done, in words)."""
    app = fleet_app(fleet)
    store = FleetStore(fleet)
    said = []
    for portal in fleet.chosen(portals):
        aside = nights.read_record(fleet_portal_store(fleet, portal, os.environ))["set_aside"]
        if aside is not None:
            said.append(
                (portal.id, f"not queued: {set_aside_outcome(fleet, portal, aside).reason}")
            )
            continue
        fresh = store.mark_queued(night, portal.id)
        if fresh:
            task_id = f"{store.prefix}:{night}:{portal.id}"
            app.send_task(TASK, args=[portal.id, night], task_id=task_id)
        said.append((portal.id, f"{'queued' if fresh else 'already queued'} for {night}"))
    return said
