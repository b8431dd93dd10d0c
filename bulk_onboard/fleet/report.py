"""fleet.json and fleet.html: the night of every portal of a fleet at a glance.

Both are made from each portal's last outcome (<reports>/<id>/fleet-outcome.json), failures
first; fleet.html is one self-contained page (no script, no network) linking each portal's
report.html. Neither holds a token, nor the state or broker address (they may hold a
password).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bulk_onboard.fleet.model import Fleet
from bulk_onboard.fleet.outcome import STATE_ORDER, Outcome, read_outcome

_env = Environment(
    loader=PackageLoader("bulk_onboard.fleet", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def fleet_outcomes(fleet: Fleet) -> list[Outcome]:
    """Every portal's last outcome (`never_run` for one without), failures first."""
    outcomes = [
        read_outcome(fleet.reports, p.id) or Outcome(portal=p.id, url=p.url, state="never_run")
        for p in fleet.portals
    ]
    return sorted(outcomes, key=lambda o: (STATE_ORDER.index(o.state), o.verdict != "ok", o.portal))


def fleet_document(fleet: Fleet, outcomes: list[Outcome]) -> dict[str, Any]:
    states = Counter(o.state for o in outcomes)
    verdicts = Counter(o.verdict for o in outcomes if o.verdict)
    return {
        "fleet": str(fleet.path),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "portals": len(outcomes),
        "states": dict(states),
        "verdicts": dict(verdicts),
        "rows": sum(o.rows for o in outcomes),
        "requests": sum(o.requests for o in outcomes),
        "outcomes": [o.as_dict() for o in outcomes],
    }


def write_fleet_report(fleet: Fleet) -> tuple[Path, Path]:
    """Write fleet.json and fleet.html into the fleet's reports folder; their paths."""
    outcomes = fleet_outcomes(fleet)
    document = fleet_document(fleet, outcomes)
    fleet.reports.mkdir(parents=True, exist_ok=True)
    json_path = fleet.reports / "fleet.json"
    html_path = fleet.reports / "fleet.html"
    json_path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    page = _env.get_template("fleet.html.j2").render(doc=document, outcomes=outcomes)
    html_path.write_text(page, encoding="utf-8")
    return json_path, html_path
