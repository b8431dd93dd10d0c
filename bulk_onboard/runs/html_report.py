"""report.html: the run at a glance, one self-contained file (no network: it opens from disk
or as an e-mail attachment).

What it shows, all from summary.json and the rows: the counts by status; the run over time
(requests a second, writes in flight, 429s and retries marked, phases shaded), drawn by pygal
as inline SVG without its online tooltip script; the rows that failed, are invalid, deferred or
interrupted, with their error and the command to type next; the rows whose room the run
changed (report.csv's `changes`); the slowest steps; the portal and
the limits the run worked under and met. The page is a Jinja2 template with autoescaping, so
a cell holding markup is shown as text.
"""

from __future__ import annotations

import csv
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bulk_onboard.model.cells import restore
from bulk_onboard.model.words import counted
from bulk_onboard.runs.report import RowResult, Status

MAX_ROWS_SHOWN = 500  # problem rows in the page; the rest are in report.xlsx
PROBLEMS = (Status.FAILED, Status.INVALID, Status.DEFERRED, Status.INTERRUPTED)
STATUS_COLOURS = {
    "created": "#2e7d32",
    "updated": "#1565c0",
    "unchanged": "#607d8b",
    "failed": "#c62828",
    "invalid": "#ef6c00",
    "interrupted": "#6a1b9a",
    "deferred": "#f9a825",
    "skipped": "#90a4ae",
}
PHASE_COLOURS = ("#90caf9", "#a5d6a7", "#ffcc80", "#ce93d8", "#f48fb1", "#b0bec5")

_env = Environment(
    loader=PackageLoader("bulk_onboard.runs", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def next_command(result: RowResult, run_dir: Path, report_xlsx: str) -> str:
    """What to type for this row: fix and retry a failed or invalid row; continue a run whose
    row was deferred or interrupted."""
    if result.status in (Status.FAILED, Status.INVALID):
        return f"bulk-onboard retry {shlex.quote(report_xlsx)}"
    return f"bulk-onboard run --resume {shlex.quote(str(run_dir))}"


def timeline_chart(timeline: Mapping[str, Any]) -> str:
    """The run over time as an SVG element (no XML declaration, no external script)."""
    width = float(timeline.get("bucket_seconds", 1))
    rates: Sequence[float] = timeline.get("requests_per_second", [])
    writes: Sequence[int] = timeline.get("writes_in_flight", [])
    limited: Sequence[int] = timeline.get("rate_limited", [])
    retries: Sequence[int] = timeline.get("retries", [])
    phases: Sequence[Mapping[str, Any]] = timeline.get("phases", [])
    top = max([1.0, *rates, *writes, *limited, *retries]) * 1.1
    chart = _blank_chart(top, len(phases))
    _add_phase_bands(chart, phases, top)
    xs = [i * width for i in range(len(rates))]
    thick = {"width": 2.5}
    chart.add("requests / s", list(zip(xs, rates, strict=True)), stroke_style=thick)
    chart.add("writes in flight", list(zip(xs, writes, strict=True)), stroke_style=thick)
    _add_marks(chart, "429 answers", xs, limited, dots_size=5)
    _add_marks(chart, "retries", xs, retries, dots_size=3)
    return str(chart.render(is_unicode=True))


def _blank_chart(top: float, phase_count: int) -> Any:
    """An empty pygal XY chart from 0 to `top`: the phases' colours first, then the lines'."""
    # imported when a chart is drawn: pygal's import hook makes every later failed import
    # (openpyxl's optional numpy) warn, and a run without a chart needs none of it
    import pygal
    from pygal.style import Style

    colours = [PHASE_COLOURS[i % len(PHASE_COLOURS)] for i in range(phase_count)]
    style = Style(
        background="white",
        plot_background="white",
        colors=(*colours, "#1565c0", "#2e7d32", "#c62828", "#ef6c00"),
        opacity="0.35",
        opacity_hover="0.5",
        font_family="sans-serif",
    )
    return pygal.XY(
        style=style,
        js=[],  # pygal's tooltips load a script from the web: the page stays offline
        disable_xml_declaration=True,
        width=1000,
        height=440,
        show_dots=False,
        x_title="seconds since the run started",
        y_title="per second / at once",
        legend_at_bottom=False,  # at the bottom pygal cuts its second row off
        range=(0, top),
        include_x_axis=True,
        truncate_legend=-1,
    )


def _add_phase_bands(chart: Any, phases: Sequence[Mapping[str, Any]], top: float) -> None:
    """Each phase as a shaded band: a filled area the height of the chart."""
    for phase in phases:
        start, end = float(phase["start_s"]), float(phase["end_s"] or phase["start_s"])
        chart.add(
            f"phase: {phase['name']}",
            [(start, top), (max(end, start + 0.01), top)],
            fill=True,
            stroke_style={"width": 0},  # (stroke=False would drop the area too)
        )


def _add_marks(
    chart: Any, title: str, xs: Sequence[float], counts: Sequence[int], *, dots_size: int
) -> None:
    """A series drawn as dots where its count is not zero (429 answers, retries)."""
    chart.add(
        title,
        [(x, n) for x, n in zip(xs, counts, strict=True) if n],
        stroke=False,
        show_dots=True,
        dots_size=dots_size,
    )


def render_html(summary: Mapping[str, Any], results: Sequence[RowResult], run_dir: Path) -> str:
    """The page for a finished run."""
    report_xlsx = str(summary.get("report", {}).get("xlsx", run_dir / "report.xlsx"))
    problems = [r for r in results if r.status in PROBLEMS]
    shown = [
        {
            "where": r.origin.describe(),
            "row": r.row_key,
            "status": r.status.value,
            "step": r.failed_step or "",
            "error": r.error or "",
            "next": next_command(r, run_dir, report_xlsx),
        }
        for r in problems[:MAX_ROWS_SHOWN]
    ]
    timeline = summary.get("timeline") or {}
    statuses: Mapping[str, int] = summary.get("statuses", {})
    maybe = ("updated", "failed", "interrupted", "deferred")  # rows that may have changes
    changed = changed_rows(run_dir / "report.csv") if any(map(statuses.get, maybe)) else []
    template = _env.get_template("report.html.j2")
    return template.render(
        s=summary,
        changed=changed[:MAX_ROWS_SHOWN],
        more_changed=len(changed) - MAX_ROWS_SHOWN,
        statuses=[(name, n, STATUS_COLOURS.get(name, "#999")) for name, n in statuses.items()],
        total=sum(statuses.values()),
        skipped=statuses.get(Status.SKIPPED.value, 0),
        problems=shown,
        more=len(problems) - len(shown),
        chart=Markup(timeline_chart(timeline)) if timeline else None,  # pygal's own SVG
        steps=list(timeline.get("steps", []))[:10],
        api=summary.get("requests", {}),
        limits=summary.get("limits", {}),
        kept=limits_text(summary),
        guard=summary.get("guard"),
        counted=counted,
    )


def changed_rows(report_csv: Path) -> list[dict[str, str]]:
    """The rows whose `changes` cell says what the run changed on what existed (a rename, a
    manager or contact replaced, an access changed), read back from report.csv."""
    try:
        fh = report_csv.open(encoding="utf-8-sig", newline="")
    except OSError:
        return []
    with fh:
        reader = csv.DictReader(fh)
        return [
            {
                "where": _where(row),
                "status": row.get("status", ""),
                "changes": restore(row.get("changes") or ""),
                "note": restore(row.get("note") or ""),
            }
            for row in reader
            if row.get("changes")
        ]


def _where(row: Mapping[str, str]) -> str:
    sheet = f", sheet {restore(row['sheet'])}" if row.get("sheet") else ""
    return f"{restore(row.get('file', ''))}{sheet}, line {row.get('line', '')}"


def limits_text(summary: Mapping[str, Any]) -> str:
    """The limits the run kept, in words: its rate, the writes, reads and rows at once."""
    limits = summary.get("limits") or {}
    writes = limits.get("max_write_inflight")
    at_once = counted(writes, "write") if isinstance(writes, int) else "writes found by themselves"
    reads = limits.get("max_read_inflight")
    if isinstance(reads, int):
        at_once += f" and {counted(reads, 'read')}"
    rows = limits.get("concurrency")
    rows_text = f", {counted(rows, 'row')} at once" if isinstance(rows, int) else ""
    return f"{rate_text(summary)}, {at_once} at once{rows_text}"


def rate_text(summary: Mapping[str, Any]) -> str:
    """The rate the run kept: pinned (--rate), or found by itself and where it ended."""
    pinned = (summary.get("limits") or {}).get("requests_per_second")
    if pinned is not None:
        return f"{pinned:g} requests a second"
    found = ((summary.get("requests") or {}).get("limits") or {}).get("rate") or {}
    ended = found.get("rate") if isinstance(found, dict) else None
    if isinstance(ended, int | float):
        return f"a rate found by itself (ending at {ended:g} requests a second)"
    return "a rate found by itself"


def write_html(
    path: Path, summary: Mapping[str, Any], results: Sequence[RowResult], run_dir: Path
) -> None:
    path.write_text(render_html(summary, results, run_dir), encoding="utf-8")
