"""summary.json: how a run ended, for schedulers and for report.html (pure).

`verdict_of` says how the run ended as a whole; `summary_document` lays the run's facts out as
summary.json holds them. Writing the file is report.write_summary's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from bulk_onboard.config import Settings
from bulk_onboard.errors import GuardTripped, PortalDown, PortalUnusable, TokenRefused
from bulk_onboard.runs.report import FINE_STATUSES, Status
from bulk_onboard.sources.table import UnreadSheet

# How a run ended, for whoever acts on it (the command line maps it to an exit code).
# portal_unreachable: the run as a whole failed on the portal (no connection, TLS refused, not a
# DocSpace API, or an outage that kept failing rows); its unfinished rows are interrupted.
# guarded: the run would have created more than the playbook's [guard] allows; nothing written.
# token_refused: the portal refused the API token (401): no request of the run can succeed.
Verdict = Literal[
    "ok",
    "rows_need_attention",
    "deferred",
    "stopped",
    "portal_unreachable",
    "guarded",
    "token_refused",
]


def verdict_of(counts: Mapping[str, int], stopped: str | None, fatal: Exception | None) -> Verdict:
    """How the run ended: `counts` of its rows by status, why it `stopped` (if it did) and
    what stopped it as a whole (`fatal`, if anything)."""
    if isinstance(fatal, PortalDown | PortalUnusable):
        return "portal_unreachable"
    if isinstance(fatal, GuardTripped):
        return "guarded"
    if isinstance(fatal, TokenRefused):
        return "token_refused"
    if stopped is not None:
        return "stopped"
    if counts.get(Status.DEFERRED.value):
        return "deferred"
    if all(n == 0 for status, n in counts.items() if Status(status) not in FINE_STATUSES):
        return "ok"
    return "rows_need_attention"


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What summary.json tells of a run, gathered as it ends."""

    run_id: str
    folder: Path
    inputs: tuple[str, ...]
    started: datetime
    finished: datetime
    seconds: float
    rows: int
    statuses: Mapping[str, int]
    verdict: Verdict
    stopped: str | None
    settings: Settings
    requests: Mapping[str, Any]  # the API requests of the run
    timeline: Mapping[str, Any]  # what report.html draws
    guard: Mapping[str, object] | None = None  # what the guard counted, when it ran
    extra: Mapping[str, Any] = field(default_factory=dict)  # the run mode's own (resumed, ...)


def limits(settings: Settings) -> dict[str, Any]:
    """The limits the client kept to."""
    return {
        "requests_per_second": settings.requests_per_second,
        "max_write_inflight": settings.max_write_inflight,
        "max_read_inflight": settings.max_read_inflight,
        "concurrency": settings.concurrency,
    }


def summary_document(run: RunFacts) -> dict[str, Any]:
    """The content of summary.json."""
    return {
        "run_id": run.run_id,
        "inputs": list(run.inputs),
        "started": run.started.isoformat(timespec="seconds"),
        "finished": run.finished.isoformat(timespec="seconds"),
        "duration_s": round(run.seconds, 3),
        "rows": run.rows,
        "statuses": run.statuses,
        "verdict": run.verdict,
        "stopped": run.stopped,
        "portal": run.settings.portal_url,
        "requests": run.requests,
        "limits": limits(run.settings),
        "report": {
            "csv": str(run.folder / "report.csv"),
            "xlsx": str(run.folder / "report.xlsx"),
            "html": str(run.folder / "report.html"),
        },
        "journal": str(run.folder / "journal.jsonl"),
        **({"guard": run.guard} if run.guard is not None else {}),
        **run.extra,
        "timeline": run.timeline,
    }


def unread_sheets_json(unread: Sequence[UnreadSheet], ignored: Sequence[UnreadSheet]) -> list[Any]:
    """The workbook sheets a run did not read, for summary.json and report.html."""
    return [
        {
            "file": u.file,
            "sheet": u.sheet,
            "why": "the playbook's [sheets] ignore lists it" if u in ignored else u.reason,
            "table": u.table,
            "rows": u.rows,
            "ignored": u in ignored,
        }
        for u in unread
    ]


def with_unread_sheets(document: Mapping[str, Any], unread: list[Any]) -> dict[str, Any]:
    """summary.json with the sheets not read (`unread_sheets_json`), before the timeline."""
    head = {k: v for k, v in document.items() if k != "timeline"}
    tail = {"timeline": document["timeline"]} if "timeline" in document else {}
    return {**head, "unread_sheets": unread, **tail}
