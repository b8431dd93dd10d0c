"""The commands that talk to a portal: `run` (and `run --resume`), `retry`, `demo`.

Their exit status is documented in cli/output.py.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from bulk_onboard.cli.demo import (
    DEMO_SECRET_ENV,
    Audit,
    demo_playbook,
    demo_sandbox_config,
    read_audit,
    read_webhooks,
    seed_managers,
)
from bulk_onboard.cli.options import (
    KIND,
    PLAYBOOK,
    PORTAL_LEASE,
    REANNOUNCE,
    check_crm_config,
    connection_options,
    guard_options,
    progress_for,
    read_intake,
    read_playbook,
    settings_from,
    start_logs,
    with_guard,
    with_playbook_limits,
)
from bulk_onboard.cli.output import EXIT_LOCKED, fail, finish_run, say
from bulk_onboard.cli.progress import stop_waits_shown, waiting_text
from bulk_onboard.cli.resume_limits import keep_run_limits
from bulk_onboard.cli.signals import stop_on_signals
from bulk_onboard.config import Settings, build_settings
from bulk_onboard.engine import modes
from bulk_onboard.engine.pool import Stop
from bulk_onboard.engine.root import RunSummary
from bulk_onboard.errors import ConfigError, InputError, RunLocked
from bulk_onboard.intake import Intake
from bulk_onboard.logs import flush_repeats
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.runs.after_run import after_run
from bulk_onboard.runs.folder import (
    RunFolder,
    never_reached,
    open_run_folder,
    repoint,
    same_portal,
)
from bulk_onboard.runs.identity import changed_inputs, keep_identities, rerun_command
from bulk_onboard.runs.notice import check_notify
from bulk_onboard.runs.progress import Progress
from bulk_onboard.runs.report_reader import Retry, plan_retry, read_report
from bulk_onboard.runs.summary import unread_sheets_json
from bulk_onboard.runs.unread import record_unread_sheets, unread_lines
from bulk_onboard.state.store import portal_store

SAMPLE_WORKBOOK = Path("sample_data/onboarding.xlsx")


def sample_workbook() -> Path:
    """The clone's sample workbook when run from the clone, else the copy in the package."""
    if SAMPLE_WORKBOOK.is_file():
        return SAMPLE_WORKBOOK
    return Path(__file__).resolve().parent / "samples" / "onboarding.xlsx"


def say_stopping(stop: Stop, reason: str) -> None:
    """What a Ctrl-C (or SIGTERM) does, said at once; the summary ends with the resume command."""
    if not reason.startswith("signal"):
        return  # a stop of the run's own (a refused token, an outage): the summary says why
    rows = f"{stop.in_flight} row{'s' if stop.in_flight != 1 else ''} in flight"
    deadlines = stop.uncertain()
    if stop.requests == 1 and deadlines:
        seconds = max(deadlines) - time.monotonic()
        click.echo(f"stopping: finishing {rows}, {waiting_text(len(deadlines), seconds)}", err=True)
    elif stop.requests == 1:
        click.echo(f"stopping: finishing {rows}; Ctrl-C again to cancel them", err=True)
    elif stop.requests == 2:
        click.echo(
            f"cancelling {rows}; they are reported as interrupted, the report is still written",
            err=True,
        )


def _launch(
    settings: Settings,
    options: dict[str, Any],
    job: Callable[[Progress, Stop], Awaitable[RunSummary]],
    intake: Intake | None = None,
    playbook: Playbook | None = None,
) -> NoReturn:
    """Run a job with a progress display, Ctrl-C/SIGTERM routed to a graceful stop, and exit
    with its code (4 when another run holds the report folder). The workbook sheets the
    `intake` did not read are added to summary.json and report.html and said. The playbook's
    [notify] (of `playbook`) is told how the run ended, and its [runs] keep prunes the report
    folder."""
    progress = progress_for(settings, options.get("show_progress"))
    start_logs(settings, progress, options.get("log_level"))

    async def with_signals() -> RunSummary:
        stop = Stop()
        stop.on_request(say_stopping)
        with stop_on_signals(stop), stop_waits_shown(stop, progress):
            return await job(progress, stop)

    try:
        summary = asyncio.run(with_signals())
    except RunLocked as exc:
        fail(str(exc), EXIT_LOCKED)
    except ConfigError as exc:  # an unusable report folder, found before anything is sent
        fail(str(exc))
    flush_repeats()
    if intake is not None and intake.unread:
        unread = unread_sheets_json(intake.unread, intake.ignored)
        record_unread_sheets(summary.run_dir, unread, summary.problems)
        for line in unread_lines(unread):
            say(line)
    code = finish_run(summary)
    if playbook is not None:
        _after_run(settings, summary, playbook)
    raise SystemExit(code)


def _after_run(settings: Settings, summary: RunSummary, playbook: Playbook) -> None:
    """Once the run has ended: its failed rows remembered for the portal, [notify] told,
    [runs] keep applied (runs/after_run.py). A notification that fails is said, never the
    run's exit code."""
    done = asyncio.run(after_run(playbook, summary, portal_store(settings), os.environ))
    for line in done.lines():
        say(line)


def check_notify_config(playbook: Playbook) -> None:
    """A [notify] webhook needs its signing secret in the environment: checked before
    anything is sent, as the CRM webhook's; e-mail needs its SMTP server in the environment."""
    try:
        check_notify(playbook.notify, os.environ, playbook.source)
    except ConfigError as exc:
        fail(str(exc))


ALLOW_PARTIAL_ROOM_VIEW = click.option(
    "--allow-partial-room-view",
    "allow_partial_room_view",
    is_flag=True,
    default=False,
    help="Create client rooms even with a key that is not a DocSpace admin's: it cannot see "
    "the rooms other admins made, so a client whose room someone else made gets a second one "
    "(as the playbook's [room] allow_partial_view = true).",
)


REDO = click.option(
    "--redo",
    is_flag=True,
    default=False,
    help="Make again the rows that `undo` took back (the portal's state remembers them, and "
    "runs report them skipped): every such row the spreadsheets still have.",
)


def with_room_view(intake: Intake, allow: bool) -> Intake:
    """The intake with --allow-partial-room-view over the playbook's [room] setting."""
    if not allow:
        return intake
    return replace(intake, playbook=replace(intake.playbook, allow_partial_view=True))


def _ready(
    settings: Settings,
    options: dict[str, Any],
    intake: Intake,
    limits: tuple[int | None, int | None],
    allow_partial_room_view: bool,
) -> tuple[Settings, Intake]:
    """What every run, resume and retry does before it starts: the command line's guard and
    room view over the playbook's, the CRM and notification settings checked (exit 2 before
    anything is sent), and the playbook's limits under the command line's."""
    intake = with_room_view(with_guard(intake, *limits), allow_partial_room_view)
    check_crm_config(intake)
    check_notify_config(intake.playbook)
    return with_playbook_limits(settings, options, intake.playbook), intake


@click.command("run")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@PLAYBOOK
@KIND
@click.option(
    "--resume",
    "resume",
    default=None,
    metavar="RUN",
    help="Continue a stopped or crashed run (its id, or its folder) where it stopped.",
)
@REANNOUNCE
@ALLOW_PARTIAL_ROOM_VIEW
@REDO
@guard_options
@PORTAL_LEASE
@connection_options
def run_command(
    files: tuple[Path, ...],
    playbook: Path | None,
    kind: str | None,
    resume: str | None,
    reannounce: bool,
    allow_partial_room_view: bool,
    redo: bool,
    max_new_rooms: int | None,
    max_new_people: int | None,
    **options: Any,
) -> None:
    """Onboard every valid row of the spreadsheets into the portal.

    With --resume RUN, continue that run from its journal: its folder holds copies of its
    spreadsheets and playbook, so no FILES are needed (a --playbook given overrides).

    Exit status: 0 every row ok, 1 some rows failed or are invalid, 2 input or configuration
    error (nothing sent), 3 stopped (Ctrl-C, SIGTERM, or the portal's lease lost), 4 another
    run holds the report folder or the portal, 5 rows deferred until the portal's daily write budget renews, 6 the portal
    could not be reached or kept failing (the run failed; its rows are interrupted), 7 the
    guard stopped the run before its first write (it would create more rooms or people than
    allowed; nothing was written), 8 the portal refused the API token.
    """
    if resume is not None and files:
        fail("give either spreadsheets or --resume RUN, not both")
    if resume is None and not files:
        fail("give the spreadsheets to onboard, or --resume RUN to continue a run")
    settings = settings_from(options)
    limits = (max_new_rooms, max_new_people)
    options["allow_partial_room_view"] = allow_partial_room_view
    options["redo"] = redo
    if resume is not None:
        _resume_run(settings, options, resume, playbook, reannounce=reannounce, limits=limits)
    else:
        _start_run(settings, options, files, playbook, kind, reannounce=reannounce, limits=limits)


def _start_run(
    settings: Settings,
    options: dict[str, Any],
    files: tuple[Path, ...],
    playbook: Path | None,
    kind: str | None,
    *,
    reannounce: bool,
    limits: tuple[int | None, int | None],
) -> NoReturn:
    """`run FILES`: a new run of the spreadsheets, under the guard's `limits` (--max-new-rooms,
    --max-new-people) when given."""
    settings, intake = _ready(
        settings,
        options,
        read_intake(files, playbook, kind),
        limits,
        options.get("allow_partial_room_view", False),
    )
    _launch(
        settings,
        options,
        lambda progress, stop: modes.start(
            settings,
            intake,
            progress=progress,
            stop=stop,
            sources=files,
            playbook_path=playbook,
            kind=kind,
            env=os.environ,
            reannounce=reannounce,
            redo=options.get("redo", False),
        ),
        intake,
        playbook=intake.playbook,
    )


def _resume_run(
    settings: Settings,
    options: dict[str, Any],
    resume: str,
    playbook: Path | None,
    *,
    reannounce: bool,
    limits: tuple[int | None, int | None],
) -> NoReturn:
    """`run --resume RUN`: the run continued from its folder, on the portal it wrote to."""
    folder = _check_portal(_open_folder(resume, settings.report_dir), settings.portal_url)
    settings, kept = keep_run_limits(settings, options, folder.path)
    if kept:
        click.echo(f"resuming with the run's own {', '.join(kept)}", err=True)
    intake, carried = _folder_intake(folder, playbook)
    settings, intake = _ready(
        settings, options, intake, limits, options.get("allow_partial_room_view", False)
    )
    _launch(
        settings,
        options,
        lambda progress, stop: modes.resume(
            settings,
            folder,
            intake,
            carried=carried,
            progress=progress,
            stop=stop,
            env=os.environ,
            reannounce=reannounce,
            redo=options.get("redo", False),
        ),
        intake,
        playbook=intake.playbook,
    )


def _check_portal(folder: RunFolder, portal_url: str) -> RunFolder:
    """A run is resumed on the portal it wrote to: its journal's ids are that portal's. One
    that never reached its portal (nothing written) may resume on another address, which
    run.json then records."""
    if folder.portal is None or same_portal(folder.portal, portal_url):
        return folder
    if never_reached(folder):
        click.echo(
            f"run {folder.run_id} never reached {folder.portal} (nothing was written there): "
            f"resuming it on {portal_url}",
            err=True,
        )
        return repoint(folder, portal_url)
    fail(
        f"run {folder.run_id} wrote to {folder.portal}, not to {portal_url}; resume it on "
        f"its own portal (--portal {folder.portal} with that portal's token)"
    )


def _open_folder(run: str, report_dir: Path) -> RunFolder:
    try:
        return open_run_folder(run, report_dir)
    except ConfigError as exc:
        fail(str(exc))


def _folder_intake(folder: RunFolder, playbook: Path | None) -> tuple[Intake, list[Any]]:
    """What a run folder was given, read again (a retry run re-reads the report it retried)."""
    chosen = playbook if playbook is not None else folder.playbook
    if folder.retry_of is None:
        return read_intake(list(folder.inputs), chosen, folder.kind), []
    try:
        retry = plan_retry(folder.inputs[0], read_report(folder.inputs[0]), read_playbook(chosen))
    except (InputError, ConfigError) as exc:
        fail(str(exc))
    return keep_identities(retry.intake, folder.path), list(retry.carried)


def _report_of(given: Path, report_dir: Path) -> Path:
    """A report named by its file, its run folder or its run id (in the report folder)."""
    if given.is_file():
        return given
    for folder in (given, report_dir / given):
        if folder.is_dir():
            for name in ("report.xlsx", "report.csv"):
                if (folder / name).is_file():
                    return folder / name
            fail(
                f"{folder} holds no report.xlsx or report.csv: the run did not finish; "
                f"continue it with: bulk-onboard run --resume {folder}"
            )
    fail(
        f"{given} is not a report file, a run folder or a run id in {report_dir}/; give the "
        "report.xlsx (or report.csv) of a run, its folder or its id"
    )


@click.command("retry")
@click.argument("report", metavar="REPORT|RUN", type=click.Path(path_type=Path))
@PLAYBOOK
@REANNOUNCE
@ALLOW_PARTIAL_ROOM_VIEW
@REDO
@guard_options
@PORTAL_LEASE
@connection_options
def retry_command(
    report: Path,
    playbook: Path | None,
    reannounce: bool,
    allow_partial_room_view: bool,
    redo: bool,
    max_new_rooms: int | None,
    max_new_people: int | None,
    **options: Any,
) -> None:
    """Run again only the rows of REPORT that failed, were interrupted, invalid or deferred.

    REPORT is the report.csv or report.xlsx of an earlier run (cells may have been corrected by
    hand), or RUN its run folder or run id, as for `run --resume` (its report.xlsx is read). Each row continues from its failed step with the ids that run recorded; rows that
    succeeded are left alone and copied into the new report, which names the run it retried.
    """
    settings = settings_from(options)
    report = _report_of(report, settings.report_dir)
    retry, chosen = _plan_retry(report, playbook, settings.report_dir)
    limits = (max_new_rooms, max_new_people)
    settings, intake = _ready(settings, options, retry.intake, limits, allow_partial_room_view)
    retry = replace(retry, intake=intake)
    if not retry.intake.plans and not retry.intake.invalid:
        say(f"{report.name}: no row failed, is invalid, interrupted or deferred; nothing to retry.")
        raise SystemExit(0)
    _launch(
        settings,
        options,
        lambda progress, stop: modes.retry(
            settings,
            report,
            retry,
            progress=progress,
            stop=stop,
            playbook_path=chosen,
            env=os.environ,
            reannounce=reannounce,
            redo=redo,
        ),
        playbook=retry.intake.playbook,
    )


def _plan_retry(report: Path, playbook: Path | None, report_dir: Path) -> tuple[Retry, Path | None]:
    """The report's rows to run again, and the playbook they are planned with: the one given,
    else the one of the run that wrote the report (when the report is in its run folder)."""
    run_json = report.parent / "run.json"
    chosen = playbook
    if chosen is None and run_json.is_file():
        chosen = open_run_folder(str(report.parent), report_dir).playbook
    try:
        rows = read_report(report)
        retry = plan_retry(report, rows, read_playbook(chosen))
    except (InputError, ConfigError) as exc:
        fail(str(exc))
    for given in changed_inputs(report.parent):
        click.echo(
            f"warning: {given} has changed since run {report.parent.name} read it; retry runs "
            "the report's rows as the report has them and does not read the file again; to "
            f"onboard what the file now says, run: {rerun_command(report.parent)}",
            err=True,
        )
    return replace(retry, intake=keep_identities(retry.intake, report.parent)), chosen


@click.command("demo")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(path_type=Path),
    default=[],
    help="Spreadsheet(s) to onboard (default: sample_data/onboarding.xlsx, or the copy of it "
    "that comes with bulk-onboard when there is no such file here).",
)
@PLAYBOOK
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where the run folders are written.",
)
@click.option(
    "--latency-ms",
    type=float,
    default=40.0,
    show_default=True,
    help="Latency of the sandbox portal per request (plus up to a quarter of jitter).",
)
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="Show a progress bar (default: on a terminal).",
)
def demo_command(
    inputs: tuple[Path, ...],
    playbook: Path | None,
    report_dir: Path,
    latency_ms: float,
    show_progress: bool | None,
) -> None:
    """Onboard the sample workbook into a local sandbox portal with the real rate limits,
    announcing each client to the sandbox's CRM stand-in, then run it a second time to show
    that nothing is created, mailed or announced twice."""
    inputs = inputs or (sample_workbook(),)
    read_intake(inputs, playbook, None)  # a bad file or playbook stops here, before the sandbox
    try:
        code = asyncio.run(_demo(inputs, playbook, report_dir, latency_ms, show_progress))
    except RunLocked as exc:
        fail(str(exc), EXIT_LOCKED)
    except ConfigError as exc:
        fail(str(exc))
    raise SystemExit(code)


async def _demo(
    inputs: tuple[Path, ...],
    playbook: Path | None,
    report_dir: Path,
    latency_ms: float,
    show_progress: bool | None,
) -> int:
    secret = secrets.token_hex(16)
    config = demo_sandbox_config(
        latency_ms=latency_ms, jitter_ms=latency_ms / 4, webhook_secret=secret
    )
    env = {DEMO_SECRET_ENV: secret}  # in memory only, like the sandbox's API key below
    from bulk_onboard.sandbox import start_sandbox

    async with start_sandbox(config) as sb:
        await seed_managers(sb.url)
        click.echo(f"sandbox portal: {sb.url} (1,500 requests a minute, {latency_ms:g} ms latency)")
        with tempfile.TemporaryDirectory(prefix="bulk-onboard-demo-") as scratch:
            settings, playbook = _demo_settings(
                sb.url, sb.token, Path(scratch), playbook, report_dir
            )
            intake = read_intake(inputs, playbook, None)
            first_code, again_code = await _onboard_twice(
                settings, intake, inputs, playbook, env, show_progress, sb.url
            )
        if again_code is None:
            return first_code
        audit = await read_audit(sb.url)
    return _audit_verdict(audit, again_code)


def _demo_settings(
    url: str, token: str, scratch: Path, playbook: Path | None, report_dir: Path
) -> tuple[Settings, Path]:
    """The settings for the sandbox portal at `url`, and the playbook: the one given, else one
    that announces each client to the sandbox's CRM stand-in."""
    # the demo portal lives as long as the demo: so does its state (the CRM ledger)
    settings = build_settings(
        {"DOCSPACE_TOKEN": token},
        portal=url,
        report_dir=report_dir,
        state_dir=scratch / "state",
    )
    if playbook is None:
        crm_file = report_dir / "crm-records.jsonl"
        playbook = demo_playbook(scratch, url, crm_file)
        click.echo(f"CRM: webhook {url}/sandbox/webhook (signed) and {crm_file}")
    return settings, playbook


async def _onboard_twice(
    settings: Settings,
    intake: Intake,
    inputs: tuple[Path, ...],
    playbook: Path,
    env: dict[str, str],
    show_progress: bool | None,
    url: str,
) -> tuple[int, int | None]:
    """The workbook onboarded into the sandbox portal at `url`, then again as a nightly run
    would: the exit code of each (None for the second when the first did not succeed)."""
    first = progress_for(settings, show_progress)
    start_logs(settings, first)
    stop = Stop()
    stop.on_request(say_stopping)
    with stop_on_signals(stop), stop_waits_shown(stop, first):
        outcome = await modes.start(
            settings,
            intake,
            progress=first,
            stop=stop,
            sources=inputs,
            playbook_path=playbook,
            env=env,
        )
        first_code = await _demo_finish(outcome, url)
        if first_code != 0:
            return first_code, None
        click.echo("\nthe same workbook again (what a nightly run does):")
        again = await modes.start(
            settings,
            intake,
            progress=progress_for(settings, show_progress),
            stop=stop,
            sources=inputs,
            playbook_path=playbook,
            env=env,
        )
        return first_code, await _demo_finish(again, url)


async def _demo_finish(summary: RunSummary, url: str) -> int:
    """A demo run's summary, what the CRM stand-in received so far, and the run's exit code."""
    flush_repeats()
    code = finish_run(summary)
    click.echo(f"CRM webhook received: {(await read_webhooks(url)).summary()}")
    return code


def _audit_verdict(audit: Audit, code: int) -> int:
    """The mail the sandbox portal sent and its duplicates: the demo fails (1) on any."""
    click.echo("\nmail the portal sent (sandbox outbox):")
    for line in audit.mail_lines():
        click.echo(line)
    dupes = sum(len(v) for v in audit.audit["duplicates"].values())
    click.echo(f"duplicates in the portal: {dupes} (rooms, folders, files, shares, links, mails)")
    return code if dupes == 0 else 1
