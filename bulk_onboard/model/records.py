"""Typed, frozen records and the DocSpace enums they use.

The integers are the wire values of the DocSpace REST API (docspace-api.md section 4);
the role matrix is section 6. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class RowKind(StrEnum):
    """What a row is: a client (its room and the room's setup) or a person. The value is the
    word the report's kind column holds; `plural` names the sheet and the --kind choice."""

    CLIENT = "client"
    USER = "user"

    @property
    def plural(self) -> str:
        return f"{self.value}s"

    @classmethod
    def from_text(cls, text: str) -> RowKind:
        """ "client", "clients", "user" or "users" (any case) as a kind."""
        word = text.strip().lower()
        return cls(word[:-1] if word.endswith("s") else word)


class RoomType(IntEnum):
    """RoomType as the portal numbers it. The names users write map through ROOM_TYPE_WORDS."""

    FILLING_FORMS = 1
    COLLABORATION = 2  # "EditingRoom" on the wire
    CUSTOM = 5
    PUBLIC = 6
    VIRTUAL_DATA = 8


class Access(IntEnum):
    """FileShare: a member's or link's access in a room."""

    NONE = 0
    READ_WRITE = 1
    READ = 2
    RESTRICT = 3
    VARIES = 4
    REVIEW = 5
    COMMENT = 6
    FILL_FORMS = 7
    CUSTOM_FILTER = 8
    ROOM_MANAGER = 9
    EDITING = 10
    CONTENT_CREATOR = 11


class UserType(IntEnum):
    """EmployeeType. ALL (0) is a filter value, never a type to create or invite with."""

    ALL = 0
    ROOM_ADMIN = 1
    GUEST = 2
    DOCSPACE_ADMIN = 3
    USER = 4


class LinkType(IntEnum):
    INVITATION = 0
    EXTERNAL = 1


# Words a spreadsheet or playbook may use, normalised (lower case, no spaces, hyphens or
# underscores). Integers as text are accepted too (see the parse_* helpers in validate).
ROOM_TYPE_WORDS: dict[str, RoomType] = {
    "collaboration": RoomType.COLLABORATION,
    "collaborationroom": RoomType.COLLABORATION,
    "editing": RoomType.COLLABORATION,
    "editingroom": RoomType.COLLABORATION,
    "custom": RoomType.CUSTOM,
    "customroom": RoomType.CUSTOM,
    "public": RoomType.PUBLIC,
    "publicroom": RoomType.PUBLIC,
    "formfilling": RoomType.FILLING_FORMS,
    "fillingforms": RoomType.FILLING_FORMS,
    "fillingformsroom": RoomType.FILLING_FORMS,
    "formfillingroom": RoomType.FILLING_FORMS,
    "virtualdata": RoomType.VIRTUAL_DATA,
    "virtualdataroom": RoomType.VIRTUAL_DATA,
    "vdr": RoomType.VIRTUAL_DATA,
}

ACCESS_WORDS: dict[str, Access] = {
    "none": Access.NONE,
    "read": Access.READ,
    "readonly": Access.READ,
    "viewer": Access.READ,
    "review": Access.REVIEW,
    "reviewer": Access.REVIEW,
    "comment": Access.COMMENT,
    "commenter": Access.COMMENT,
    "fillforms": Access.FILL_FORMS,
    "formfiller": Access.FILL_FORMS,
    "roommanager": Access.ROOM_MANAGER,
    "manager": Access.ROOM_MANAGER,
    "editing": Access.EDITING,
    "editor": Access.EDITING,
    "contentcreator": Access.CONTENT_CREATOR,
    "creator": Access.CONTENT_CREATOR,
    # Never valid room roles, but recognised so the message can say why.
    "readwrite": Access.READ_WRITE,
    "fullaccess": Access.READ_WRITE,
    "restrict": Access.RESTRICT,
    "varies": Access.VARIES,
    "customfilter": Access.CUSTOM_FILTER,
}

USER_TYPE_WORDS: dict[str, UserType] = {
    "user": UserType.USER,
    "member": UserType.USER,
    "roomadmin": UserType.ROOM_ADMIN,
    "docspaceadmin": UserType.DOCSPACE_ADMIN,
    "admin": UserType.DOCSPACE_ADMIN,
    "guest": UserType.GUEST,
    "all": UserType.ALL,
}


@dataclass(frozen=True, slots=True)
class RoomRoles:
    """What access values a room type allows, per kind of subject (docspace-api.md section 6)."""

    user: frozenset[Access]
    invitation_link: frozenset[Access]
    external_link: frozenset[Access]  # empty: the room type has no external links (403)


def _roles(*values: int) -> frozenset[Access]:
    return frozenset(Access(v) for v in values)


ROOM_ROLES: dict[RoomType, RoomRoles] = {
    RoomType.COLLABORATION: RoomRoles(_roles(9, 11, 10, 2, 0), _roles(11, 10, 2, 0), _roles()),
    RoomType.CUSTOM: RoomRoles(
        _roles(9, 11, 10, 5, 6, 2, 0), _roles(11, 10, 5, 6, 2, 0), _roles(10, 7, 5, 6, 2, 0)
    ),
    RoomType.PUBLIC: RoomRoles(_roles(9, 11, 0), _roles(11, 2, 0), _roles(10, 7, 5, 6, 2, 0)),
    RoomType.FILLING_FORMS: RoomRoles(_roles(9, 11, 7, 0), _roles(11, 7, 0), _roles(7, 2, 0)),
    RoomType.VIRTUAL_DATA: RoomRoles(_roles(9, 11, 10, 2, 7, 0), _roles(11, 10, 2, 7, 0), _roles()),
}

# Accesses a group may hold in a room, by room type (docspace-api.md 12.2): never RoomManager.
GROUP_ROLES: dict[RoomType, frozenset[Access]] = {
    RoomType.COLLABORATION: _roles(11, 10, 2, 0),
    RoomType.CUSTOM: _roles(11, 10, 5, 6, 2, 0),
    RoomType.PUBLIC: _roles(11, 0),
    RoomType.FILLING_FORMS: _roles(11, 7, 0),
    RoomType.VIRTUAL_DATA: _roles(11, 10, 2, 7, 0),
}

# Accesses a user may hold, by user type (RoomManager only for admins).
USER_TYPE_ROLES: dict[UserType, frozenset[Access]] = {
    UserType.DOCSPACE_ADMIN: _roles(9, 11, 10, 7, 5, 6, 2, 0),
    UserType.ROOM_ADMIN: _roles(9, 11, 10, 5, 6, 7, 2, 0),
    UserType.USER: _roles(11, 10, 5, 6, 7, 2, 0),
    UserType.GUEST: _roles(11, 10, 5, 6, 7, 2, 0),
}

ROOM_TITLE_MAX = 170
FOLDER_TITLE_MAX = 165
NAME_MAX = 255
GROUP_NAME_MAX = 128  # POST group: [StringLength(128, MinimumLength = 1)] (12.1)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a row came from, as the user sees it: file, sheet (None for CSV), line (header = 1)."""

    file: str
    sheet: str | None
    line: int

    def describe(self) -> str:
        where = f"{self.file}" + (f", sheet {self.sheet}" if self.sheet else "")
        return f"{where}, line {self.line}"


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """One valid row of the clients sheet, with the playbook's defaults already applied."""

    origin: Origin
    client_id: str
    client_name: str
    client_email: str
    manager_email: str
    room_title: str
    room_type: RoomType
    client_access: Access
    tags: tuple[str, ...]
    values: tuple[tuple[str, str], ...]  # every input column as read, for the report
    # the contact's name in DocSpace: both or neither (None: invited by e-mail, nameless)
    contact_first_name: str | None = None
    contact_last_name: str | None = None

    # "client:<client_id>", made once (every phase, the report and the journal use it)
    row_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_key", f"client:{self.client_id}")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One valid row of the users sheet, with the playbook's defaults already applied."""

    origin: Origin
    email: str  # lower-cased
    first_name: str | None
    last_name: str | None
    user_type: UserType
    room: str | None  # a client_id of this file, or the exact title of an existing room
    room_is_client: bool  # True when `room` names a client_id of the clients sheet
    access: Access | None  # None when there is no room
    culture: str | None
    values: tuple[tuple[str, str], ...]
    groups: tuple[str, ...] = ()  # the groups the person joins, by exact name

    # "user:<email>", made once (every phase, the report and the journal use it)
    row_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_key", f"user:{self.email}")
