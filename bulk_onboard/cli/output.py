"""What a finished run means for the person and the scheduler: its exit code and its lines.

Exit status of `run`, `retry` and `demo`: 0 every row ok, 1 some rows failed or are invalid,
2 input or configuration error (nothing sent), 3 stopped (signal or refused token), 4 another
run holds the report folder, 5 some rows wait for the portal's daily write budget (deferred),
6 the portal could not be reached or used (DNS, refused connection, TLS, not a DocSpace API, or
an outage that kept failing rows): the run failed as a whole, its unfinished rows are
interrupted.
"""

from __future__ import annotations

from typing import NoReturn

import click

from bulk_onboard.engine.root import RunSummary, Verdict
from bulk_onboard.runs.report import record_exit_code

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT, EXIT_ABORTED, EXIT_LOCKED, EXIT_DEFERRED = 0, 1, 2, 3, 4, 5
EXIT_PORTAL = 6

EXIT_CODES: dict[Verdict, int] = {
    "ok": EXIT_OK,
    "rows_need_attention": EXIT_ROWS_FAILED,
    "stopped": EXIT_ABORTED,
    "deferred": EXIT_DEFERRED,
    "portal_unreachable": EXIT_PORTAL,
}


def exit_code(summary: RunSummary) -> int:
    return EXIT_CODES[summary.verdict]


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """End the command with one sentence on stderr and the documented exit code."""
    click.echo(message, err=True)
    raise SystemExit(code)


def summary_lines(summary: RunSummary) -> list[str]:
    """The few lines a person reads at the end of a run."""
    s = summary.document
    counts = ", ".join(f"{n} {status}" for status, n in summary.statuses.items() if n)
    client = s["client"]
    lines = [
        f"run {summary.run_id}: {s['rows']} rows in {s['duration_s']:.1f}s: "
        f"{counts or 'nothing to do'}",
        (
            f"requests: {client['requests_total']} ({client['attempts']} sent, "
            f"{client['retries']} retries, {client['rate_limited']} rate-limited)"
        ),
        f"report: {s['report']['xlsx']}",
        f"        {s['report']['csv']}",
    ]
    if s.get("retry_of"):
        lines.append(f"retried {s['retried_rows']} rows of run {s['retry_of']}")
    if summary.verdict == "portal_unreachable":
        lines.append(f"run failed: {summary.stopped}")
        lines.append(
            "check the portal address and the network, then continue with: "
            f"bulk-onboard run --resume {summary.run_id}"
        )
    elif summary.stopped:
        lines.append(f"stopped: {summary.stopped}")
    deferred = summary.statuses.get("deferred", 0)
    if deferred:
        lines.append(
            f"deferred: {deferred} rows wait for the portal's daily write budget; "
            f"continue with: bulk-onboard run --resume {summary.run_id}"
        )
    return lines


def finish_run(summary: RunSummary) -> int:
    """Print the summary lines, note the exit code in summary.json, return it."""
    code = exit_code(summary)
    record_exit_code(summary.run_dir / "summary.json", code)
    for line in summary_lines(summary):
        click.echo(line)
    return code
