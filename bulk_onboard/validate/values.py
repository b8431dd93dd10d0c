"""Checks of single values, each answering None (fine) or a sentence saying what to do.

The rules are the portal's (docspace-api.md sections 5.6, 6 and 8): names may hold letters,
marks, apostrophes, spaces and hyphens; a room access must suit both the room type and the
kind of person; titles have length limits.
"""

from __future__ import annotations

import re
import unicodedata

from bulk_onboard.model.records import (
    NAME_MAX,
    ROOM_ROLES,
    USER_TYPE_ROLES,
    Access,
    RoomType,
    UserType,
)
from bulk_onboard.model.words import ACCESS_NAMES, NOT_ROOM_ROLES, ROOM_TYPE_NAMES, access_list

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}"
)
_NAME_EXTRA = " '-"

# Who a client is to the portal: shared by e-mail, so a Guest unless already a member.
CLIENT_ACCESSES: dict[RoomType, frozenset[Access]] = {
    room: roles.user & USER_TYPE_ROLES[UserType.GUEST] for room, roles in ROOM_ROLES.items()
}


def email_problem(text: str) -> str | None:
    """Why `text` (already trimmed and lower-cased) is not one e-mail address, or None."""
    if _EMAIL.fullmatch(text) and len(text) <= 254 and len(text.split("@")[0]) <= 64:
        return None
    example = "write it as name@example.com"
    if "<" in text or ">" in text:
        return (
            f'"{text}" holds more than the address; write only the address, like name@example.com.'
        )
    if text.startswith("mailto:"):
        return f'"{text}" starts with mailto:; write only the address, like name@example.com.'
    if text.count("@") > 1:
        return f'"{text}" holds more than one address; write one address per row.'
    if "@" not in text:
        return f'"{text}" has no @, so it is not an e-mail address; {example}.'
    if re.search(r"\s", text):
        return f'"{text}" contains a space; {example}.'
    if ".." in text:
        return f'"{text}" has two dots in a row; {example}.'
    bad = _bad_character(text)
    if bad is not None:
        return (
            f'"{text}" contains {_character(bad)}, which an e-mail address cannot hold; {example}.'
        )
    return f'"{text}" is not a valid e-mail address; {example}.'


_LOCAL_EXTRA = frozenset("!#$%&'*+/=?^_`{|}~.-")


def _bad_character(text: str) -> str | None:
    """The first character neither the part before the @ nor the domain may hold."""
    local, _, domain = text.rpartition("@")
    for char in local:
        if not (char.isascii() and (char.isalnum() or char in _LOCAL_EXTRA)):
            return char
    for char in domain:
        if not (char.isalnum() or char in "-."):
            return char
    return None


def _character(char: str) -> str:
    """A character as a message shows it: itself when visible, always with its name."""
    name = unicodedata.name(char, "").lower() or "a control character"
    shown = f'"{char}"' if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
    return f"the character {shown} ({name})"


def name_problem(text: str, which: str) -> str | None:
    """Why a first or last name would be refused by the portal, or None."""
    if len(text) > NAME_MAX:
        return f"The {which} is longer than {NAME_MAX} characters; shorten it."
    plain = text
    for char in _NAME_EXTRA:
        plain = plain.replace(char, "")
    if plain.isalpha():
        return None
    bad = [c for c in text if not (c.isalpha() or c in _NAME_EXTRA or _is_mark(c))]
    if not bad:
        return None
    shown = ", ".join(dict.fromkeys(_describe(c) for c in bad))
    hint = " (use the plain apostrophe ')" if "’" in bad or "‘" in bad else ""
    return (
        f'The {which} "{text}" contains {shown}{hint}; DocSpace accepts only letters, spaces, '
        "apostrophes and hyphens in names."
    )


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _describe(char: str) -> str:
    if char.isdigit():
        return "digits"
    if char in "\r\n":
        return "a line break"
    if char == "\t":
        return "a tab"
    return f'"{char}"'


def client_access_problem(access: Access, room_type: RoomType, written: bool) -> str | None:
    """Why a client cannot get `access` in a room of `room_type`, or None."""
    if access in CLIENT_ACCESSES[room_type] and access != Access.NONE:
        return None
    allowed = access_list(CLIENT_ACCESSES[room_type] - {Access.NONE})
    room = ROOM_TYPE_NAMES[room_type]
    source = "" if written else "The playbook's client access "
    name = ACCESS_NAMES[access]
    if access in NOT_ROOM_ROLES:
        return f"{source}{name} is not a room access; use {allowed}."
    if access == Access.NONE:
        return f"{source}none would leave the client out of the room; use {allowed}."
    if access == Access.ROOM_MANAGER:
        return (
            f"{source}room-manager is not possible for a client: clients are invited by e-mail "
            f"and join as guests, who cannot manage rooms; use {allowed}."
        )
    return f"{source}{name} is not possible in a {room} room; {_advice(allowed, written)}."


def _advice(allowed: str, written: bool) -> str:
    """What to do about an access: change the cell, or fill the empty one."""
    return f"use {allowed}" if written else f"write {allowed} in this column"


def member_access_problem(
    access: Access, user_type: UserType, room_type: RoomType | None, written: bool
) -> str | None:
    """Why a person of `user_type` cannot get `access` (in a room of `room_type`), or None."""
    if (
        access != Access.NONE
        and access in USER_TYPE_ROLES[user_type]
        and (room_type is None or access in ROOM_ROLES[room_type].user)
    ):
        return None
    source = "" if written else "The playbook's default access "
    name = ACCESS_NAMES[access]
    possible = USER_TYPE_ROLES[user_type] - {Access.NONE}
    if room_type is not None:
        possible = possible & ROOM_ROLES[room_type].user
    allowed = access_list(possible)
    if access in NOT_ROOM_ROLES:
        return f"{source}{name} is not a room access; use {allowed}."
    if access == Access.NONE:
        return f"{source}none would take the person out of the room; use {allowed}."
    if access not in USER_TYPE_ROLES[user_type]:
        return (
            f"{source}{name} needs a room-admin or docspace-admin; make the type room-admin or "
            f"use {allowed}."
        )
    room = ROOM_TYPE_NAMES[room_type] if room_type is not None else "this"
    return f"{source}{name} is not possible in a {room} room; {_advice(allowed, written)}."


def manager_access_problem(access: Access, room_type: RoomType) -> str | None:
    """The playbook's manager access against the row's room type."""
    if access in ROOM_ROLES[room_type].user:
        return None
    return (
        f"The playbook gives the account manager {ACCESS_NAMES[access]}, which is not possible in "
        f"a {ROOM_TYPE_NAMES[room_type]} room; use another room_type or change access.manager "
        "in the playbook."
    )


def link_problem(kind: str, access: Access, room_type: RoomType) -> str | None:
    """The playbook's room link against the row's room type."""
    roles = ROOM_ROLES[room_type]
    room = ROOM_TYPE_NAMES[room_type]
    if kind == "external" and not roles.external_link:
        return (
            f"A {room} room cannot have an external link, but the playbook asks for one; use a "
            "custom, public or form-filling room_type, or set link.kind to invitation in the "
            "playbook."
        )
    allowed = roles.external_link if kind == "external" else roles.invitation_link
    if kind != "none" and access not in allowed:
        return (
            f"The playbook's {kind} link gives {ACCESS_NAMES[access]}, which is not possible in a "
            f"{room} room; use another room_type or set link.access to "
            f"{access_list(allowed - {Access.NONE})} in the playbook."
        )
    return None


def title_problem(title: str, limit: int, what: str) -> str | None:
    if not title:
        return f"The {what} would be empty; fill in the columns it is made of."
    if len(title) > limit:
        return (
            f'The {what} "{title[:40]}…" would be {len(title)} characters long; DocSpace allows '
            f"{limit}. Shorten it."
        )
    return None
