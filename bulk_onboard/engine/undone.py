"""What a run does with the rows `undo` took back (runs/undone_rows.py remembers them): it
reports them `skipped` and makes nothing for them, until `--redo`, or until their export
drops them. Pure: the intake and the memory in, the intake to run and the skipped rows out.

Decided per row key: a client row by `client:<client_id>`, a person row by `user:<e-mail>`.
A person row whose own key undo did not take back but that joins the room of a client row
that is skipped is skipped too, naming that client: its room is not made, so nobody is made
or mailed for it (as for a client row that failed before its room existed). Undo deletes a
person only when no room of the run keeps them, so every client row whose share names a
person undo deleted had its own room or member taken back too, and is skipped with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from bulk_onboard.intake import Intake, Plans
from bulk_onboard.model.records import ClientRecord, RowKind, UserRecord
from bulk_onboard.runs.report import OK_STATUSES, RowResult, Status
from bulk_onboard.runs.undone_rows import Undone


@dataclass(frozen=True, slots=True)
class HeldBack:
    intake: Intake  # the rows to run
    skipped: tuple[RowResult, ...]  # the rows held back, reported `skipped`
    settled: tuple[RowResult, ...]  # the settled rows, those a retry carries undone now skipped
    forget: frozenset[str]  # remembered rows to forget: redone, or gone from their export


def _room_key(user: UserRecord) -> str | None:
    return f"client:{user.room}" if user.room_is_client and user.room else None


def _skipped(record: ClientRecord | UserRecord, note: str) -> RowResult:
    kind = RowKind.CLIENT if isinstance(record, ClientRecord) else RowKind.USER
    return RowResult(
        row_key=record.row_key,
        kind=kind.value,
        origin=record.origin,
        values=record.values,
        status=Status.SKIPPED,
        note=note,
    )


def dropped(
    undone: Mapping[str, Undone], present: Iterable[tuple[str, str, str]]
) -> frozenset[str]:
    """The remembered rows this run's input no longer has: each of `present` is (row key,
    file, kind) of a row the run read; a remembered row is dropped when the run read rows of
    its kind from its file (any file, when undo could not tell the file) and not this one."""
    keys: set[str] = set()
    read: set[tuple[str, str]] = set()
    for key, file, kind in present:
        keys.add(key)
        read.add((file, kind))
    files = {file for file, _ in read}
    gone = set()
    for key, entry in undone.items():
        if key in keys:
            continue
        kind = key.split(":", 1)[0]
        if (entry.file, kind) in read or (not entry.file and files):
            gone.add(key)
    return frozenset(gone)


def hold_back(
    intake: Intake,
    undone: Mapping[str, Undone],
    *,
    settled: Sequence[RowResult] = (),
    redo: bool = False,
) -> HeldBack:
    """The rows of `intake` undo took back (and the people who join their rooms), settled as
    skipped; with `redo` none is, and every remembered row the run takes up is to be
    forgotten. `settled` are the rows the run has results for already (invalid, carried by a
    retry): one a retry carries as succeeded that undo took back since is skipped now."""
    taken_up = [
        *((r.row_key, r.origin.file, "client") for r in intake.clients),
        *((r.row_key, r.origin.file, "user") for r in intake.users),
        *((f"{r.kind}:{r.key}", r.origin.file, str(r.kind)) for r in intake.invalid if r.key),
    ]
    gone = dropped(undone, [*taken_up, *((r.row_key, r.origin.file, r.kind) for r in settled)])
    if redo:  # the rows this run takes up are made again; those a retry carries are not
        redone = {key for key, _, _ in taken_up if key in undone}
        return HeldBack(intake, (), tuple(settled), gone | redone)
    carried = tuple(_carried(result, undone.get(result.row_key)) for result in settled)
    skipped = [*_skipped_clients(intake.clients, undone), *_skipped_users(intake.users, undone)]
    if not skipped:
        return HeldBack(intake, (), carried, gone)
    held = {r.row_key for r in skipped}
    clients = [c for c in intake.clients if c.row_key not in held]
    users = [u for u in intake.users if u.row_key not in held]
    kept = replace(
        intake,
        clients=tuple(clients),
        users=tuple(users),
        plans=Plans(clients, users, intake.playbook),
    )
    return HeldBack(kept, tuple(skipped), carried, gone)


def _skipped_clients(
    clients: Iterable[ClientRecord], undone: Mapping[str, Undone]
) -> Iterator[RowResult]:
    for client in clients:
        entry = undone.get(client.row_key)
        if entry is not None:
            yield _skipped(client, entry.note())


def _skipped_users(
    users: Iterable[UserRecord], undone: Mapping[str, Undone]
) -> Iterator[RowResult]:
    """A person row undo took back, or one that joins the room of a client row it took back."""
    for user in users:
        entry = undone.get(user.row_key)
        room = _room_key(user)
        theirs = undone.get(room) if room is not None else None
        if entry is not None:
            yield _skipped(user, entry.note())
        elif theirs is not None:
            yield _skipped(user, f"joins the room of {room}, {theirs.note()}")


def _carried(result: RowResult, undone: Undone | None) -> RowResult:
    """A row a retry carries as its report had it: skipped now if it had succeeded and undo
    took it back since (its report line would say `created` of what is gone)."""
    if undone is None or result.status not in OK_STATUSES:
        return result
    return replace(result, status=Status.SKIPPED, note=undone.note())
