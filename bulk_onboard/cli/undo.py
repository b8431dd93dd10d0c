"""`bulk-onboard undo RUN [--yes]`: what a run did and, with --yes, taking it back.

Undo acts only on the portal the run wrote to (run.json records it; a folder written before
that is refused unless --assume-portal says the portal in use is the run's), and with --yes
holds that portal's run lock, as a run does, so it never overlaps a run from another report
folder.

Exit status: 0 nothing failed (what is left alone is listed, and is in the report), 1 the
portal or a CRM sink refused some of it (run the same command again), 2 the run or an option
cannot be used (another portal than the run's, among others), 3 the portal refused the token,
4 another run holds the report folder or the portal, 6 the portal could not be reached
(nothing was changed).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shlex
import sys
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgressBar

from bulk_onboard.api.client import DocSpaceClient
from bulk_onboard.cli.options import (
    PORTAL_LEASE,
    connection_options,
    log_stream,
    settings_from,
)
from bulk_onboard.cli.output import (
    EXIT_ABORTED,
    EXIT_LOCKED,
    EXIT_PORTAL,
    EXIT_ROWS_FAILED,
    EXIT_TOKEN,
    fail,
    say,
)
from bulk_onboard.config import Settings, portal_state_dir
from bulk_onboard.crm.deliver import CrmDelivery
from bulk_onboard.engine import undo as undo_engine
from bulk_onboard.engine.lease import portal_lease
from bulk_onboard.engine.root import new_run_id
from bulk_onboard.engine.undo import Decision, Undo
from bulk_onboard.engine.undo_scope import (
    Change,
    RunEffects,
    read_effects,
    run_family,
    taken_back_rows,
)
from bulk_onboard.errors import (
    ApiError,
    ConfigError,
    InputError,
    PortalUnreachable,
    PortalUnusable,
    RunLocked,
    TokenRefused,
)
from bulk_onboard.logs import configure as configure_logs
from bulk_onboard.model.cells import neutralise
from bulk_onboard.model.words import counted
from bulk_onboard.playbook.reader import load_playbook
from bulk_onboard.runs.folder import (
    RunFolder,
    open_run_folder,
    portal_lock,
    report_dir_lock,
    same_portal,
)
from bulk_onboard.runs.journal import Journal, read_journal
from bulk_onboard.runs.report_reader import read_results
from bulk_onboard.runs.undone_rows import remember_undone
from bulk_onboard.state.store import portal_store

MAX_LINES = 40  # items listed on the terminal; all of them are in undo's report
SAYS = {  # what each decision is called in the list
    "archive": "archive",
    "remove": "remove",
    "disable_delete": "disable+delete",
    "delete": "delete",
    "offboard": "offboard",
    "ungroup": "ungroup",
    "delete_group": "delete",
}
# what undo did, by action: (one, many, the verb)
DONE = {
    "archive": ("room", "rooms", "archived"),
    "remove": ("member", "members", "removed"),
    "disable_delete": ("person", "people", "disabled and deleted"),
    "delete": ("person", "people", "deleted"),
    "offboard": ("client_offboarded record", "client_offboarded records", "sent"),
    "ungroup": ("group member", "group members", "removed"),
    "delete_group": ("group", "groups", "deleted"),
}


class BarUndoProgress(undo_engine.Progress):
    def __init__(self) -> None:
        self._bar = RichProgressBar(
            TextColumn("[bold]undoing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task: Any = None

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("undo", total=total)

    def advance(self) -> None:
        self._bar.advance(self._task)

    def close(self) -> None:
        self._bar.stop()


@click.command("undo")
@click.argument("run", metavar="RUN")
@click.option(
    "--yes",
    is_flag=True,
    default=False,
    help="Take it back: archive the rooms, remove the members, delete the people who have "
    "not accepted, tell the CRM. Without it, only show what would be done.",
)
@click.option(
    "--assume-portal",
    is_flag=True,
    default=False,
    help="For a run folder written before run.json recorded the portal: take the portal in "
    "use (--portal or DOCSPACE_URL) to be the one the run wrote to.",
)
@PORTAL_LEASE
@connection_options
def undo_command(run: str, yes: bool, assume_portal: bool, **options: Any) -> None:
    """Show what RUN (with its resumes and retries) created and changed, as the portal has
    it now; with --yes, take it back.

    Rooms the run created are archived, never deleted (a room used since, with folders, files
    or members the run did not add, is left alone); members it added to rooms that existed
    before are removed; people it invited who have not accepted are disabled, then deleted;
    people who accepted, or existed before, are never touched; clients it announced get a
    client_offboarded record through the playbook's CRM sinks (webhook and JSONL). Undo is
    journalled in the run folder (undo.jsonl): run it again after a stop, and a second undo
    does nothing. The portal's state remembers the rows it took back: the next runs report
    them skipped and make nothing for them, until run with --redo or dropped from the export.

    Undo acts only on the portal the run wrote to, and with --yes holds that portal's run
    lock and its lease on the portal, so no run writes to it meanwhile.

    Exit status: 0 nothing failed, 1 something was refused (run it again), 2 the run or an
    option cannot be used (another portal than the run's, among others), 8 the token was
    refused, 4 another run holds the report folder or the portal, 6 the portal could not be
    reached.
    """
    settings = settings_from(options)
    folder, effects, crm = _read_run(run, settings, assume_portal=assume_portal)
    configure_logs(
        fmt=settings.log_format,
        level=options.get("log_level") or "warning",
        secrets=[settings.token.reveal()],
        stream=log_stream(settings),
    )
    show = options.get("show_progress")
    if show is None:
        show = sys.stderr.isatty()
    progress = BarUndoProgress() if show and yes else undo_engine.Progress()
    try:
        code = _undo_locked(settings, folder, effects, crm, yes, progress)
    except RunLocked as exc:
        fail(str(exc), EXIT_LOCKED)
    except ConfigError as exc:
        fail(str(exc))
    raise SystemExit(code)


def _read_run(
    run: str, settings: Settings, *, assume_portal: bool
) -> tuple[RunFolder, RunEffects, CrmDelivery | None]:
    """The run's folder, what it and its resumes and retries did, and its CRM sinks; exit 2
    when the run cannot be undone here."""
    try:
        folder = open_run_folder(run, settings.report_dir)
        family = run_family(folder, [settings.report_dir])
        check_portal(family, settings.portal_url, assume=assume_portal)
        return folder, read_effects(family), _crm(folder)
    except (ConfigError, InputError) as exc:
        fail(str(exc))


def _undo_locked(
    settings: Settings,
    folder: RunFolder,
    effects: RunEffects,
    crm: CrmDelivery | None,
    yes: bool,
    progress: undo_engine.Progress,
) -> int:
    """Undo (or its preview) holding the report folder's lock and, with --yes, the portal's."""
    undo_id = new_run_id()
    with report_dir_lock(folder.path.parent), ExitStack() as locks:
        if yes:  # the preview only reads
            where = portal_state_dir(settings.state_dir, settings.portal_url)
            locks.enter_context(portal_lock(where, settings.portal_url, undo_id, folder.path))

        def undo() -> Coroutine[Any, Any, int]:
            return _undo(settings, folder, effects, crm, yes, progress, undo_id)

        return asyncio.run(_leased(settings, undo_id, undo) if yes else undo())


async def _leased(
    settings: Settings, undo_id: str, undo: Callable[[], Coroutine[Any, Any, int]]
) -> int:
    """Undo under the portal's lease (engine/lease.py); a lost lease stops it (exit 3: its
    journal lets it be run again)."""
    if not settings.portal_lease:
        return await undo()
    task = asyncio.current_task()
    lost: list[str] = []

    def stop(reason: str) -> None:
        lost.append(reason)
        if task is not None:
            task.cancel()

    async with portal_lease(settings, undo_id, stop):
        try:
            return await undo()
        except asyncio.CancelledError:
            if not lost:
                raise
            say(f"undo stopped ({lost[0]}); run it again when the portal is free")
            return EXIT_ABORTED


def check_portal(family: list[RunFolder], portal_url: str, *, assume: bool) -> None:
    """Undo acts on the portal every folder of the run wrote to, and on no other: room ids are
    numbered by each portal, and people the run invited are found by their address."""
    for member in family:
        if member.portal is None:
            if assume:
                continue
            raise ConfigError(
                f"the run folder {member.path} does not say which portal it wrote to (it was "
                f"written before run.json recorded it), so undo will not act on {portal_url}; "
                "if that is the run's portal, run undo again with --assume-portal"
            )
        if not same_portal(member.portal, portal_url):
            raise ConfigError(
                f"run {member.run_id} wrote to {member.portal}, not to {portal_url}, so undo "
                f"will not act here; give --portal {member.portal} (with that portal's token) "
                "to undo it there"
            )


def _crm(folder: RunFolder) -> CrmDelivery | None:
    """The run's CRM sinks: from the playbook the run was given when it is still there (its
    relative paths are relative to it), else from the copy in the run folder. The CSV sink is
    left out: its columns are the onboarding record's, and an offboarding row would read as
    one."""
    given = _given_playbook(folder)
    playbook = load_playbook(given if given is not None and given.is_file() else folder.playbook)
    if not (playbook.crm.webhook_url or playbook.crm.jsonl_path):
        return None
    crm = replace(playbook.crm, csv_path=None)
    return CrmDelivery(crm, env=os.environ, source=playbook.source)


def _given_playbook(folder: RunFolder) -> Path | None:
    try:
        meta = json.loads((folder.path / "run.json").read_text(encoding="utf-8"))
        given = (meta.get("playbook") or {}).get("given")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(given) if given else None


async def _undo(
    settings: Settings,
    folder: RunFolder,
    effects: RunEffects,
    crm: CrmDelivery | None,
    yes: bool,
    progress: undo_engine.Progress,
    undo_id: str,
) -> int:
    done = read_journal(folder.path / "undo.jsonl")
    started = datetime.now(UTC)
    async with DocSpaceClient(settings) as client:
        undo = Undo(
            client,
            effects,
            done,
            portal_url=settings.portal_url,
            undo_id=undo_id,
            crm=crm,
            progress=progress,
        )
        decisions = await _look(undo)
        for line in scope_lines(folder, effects):
            say(line)
        for line in change_lines(effects):
            say(line)
        if not yes:
            return _preview(folder, decisions)
        await _apply(undo, decisions, crm, folder.path / "undo.jsonl")
    try:
        held = remember_taken_back(settings, folder, effects)
    except OSError as exc:  # taken back all the same: said, and the undo can be run again
        held = 0
        say(
            f"warning: the rows taken back could not be remembered in the portal's state "
            f"({exc.strerror or exc}), so the next run would make them again; free the state "
            "folder (BULK_ONBOARD_STATE_DIR), then run this undo again"
        )
    for line in decision_lines(decisions, done=True):
        say(line)
    report = write_undo_report(folder, decisions, undo_id, started, effects.changes)
    for line in result_lines(decisions):
        say(line)
    if held:
        say(
            f"the next runs skip the {counted(held, 'row')} taken back (reported skipped, "
            "nothing made, nobody mailed) until run with --redo, or dropped from the export"
        )
    say(f"report: {report}")
    return EXIT_ROWS_FAILED if any(d.state == "failed" for d in decisions) else 0


async def _look(undo: Undo) -> list[Decision]:
    """What undo would do to each effect, as the portal has it now; exit (nothing changed)
    when the portal cannot be read: 6 unreachable, 8 the token refused, else 1."""
    try:
        return await undo.look()
    except ApiError as exc:
        code = EXIT_ROWS_FAILED
        if isinstance(exc, PortalUnreachable | PortalUnusable):
            code = EXIT_PORTAL
        elif isinstance(exc, TokenRefused):
            code = EXIT_TOKEN
        fail(f"undo could not read the portal, nothing was changed: {exc}", code)


def _preview(folder: RunFolder, decisions: list[Decision]) -> int:
    """Without --yes: what undo would do, and the command that does it."""
    for line in decision_lines(decisions):
        say(line)
    todo = sum(1 for d in decisions if d.state == "to_do")
    if todo:
        say(f"take it back with: bulk-onboard undo {shlex.quote(run_arg(folder))} --yes")
        say("(the next runs then skip the rows taken back, until run with --redo)")
    else:
        say("nothing to take back")
    return 0


async def _apply(
    undo: Undo, decisions: list[Decision], crm: CrmDelivery | None, journal_path: Path
) -> None:
    """Take back what the decisions say, journalled; the CRM sinks open when a client is to
    be offboarded."""
    with Journal(journal_path) as journal:
        if crm is not None and any(d.action == "offboard" for d in decisions):
            async with crm:
                await undo.apply(decisions, journal)
        else:
            await undo.apply(decisions, journal)


def remember_taken_back(settings: Settings, folder: RunFolder, effects: RunEffects) -> int:
    """Remember in the portal's state the rows undo took back something of (every undo of
    this run, by its journal), so the next runs skip them; how many there are."""
    rows = taken_back_rows(effects, read_journal(folder.path / "undo.jsonl"))
    if not rows:
        return 0
    files = row_files(effects.folders)
    remember_undone(
        portal_store(settings),
        {r: files.get(r, "") for r in rows},
        folder.run_id,
        datetime.now(UTC),
    )
    return len(rows)


def row_files(folders: Sequence[Path]) -> dict[str, str]:
    """The input file of each row, as the reports of the run's folders name it."""
    files: dict[str, str] = {}
    for path in folders:
        try:
            results = read_results(path / "report.csv")
        except (InputError, OSError):
            continue  # a run killed before its report: the file stays unknown
        files.update({r.row_key: r.origin.file for r in results})
    return files


def run_arg(folder: RunFolder) -> str:
    return str(folder.path)


def scope_lines(folder: RunFolder, effects: RunEffects) -> list[str]:
    retries = len(effects.folders) - 1
    with_retries = f" and {retries} retr{'ies' if retries != 1 else 'y'} of it" if retries else ""
    return [
        f"run {folder.run_id}{with_retries}: {counted(len(effects.rooms), 'room')} created, "
        f"{counted(len(effects.members), 'member')} added to rooms that existed before, "
        f"{counted(len(effects.people), 'person', 'people')} added to the portal, "
        f"{counted(len(effects.announced), 'client')} announced" + _group_scope(effects)
    ]


def _group_scope(effects: RunEffects) -> str:
    """The groups part of the scope line ("" for a run that touched no group)."""
    if not (effects.groups or effects.group_members or effects.group_shares):
        return ""
    return (
        f", {counted(len(effects.groups), 'group')} made, "
        f"{counted(len(effects.group_members), 'member')} added to groups that existed, "
        f"{counted(len(effects.group_shares), 'room')} that existed shared with a group"
    )


def change_lines(effects: RunEffects) -> list[str]:
    """What the run changed on what existed before and undo does not take back, so the admin
    knows (at most MAX_LINES, then the count; every one is in undo's report)."""
    if not effects.changes:
        return []
    lines = [f"not taken back ({len(effects.changes)}, change them in DocSpace if need be):"]
    lines.extend(f"  {'keep':<16} {c.what}" for c in effects.changes[:MAX_LINES])
    if len(effects.changes) > MAX_LINES:
        lines.append(
            f"  and {len(effects.changes) - MAX_LINES} more (every one is in undo's report)"
        )
    return lines


def decision_lines(decisions: list[Decision], *, done: bool = False) -> list[str]:
    """What undo would do (or did) to each effect: what is left alone and what failed first,
    since those need a person; at most MAX_LINES of them, then the counts."""
    order = {"failed": 0, "left_alone": 1, "to_do": 2, "done": 2}
    shown = sorted(
        (d for d in decisions if d.state != "nothing_to_do"), key=lambda d: order[d.state]
    )
    lines: list[str] = []
    for d in shown[:MAX_LINES]:
        if d.state in ("to_do", "done"):
            verb = SAYS[d.action or "archive"]
        elif d.state == "failed":
            verb = "FAILED"
        else:
            verb = "leave alone"
        detail = f": {d.detail}" if d.detail else ""
        lines.append(f"  {verb:<16} {d.what}{detail}")
    if len(shown) > MAX_LINES:
        where = "undo's report" if done else "the report --yes writes"
        lines.append(f"  and {len(shown) - MAX_LINES} more (every one is in {where})")
    states = Counter(d.state for d in decisions)
    taken = states["to_do"] + states["done"] + states["failed"]
    lines.append(
        f"{'taken back' if done else 'to take back'}: {taken}; left alone: "
        f"{states['left_alone']}; nothing to do (undone already, or gone): "
        f"{states['nothing_to_do']}"
    )
    return lines


def result_lines(decisions: list[Decision]) -> list[str]:
    done = Counter(d.action for d in decisions if d.state == "done" and d.action)
    said = (
        ", ".join(
            f"{counted(n, DONE[action][0], DONE[action][1])} {DONE[action][2]}"
            for action, n in done.items()
        )
        or "nothing"
    )
    failed = sum(1 for d in decisions if d.state == "failed")
    lines = [f"undone: {said}"]
    if failed:
        lines.append(f"failed: {failed} (the portal's answer is in the report); run undo again")
    return lines


REPORT_COLUMNS = ("item", "kind", "what", "outcome", "action", "detail", "row")


def write_undo_report(
    folder: RunFolder,
    decisions: list[Decision],
    undo_id: str,
    started: datetime,
    changes: Sequence[Change] = (),
) -> Path:
    """undo/<undo-id>/report.csv (one line per effect of the run, and per change it does not
    take back) and summary.json beside it, in the run folder: each undo keeps its own."""
    where = folder.path / "undo" / undo_id
    where.mkdir(parents=True, exist_ok=True)
    path = where / "report.csv"
    _write_report_csv(path, decisions, changes)
    summary = {
        "undo_id": undo_id,
        "run_id": folder.run_id,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "outcomes": dict(Counter(d.state for d in decisions)),
        "done": dict(Counter(d.action for d in decisions if d.state == "done" and d.action)),
        "report": str(path),
    }
    (where / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def _write_report_csv(path: Path, decisions: list[Decision], changes: Sequence[Change]) -> None:
    """One line per decision, then one per change the run made that undo leaves as it is."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for d in decisions:
            writer.writerow(
                neutralise(str(v))
                for v in (
                    d.effect.key,
                    d.effect.kind,
                    d.what,
                    d.state,
                    d.action or "",
                    d.detail,
                    d.effect.row,
                )
            )
        for c in changes:  # what the run changed and undo leaves as it is
            writer.writerow(
                neutralise(v) for v in ("", "change", c.what, "not_taken_back", "", "", c.row)
            )
