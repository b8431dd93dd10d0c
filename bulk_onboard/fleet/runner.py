"""`fleet run`: every portal's run in one process, at most `concurrency` at once.

Each portal runs through `engine.modes.start`, as `bulk-onboard run` does, with its own
stop (SIGINT/SIGTERM reach every run), its own repeated-warning counts and its own request
metering; its log lines carry `portal`. A portal that breaks does not stop the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.cli.signals import stop_on_signals
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.errors import BulkOnboardError, RunLocked
from bulk_onboard.fleet.model import Fleet
from bulk_onboard.fleet.outcome import Outcome, outcome_of, write_outcome
from bulk_onboard.fleet.prepare import Prepared
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.logs import own_repeats, redact
from bulk_onboard.runs.progress import Progress

log = structlog.get_logger("bulk_onboard")


async def run_fleet(
    fleet: Fleet,
    portals: list[Prepared],
    *,
    env: Mapping[str, str],
    progress: Callable[[], Progress],
    told: Callable[[Outcome], None] = lambda _o: None,
) -> list[Outcome]:
    """Run every prepared portal; each outcome is recorded and `told` as it comes."""
    gate = asyncio.Semaphore(fleet.concurrency)
    store = FleetStore(fleet)
    fleet_stop = Stop()  # a signal before a portal's turn: it is not started

    async def one(prepared: Prepared) -> Outcome:
        async with gate:
            if fleet_stop.requested:
                outcome = _not_run(prepared, "stopped", "not started: the fleet was stopped")
            else:
                outcome = await run_portal(
                    fleet, prepared, env=env, progress=progress(), store=store
                )
        write_outcome(fleet.reports, outcome)
        log.info(
            "portal_finished",
            portal=outcome.portal,
            state=outcome.state,
            verdict=outcome.verdict,
            run_id=outcome.run_id,
        )
        told(outcome)
        return outcome

    with stop_on_signals(fleet_stop):
        return list(await asyncio.gather(*(one(p) for p in portals)))


def lease_lost(stop: Stop) -> Callable[[str], None]:
    """What the lease's renewal thread calls when it fails: the run is stopped at once (its
    rows in flight cancelled, as a second Ctrl-C does), from the run's own loop."""
    loop = asyncio.get_running_loop()

    def stop_now(reason: str) -> None:
        for _ in range(2 - stop.requests):
            stop.request(f"lease lost: {reason}")

    def lost(reason: str) -> None:
        loop.call_soon_threadsafe(stop_now, reason)

    return lost


async def run_portal(
    fleet: Fleet,
    prepared: Prepared,
    *,
    env: Mapping[str, str],
    progress: Progress,
    store: FleetStore,
    renew_every: float | None = None,
) -> Outcome:
    """One portal's run under its lease (when the fleet shares its state), its outcome
    whatever happens."""
    portal = prepared.portal
    stop = Stop()
    with bound_contextvars(portal=portal.id), own_repeats(), stop_on_signals(stop):
        try:
            with store.lease(portal.id, lease_lost(stop), renew_every):
                summary = await modes.start(
                    prepared.settings,
                    prepared.intake,
                    progress=progress,
                    stop=stop,
                    sources=portal.inputs,
                    playbook_path=portal.playbook,
                    kind=portal.kind,
                    env=env,
                )
        except RunLocked as exc:
            return _not_run(prepared, "skipped", f"another run holds the portal: {exc}")
        except BulkOnboardError as exc:
            return _not_run(prepared, "needs_operator", redact(str(exc)))
        except Exception as exc:  # one portal's bug must not end the others' night
            log.exception("portal_failed", error=type(exc).__name__)
            return _not_run(prepared, "failed", redact(f"{type(exc).__name__}: {exc}"))
    return outcome_of(portal.id, portal.url, summary, fleet.reports)


def _not_run(prepared: Prepared, state: str, reason: str) -> Outcome:
    return Outcome(portal=prepared.portal.id, url=prepared.portal.url, state=state, reason=reason)
