"""The `bulk-onboard` command line: options in, exit code out. No business logic here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bulk_onboard import __version__
from bulk_onboard.cli_common import FILES, KIND, PLAYBOOK, read_intake
from bulk_onboard.cli_onboard import demo_command, retry_command, run_command
from bulk_onboard.findings import finding_rows, summary, write_table
from bulk_onboard.plan_view import intake_json, intake_text
from bulk_onboard.sandbox.cli import sandbox_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bulk-onboard")
def main() -> None:
    """Onboard clients and people into ONLYOFFICE DocSpace in bulk."""


main.add_command(sandbox_command)
main.add_command(run_command)
main.add_command(retry_command)
main.add_command(demo_command)


# ---- spreadsheet intake: validate and plan -------------------------------------------------


@main.command("validate")
@FILES
@PLAYBOOK
@KIND
def validate_command(files: tuple[Path, ...], playbook: Path | None, kind: str | None) -> None:
    """Check spreadsheets and list every problem; nothing is sent to the portal.

    Exit status: 0 every row is valid, 1 some rows are invalid, 2 a file cannot be used.
    """
    intake = read_intake(files, playbook, kind)
    write_table(finding_rows(intake), sys.stdout, fancy=sys.stdout.isatty())
    click.echo(summary(intake))
    raise SystemExit(1 if intake.invalid else 0)


@main.command("plan")
@FILES
@PLAYBOOK
@KIND
@click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON.")
def plan_command(
    files: tuple[Path, ...], playbook: Path | None, kind: str | None, as_json: bool
) -> None:
    """Print the steps each row would take (a dry run); nothing is sent to the portal.

    Exit status: 0 every row is valid, 1 some rows are invalid, 2 a file cannot be used.
    """
    intake = read_intake(files, playbook, kind)
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
