"""One row at a time: a clients or users row → its record, or every Problem found in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bulk_onboard.errors import ConfigError
from bulk_onboard.model.columns import CLIENT_COLUMNS, canonical, fold_header
from bulk_onboard.model.records import (
    GROUP_NAME_MAX,
    GROUP_ROLES,
    ROOM_TITLE_MAX,
    USER_TYPE_ROLES,
    Access,
    ClientRecord,
    Origin,
    RoomType,
    RowKind,
    UserRecord,
    UserType,
)
from bulk_onboard.model.words import (
    ROOM_TYPE_NAMES,
    access_list,
    parse_access,
    parse_culture,
    parse_room_type,
    parse_user_type,
    room_type_choices,
)
from bulk_onboard.playbook.reader import Playbook
from bulk_onboard.sources.table import RawRow, Sheet
from bulk_onboard.validate.repeats import Repeats
from bulk_onboard.validate.values import (
    CLIENT_ACCESSES,
    client_access_problem,
    email_problem,
    link_problem,
    manager_access_problem,
    member_access_problem,
    name_problem,
    title_problem,
)

_USER_TYPES = "user, room-admin or docspace-admin"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a row: the column, and what is wrong and what to do."""

    column: str  # the canonical column name
    label: str  # the column's header as the file writes it
    text: str


@dataclass(frozen=True, slots=True)
class ClientRoom:
    """A client of this file, as a person's `room` may name it."""

    client_id: str
    room_type: RoomType | None  # None when the client's row is invalid
    origin: Origin
    valid: bool


@dataclass(frozen=True, slots=True)
class ClientRooms:
    """Client rooms by client id (any case) and by room title (exact)."""

    by_id: dict[str, ClientRoom] = field(default_factory=dict)
    by_title: dict[str, ClientRoom] = field(default_factory=dict)

    def find(self, room: str) -> ClientRoom | None:
        return self.by_id.get(room.casefold()) or self.by_title.get(room)


def title_keys(playbook: Playbook, sheet: Sheet) -> dict[str, str]:
    """Each placeholder of the room title pattern → the key of its column in `sheet`'s rows."""
    keys: dict[str, str] = {}
    unknown = {fold_header(sheet.label(k)): k for k in sheet.header.unknown}
    for name in playbook.title_fields:
        column = canonical(RowKind.CLIENT, name)
        if column in CLIENT_COLUMNS and column in sheet.header.labels:
            keys[name] = column
        elif fold_header(name) in unknown:
            keys[name] = unknown[fold_header(name)]
        else:
            raise ConfigError(
                f"The room title pattern of {playbook.source} uses {{{name}}}, but "
                f"{sheet.file}{', sheet ' + sheet.sheet if sheet.sheet else ''} has no such "
                "column; use one of its columns, like {client_name}."
            )
    return keys


def _adder(problems: list[Problem], sheet: Sheet) -> Callable[[str, str], None]:
    def add(column: str, problem: str) -> None:
        problems.append(Problem(column, sheet.label(column), problem))

    return add


def _email(values: dict[str, str], column: str, who: str, add: Callable[[str, str], None]) -> str:
    written = values.get(column, "")
    email = written.lower()
    if email == written:
        email = written  # one text, not two alike
    if not email:
        add(column, f"The {who} e-mail address is missing; fill it in.")
    elif (problem := email_problem(email)) is not None:
        add(column, problem)
    return email


def check_client(
    row: RawRow,
    playbook: Playbook,
    sheet: Sheet,
    keys: dict[str, str],
    repeats: Repeats | None = None,
) -> ClientRecord | list[Problem]:
    cells = (repeats or Repeats()).cells(row.values)
    values = dict(cells)  # the record's texts are the shared ones
    problems: list[Problem] = []
    add = _adder(problems, sheet)
    client_id, name = values.get("client_id", ""), values.get("client_name", "")
    if not client_id:
        add("client_id", "The client id is missing; give every client its own id, like C-10045.")
    if not name:
        add("client_name", "The client name is missing; fill it in (the room title uses it).")
    client_email, manager_email = _client_emails(values, add)
    room_type, access = _client_room(values, playbook, add)
    title = values.get("room_title", "") or _apply_pattern(playbook, keys, values, add)
    if problem := title_problem(title, ROOM_TITLE_MAX, "room title"):
        add("room_title", problem)
    contact_first, contact_last = _contact_names(values, add)
    if problems or room_type is None or access is None:
        return problems
    row_tags = (t.strip() for t in values.get("tags", "").split(","))
    return ClientRecord(
        origin=row.origin,
        client_id=client_id,
        client_name=name,
        client_email=client_email,
        manager_email=manager_email,
        room_title=title,
        room_type=room_type,
        client_access=access,
        tags=tuple(dict.fromkeys([*playbook.tags, *(t for t in row_tags if t)])),
        values=cells,
        contact_first_name=contact_first or None,
        contact_last_name=contact_last or None,
    )


def _client_emails(values: dict[str, str], add: Callable[[str, str], None]) -> tuple[str, str]:
    """The client's and the account manager's addresses, which must be two."""
    client_email = _email(values, "client_email", "client's", add)
    manager_email = _email(values, "manager_email", "account manager's", add)
    if client_email and client_email == manager_email:
        add(
            "client_email",
            "The client's e-mail address is also the account manager's; the "
            "client needs an address of their own.",
        )
    return client_email, manager_email


def _client_room(
    values: dict[str, str], playbook: Playbook, add: Callable[[str, str], None]
) -> tuple[RoomType | None, Access | None]:
    """The client's room type and access (the playbook's when the row gives none), checked
    together and against the playbook's manager access and link."""
    written_type = values.get("room_type", "")
    room_type = parse_room_type(written_type) if written_type else playbook.room_type
    if room_type is None:
        add("room_type", f'"{written_type}" is not a room type; use {room_type_choices()}.')
    written_access = values.get("client_access", "")
    access = parse_access(written_access) if written_access else playbook.access.client
    if access is None:
        allowed = access_list(CLIENT_ACCESSES[room_type or playbook.room_type] - {Access.NONE})
        add("client_access", f'"{written_access}" is not an access; use {allowed}.')
    elif room_type is not None and (
        problem := client_access_problem(access, room_type, bool(written_access))
    ):
        add("client_access", problem)
    if room_type is not None:
        if problem := manager_access_problem(playbook.access.manager, room_type):
            add("room_type", problem)
        if playbook.groups and playbook.group_access not in GROUP_ROLES[room_type]:
            add("room_type", _group_access_problem(playbook.group_access, room_type))
        if problem := link_problem(playbook.link.kind, playbook.link.access, room_type):
            add("room_type", problem)
    return room_type, access


def _group_access_problem(access: Access, room_type: RoomType) -> str:
    allowed = access_list(GROUP_ROLES[room_type] - {Access.NONE})
    return (
        f"The playbook shares every client room with its groups ([room] groups) as "
        f"{access_list(frozenset({access}))}, which a {ROOM_TYPE_NAMES[room_type]} room "
        f"does not allow for groups ({allowed}); change [room] group_access or this room_type."
    )


def _apply_pattern(
    playbook: Playbook,
    keys: dict[str, str],
    values: dict[str, str],
    add: Callable[[str, str], None],
) -> str:
    fields = {name: values.get(key, "") for name, key in keys.items()}
    for name, key in keys.items():
        if not fields[name] and key != "client_name":
            add(
                key,
                f'This is empty, but the room title pattern "{playbook.room_title}" uses it; '
                "fill it in or give the row a room_title.",
            )
    return playbook.room_title.format_map(fields).strip()


def check_user(
    row: RawRow,
    playbook: Playbook,
    sheet: Sheet,
    rooms: ClientRooms,
    repeats: Repeats | None = None,
) -> UserRecord | list[Problem]:
    cells = (repeats or Repeats()).cells(row.values)
    values = _role_as_type(dict(cells), sheet)  # the record's texts are the shared ones
    problems: list[Problem] = []
    add = _adder(problems, sheet)
    email = _email(values, "email", "person's", add)
    first, last = _names(values, add)
    user_type = _user_type(values.get("type", ""), add)
    room = values.get("room", "")
    client = _client_of(room, rooms, add) if room else None
    access = _member_access(values.get("access", ""), room, client, user_type, playbook, add)
    written_culture = values.get("culture", "")
    culture = parse_culture(written_culture) if written_culture else playbook.invitation.culture
    if written_culture and culture is None:
        add(
            "culture", f'"{written_culture}" is not a language code; write one like en-US or de-DE.'
        )
    groups = _groups(values.get("groups", ""), add)
    if problems or user_type is None:
        return problems
    return UserRecord(
        origin=row.origin,
        email=email,
        first_name=first or None,
        last_name=last or None,
        user_type=user_type,
        room=(client.client_id if client is not None else room) or None,
        room_is_client=client is not None,
        access=access,
        culture=culture,
        values=cells,
        groups=groups,
    )


def _groups(written: str, add: Callable[[str, str], None]) -> tuple[str, ...]:
    """The groups cell: names separated by ";", each exact (case kept), once."""
    names = tuple(dict.fromkeys(n.strip() for n in written.split(";") if n.strip()))
    for name in names:
        if len(name) > GROUP_NAME_MAX:
            add(
                "groups",
                f'The group name "{name[:40]}..." is longer than {GROUP_NAME_MAX} characters, '
                "which DocSpace refuses; shorten it (separate names with ;).",
            )
    return names


# Headers that may mean a person's type as well as their access in a room: "Role".
_ROLE_HEADERS = frozenset({"role", "rolle", "rôle", "rol"})


def _role_as_type(values: dict[str, str], sheet: Sheet) -> dict[str, str]:
    """A "Role" column's value that is a user type and no access ("Room admin", "User") is
    the person's type (when the row has none), not a room access."""
    written = values.get("access", "")
    if (
        not written
        or values.get("type")
        or fold_header(sheet.label("access")) not in _ROLE_HEADERS
        or parse_access(written) is not None
        or parse_user_type(written) is None
    ):
        return values
    return {**values, "type": written, "access": ""}


def _names(values: dict[str, str], add: Callable[[str, str], None]) -> tuple[str, str]:
    """The person's first and last name: both or neither."""
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if bool(first) != bool(last):
        missing = "last_name" if first else "first_name"
        add(
            missing,
            f"The {missing.replace('_', ' ')} is missing; fill in both names, or neither "
            "(the person is then invited by e-mail and enters a name when joining).",
        )
    for column, text in (("first_name", first), ("last_name", last)):
        if text and (problem := name_problem(text, column.replace("_", " "))):
            add(column, problem)
    return first, last


def _contact_names(values: dict[str, str], add: Callable[[str, str], None]) -> tuple[str, str]:
    """The client contact's first and last name: both or neither."""
    first, last = values.get("contact_first_name", ""), values.get("contact_last_name", "")
    if bool(first) != bool(last):
        missing = "contact_last_name" if first else "contact_first_name"
        add(
            missing,
            f"The contact's {'last' if first else 'first'} name is missing; fill in both of "
            "the contact's names, or neither (the contact is then invited by e-mail and "
            "enters a name when joining).",
        )
    for column, text in (("contact_first_name", first), ("contact_last_name", last)):
        if text and (problem := name_problem(text, column.replace("_", " "))):
            add(column, problem)
    return first, last


def _client_of(room: str, rooms: ClientRooms, add: Callable[[str, str], None]) -> ClientRoom | None:
    """The client of this file whose room the person's `room` names, if any (else it names an
    existing room)."""
    client = rooms.find(room)
    if client is not None and not client.valid:
        add(
            "room",
            f"The client {client.client_id} ({client.origin.describe()}) has "
            "problems, so this person cannot join its room; fix that row first.",
        )
    elif client is None and len(room) > ROOM_TITLE_MAX:
        add(
            "room",
            f"No room title is longer than {ROOM_TITLE_MAX} characters; write a "
            "client_id of the clients sheet or the exact title of an existing room.",
        )
    return client


def _member_access(
    written_access: str,
    room: str,
    client: ClientRoom | None,
    user_type: UserType | None,
    playbook: Playbook,
    add: Callable[[str, str], None],
) -> Access | None:
    """The person's access to the room (the playbook's when the row gives none); None
    without a room."""
    access: Access | None = None
    if written_access and not room:
        add("access", "An access needs a room; fill in room or clear the access.")
    elif room:
        access = parse_access(written_access) if written_access else playbook.access.users
        room_type = client.room_type if client is not None else None
        if access is None:
            possible = USER_TYPE_ROLES[user_type or UserType.USER] - {Access.NONE}
            add("access", f'"{written_access}" is not an access; use {access_list(possible)}.')
        elif user_type is not None and (
            problem := member_access_problem(access, user_type, room_type, bool(written_access))
        ):
            add("access", problem)
    return access


def _user_type(written: str, add: Callable[[str, str], None]) -> UserType | None:
    user_type = parse_user_type(written) if written else UserType.USER
    if user_type is None:
        add("type", f'"{written}" is not a user type; use {_USER_TYPES}.')
    elif user_type == UserType.GUEST:
        add(
            "type",
            "DocSpace does not let anyone create or invite guests directly; guests join "
            "through a room. Put the person in the clients sheet as client_email, or make the "
            "type user.",
        )
        return None
    elif user_type == UserType.ALL:
        add(
            "type",
            f'"{written}" is not a user type (the portal would make the person a paid '
            f"room admin); use {_USER_TYPES}.",
        )
        return None
    return user_type
