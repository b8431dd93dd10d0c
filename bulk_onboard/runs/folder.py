"""A run's folder: what it was given (copies of its inputs and playbook), and the locks that keep
two runs from sharing one report folder, or one portal.

    reports/.lock                      held by the run in progress (flock: gone when it dies)
    <state>/portals/<portal>/run.lock  held by the run writing to that portal, whatever its
                                       report folder (flock; names the run while it holds it)
    reports/<run-id>/run.json          inputs, playbook, kind, what it retried, the portal
    reports/<run-id>/inputs/...        copies of the spreadsheets as they were
    reports/<run-id>/playbook.toml     copy of the playbook, if one was given
    reports/<run-id>/journal.jsonl     confirmed steps        (journal.py)
    reports/<run-id>/report.{csv,xlsx}, summary.json          (report.py)

So `run --resume <run-id>` needs nothing but the folder, even if the original files moved.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from bulk_onboard.config import portal_state_dir
from bulk_onboard.errors import ConfigError, RunLocked

log = structlog.get_logger("bulk_onboard")

LOCK_NAME = ".lock"
PORTAL_LOCK_NAME = "run.lock"


@dataclass(frozen=True, slots=True)
class RunFolder:
    run_id: str
    path: Path
    inputs: tuple[Path, ...]  # the copies inside the folder
    playbook: Path | None  # the copy inside the folder, None for the built-in playbook
    kind: str | None
    retry_of: str | None
    portal: str | None = None  # the portal the run writes to; None in older folders

    @property
    def journal(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def report_csv(self) -> Path:
        return self.path / "report.csv"


def create_run_folder(
    report_dir: Path,
    run_id: str,
    inputs: Sequence[Path],
    playbook: Path | None,
    kind: str | None,
    retry_of: str | None = None,
    *,
    portal_url: str | None = None,
) -> RunFolder:
    """Make reports/<run-id>/ and keep copies of what the run was given, and the portal it
    writes to (what undo checks before it acts)."""
    path = report_dir / run_id
    (path / "inputs").mkdir(parents=True, exist_ok=False)
    copies: list[Path] = []
    for number, source in enumerate(inputs, start=1):
        target = path / "inputs" / source.name
        if target.exists():  # two inputs with one name: keep both
            target = path / "inputs" / f"{number}-{source.name}"
        shutil.copy2(source, target)
        copies.append(target)
    playbook_copy = None
    if playbook is not None:
        playbook_copy = path / "playbook.toml"
        shutil.copy2(playbook, playbook_copy)
    meta = {
        "run_id": run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [
            {"given": str(src), "copy": str(dst.relative_to(path))}
            for src, dst in zip(inputs, copies, strict=True)
        ],
        "playbook": None if playbook is None else {"given": str(playbook), "copy": "playbook.toml"},
        "kind": kind,
        "retry_of": retry_of,
        "portal": portal_url,
    }
    (path / "run.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return RunFolder(run_id, path, tuple(copies), playbook_copy, kind, retry_of, portal_url)


def open_run_folder(run: str, report_dir: Path) -> RunFolder:
    """A run folder named by its id (under report_dir) or by its path."""
    candidates = [Path(run), report_dir / run]
    path = next((p for p in candidates if (p / "run.json").is_file()), None)
    if path is None:
        raise ConfigError(
            f'no run "{run}" in {report_dir}/: give a run id from that folder or the path of a '
            "run folder (one holding run.json)"
        )
    meta: dict[str, Any] = json.loads((path / "run.json").read_text(encoding="utf-8"))
    playbook = meta.get("playbook")
    return RunFolder(
        run_id=str(meta["run_id"]),
        path=path,
        inputs=tuple(path / item["copy"] for item in meta["inputs"]),
        playbook=path / playbook["copy"] if playbook else None,
        kind=meta.get("kind"),
        retry_of=meta.get("retry_of"),
        portal=meta.get("portal") or None,
    )


def never_reached(folder: RunFolder) -> bool:
    """Whether the run wrote nothing to its portal, for sure: its journal holds no line (no
    step confirmed, no create about to be sent) and its last session was answered nothing and
    sent no write that went unanswered (summary.json). Such a run may resume on another
    address (the one it was given was wrong)."""
    try:
        journal = folder.journal.read_bytes() if folder.journal.exists() else b""
        summary = json.loads((folder.path / "summary.json").read_text(encoding="utf-8"))
        requests = summary["requests"]
        reached = requests["answers"] > 0 or requests["ambiguous_writes"] > 0
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return not journal.strip() and not reached


def repoint(folder: RunFolder, portal_url: str) -> RunFolder:
    """The run folder, its run.json now naming `portal_url` as the run's portal."""
    meta = json.loads((folder.path / "run.json").read_text(encoding="utf-8"))
    meta["portal"] = portal_url
    (folder.path / "run.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return replace(folder, portal=portal_url)


def same_portal(recorded: str, current: str) -> bool:
    """Whether two portal addresses name one portal, as the state folder is keyed (so the
    lock and the CRM ledger agree): case and a trailing slash do not matter."""
    return portal_state_dir(Path(), recorded) == portal_state_dir(Path(), current)


@contextmanager
def report_dir_lock(report_dir: Path) -> Iterator[None]:
    """Hold reports/.lock for the run; another run on the same folder gets RunLocked.

    flock is released by the kernel when the process dies, so a killed run leaves no stale lock.
    A folder that cannot be used is a ConfigError, before anything is sent.
    """
    fd = _open_lock(report_dir)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RunLocked(
                f"another bulk-onboard run ({holder}) is using {report_dir}/; wait for it to "
                "finish, or give this run its own --report-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC".encode(), 0
        )
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _open_lock(report_dir: Path) -> int:
    if report_dir.exists() and not report_dir.is_dir():
        raise ConfigError(
            f"--report-dir {report_dir} is not a folder: give a folder, or a path where one "
            "can be created"
        )
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the report folder {report_dir} ({exc.strerror or exc}): give "
            "another --report-dir"
        ) from None
    try:
        return os.open(report_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write in the report folder {report_dir} ({exc.strerror or exc}): give "
            "another --report-dir"
        ) from None


@contextmanager
def portal_lock(
    portal_dir: Path, portal_url: str, run_id: str, report_folder: Path
) -> Iterator[None]:
    """Hold the portal's run.lock (in the user's state folder, keyed by the portal) for the
    run: a second run against the same portal, from any report folder, gets RunLocked with a
    sentence naming the run that holds it. The lock file names its holder while held and is
    emptied when the run ends; a holder named in a lock nobody holds died without finishing
    (flock is released with the process), and is taken over and said so."""
    fd = _open_portal_lock(portal_dir)
    try:
        _take_portal_lock(fd, portal_url, portal_dir / PORTAL_LOCK_NAME)
        _name_holder(fd, run_id, report_folder)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # finished: nobody to name
    finally:
        os.close(fd)  # closing releases the flock


def _open_portal_lock(portal_dir: Path) -> int:
    try:
        portal_dir.mkdir(parents=True, exist_ok=True)
        return os.open(portal_dir / PORTAL_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the portal lock in {portal_dir} ({exc.strerror or exc}): set "
            "BULK_ONBOARD_STATE_DIR to a folder you can write"
        ) from None


def _take_portal_lock(fd: int, portal_url: str, lock: Path) -> None:
    """flock the portal's lock, or RunLocked naming its holder; a holder that died without
    finishing is taken over, with a warning."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RunLocked(
            f"another bulk-onboard run ({_holder_text(_read_holder(fd))}) is writing to "
            f"{portal_url}; wait for it to finish: two runs at once on one portal would "
            "create rooms and send invitations twice"
        ) from None
    earlier = _read_holder(fd)
    if earlier:
        log.warning(
            "lock_taken_over",
            portal=portal_url,
            lock=str(lock),
            holder=_holder_text(earlier),
            alive=_alive(earlier),
        )


def _name_holder(fd: int, run_id: str, report_folder: Path) -> None:
    """Write who holds the lock into it, for a second run's message."""
    holder = {
        "run_id": run_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "report": str(report_folder),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {"run_id": "unknown"}
    return holder if isinstance(holder, dict) else {"run_id": "unknown"}


def _holder_text(holder: dict[str, Any]) -> str:
    if not holder:
        return "one that has not said who it is yet"
    return (
        f"run {holder.get('run_id', '?')}, pid {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, started {holder.get('started', '?')}, report folder "
        f"{holder.get('report', '?')}"
    )


def _alive(holder: dict[str, Any]) -> bool | None:
    """Whether the named process still runs (None: on another host, so not known)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def portal_lock_holder(portal_dir: Path) -> str | None:
    """Who holds the portal's lock now (as a RunLocked sentence names it), None when nobody
    does: the holder the lock names, while its process lives (one on another host counts as
    living). Read without taking the lock, so that a look never makes a starting run wait or
    fail; the run itself still takes the lock."""
    try:
        fd = os.open(portal_dir / PORTAL_LOCK_NAME, os.O_RDONLY)
    except OSError:
        return None
    try:
        holder = _read_holder(fd)
    finally:
        os.close(fd)
    if not holder or _alive(holder) is False:
        return None  # finished (emptied), or its process died without finishing
    return _holder_text(holder)
