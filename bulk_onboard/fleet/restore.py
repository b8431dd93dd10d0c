"""A run whose machine died, its run folder made again on this one from the shared state.

When the portal's record says a run is in flight (its runner died) or was stopped, and its run
folder is not in this machine's reports, the folder is made again: the fleet file's inputs for
the portal as this machine reads them (tonight's export) and its playbook, run.json's kind and
the journal's lines as the shared state holds them (state/run_store.py). The run is then
resumed as one whose folder was here: every journalled step is taken as done, the rest looks
at the portal before it writes. run.json says so: "restored": {"from", "created", "lines"}.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import structlog

from bulk_onboard.fleet.prepare import Prepared
from bulk_onboard.runs.folder import RunFolder, create_run_folder, open_run_folder
from bulk_onboard.state.run_store import stored_run

log = structlog.get_logger("bulk_onboard")


def restored_folder(prepared: Prepared, run_id: str | None) -> RunFolder | None:
    """The run folder of `run_id` made again in the portal's reports from the shared state;
    None when there is nothing to make it from, or a folder of that name is already here."""
    settings = prepared.settings
    if run_id is None or not settings.state_store:
        return None
    report_dir = Path(settings.report_dir)
    if (report_dir / run_id).exists():
        return None  # here but not resumable: a new run looks before it writes
    stored = stored_run(settings, run_id)
    if stored is None or stored.meta.get("retry_of"):
        return None
    portal = prepared.portal
    try:
        folder = create_run_folder(
            report_dir,
            run_id,
            portal.inputs,
            portal.playbook,
            stored.meta.get("kind"),
            portal_url=settings.portal_url,
        )
        folder.journal.write_bytes(b"".join(line + b"\n" for line in stored.journal))
        _note_restored(folder.path / "run.json", stored.meta, len(stored.journal))
    except OSError as exc:  # what cannot be made here: a new run
        shutil.rmtree(report_dir / run_id, ignore_errors=True)
        log.warning("run_not_restored", run_id=run_id, error=str(exc))
        return None
    log.info("run_restored", run_id=run_id, lines=len(stored.journal))
    return open_run_folder(run_id, report_dir)


def _note_restored(path: Path, stored: dict[str, object], lines: int) -> None:
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["restored"] = {"from": "shared state", "created": stored.get("created"), "lines": lines}
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
