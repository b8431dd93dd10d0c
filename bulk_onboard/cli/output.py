"""What a finished run means for the person and the scheduler: its exit code and its lines.

Exit status of `run`, `retry` and `demo`: 0 every row ok, 1 some rows failed or are invalid,
2 input or configuration error (nothing sent), 3 stopped (Ctrl-C, SIGTERM), 4 another
run holds the report folder, 5 some rows wait for the portal's daily write budget (deferred),
6 the portal could not be reached or used (DNS, refused connection, TLS, not a DocSpace API, or
an outage that kept failing rows): the run failed as a whole, its unfinished rows are
interrupted, 7 the guard stopped the run before its first write: it would have created more
rooms or people than the playbook's [guard] (or --max-new-rooms / --max-new-people) allows;
nothing was written, 8 the portal refused the API token: fix the token, then resume.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from bulk_onboard.engine.root import RunSummary
from bulk_onboard.runs.report import RowResult, Status, record_exit_code
from bulk_onboard.runs.summary import Verdict

MAX_PROBLEMS = 10  # rows shown after a run with failures; the rest are counted
MAX_CAUSES = 5

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT, EXIT_ABORTED, EXIT_LOCKED, EXIT_DEFERRED = 0, 1, 2, 3, 4, 5
EXIT_PORTAL, EXIT_GUARD, EXIT_TOKEN = 6, 7, 8

EXIT_CODES: dict[Verdict, int] = {
    "ok": EXIT_OK,
    "rows_need_attention": EXIT_ROWS_FAILED,
    "stopped": EXIT_ABORTED,
    "deferred": EXIT_DEFERRED,
    "portal_unreachable": EXIT_PORTAL,
    "guarded": EXIT_GUARD,
    "token_refused": EXIT_TOKEN,
}


def exit_code(summary: RunSummary) -> int:
    return EXIT_CODES[summary.verdict]


# With --log-format json stdout carries the JSON log alone: what is said for people goes to stderr.
_HUMAN_ON_STDERR = {"on": False}


def human_on_stderr(on: bool) -> None:
    """Say the lines meant for people on stderr (`on`, under a JSON log on stdout) or stdout."""
    _HUMAN_ON_STDERR["on"] = on


def say(text: str) -> None:
    """One line for people: on stdout, or on stderr when stdout carries the JSON log."""
    click.echo(text, err=_HUMAN_ON_STDERR["on"])


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    """End the command with one sentence on stderr and the documented exit code."""
    click.echo(message, err=True)
    raise SystemExit(code)


def summary_lines(summary: RunSummary) -> list[str]:
    """The few lines a person reads at the end of a run."""
    s = summary.document
    if summary.verdict == "guarded":
        return [
            f"run {summary.run_id}: stopped by the guard before its first write; nothing was "
            "written to the portal",
            f"guard: {summary.stopped}",
            f"report: {s['report']['xlsx']}",
        ]
    counts = ", ".join(f"{n} {status}" for status, n in summary.statuses.items() if n)
    lines = [
        f"run {summary.run_id}: {s['rows']} rows in {s['duration_s']:.1f}s: "
        f"{counts or 'nothing to do'}",
        requests_line(s["requests"]),
        *limits_lines(s["requests"].get("limits")),
        f"report: {s['report']['xlsx']}",
        f"        {s['report']['csv']}",
    ]
    if s.get("retry_of") and "retried_rows" in s:  # a resumed retry says only retry_of
        lines.append(f"retried {s['retried_rows']} rows of run {s['retry_of']}")
    lines.extend(problem_lines(summary.problems))
    lines.extend(skipped_lines(summary.statuses.get(Status.SKIPPED.value, 0)))
    lines.extend(next_lines(summary))
    return lines


def skipped_lines(skipped: int) -> list[str]:
    """The rows held back because undo took them back (not a failure)."""
    if not skipped:
        return []
    rows = f"{skipped} row{'s' if skipped != 1 else ''}"
    return [
        f"skipped: {rows} that undo took back (the report's note names the undo); nothing was "
        "made for them: run with --redo to make them again, or drop them from the export"
    ]


def requests_line(api: dict[str, Any]) -> str:
    """The run's API calls, attempts, retries and 429 answers (summary.json requests)."""
    unsent = api["total"] + api["retries"] - api["attempts"]  # refused before sending
    return (
        f"requests: {api['total']} API calls; {api['attempts']} sent ({api['retries']} of "
        f"them retries), {api['rate_limited']} answered 429"
        + (f"; {unsent} not sent (the daily write budget was spent)" if unsent > 0 else "")
    )


def next_lines(summary: RunSummary) -> list[str]:
    """Why the run stopped, if it did, and the command to run next."""
    lines: list[str] = []
    # the run folder as the report folder was given: right whatever --report-dir was
    resume = f"bulk-onboard run --resume {shlex.quote(str(summary.run_dir))}"
    if summary.verdict == "portal_unreachable":
        lines.append(f"run failed: {summary.stopped}")
        lines.append(f"check the portal address and the network, then continue with: {resume}")
    elif summary.verdict == "token_refused":
        lines.append(f"stopped: {summary.stopped}")
        lines.append(f"give a token the portal accepts, then continue with: {resume}")
    elif summary.stopped:
        lines.append(f"stopped: {summary.stopped}")
        lines.append(f"continue with: {resume}")
    deferred = summary.statuses.get("deferred", 0)
    if deferred:
        lines.append(
            f"deferred: {deferred} rows wait for the portal's daily write budget; "
            f"continue with: {resume}"
        )
    if summary.verdict == "rows_need_attention":
        report = shlex.quote(str(summary.document["report"]["xlsx"]))
        lines.append(f"next: fix what the report says, then: bulk-onboard retry {report}")
    return lines


def limits_lines(limits: Any) -> list[str]:
    """One line on what the run found of the portal's limits (summary.json requests.limits)."""
    if not isinstance(limits, dict) or not isinstance(limits.get("rate"), dict):
        return []
    rate, writes, outage = limits["rate"], limits.get("writes") or {}, limits.get("outage") or {}
    parts = [_pace(rate)]
    if writes:
        low = writes.get("lowest", writes.get("cap"))
        lowered = f", lowered to {low} by the portal" if writes.get("decreases") else ""
        parts.append(f"writes in flight {writes.get('cap')}{lowered}")
    if outage.get("outages"):
        parts.append(
            f"portal unreachable {outage['outages']}x for {outage['seconds_unreachable']:g} s"
        )
    return ["limits: " + "; ".join(parts)]


def _pace(rate: dict[str, Any]) -> str:
    """How the run kept to the portal's window (summary.json requests.limits.rate)."""
    mode, window = rate.get("mode"), rate.get("window_s", 60)
    if mode == "pinned":
        return f"rate pinned at {rate['rate']:g}/s"
    if mode == "mirroring":
        shared = (
            ", shared for a while with another client of the same user"
            if rate.get("shared_refusals")
            else ""
        )
        return (
            f"at most {rate['allowance']} requests per {window:g} s, under the portal's "
            f"{rate['limit']}{shared}"
        )
    if mode == "sharing":
        return (
            f"the portal's {rate['limit']} requests per {window:g} s are shared with another "
            f"client of the same user: this run kept to {rate['allowance']} ({rate['share']:.0%})"
        )
    return f"rate up to {rate.get('rate', 0):g}/s, the portal refused none"


def problem_lines(results: Sequence[RowResult]) -> list[str]:
    """The first rows that need attention (row, step, error), then the count by cause. Rows
    interrupted or deferred need nothing but the resume command the summary ends with."""
    bad = [r for r in results if r.status in (Status.FAILED, Status.INVALID)]
    if not bad:
        return []
    lines = [f"rows that need attention ({len(bad)}):"]
    for row in bad[:MAX_PROBLEMS]:
        step = f" at {row.failed_step}" if row.failed_step else ""
        lines.append(
            f"  {row.origin.describe()}  {row.row_key}  {row.status.value}{step}: "
            f"{_short(row.error or '')}"
        )
    if len(bad) > MAX_PROBLEMS:
        lines.append(f"  and {len(bad) - MAX_PROBLEMS} more (all of them are in the report)")
    causes = Counter(cause(row) for row in bad)
    shown = causes.most_common(MAX_CAUSES)
    lines.append("by cause:")
    lines.extend(f"  {n:>5}  {what}" for what, n in shown)
    rest = sum(causes.values()) - sum(n for _, n in shown)
    if rest:
        lines.append(f"  {rest:>5}  other causes")
    return lines


_QUOTED = re.compile(r'"[^"]*"')
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_NUMBER = re.compile(r"\b\d+\b")


def cause(row: RowResult) -> str:
    """A row's failure with what is particular to the row (names, addresses, ids) left out,
    so rows that failed alike count as one cause."""
    text = _NUMBER.sub("N", _EMAIL.sub("<e-mail>", _QUOTED.sub('"…"', row.error or "")))
    step = f" at {row.failed_step}" if row.failed_step else ""
    return f"{row.status.value}{step}: {_short(text, 100)}"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finish_run(summary: RunSummary) -> int:
    """Print the summary lines, note the exit code in summary.json, return it."""
    code = exit_code(summary)
    record_exit_code(summary.run_dir / "summary.json", code)
    for line in summary_lines(summary):
        say(line)
    return code
