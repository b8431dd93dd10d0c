"""A portal's nights as the fleet remembers them, and what its outcome makes of the next one.

Kept in the portal's store (state/store.py: its state folder, or Redis shared by every
machine) as `fleet-portal.json`:

    {"running": {"run_id": …, "night": …, "since": …, "holder": …} or null,
     "nights": {"2026-12-06": {"state": …, "verdict": …, "run_id": …, "reason": …}, …},
     "set_aside": {"since": …, "reason": …, "nights": [...]} or null,
     "lifted": the night of the last `fleet retry` that took it back}

What an outcome decides (`next_step`):

- `done`: nothing until the next night;
- `stopped` (a signal, a lost lease, a runner killed): the next run of the portal resumes that
  run from its journal when its run folder is there (the same machine, or a shared reports
  folder), or from the journal the shared state keeps (fleet/restore.py), else starts a new
  run that looks before it writes;
- `failed` (the portal could not be reached): tried again later (the workers back off 60 s,
  120 s, … up to `max_attempts`; `fleet run` on its next night);
- `needs_operator` (a refused token, a bad input or playbook, a guard stop): not tried again
  until someone acts; the reason says what to fix;
- a portal whose last `SET_ASIDE_AFTER` nights all failed or needed an operator is set aside
  with its reason: neither `fleet run` nor the workers run it until `fleet retry`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from datetime import UTC, datetime
from typing import Any

from bulk_onboard.fleet.outcome import Outcome
from bulk_onboard.state.store import PortalStore

NAME = "fleet-portal.json"
SET_ASIDE_AFTER = 3  # failing nights in a row
FAILING = {"failed", "needs_operator"}
KEPT_NIGHTS = 14


def holder_name() -> str:
    """Who runs a portal: host, process, a random part (no secret)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def tonight() -> str:
    return datetime.now(UTC).date().isoformat()


def read_record(store: PortalStore) -> dict[str, Any]:
    try:
        record = json.loads(store.read(NAME) or "{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    record.setdefault("running", None)
    record.setdefault("nights", {})
    record.setdefault("set_aside", None)
    return record


def _write(store: PortalStore, record: dict[str, Any]) -> None:
    store.write(NAME, json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def mark_running(store: PortalStore, night: str, run_id: str, holder: str) -> None:
    record = read_record(store)
    record["running"] = {"run_id": run_id, "night": night, "since": _now(), "holder": holder}
    _write(store, record)


def record_night(store: PortalStore, night: str, outcome: Outcome) -> dict[str, Any] | None:
    """Note the night's outcome (a later one of the same night replaces it); the portal is set
    aside when its last SET_ASIDE_AFTER nights all failed. The set-aside note, if it is now."""
    record = read_record(store)
    if outcome.state == "skipped":  # another runner's: its outcome is the night's
        return None
    record["running"] = None
    nights: dict[str, Any] = record["nights"]
    nights[night] = {
        "state": outcome.state,
        "verdict": outcome.verdict,
        "run_id": outcome.run_id,
        "reason": outcome.reason,
        "at": outcome.finished_at,
    }
    record["nights"] = dict(sorted(nights.items())[-KEPT_NIGHTS:])
    since = str(record.get("lifted") or "")  # nights before a `fleet retry` no longer count
    last = [(n, said) for n, said in record["nights"].items() if n >= since][-SET_ASIDE_AFTER:]
    now_aside = None
    if record["set_aside"] is None and set_aside_by(last):
        now_aside = {
            "since": _now(),
            "reason": outcome.reason or outcome.verdict or outcome.state,
            "nights": [night for night, _ in last],
        }
        record["set_aside"] = now_aside
    _write(store, record)
    return now_aside


def set_aside_by(last: list[tuple[str, dict[str, Any]]]) -> bool:
    """The last nights (oldest first) set the portal aside: SET_ASIDE_AFTER of them, all
    failing."""
    return len(last) >= SET_ASIDE_AFTER and all(n["state"] in FAILING for _, n in last)


def lift(store: PortalStore, night: str) -> dict[str, Any] | None:
    """Take the portal off the set-aside list (`fleet retry` on `night`): its failing nights
    are counted afresh from `night` on. What the set-aside note said, if it was set aside."""
    record = read_record(store)
    was: dict[str, Any] | None = record["set_aside"]
    if was is not None:
        record["set_aside"] = None
        record["lifted"] = night
        _write(store, record)
    return was


def resumable_run(record: dict[str, Any], last: Outcome | None) -> str | None:
    """The run id a new run of the portal should resume: one a runner died in (still noted as
    running, its lease gone), or one that was stopped: the last night the record holds (on
    any machine that shares it), else this machine's last outcome."""
    running = record.get("running")
    if isinstance(running, dict) and running.get("run_id"):
        return str(running["run_id"])
    nights = record.get("nights")
    if isinstance(nights, dict) and nights:
        latest = nights[max(nights)]
        stopped = isinstance(latest, dict) and latest.get("state") == "stopped"
        return str(latest["run_id"]) if stopped and latest.get("run_id") else None
    if last is not None and last.state == "stopped" and last.run_id:
        return last.run_id
    return None


def next_step(state: str, set_aside: dict[str, Any] | None) -> str:
    """What happens next to a portal whose last outcome is `state`, in a few words."""
    if set_aside is not None:
        return "set aside: fix what it says, then `fleet retry --only` it"
    return {
        "done": "the next night",
        "stopped": "resumed from its journal on its next run",
        "failed": "tried again later",
        "needs_operator": "waits for an operator: fix what it says",
        "skipped": "the runner holding it finishes it",
        "running": "running",
        "queued": "a worker takes it",
        "never_run": "its first night",
    }.get(state, "")
