"""The `bulk-onboard` command line: options in, exit code out. No business logic here."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from bulk_onboard import __version__
from bulk_onboard.cli.dry_run_output import dry_run_json, dry_run_lines
from bulk_onboard.cli.fleet import fleet_command
from bulk_onboard.cli.onboard import demo_command, retry_command, run_command
from bulk_onboard.cli.options import FILES, KIND, PLAYBOOK, read_intake, settings_from
from bulk_onboard.cli.output import fail
from bulk_onboard.cli.plan_output import intake_json, intake_text
from bulk_onboard.cli.problem_table import (
    NOT_READ,
    intake_summary,
    problem_rows,
    table_lines,
    write_table,
)
from bulk_onboard.cli.runs import runs_command
from bulk_onboard.cli.undo import undo_command
from bulk_onboard.engine.dry_run import dry_run
from bulk_onboard.intake import Intake
from bulk_onboard.logs import configure as configure_logs
from bulk_onboard.runs.summary import unread_sheets_json
from bulk_onboard.runs.template import write_template
from bulk_onboard.runs.unread import unread_lines
from bulk_onboard.sandbox.cli import sandbox_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulk-onboard")
def main() -> None:
    """Onboard clients and people into ONLYOFFICE DocSpace in bulk."""


main.add_command(sandbox_command)
main.add_command(run_command)
main.add_command(retry_command)
main.add_command(demo_command)
main.add_command(undo_command)
main.add_command(runs_command)
main.add_command(fleet_command)


def _plan_against_portal(intake: Intake, options: dict[str, Any], as_json: bool) -> NoReturn:
    """`plan --against-portal`: the portal read (never written), the rows checked against it;
    the sheets not read are said first."""
    settings = settings_from(options)
    configure_logs(fmt="auto", level="warning", secrets=[settings.token.reveal()])
    checked = asyncio.run(dry_run(settings, intake))
    if as_json:
        click.echo(json.dumps(dry_run_json(checked), indent=2, ensure_ascii=False))
    else:
        for line in unread_lines(unread_sheets_json(intake.unread, intake.ignored)):
            click.echo(line)
        for line in dry_run_lines(checked):
            click.echo(line)
    raise SystemExit(1 if checked.problems else 0)


@main.command("template")
@click.argument("file", type=click.Path(path_type=Path))
def template_command(file: Path) -> None:
    """Write an input workbook to fill in: a clients and a users sheet with every header, a
    note on each (what it holds, required or not) and drop-down lists for room type, access
    and user type. FILE must end in .xlsx and not exist yet.

    Exit status: 0 written, 2 FILE cannot be written.
    """
    if file.suffix.lower() != ".xlsx":
        fail(f"{file} must end in .xlsx; give a name like onboarding.xlsx.")
    if file.exists():
        fail(f"{file} already exists; give another name, or move it away and try again.")
    try:
        write_template(file)
    except OSError as exc:
        fail(f"{file} cannot be written ({exc.strerror or exc}); check the folder and try again.")
    click.echo(
        f"{file}: clients and users sheets to fill in; check them with: "
        f"bulk-onboard validate {file}"
    )


# ---- spreadsheet intake: validate and plan -------------------------------------------------


@main.command("validate")
@FILES
@PLAYBOOK
@KIND
def validate_command(files: tuple[Path, ...], playbook: Path | None, kind: str | None) -> None:
    """Check spreadsheets and list every problem; nothing is sent to the portal.

    Exit status: 0 every row is valid, 1 some rows are invalid (or a sheet holding a table
    is not read and the playbook does not ignore it), 2 a file cannot be used.
    """
    intake = read_intake(files, playbook, kind)
    for line in table_lines(intake):
        click.echo(line)
    write_table(problem_rows(intake), sys.stdout, fancy=sys.stdout.isatty())
    click.echo(intake_summary(intake))
    raise SystemExit(1 if intake.invalid or intake.unread_tables else 0)


@main.command("plan")
@FILES
@PLAYBOOK
@KIND
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: the plans, or with --against-portal the rows, problems and writes.",
)
@click.option(
    "--against-portal",
    is_flag=True,
    help="Also read the live portal (GET only): what exists, what would be created, "
    "the writes needed, and the problems the portal would raise.",
)
@click.option(
    "--portal", default=None, help="With --against-portal: the portal (default: $DOCSPACE_URL)."
)
@click.option(
    "--token-file",
    type=click.Path(path_type=Path),
    default=None,
    help="With --against-portal: file holding the API token (default: $DOCSPACE_TOKEN).",
)
@click.option(
    "--rate", type=float, default=None, help="With --against-portal: requests per second."
)
def plan_command(
    files: tuple[Path, ...],
    playbook: Path | None,
    kind: str | None,
    as_json: bool,
    against_portal: bool,
    portal: str | None,
    token_file: Path | None,
    rate: float | None,
) -> None:
    """Print the steps each row would take (a dry run); nothing is written to the portal.

    With --against-portal the portal is read (never written) to show per row what already
    exists and what would be created, the write requests the run needs against the portal's
    daily budget of 10,000, and the problems the portal would raise.

    Exit status: 0 every row is valid (and, against the portal, would succeed), 1 some rows are
    invalid or would fail, 2 a file or option cannot be used.
    """
    intake = read_intake(files, playbook, kind)
    if against_portal:
        options = {"portal": portal, "token_file": token_file, "rate": rate}
        _plan_against_portal(intake, options, as_json)
    if as_json:
        click.echo(json.dumps(intake_json(intake), indent=2, ensure_ascii=False))
    else:
        for line in table_lines(intake):
            click.echo(line)
        text = intake_text(intake)
        if text:
            click.echo(text + "\n")
        rows = [r for r in problem_rows(intake) if r[4].startswith(("Warning: ", NOT_READ))]
        write_table(rows, sys.stdout, fancy=sys.stdout.isatty())
        click.echo(intake_summary(intake))
    raise SystemExit(1 if intake.invalid else 0)
