"""`fleet run`: every portal's run in one process, at most `concurrency` at once.

Each portal runs through `engine.modes.start`, as `bulk-onboard run` does (or `modes.resume`
for a run of it that was stopped or whose runner died: fleet/nights.py), with its own stop
(SIGINT/SIGTERM reach every run), its own repeated-warning counts and its own request
metering; its log lines carry `portal`. A portal that breaks does not stop the others; one
set aside (fleet/nights.py) is not run. Once a portal's run has ended (resumed or not), the
after-run work of `bulk-onboard run` follows with its playbook (runs/after_run.py): its failed
rows remembered in its store, its [notify] told, its [runs] keep applied; a notification that
fails is logged, never the portal's outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import structlog
from structlog.contextvars import bound_contextvars

from bulk_onboard.cli.signals import stop_on_signals
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import RunSummary, new_run_id
from bulk_onboard.errors import BulkOnboardError, RunLocked
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.model import Fleet, Portal
from bulk_onboard.fleet.outcome import Outcome, outcome_of, read_outcome, write_outcome
from bulk_onboard.fleet.prepare import NotPrepared, Prepared, fleet_portal_store, prepare
from bulk_onboard.fleet.restore import restored_folder
from bulk_onboard.fleet.store import FleetStore
from bulk_onboard.intake import Intake, load_intake
from bulk_onboard.logs import own_repeats, redact
from bulk_onboard.model.records import RowKind
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.after_run import after_run
from bulk_onboard.runs.folder import RunFolder, open_run_folder
from bulk_onboard.runs.progress import Progress
from bulk_onboard.state.run_store import forget_run
from bulk_onboard.state.store import portal_store

log = structlog.get_logger("bulk_onboard")


async def run_fleet(
    fleet: Fleet,
    portals: list[Prepared],
    *,
    env: Mapping[str, str],
    progress: Callable[[], Progress],
    told: Callable[[Outcome], None] = lambda _o: None,
    night: str | None = None,
) -> list[Outcome]:
    """Run every prepared portal; each outcome is recorded and `told` as it comes."""
    gate = asyncio.Semaphore(fleet.concurrency)
    store = FleetStore(fleet)
    fleet_stop = Stop()  # a signal before a portal's turn: it is not started
    night = night or nights.tonight()

    async def one(prepared: Prepared) -> Outcome:
        async with gate:
            if fleet_stop.requested:
                outcome = _not_run(prepared, "stopped", "not started: the fleet was stopped")
            else:
                outcome = await run_portal(
                    fleet, prepared, env=env, progress=progress(), store=store, night=night
                )
        outcome = settle(fleet, prepared.portal, night, outcome, env)
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
    night: str | None = None,
) -> Outcome:
    """One portal's run under its lease (when the fleet shares its state), its outcome
    whatever happens."""
    portal = prepared.portal
    stop = Stop()
    with bound_contextvars(portal=portal.id), own_repeats(), stop_on_signals(stop):
        try:
            lease = store.lease(
                portal.id, lease_lost(stop), renew_every, prepared.settings.state_dir
            )
            with lease:
                summary = await _start_or_resume(
                    fleet, prepared, night or nights.tonight(), progress, stop, env
                )
                await _after_run(prepared, summary, env)
        except RunLocked as exc:
            return _not_run(prepared, "skipped", f"another run holds the portal: {exc}")
        except BulkOnboardError as exc:
            return _not_run(prepared, "needs_operator", redact(str(exc)))
        except Exception as exc:  # one portal's bug must not end the others' night
            log.exception("portal_failed", error=type(exc).__name__)
            return _not_run(prepared, "failed", redact(f"{type(exc).__name__}: {exc}"))
    return outcome_of(portal.id, portal.url, summary, fleet.reports)


async def _after_run(prepared: Prepared, summary: RunSummary, env: Mapping[str, str]) -> None:
    """The after-run work of `bulk-onboard run` with the portal's playbook and store (the
    fleet's shared one when it has one): its failed rows remembered (`failing_since`), its
    [notify] told, its [runs] keep applied. Whatever fails here is logged, never the
    portal's outcome."""
    try:
        await after_run(prepared.intake.playbook, summary, portal_store(prepared.settings), env)
    except Exception as exc:  # the run has ended as it ended: this is only telling of it
        log.warning(
            "after_run_failed", run_id=summary.run_id, error=redact(f"{type(exc).__name__}: {exc}")
        )


async def _start_or_resume(
    fleet: Fleet,
    prepared: Prepared,
    night: str,
    progress: Progress,
    stop: Stop,
    env: Mapping[str, str],
) -> RunSummary:
    """Resume the portal's run that was stopped or whose runner died (its folder here, or
    made again from the shared state), else start a new one; noted as running in the
    portal's store once the run holds the portal."""
    portal, settings = prepared.portal, prepared.settings
    store = portal_store(settings)
    last = read_outcome(fleet.reports, portal.id)
    earlier = nights.resumable_run(nights.read_record(store), last)
    folder = _resumable_folder(Path(settings.report_dir), earlier)
    folder = folder or restored_folder(prepared, earlier)
    holder = nights.holder_name()

    def held(run_id: str) -> None:  # a run that loses the portal to another is never noted
        nights.mark_running(store, night, run_id, holder)

    if folder is not None:
        log.info("portal_resumed", run_id=folder.run_id)
        intake = _folder_intake(folder, prepared)
        return await modes.resume(
            settings, folder, intake, progress=progress, stop=stop, env=env, on_held=held
        )
    return await modes.start(
        settings,
        prepared.intake,
        run_id=new_run_id(),
        progress=progress,
        stop=stop,
        env=env,
        sources=portal.inputs,
        playbook_path=portal.playbook,
        kind=portal.kind,
        on_held=held,
    )


def _folder_intake(folder: RunFolder, prepared: Prepared) -> Intake:
    """What the run folder was given (its copies), as `run --resume` reads it; tonight's
    export when its copies cannot be read."""
    try:
        kind = RowKind.from_text(folder.kind) if folder.kind else None
        return load_intake(list(folder.inputs), load_playbook(folder.playbook), kind)
    except BulkOnboardError:
        return prepared.intake


def _resumable_folder(report_dir: Path, run_id: str | None) -> RunFolder | None:
    """The run folder of `run_id` in the portal's report folder, when it is there with its
    journal (a run of another machine whose reports are not shared is not)."""
    if run_id is None:
        return None
    try:
        folder = open_run_folder(run_id, report_dir)
    except BulkOnboardError:
        return None
    if folder.retry_of is not None or not folder.journal.is_file():
        return None
    return folder


def ready_or_not(
    fleet: Fleet, portal: Portal, env: Mapping[str, str], log_format: str | None = None
) -> Prepared | Outcome:
    """The portal prepared for its run, or why it is not run: set aside (its token is not
    even read), or not preparable (needs an operator)."""
    aside = nights.read_record(fleet_portal_store(fleet, portal, env))["set_aside"]
    if aside is not None:
        return set_aside_outcome(fleet, portal, aside)
    try:
        return prepare(fleet, portal, env, log_format)
    except NotPrepared as exc:
        return Outcome(portal.id, portal.url, "needs_operator", reason=str(exc))


def set_aside_outcome(fleet: Fleet, portal: Portal, aside: dict[str, object]) -> Outcome:
    return Outcome(
        portal=portal.id,
        url=portal.url,
        state="set_aside",
        reason=f"set aside since {aside.get('since')} after {nights.SET_ASIDE_AFTER} failing "
        f"nights: {aside.get('reason')}; when it is fixed: bulk-onboard fleet retry "
        f"{fleet.path} --only {portal.id}",
    )


def settle(
    fleet: Fleet, portal: Portal, night: str, outcome: Outcome, env: Mapping[str, str]
) -> Outcome:
    """Keep the outcome (the portal's outcome file, and its night in the portal's store);
    one that sets the portal aside says so; a run that is not to be resumed leaves its
    journal in the shared state no longer. A portal skipped (another runner holds it) keeps
    the outcome file that runner writes."""
    if outcome.state != "set_aside":
        aside = nights.record_night(fleet_portal_store(fleet, portal, env), night, outcome)
        if aside is not None:
            said = f"{outcome.reason or outcome.state}; set aside after {nights.SET_ASIDE_AFTER} "
            said += f"failing nights (bulk-onboard fleet retry {fleet.path} --only {portal.id})"
            outcome = replace(outcome, reason=said)
    if outcome.state != "skipped" or read_outcome(fleet.reports, portal.id) is None:
        write_outcome(fleet.reports, outcome)  # the runner holding it writes its own
    if outcome.run_id and outcome.state not in ("stopped", "skipped"):
        forget_run(fleet.state, portal.url, outcome.run_id)  # nothing will resume it
    return outcome


def _not_run(prepared: Prepared, state: str, reason: str) -> Outcome:
    return Outcome(portal=prepared.portal.id, url=prepared.portal.url, state=state, reason=reason)
