"""`bulk-onboard runs`: the past runs of a report folder, and `runs prune` to remove old ones."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bulk_onboard.cli.output import EXIT_LOCKED, fail
from bulk_onboard.errors import ConfigError, RunLocked
from bulk_onboard.runs.history import past_runs, prune, removed_lines, run_lines

REPORT_DIR = click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="The report folder whose run folders are listed or pruned.",
)


@click.group("runs", invoke_without_command=True)
@REPORT_DIR
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def runs_command(ctx: click.Context, report_dir: Path, as_json: bool) -> None:
    """List the runs in the report folder, oldest first: id, start, portal, verdict and the
    rows by status (from each run folder's run.json and summary.json; a run without
    summary.json is "unfinished").

    Exit status: 0.
    """
    if ctx.invoked_subcommand is not None:
        return
    runs = past_runs(report_dir)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in runs], indent=2, ensure_ascii=False))
        return
    if not runs:
        click.echo(f"no runs in {report_dir}/")
        return
    for line in run_lines(runs):
        click.echo(line)


@runs_command.command("prune")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    required=True,
    metavar="N",
    help="How many of the newest run folders to keep; the older ones are removed.",
)
@REPORT_DIR
def prune_command(keep: int, report_dir: Path) -> None:
    """Remove all but the N newest run folders (each holds a copy of its spreadsheets), and
    say which. Never while a run uses the report folder: that is exit 4, nothing removed.

    Exit status: 0 pruned (or nothing to prune), 2 the folder cannot be used, 4 a run is using
    the report folder.
    """
    for line in prune_lines(report_dir, keep):
        click.echo(line)


def prune_lines(report_dir: Path, keep: int) -> list[str]:
    """Prune `report_dir` to its `keep` newest runs: what was removed, as lines; exit 4 while
    a run uses the folder."""
    try:
        removed = prune(report_dir, keep)
    except RunLocked as exc:
        fail(f"{exc}; nothing was removed", EXIT_LOCKED)
    except ConfigError as exc:
        fail(str(exc))
    return removed_lines(removed, keep)
