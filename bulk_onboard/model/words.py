"""The words people write for room types, accesses and user types, both ways.

Reading: a word is matched ignoring case, spaces, hyphens and underscores, through the tables in
`records`; the portal's integer (as text) is accepted too. Writing: one canonical word per
value, used in messages, printed plans and golden files.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bulk_onboard.model.records import (
    ACCESS_WORDS,
    ROOM_TYPE_WORDS,
    USER_TYPE_WORDS,
    Access,
    RoomType,
    UserType,
)

ROOM_TYPE_NAMES: dict[RoomType, str] = {
    RoomType.COLLABORATION: "collaboration",
    RoomType.CUSTOM: "custom",
    RoomType.PUBLIC: "public",
    RoomType.FILLING_FORMS: "form-filling",
    RoomType.VIRTUAL_DATA: "virtual-data",
}

ACCESS_NAMES: dict[Access, str] = {
    Access.NONE: "none",
    Access.READ_WRITE: "read-write",
    Access.READ: "read",
    Access.RESTRICT: "restrict",
    Access.VARIES: "varies",
    Access.REVIEW: "review",
    Access.COMMENT: "comment",
    Access.FILL_FORMS: "fill-forms",
    Access.CUSTOM_FILTER: "custom-filter",
    Access.ROOM_MANAGER: "room-manager",
    Access.EDITING: "editing",
    Access.CONTENT_CREATOR: "content-creator",
}

USER_TYPE_NAMES: dict[UserType, str] = {
    UserType.ALL: "all",
    UserType.ROOM_ADMIN: "room-admin",
    UserType.GUEST: "guest",
    UserType.DOCSPACE_ADMIN: "docspace-admin",
    UserType.USER: "user",
}

# Accesses that are never a room role (docspace-api.md section 6): the portal answers 403.
NOT_ROOM_ROLES = frozenset(
    {Access.READ_WRITE, Access.RESTRICT, Access.VARIES, Access.CUSTOM_FILTER}
)

# The order in which allowed accesses are listed in messages: most to least power.
_ACCESS_ORDER = (
    Access.ROOM_MANAGER,
    Access.CONTENT_CREATOR,
    Access.EDITING,
    Access.REVIEW,
    Access.COMMENT,
    Access.FILL_FORMS,
    Access.READ,
    Access.NONE,
)


def fold(word: str) -> str:
    """The form words are compared in: lower case without spaces, hyphens or underscores."""
    return word.strip().lower().replace(" ", "").replace("-", "").replace("_", "")


@lru_cache(maxsize=4096)
def parse_room_type(text: str) -> RoomType | None:
    """A room type from a word or its integer; None when unknown."""
    key = fold(text)
    if key.isdigit():
        number = int(key)
        return RoomType(number) if number in RoomType._value2member_map_ else None
    return ROOM_TYPE_WORDS.get(key)


@lru_cache(maxsize=4096)
def parse_access(text: str) -> Access | None:
    """An access from a word or its integer; None when unknown."""
    key = fold(text)
    if key.isdigit():
        number = int(key)
        return Access(number) if number in Access._value2member_map_ else None
    return ACCESS_WORDS.get(key)


@lru_cache(maxsize=4096)
def parse_user_type(text: str) -> UserType | None:
    """A user type from a word or its integer; None when unknown."""
    key = fold(text)
    if key.isdigit():
        number = int(key)
        return UserType(number) if number in UserType._value2member_map_ else None
    return USER_TYPE_WORDS.get(key)


def room_type_choices() -> str:
    """'collaboration, custom, ...' with the integers, for messages."""
    words = ", ".join(ROOM_TYPE_NAMES.values())
    numbers = ", ".join(str(int(t)) for t in ROOM_TYPE_NAMES)
    return f"{words} (or {numbers})"


def access_list(accesses: frozenset[Access] | set[Access]) -> str:
    """'room-manager, editing or read', most powerful first, for messages."""
    names = [ACCESS_NAMES[a] for a in _ACCESS_ORDER if a in accesses]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


_CULTURE = re.compile(r"([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{4}))?(?:[-_]([a-zA-Z]{2}|\d{3}))?")


@lru_cache(maxsize=4096)
def parse_culture(text: str) -> str | None:
    """A culture name such as en-US, written the portal's way; None when it is not one."""
    match = _CULTURE.fullmatch(text.strip())
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def counted(n: int, one: str, many: str | None = None) -> str:
    """`1 room`, `2 rooms`: a count with its noun in the right number (`many` when the plural
    is not `one` + s)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
