"""The workbook sheets a run did not read, told where the run is told: summary.json and
report.html (written again with them, as the exit code is added), and the console's lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bulk_onboard.runs.html_report import write_html
from bulk_onboard.runs.report import RowResult, write_summary
from bulk_onboard.runs.summary import with_unread_sheets


def record_unread_sheets(
    run_dir: Path, unread: list[dict[str, Any]], problems: Sequence[RowResult]
) -> None:
    """Add the sheets not read (summary.unread_sheets_json) to summary.json and report.html."""
    path = run_dir / "summary.json"
    document = with_unread_sheets(json.loads(path.read_text(encoding="utf-8")), unread)
    write_summary(path, document)
    write_html(run_dir / "report.html", document, problems, run_dir)


def unread_lines(unread: list[dict[str, Any]]) -> list[str]:
    """One console line per sheet not read."""
    lines = []
    for sheet in unread:
        rows = sheet["rows"]
        table = f" (a table of {rows:,} row{'s' if rows != 1 else ''})" if sheet["table"] else ""
        lines.append(f"not read: {sheet['file']}, sheet {sheet['sheet']}{table}: {sheet['why']}")
    return lines
