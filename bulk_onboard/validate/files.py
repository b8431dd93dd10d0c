"""RawRows → ClientRecord | UserRecord | Invalid, with every problem of a row.

Pure: no I/O. Each row is checked on its own (`rows.check_client`, `rows.check_user`), then
against the others: duplicate client ids, e-mails and room titles, a person's room that
names a client of the file, and a person given a second access in a client's room. Clients are checked before people, whatever order the files came
in, because a person's room may be a client's.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bulk_onboard.model.columns import COLUMNS, close_column, fold_header
from bulk_onboard.model.records import ClientRecord, Origin, RowKind, UserRecord
from bulk_onboard.model.titles import stored_title
from bulk_onboard.model.words import ACCESS_NAMES
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.sources.table import InputWarning, RawRow, Sheet
from bulk_onboard.validate.repeats import Repeats
from bulk_onboard.validate.rows import (
    ClientRoom,
    ClientRooms,
    Problem,
    check_client,
    check_user,
    title_keys,
)

__all__ = ["Invalid", "Problem", "Validated", "check_config", "validate_sheets"]


@dataclass(frozen=True, slots=True)
class Invalid:
    """A row that cannot be onboarded, with every problem found in it."""

    origin: Origin
    kind: RowKind
    key: str  # the client_id or e-mail as written ("" when missing)
    problems: tuple[Problem, ...]
    values: tuple[tuple[str, str], ...]


Result = ClientRecord | UserRecord | Invalid
_Entry = tuple[Sheet, Result]


@dataclass(frozen=True, slots=True)
class Validated:
    """Everything read: valid records per kind, invalid rows and warnings, in file order."""

    clients: tuple[ClientRecord, ...]
    users: tuple[UserRecord, ...]
    invalid: tuple[Invalid, ...]
    warnings: tuple[InputWarning, ...]

    @property
    def rows(self) -> int:
        return len(self.clients) + len(self.users) + len(self.invalid)


def check_config(sheets: Sequence[Sheet], playbook: Playbook) -> None:
    """ConfigError before any row is read when the title pattern names no column of a file."""
    for sheet in sheets:
        if sheet.kind is RowKind.CLIENT:
            title_keys(playbook, sheet)


def validate_sheets(sheets: Sequence[Sheet], playbook: Playbook) -> Validated:
    """Read every row of the sheets (clients first) and check them, alone and together."""
    check_config(sheets, playbook)
    repeats = Repeats()
    clients = _check_clients(sheets, playbook, repeats)
    rooms = client_rooms(result for _, result in clients)
    users = _check_users(sheets, playbook, rooms, repeats)
    users = _mark_second_access(users, clients, playbook)
    warnings = [n for sheet in sheets for n in column_notices(sheet) + sheet.warnings]
    order = {id(sheet): n for n, sheet in enumerate(sheets)}
    results = [
        r for _, r in sorted(clients + users, key=lambda e: (order[id(e[0])], e[1].origin.line))
    ]
    return Validated(
        clients=tuple(r for r in results if isinstance(r, ClientRecord)),
        users=tuple(r for r in results if isinstance(r, UserRecord)),
        invalid=tuple(r for r in results if isinstance(r, Invalid)),
        warnings=tuple(warnings),
    )


def _check_clients(sheets: Sequence[Sheet], playbook: Playbook, repeats: Repeats) -> list[_Entry]:
    """Every row of the clients sheets, checked alone, then for ids and room titles that
    repeat."""
    clients: list[_Entry] = []
    for sheet in (s for s in sheets if s.kind is RowKind.CLIENT):
        keys = title_keys(playbook, sheet)
        for row in sheet.rows:
            clients.append(
                (sheet, _result(check_client(row, playbook, sheet, keys, repeats), row, sheet.kind))
            )
    clients = _mark_duplicates(
        clients, _client_id, "client_id", "client_id", "every client needs its own id"
    )
    return _mark_duplicates(
        clients,
        _room_title,
        "room_title",
        "room title as the portal stores it",
        "a client whose room title is already another client's room is refused when it "
        "runs (the room is not its own); give one of them another room_title",
    )


def _check_users(
    sheets: Sequence[Sheet], playbook: Playbook, rooms: ClientRooms, repeats: Repeats
) -> list[_Entry]:
    """Every row of the users sheets, checked alone, then for e-mails that repeat."""
    users: list[_Entry] = []
    for sheet in (s for s in sheets if s.kind is RowKind.USER):
        for row in sheet.rows:
            users.append(
                (sheet, _result(check_user(row, playbook, sheet, rooms, repeats), row, sheet.kind))
            )
    return _mark_duplicates(users, _email, "email", "e-mail address", "list every person once")


def column_notices(sheet: Sheet) -> list[InputWarning]:
    """One warning per header that is no known column, with a guess when one is close."""
    known = {fold_header(c): c for c in COLUMNS[sheet.kind]}
    warnings: list[InputWarning] = []
    for key in sheet.header.unknown:
        label = sheet.label(key)
        guess = difflib.get_close_matches(fold_header(label), list(known), n=1, cutoff=0.75)
        meant = known[guess[0]] if guess else close_column(sheet.kind, label)
        hint = f" (did you mean {meant}?)" if meant else ""
        warnings.append(
            InputWarning(
                sheet.file,
                sheet.sheet,
                sheet.header.line,
                label,
                f"This column is not one bulk-onboard uses{hint}; it is ignored and kept in the "
                "report.",
            )
        )
    return warnings


def _result(
    outcome: ClientRecord | UserRecord | list[Problem], row: RawRow, kind: RowKind
) -> Result:
    if isinstance(outcome, (ClientRecord, UserRecord)):
        return outcome
    key = row.values.get("client_id" if kind is RowKind.CLIENT else "email", "")
    return Invalid(row.origin, kind, key, tuple(outcome), tuple(row.values.items()))


def _client_id(result: Result) -> str:
    if isinstance(result, ClientRecord):
        return result.client_id
    return result.key if isinstance(result, Invalid) else ""


def _room_title(result: Result) -> str:
    """The title as the portal will store it (docspace-api.md 10.1): "A/B" and "A:B" are both
    stored as "A_B", one room title."""
    return stored_title(result.room_title) if isinstance(result, ClientRecord) else ""


def _email(result: Result) -> str:
    if isinstance(result, UserRecord):
        return result.email
    return result.key.strip().lower() if isinstance(result, Invalid) else ""


def _where(origin: Origin, here: Origin) -> str:
    if (origin.file, origin.sheet) == (here.file, here.sheet):
        return f"line {origin.line}"
    return origin.describe()


def _mark_duplicates(
    entries: list[_Entry], key_of: Callable[[Result], str], column: str, what: str, advice: str
) -> list[_Entry]:
    """Every row sharing a key with another gets an Problem naming the other rows' lines."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, (_, result) in enumerate(entries):
        key = key_of(result)
        if key:
            groups[key.casefold()].append(index)
    marked = list(entries)
    for indices in (g for g in groups.values() if len(g) > 1):
        for index in indices:
            sheet, result = entries[index]
            here = result.origin
            others = _others(entries, indices, index, here)
            found = Problem(
                column,
                sheet.label(column),
                f'"{key_of(result)}" is also the {what} on {others}; {advice}.',
            )
            marked[index] = (sheet, _with_problem(result, found))
    return marked


MAX_NAMED_OTHERS = 3


def _others(entries: list[_Entry], indices: list[int], index: int, here: Origin) -> str:
    """The other rows with the same key: a few named, the rest counted, so that 10,000 copies
    of one address make 10,000 short messages, not 10,000 lists of 10,000 lines."""
    others = [i for i in indices if i != index]
    named = " and ".join(_where(entries[i][1].origin, here) for i in others[:MAX_NAMED_OTHERS])
    rest = len(others) - MAX_NAMED_OTHERS
    return named if rest <= 0 else f"{named} and {rest:,} more lines"


def _with_problem(result: Result, found: Problem) -> Invalid:
    if isinstance(result, Invalid):
        return replace(result, problems=(*result.problems, found))
    if isinstance(result, ClientRecord):
        return Invalid(result.origin, RowKind.CLIENT, result.client_id, (found,), result.values)
    written = dict(result.values).get("email", result.email)
    return Invalid(result.origin, RowKind.USER, written, (found,), result.values)


def _mark_second_access(
    users: list[_Entry], clients: list[_Entry], playbook: Playbook
) -> list[_Entry]:
    """A person the clients sheet already gives an access in a room (its account manager or
    its contact) whom the users sheet gives another access in that room: a problem naming both
    lines, never a share that changes back and forth on each run. The same access is fine."""
    by_id = {
        result.client_id.casefold(): result
        for _, result in clients
        if isinstance(result, ClientRecord)
    }
    marked = list(users)
    for index, (sheet, result) in enumerate(users):
        if not isinstance(result, UserRecord) or not result.room_is_client or not result.room:
            continue
        client = by_id.get(result.room.casefold())
        if client is None or result.access is None:
            continue
        for role, email, access in (
            ("account manager", client.manager_email, playbook.access.manager),
            ("client contact", client.client_email, client.client_access),
        ):
            if result.email != email or result.access == access:
                continue
            found = Problem(
                "access",
                sheet.label("access"),
                f"{result.email} is the {role} of {client.client_id} "
                f"({_where(client.origin, result.origin)}), with {ACCESS_NAMES[access]} in its "
                f"room; this line gives them {ACCESS_NAMES[result.access]} there. A person has one "
                "access per room: clear room and access on this line, or give it the same access.",
            )
            marked[index] = (sheet, _with_problem(result, found))
            break
    return marked


def client_rooms(results: Iterable[Result]) -> ClientRooms:
    """What a person's `room` may name: a client id (any case) or a client's room title."""
    rooms = ClientRooms()
    for result in results:
        if isinstance(result, ClientRecord):
            room = ClientRoom(result.client_id, result.room_type, result.origin, True)
            rooms.by_id.setdefault(result.client_id.casefold(), room)
            rooms.by_title.setdefault(result.room_title, room)
        elif isinstance(result, Invalid) and result.kind is RowKind.CLIENT and result.key:
            invalid = ClientRoom(result.key, None, result.origin, False)
            rooms.by_id.setdefault(result.key.casefold(), invalid)
            written_title = dict(result.values).get("room_title", "")
            if written_title:
                rooms.by_title.setdefault(written_title, invalid)
    return rooms
