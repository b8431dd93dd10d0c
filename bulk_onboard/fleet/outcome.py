"""How one portal's night ended, as the fleet sees it, and what the fleet's exit code is.

A portal ends `done` (its run finished: every row ok, some rows needing attention, or rows
deferred to tomorrow's budget; the verdict says which), `failed` (the portal could not be
reached, or the run broke), `needs_operator` (a refused token, a bad input, a guard stop:
running it again changes nothing until someone acts), `stopped` (a signal, or the portal's
lease lost: resumable), `skipped` (another run holds the portal; that run finishes it), or
`set_aside` (it failed SET_ASIDE_AFTER nights running: not run until `fleet retry`). Each outcome is kept in
<reports>/<portal id>/fleet-outcome.json; no token is in it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_onboard.engine.root import RunSummary

OUTCOME_FILE = "fleet-outcome.json"
DONE_VERDICTS = {"ok", "rows_need_attention", "deferred"}
# 9, not `run`'s 8 (the token refused): a script reading both does not take one for the other
EXIT_OK, EXIT_ROWS, EXIT_STOPPED, EXIT_PORTAL_FAILED = 0, 1, 3, 9
# the order fleet.json and fleet.html list portals in: failures first
STATE_ORDER = (
    "failed",
    "needs_operator",
    "set_aside",
    "stopped",
    "running",
    "queued",
    "skipped",
    "done",
    "never_run",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    portal: str
    url: str
    state: str
    verdict: str | None = None
    run_id: str | None = None
    reason: str | None = None
    rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    finished_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )
    report_html: str | None = None  # relative to the fleet's reports folder
    resumed: bool = False  # the run went on from the journal of a stopped (or orphaned) run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def outcome_of(portal: str, url: str, summary: RunSummary, reports: Path) -> Outcome:
    """A finished run's outcome (`reports`: the fleet's reports folder)."""
    document = summary.document
    html = summary.run_dir / "report.html"
    return Outcome(
        portal=portal,
        url=url,
        state=_state(summary.verdict, summary.stopped),
        verdict=summary.verdict,
        run_id=summary.run_id,
        reason=summary.stopped,
        rows=int(document.get("rows", 0)),
        statuses={k: v for k, v in summary.statuses.items() if v},
        requests=int(document.get("requests", {}).get("total", 0)),
        seconds=float(document.get("duration_s", 0.0)),
        report_html=os.path.relpath(html, reports) if html.is_file() else None,
        resumed=bool(document.get("resumed", False)),
    )


def _state(verdict: str, stopped: str | None) -> str:
    if verdict in DONE_VERDICTS:
        return "done"
    if verdict == "portal_unreachable":
        return "failed"
    if verdict == "stopped" and (stopped or "").startswith(("signal", "lease lost")):
        return "stopped"
    return "needs_operator"  # a guard stop, a refused token


def write_outcome(reports: Path, outcome: Outcome) -> None:
    folder = reports / outcome.portal
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / OUTCOME_FILE
    scratch = target.with_suffix(".tmp")
    text = json.dumps(outcome.as_dict(), indent=2, ensure_ascii=False) + "\n"
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(target)


def read_outcome(reports: Path, portal: str) -> Outcome | None:
    """The portal's last outcome, None when it never ran (or the record is unreadable)."""
    try:
        data = json.loads((reports / portal / OUTCOME_FILE).read_text(encoding="utf-8"))
        return Outcome(**data)
    except (OSError, ValueError, TypeError):
        return None


def fleet_exit_code(outcomes: list[Outcome]) -> int:
    """9 some portal failed, needs an operator or is set aside, 3 some was stopped, 1 some
    portal's rows need attention (or wait for tomorrow's budget), 0 every portal done and ok."""
    states = {o.state for o in outcomes}
    if states & {"failed", "needs_operator", "set_aside"}:
        return EXIT_PORTAL_FAILED
    if "stopped" in states:
        return EXIT_STOPPED
    if any(o.state == "done" and o.verdict != "ok" for o in outcomes):
        return EXIT_ROWS
    return EXIT_OK
