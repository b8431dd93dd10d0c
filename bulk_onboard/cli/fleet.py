"""`bulk-onboard fleet`: many portals from one fleet file (fleet/file.py).

    fleet validate FLEET [--only a,b] [--check-tokens]
    fleet run FLEET [--only a,b]
    fleet status FLEET [--json]
    fleet retry FLEET [--only a,b]
    fleet report FLEET
    fleet enqueue FLEET [--night YYYY-MM-DD] [--only a,b]
    fleet worker FLEET [--concurrency N]

Exit status of `fleet run` and `fleet retry`: 0 every portal done and ok, 1 some portal's rows
need attention (or wait for tomorrow's write budget), 3 stopped by a signal (resumable), 9 some
portal failed, needs an operator (a refused token, a bad input, a guard stop, an unreachable
portal) or is set aside (9, not `run`'s 8: that is a refused token).
`fleet validate` exits 0 when every portal can be run, 2 when not.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.cli.output import fail
from bulk_onboard.cli.progress import LogProgress
from bulk_onboard.errors import BulkOnboardError, ConfigError
from bulk_onboard.fleet import nights
from bulk_onboard.fleet.file import read_fleet
from bulk_onboard.fleet.model import Fleet, Portal
from bulk_onboard.fleet.outcome import Outcome, fleet_exit_code, read_outcome
from bulk_onboard.fleet.prepare import NotPrepared, Prepared, fleet_portal_store, prepare
from bulk_onboard.fleet.report import write_fleet_report
from bulk_onboard.fleet.runner import ready_or_not, run_fleet, settle
from bulk_onboard.fleet.status import fleet_status
from bulk_onboard.logs import configure as configure_logs
from bulk_onboard.logs import redact

FLEET = click.argument("fleet_file", metavar="FLEET", type=click.Path(path_type=Path))
ONLY = click.option(
    "--only", default=None, metavar="ID,ID", help="Only these portals (their ids, commas)."
)


@click.group("fleet")
def fleet_command() -> None:
    """Many portals, one fleet file: validate it, run every portal, report the night."""


def _fleet(path: Path, only: str | None) -> tuple[Fleet, tuple[Portal, ...]]:
    try:
        fleet = read_fleet(path)
        names = [n.strip() for n in only.split(",") if n.strip()] if only else None
        return fleet, fleet.chosen(names)
    except ConfigError as exc:
        fail(str(exc))


@fleet_command.command("validate")
@FLEET
@ONLY
@click.option("--check-tokens", is_flag=True, help="Read each portal once with its token.")
def validate_command(fleet_file: Path, only: str | None, check_tokens: bool) -> None:
    """Check that every reference of FLEET resolves: each portal's token source, playbook and
    input files (read and checked as `validate` does); with --check-tokens each portal is
    read once (GET people/@self) with its token."""
    fleet, portals = _fleet(fleet_file, only)
    configure_logs(fmt="auto", level="error")
    problems = 0
    ready: list[Prepared] = []
    for portal in portals:
        try:
            prepared = prepare(fleet, portal, os.environ)
        except NotPrepared as exc:
            problems += 1
            click.echo(f"{portal.id}: {exc}")
            continue
        ready.append(prepared)
        intake = prepared.intake
        click.echo(
            f"{portal.id}: {portal.url}: token {portal.token.kind}, "
            f"{len(intake.clients)} clients, {len(intake.users)} people, "
            f"{len(intake.invalid)} invalid rows"
        )
    if check_tokens:
        problems += asyncio.run(_check_tokens(fleet, ready))
    click.echo(f"{len(portals)} portals, {problems} with problems")
    raise SystemExit(2 if problems else 0)


async def _check_tokens(fleet: Fleet, ready: list[Prepared]) -> int:
    gate = asyncio.Semaphore(fleet.concurrency)

    async def check(prepared: Prepared) -> bool:
        async with gate:
            try:
                async with DocSpaceClient(prepared.settings) as client:
                    await client.self_profile()
            except BulkOnboardError as exc:
                click.echo(f"{prepared.portal.id}: token refused or portal unusable: {exc}")
                return False
        click.echo(f"{prepared.portal.id}: token accepted")
        return True

    answers = await asyncio.gather(*(check(p) for p in ready))
    return answers.count(False)


@fleet_command.command("run")
@FLEET
@ONLY
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="What is logged (to stderr, each line naming its portal).",
)
@click.option(
    "--log-format", default="auto", type=click.Choice(["auto", "console", "json"]), help="Logs."
)
def run_command(fleet_file: Path, only: str | None, log_level: str, log_format: str) -> None:
    """Run every enabled portal of FLEET (or --only those) in this process, up to the fleet's
    `concurrency` at once; each portal's run folder goes under <reports>/<portal id>/, and
    fleet.json and fleet.html into <reports>/. A portal's run that was stopped (or whose runner
    died) is resumed from its journal; a portal set aside is not run. Exit: 0 all done, 1 some
    rows need attention, 3 stopped, 9 some portal failed, needs an operator or is set aside."""
    fleet, portals = _fleet(fleet_file, only)
    configure_logs(fmt=log_format, level=log_level)  # type: ignore[arg-type]
    _run_portals(fleet, portals, log_format)


def _run_portals(fleet: Fleet, portals: tuple[Portal, ...], log_format: str) -> None:
    """Run the portals, one line each, then the fleet's report and exit code."""
    began = time.monotonic()
    night = nights.tonight()
    outcomes, ready = [], []
    for portal in portals:
        prepared = ready_or_not(fleet, portal, os.environ, log_format)
        if isinstance(prepared, Outcome):
            outcome = settle(fleet, portal, night, prepared, os.environ)
            _say(outcome)
            outcomes.append(outcome)
        else:
            ready.append(prepared)
    outcomes += asyncio.run(
        run_fleet(fleet, ready, env=os.environ, progress=LogProgress, told=_say, night=night)
    )
    _, html = write_fleet_report(fleet)
    click.echo(_total(outcomes, time.monotonic() - began))
    click.echo(f"fleet report: {html}")
    raise SystemExit(fleet_exit_code(outcomes))


def _say(outcome: Outcome) -> None:
    """One line per portal as it finishes."""
    parts = [f"{outcome.portal}: {outcome.state}"]
    if outcome.verdict:
        parts[0] += f" ({outcome.verdict})"
    if outcome.run_id:
        counts = ", ".join(f"{n} {s}" for s, n in outcome.statuses.items())
        run = f"run {outcome.run_id}" + (" (resumed)" if outcome.resumed else "")
        parts.append(f"{run}: {outcome.rows} rows: {counts or 'nothing to do'}")
        parts.append(f"{outcome.requests} requests in {outcome.seconds:.1f}s")
    if outcome.reason:
        parts.append(redact(outcome.reason))
    click.echo("; ".join(parts))


def _total(outcomes: list[Outcome], seconds: float | None) -> str:
    states: dict[str, int] = {}
    for outcome in outcomes:
        states[outcome.state] = states.get(outcome.state, 0) + 1
    said = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(states.items()))
    took = "" if seconds is None else f" in {seconds:.1f}s"
    return f"fleet: {len(outcomes)} portals{took}: {said or 'none'}"


@fleet_command.command("status")
@FLEET
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
def status_command(fleet_file: Path, as_json: bool) -> None:
    """Where each portal of FLEET stands now: running, queued, done, failed, needs_operator,
    stopped, set_aside or never_run, with its run id, verdict and counts (from the shared
    store when the fleet has one, and each portal's last outcome), failures first."""
    fleet, _ = _fleet(fleet_file, None)
    night = nights.tonight()
    rows = fleet_status(fleet, os.environ, night)
    if as_json:
        click.echo(json.dumps({"night": night, "portals": rows}, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(_status_line(row))
    click.echo(_total([Outcome(row["portal"], row["url"], row["state"]) for row in rows], None))


def _status_line(row: dict[str, object]) -> str:
    parts = [f"{row['portal']}: {row['state']}"]
    if row["verdict"]:
        parts[0] += f" ({row['verdict']})"
    if row["run_id"]:
        statuses = row["statuses"]
        counts = (
            ", ".join(f"{n} {s}" for s, n in statuses.items()) if isinstance(statuses, dict) else ""
        )
        parts.append(f"run {row['run_id']}" + (f": {row['rows']} rows: {counts}" if counts else ""))
    if row["reason"]:
        parts.append(redact(str(row["reason"])))
    parts.append(f"next: {row['next']}")
    return "; ".join(parts)


@fleet_command.command("retry")
@FLEET
@ONLY
@click.option(
    "--log-format", default="auto", type=click.Choice(["auto", "console", "json"]), help="Logs."
)
def retry_command(fleet_file: Path, only: str | None, log_format: str) -> None:
    """Take the portals of FLEET that are set aside (or --only those named) off that list and
    run them now, with those whose last night failed, needs an operator or was stopped; exit
    as `fleet run`."""
    fleet, named = _fleet(fleet_file, only)
    configure_logs(fmt=log_format, level="warning")  # type: ignore[arg-type]
    portals = named if only else tuple(p for p in fleet.portals if _to_retry(fleet, p))
    for portal in portals:
        was = nights.lift(fleet_portal_store(fleet, portal, os.environ), nights.tonight())
        if was is not None:
            click.echo(f"{portal.id}: no longer set aside (since {was.get('since')})")
    if not portals:
        click.echo("no portal is set aside or failed its last night: nothing to retry")
        raise SystemExit(0)
    _run_portals(fleet, portals, log_format)


def _to_retry(fleet: Fleet, portal: Portal) -> bool:
    if nights.read_record(fleet_portal_store(fleet, portal, os.environ))["set_aside"]:
        return True
    last = read_outcome(fleet.reports, portal.id)
    return last is not None and last.state in {"failed", "needs_operator", "stopped"}


@fleet_command.command("report")
@FLEET
def report_command(fleet_file: Path) -> None:
    """Write fleet.json and fleet.html into the fleet's reports folder from each portal's
    last outcome, failures first, each portal linking its report.html."""
    fleet, _ = _fleet(fleet_file, None)
    json_path, html_path = write_fleet_report(fleet)
    click.echo(f"{json_path}\n{html_path}")


@fleet_command.command("enqueue")
@FLEET
@ONLY
@click.option(
    "--night",
    default=None,
    metavar="YYYY-MM-DD",
    help="The night the portals are queued for (default: today, UTC); queued once a night.",
)
def enqueue_command(fleet_file: Path, only: str | None, night: str | None) -> None:
    """Queue one task per enabled portal of FLEET (or --only those) for tonight, on the
    fleet's broker; a portal already queued for that night is not queued again. A task
    carries the portal id and the night, never a token."""
    from bulk_onboard.fleet.worker import enqueue

    fleet, portals = _fleet(fleet_file, only)
    night = night or datetime.now(UTC).date().isoformat()
    try:
        datetime.strptime(night, "%Y-%m-%d")
        said = enqueue(fleet, [p.id for p in portals], night)
    except ValueError:
        fail(f"--night {night!r} is not a date; give it as YYYY-MM-DD")
    except ConfigError as exc:
        fail(str(exc))
    for portal, what in said:
        click.echo(f"{portal}: {what}")


@fleet_command.command("worker")
@FLEET
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes: each runs one portal at a time, in its own asyncio loop.",
)
def worker_command(fleet_file: Path, concurrency: int) -> None:
    """A Celery worker for FLEET's queue: runs each queued portal's night (tasks are
    acknowledged after the run, so a task lost with its worker is delivered again after the
    fleet's visibility_timeout). SIGTERM is Celery's warm shutdown: the runs in flight finish
    first."""
    from bulk_onboard.fleet.worker import fleet_app, queue_of

    fleet, _ = _fleet(fleet_file, None)
    try:
        app = fleet_app(fleet)
    except ConfigError as exc:
        fail(str(exc))
    configure_logs(fmt="json", level="info")
    app.worker_main(
        [
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            "--queues",
            queue_of(fleet),
            "--without-gossip",
            "--without-mingle",
        ]
    )
