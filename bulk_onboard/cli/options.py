"""What the commands share: the input options, reading the input, settings, logs, progress.

Every failure here ends the command with one sentence on stderr and the documented exit code;
nothing below the command line prints a traceback for a user's mistake.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from bulk_onboard.cli.output import fail, human_on_stderr
from bulk_onboard.cli.progress import BarProgress, LogProgress
from bulk_onboard.config import Settings, build_settings, token_warnings
from bulk_onboard.crm.deliver import check_crm
from bulk_onboard.errors import ConfigError, InputError
from bulk_onboard.intake import Intake, load_intake
from bulk_onboard.logs import configure as configure_logs
from bulk_onboard.model.records import RowKind
from bulk_onboard.playbook.reader import Guard, Playbook, load_playbook
from bulk_onboard.runs.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])

FILES = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
PLAYBOOK = click.option(
    "--playbook",
    type=click.Path(path_type=Path),
    default=None,
    help="Playbook TOML file (default: the built-in playbook).",
)
KIND = click.option(
    "--kind",
    type=click.Choice(["clients", "users"]),
    default=None,
    help="Read CSV files as this kind, or only this sheet of a workbook.",
)

REANNOUNCE = click.option(
    "--reannounce",
    is_flag=True,
    default=False,
    help="Announce every onboarded client to the CRM again, even those the portal's CRM "
    "ledger says the CRM took (for a CRM that lost its records).",
)

PORTAL_LEASE = click.option(
    "--no-portal-lease",
    "portal_lease",
    flag_value=False,
    default=True,
    help="Do not take the portal's lease, a folder in the API user's My documents that keeps "
    "runs on other machines off the portal (for an account that may not write there); the "
    "lock in this machine's state folder still holds.",
)


def guard_options(command: F) -> F:
    """--max-new-rooms / --max-new-people: the playbook's [guard] for this run."""
    for flag, what in (("--max-new-people", "people"), ("--max-new-rooms", "rooms")):
        command = click.option(
            flag,
            type=click.IntRange(min=0),
            default=None,
            help=f"Stop before the first write if the run would create more than N {what} "
            f"(default: the playbook's guard.max_new_{what}; exit status 7).",
            metavar="N",
        )(command)
    return command


def with_guard(intake: Intake, max_new_rooms: int | None, max_new_people: int | None) -> Intake:
    """The intake with the command line's guard limits over the playbook's."""
    if max_new_rooms is None and max_new_people is None:
        return intake
    old = intake.playbook.guard
    limits = Guard(
        old.max_new_rooms if max_new_rooms is None else max_new_rooms,
        old.max_new_people if max_new_people is None else max_new_people,
    )
    return replace(intake, playbook=replace(intake.playbook, guard=limits))


_CONNECTION_OPTIONS = [
    click.option(
        "--portal",
        default=None,
        help="Portal address, e.g. https://example.onlyoffice.com (default: $DOCSPACE_URL).",
    ),
    click.option(
        "--token-file",
        type=click.Path(path_type=Path),
        default=None,
        help="File holding the API token (default: $DOCSPACE_TOKEN). Never pass the token itself.",
    ),
    click.option(
        "--concurrency", type=int, default=None, help="Rows worked on at once (default 24)."
    ),
    click.option(
        "--rate",
        type=float,
        default=None,
        help="Pin the requests per second (default: found by itself: it starts at 20/s, "
        "rises while the portal accepts everything, then keeps every window under the limit "
        "the portal names in its 429 answers).",
    ),
    click.option(
        "--rate-window",
        type=float,
        default=None,
        help="Length in seconds of the portal's rate-limit window that the run mirrors "
        "(default: the playbook's limits.rate_window, else 60, the server's constant).",
    ),
    click.option(
        "--max-writes",
        type=int,
        default=None,
        help="Most write requests in flight at once, 1 to 100 (default: 15, the portal's cap, "
        "set to the cap the portal names when it refuses concurrent writes).",
    ),
    click.option(
        "--outage-wait",
        type=float,
        default=None,
        help="Seconds to wait for a portal that stopped answering (refused connections, "
        "DNS, TLS) before the run fails (default 300).",
    ),
    click.option(
        "--request-timeout",
        type=float,
        default=None,
        help="Seconds one request may take (default 60). After a write that timed out "
        "or failed without an answer, the run looks for its effect for as long before "
        "writing again.",
    ),
    click.option(
        "--report-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Where run folders are written (default: reports/).",
    ),
    click.option(
        "--log-format",
        type=click.Choice(["console", "json"]),
        default=None,
        help="console for people, json for schedulers (default: console on a terminal).",
    ),
    click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default=None,
        help="info: run start and end, progress, rows that did not succeed, warnings; "
        "debug: every step and row too (default: info, warning under a progress bar).",
    ),
    click.option(
        "--progress/--no-progress",
        "show_progress",
        default=None,
        help="Show a progress bar (default: on a terminal).",
    ),
]


def connection_options(command: F) -> F:
    """The options of every command that talks to a portal."""
    for option in reversed(_CONNECTION_OPTIONS):
        command = option(command)
    return command


def read_playbook(path: Path | None) -> Playbook:
    try:
        return load_playbook(path)
    except (InputError, ConfigError) as exc:
        fail(str(exc))


def read_intake(
    files: tuple[Path, ...] | list[Path], playbook: Path | None, kind: str | None
) -> Intake:
    """The checked and planned input, or exit 2 with the one-sentence reason on stderr."""
    try:
        chosen = RowKind.from_text(kind) if kind else None
        return load_intake(list(files), load_playbook(playbook), chosen)
    except (InputError, ConfigError) as exc:
        fail(str(exc))


def check_crm_config(intake: Intake) -> None:
    """A webhook needs its signing secret in the environment: checked before anything is sent."""
    try:
        check_crm(intake.playbook.crm, os.environ, intake.playbook.source)
    except ConfigError as exc:
        fail(str(exc))


def settings_from(options: dict[str, Any]) -> Settings:
    """Settings from the environment and the connection options, or exit 2; what is odd
    about the token is a warning on stderr."""
    settings = _settings(options)
    if options.get("portal_lease") is False:
        settings = replace(settings, portal_lease=False)
    human_on_stderr(settings.log_format == "json")
    for warning in token_warnings(os.environ, options.get("token_file")):
        click.echo(f"warning: {warning}", err=True)
    return settings


def _settings(options: dict[str, Any]) -> Settings:
    try:
        return build_settings(
            os.environ,
            portal=options.get("portal"),
            token_file=options.get("token_file"),
            concurrency=options.get("concurrency"),
            requests_per_second=options.get("rate"),
            rate_window=options.get("rate_window"),
            max_write_inflight=options.get("max_writes"),
            outage_wait=options.get("outage_wait"),
            request_timeout=options.get("request_timeout"),
            report_dir=options.get("report_dir"),
            log_format=options.get("log_format"),
        )
    except ConfigError as exc:
        fail(str(exc))


def with_playbook_limits(settings: Settings, options: dict[str, Any], book: Playbook) -> Settings:
    """The playbook's [limits] where the command line did not set them."""
    if options.get("rate_window") is None and book.rate_window is not None:
        return replace(settings, rate_window=book.rate_window)
    return settings


def progress_for(settings: Settings, show: bool | None) -> Progress:
    if show is None:
        show = sys.stderr.isatty() and settings.log_format != "json"
    return BarProgress() if show else LogProgress()


def start_logs(settings: Settings, progress: Progress, level: str | None = None) -> None:
    # Under a progress bar only warnings are logged, so the bar stays readable.
    if level is None:
        level = "warning" if isinstance(progress, BarProgress) else "info"
    configure_logs(
        fmt=settings.log_format,
        level=level,
        secrets=[settings.token.reveal()],
        stream=log_stream(settings),
    )


def log_stream(settings: Settings) -> TextIO:
    """Where the log goes: stdout for --log-format json (JSON lines only, for a scheduler to
    collect; what is said for people goes to stderr), else stderr."""
    return sys.stdout if settings.log_format == "json" else sys.stderr
