"""The `bulk-onboard` command line: options in, exit code out. No business logic here."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click

from bulk_onboard import __version__
from bulk_onboard.config import Settings, build_settings
from bulk_onboard.demo import demo_sandbox_config, read_audit, seed_managers
from bulk_onboard.errors import ConfigError, InputError
from bulk_onboard.findings import finding_rows, summary, write_table
from bulk_onboard.intake import Intake, load_intake
from bulk_onboard.jobs import run_job, summary_lines
from bulk_onboard.logs import configure as configure_logs
from bulk_onboard.pipeline import Progress, RunOutcome
from bulk_onboard.plan_view import intake_json, intake_text
from bulk_onboard.playbook import load_playbook
from bulk_onboard.progress import BarProgress, LogProgress
from bulk_onboard.runner import Stop, stop_on_signals
from bulk_onboard.sandbox import start_sandbox
from bulk_onboard.sandbox.cli import sandbox_command
from bulk_onboard.steps import AnnounceCrm


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulk-onboard")
def main() -> None:
    """Onboard clients and people into ONLYOFFICE DocSpace in bulk."""


main.add_command(sandbox_command)


# ---- spreadsheet intake: validate and plan -------------------------------------------------

_FILES = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
_PLAYBOOK = click.option(
    "--playbook",
    type=click.Path(path_type=Path),
    default=None,
    help="Playbook TOML file (default: the built-in playbook).",
)
_KIND = click.option(
    "--kind",
    type=click.Choice(["clients", "users"]),
    default=None,
    help="Read CSV files as this kind, or only this sheet of a workbook.",
)


def _read_intake(files: tuple[Path, ...], playbook: Path | None, kind: str | None) -> Intake:
    """The checked and planned input, or exit 2 with the one-sentence reason on stderr."""
    try:
        return load_intake(list(files), load_playbook(playbook), kind)  # type: ignore[arg-type]
    except (InputError, ConfigError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None


@main.command("validate")
@_FILES
@_PLAYBOOK
@_KIND
def validate_command(files: tuple[Path, ...], playbook: Path | None, kind: str | None) -> None:
    """Check spreadsheets and list every problem; nothing is sent to the portal.

    Exit status: 0 every row is valid, 1 some rows are invalid, 2 a file cannot be used.
    """
    intake = _read_intake(files, playbook, kind)
    write_table(finding_rows(intake), sys.stdout, fancy=sys.stdout.isatty())
    click.echo(summary(intake))
    raise SystemExit(1 if intake.invalid else 0)


@main.command("plan")
@_FILES
@_PLAYBOOK
@_KIND
@click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON.")
def plan_command(
    files: tuple[Path, ...], playbook: Path | None, kind: str | None, as_json: bool
) -> None:
    """Print the steps each row would take (a dry run); nothing is sent to the portal.

    Exit status: 0 every row is valid, 1 some rows are invalid, 2 a file cannot be used.
    """
    intake = _read_intake(files, playbook, kind)
    if as_json:
        click.echo(json.dumps(intake_json(intake), indent=2, ensure_ascii=False))
    else:
        text = intake_text(intake)
        if text:
            click.echo(text + "\n")
        rows = [r for r in finding_rows(intake) if r[4].startswith("Warning: ")]
        write_table(rows, sys.stdout, fancy=sys.stdout.isatty())
        click.echo(summary(intake))
    raise SystemExit(1 if intake.invalid else 0)


# ---- onboarding: run and demo ------------------------------------------------------------


def _settings(**options: object) -> Settings:
    """Settings from the environment and options, or exit 2 with the reason on stderr."""
    try:
        return build_settings(os.environ, **options)  # type: ignore[arg-type]
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None


def _refuse_unsupported(intake: Intake) -> None:
    if any(isinstance(step, AnnounceCrm) for plan in intake.plans for step in plan.steps):
        click.echo(
            f"{intake.playbook.source}: the [crm] section asks for CRM delivery, which this "
            "version cannot do yet; remove webhook_url, jsonl_path and csv_path from [crm].",
            err=True,
        )
        raise SystemExit(2)


def _progress(settings: Settings, show: bool | None) -> Progress:
    tty = sys.stderr.isatty()
    if show is None:
        show = tty and settings.log_format != "json"
    return BarProgress() if show else LogProgress()


def _configure_logs(settings: Settings, bar: bool) -> None:
    fmt = settings.log_format
    # Under a progress bar only warnings are logged, so the bar stays readable.
    configure_logs(fmt=fmt, level="warning" if bar else "info", secrets=[settings.token.reveal()])


def _finish(outcome: RunOutcome) -> None:
    for line in summary_lines(outcome):
        click.echo(line)
    raise SystemExit(outcome.exit_code)


async def _run_with_signals(settings: Settings, intake: Intake, progress: Progress) -> RunOutcome:
    stop = Stop()
    with stop_on_signals(stop):
        return await run_job(settings, intake, progress=progress, stop=stop)


@main.command("run")
@_FILES
@_PLAYBOOK
@_KIND
@click.option(
    "--portal",
    default=None,
    help="Portal address, e.g. https://example.onlyoffice.com (default: $DOCSPACE_URL).",
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    default=None,
    help="File holding the API token (default: $DOCSPACE_TOKEN). Never pass the token itself.",
)
@click.option("--concurrency", type=int, default=None, help="Rows worked on at once (default 8).")
@click.option(
    "--rate",
    type=float,
    default=None,
    help="Requests per second (default 24, under the portal's 1,500 a minute; "
    "raise it only for a portal whose limiter is off).",
)
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where run folders are written (default: reports/).",
)
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    default=None,
    help="console for people, json for schedulers (default: console on a terminal).",
)
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="Show a progress bar (default: on a terminal).",
)
def run_command(
    files: tuple[Path, ...],
    playbook: Path | None,
    kind: str | None,
    portal: str | None,
    token_file: Path | None,
    concurrency: int | None,
    rate: float | None,
    report_dir: Path | None,
    log_format: str | None,
    show_progress: bool | None,
) -> None:
    """Onboard every valid row of the spreadsheets into the portal.

    Exit status: 0 every row ok, 1 some rows failed or are invalid, 2 input or
    configuration error (nothing sent), 3 the run was stopped (signal or refused token).
    """
    intake = _read_intake(files, playbook, kind)
    _refuse_unsupported(intake)
    settings = _settings(
        portal=portal,
        token_file=token_file,
        concurrency=concurrency,
        requests_per_second=rate,
        report_dir=report_dir,
        log_format=log_format,
    )
    progress = _progress(settings, show_progress)
    _configure_logs(settings, isinstance(progress, BarProgress))
    _finish(asyncio.run(_run_with_signals(settings, intake, progress)))


@main.command("demo")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(path_type=Path),
    default=[Path("sample_data/onboarding.xlsx")],
    show_default=True,
    help="Spreadsheet(s) to onboard.",
)
@_PLAYBOOK
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
    then run it a second time to show that nothing is created or mailed twice."""
    intake = _read_intake(inputs, playbook, None)
    _refuse_unsupported(intake)
    asyncio.run(_demo(intake, report_dir, latency_ms, show_progress))


async def _demo(
    intake: Intake, report_dir: Path, latency_ms: float, show_progress: bool | None
) -> None:
    config = demo_sandbox_config(latency_ms=latency_ms, jitter_ms=latency_ms / 4)
    async with start_sandbox(config) as sb:
        await seed_managers(sb.url)
        click.echo(f"sandbox portal: {sb.url} (1,500 requests a minute, {latency_ms:g} ms latency)")
        # The sandbox's own key, handed over in memory: never via the command line.
        settings = build_settings(
            {"DOCSPACE_TOKEN": sb.token}, portal=sb.url, report_dir=report_dir
        )
        first = _progress(settings, show_progress)
        _configure_logs(settings, isinstance(first, BarProgress))
        outcome = await _run_with_signals(settings, intake, first)
        for line in summary_lines(outcome):
            click.echo(line)
        if outcome.exit_code != 0:
            raise SystemExit(outcome.exit_code)
        click.echo("\nthe same workbook again (what a nightly run does):")
        again = await _run_with_signals(settings, intake, _progress(settings, show_progress))
        for line in summary_lines(again):
            click.echo(line)
        audit = await read_audit(sb.url)
    click.echo("\nmail the portal sent (sandbox outbox):")
    for line in audit.mail_lines():
        click.echo(line)
    dupes = sum(len(v) for v in audit.audit["duplicates"].values())
    click.echo(f"duplicates in the portal: {dupes} (rooms, folders, files, shares, links, mails)")
    raise SystemExit(again.exit_code if dupes == 0 else 1)
