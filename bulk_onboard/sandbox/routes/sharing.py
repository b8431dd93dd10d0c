"""Room membership: PUT and GET /api/2.0/files/rooms/{id}/share (docspace-api.md 5.4).

The traps are the real server's: a body without `invitations` (e.g. the examples'
`entries`) is a 200 `{"error": 0}` that changes nothing; a FileShare string that is not an
exact name becomes 0, i.e. removal; a disallowed role aborts with 403 after the earlier
entries were applied; an e-mail entry for an address that is new or still
activation-pending gets an invitation mail whenever its record is written, notify or not,
while a person added by id is mailed only with notify (docspace-api.md 10.8); a guest the
caller cannot see is dropped silently (10.7).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import EMPTY_GUID, Body, read_body
from bulk_onboard.sandbox.envelopes import (
    FOLDER_NOT_FOUND,
    INCORRECT_EMAIL,
    ROLE_NOT_AVAILABLE,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    conversion_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.groups import group_of, group_shares
from bulk_onboard.sandbox.routes.people import valid_email
from bulk_onboard.sandbox.routes.query import paging, query_enum, query_items
from bulk_onboard.sandbox.store import Folder, Person
from bulk_onboard.sandbox.store.outbox import ROOM_INVITATION, ROOM_NOTIFICATION

FILE_SHARE_CLR = "ASC.Files.Core.Security.FileShare"


@dataclass(frozen=True, slots=True)
class Invitation:
    user_id: str | None
    email: str | None
    access: int


def read_access(body: Body, name: str = "access") -> int:
    """FileShare from a body: missing = 0 (None); the string trap of section 4 applies."""
    raw = body.raw(name)
    if raw is None:
        return enums.NONE
    try:
        return enums.parse_file_share(raw)
    except enums.EnumParseError:
        where = body.where(name)
        raise ValidationFailed({where: [conversion_message(where, FILE_SHARE_CLR)]}) from None


def passes_email_attribute(value: str) -> bool:
    """`[EmailAddress]` as docspace-api.md 10.8 has it: exactly one '@', neither the first
    nor the last character."""
    at = value.find("@")
    return 0 < at < len(value) - 1 and at == value.rfind("@")


def read_invitations(
    body: Body, key: str, *, id_key: str = "id", email_attribute: bool = False
) -> list[Invitation] | None:
    """The entries of a share body. With `email_attribute` (RoomInvitation.Email carries
    `[EmailAddress]`, 10.8) a value without exactly one inner '@', also "", makes the request a
    400 ProblemDetails; it runs after the body was read, so conversion errors come first."""
    items = body.objects(key)
    if items is None:
        return None
    invitations: list[Invitation] = []
    invalid: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        user_id = item.guid(id_key)
        email = item.string("email")
        if email_attribute and email is not None and not passes_email_attribute(email):
            field = f"{key[:1].upper()}{key[1:]}[{index}].Email"
            invalid[field] = ["The Email field is not a valid e-mail address."]
        invitations.append(
            Invitation(
                user_id=None if user_id in (None, EMPTY_GUID) else user_id,
                email=email.strip() if email and email.strip() else None,
                access=read_access(item),
            )
        )
    if invalid:
        raise ValidationFailed(invalid)
    return invitations


def _invite_link(portal: Portal) -> str:
    return portal.dtos.share_url(secrets.token_urlsafe(9))


def _kept(portal: Portal, caller: Person, room: Folder, target: Person, access: int) -> bool:
    """SetRoomSecurity's filter (docspace-api.md 10.7): the room's creator may remove anyone
    or change an existing member; otherwise the caller must be able to see the person."""
    if room.created_by == caller.id and (
        access == enums.NONE or portal.store.access.share(room.id, target.id) is not None
    ):
        return True
    return rights.can_view_user(portal.store, caller, target)


def _resolve(
    portal: Portal, caller: Person, room: Folder, entry: Invitation
) -> tuple[Person | None, bool]:
    """(the person an entry names, whether to apply it). E-mail entries carry no id and
    pass the visibility filter; an unknown address is created later."""
    people = portal.store.people
    if entry.user_id is not None:
        target = people.get(entry.user_id)
        if target is None:
            return None, False  # an id the caller cannot see is dropped silently (inferred)
        return target, _kept(portal, caller, room, target, entry.access)
    if entry.email is None or entry.access == enums.NONE:
        return None, False  # e-mail entries resolve only for access != 0 (10.6)
    return people.by_email(entry.email), True


def apply_invitations(  # noqa: C901  the server's invitation rules, in its order
    portal: Portal,
    caller: Person,
    room: Folder,
    invitations: list[Invitation],
    *,
    notify: bool,
    message: str | None,
    culture: str | None,
) -> tuple[list[str], str | None]:
    """Apply entries one by one (each committed on its own); returns the ids of entries
    sent by id, and the first non-fatal warning. Mails follow docspace-api.md 10.8."""
    assert room.room_type is not None
    roles = enums.ROOM_ROLES[room.room_type]
    people, access = portal.store.people, portal.store.access
    sent_ids: list[str] = []
    warning: str | None = None
    for entry in invitations:
        with portal.store.transaction():
            group = group_of(portal, entry.user_id) if entry.user_id else None
            if group is not None:  # a group entry (12.2): no flag, told by the id
                _apply_group(portal, room, group.id, entry.access, roles.group)
                sent_ids.append(group.id)
                continue
            target, keep = _resolve(portal, caller, room, entry)
            if not keep:
                continue
            if target is not None and target.id == room.created_by:
                continue  # the room owner's own entry is skipped
            if target is not None and target.status == enums.TERMINATED and entry.access:
                continue  # disabled users are skipped silently
            if entry.access not in roles.user:
                raise InvalidOperation(ROLE_NOT_AVAILABLE)
            # An id-less entry resolves to LostUser (a Guest) before the e-mail lookup, so
            # e-mail entries are role-checked as Guests, even for an existing admin.
            by_email = entry.user_id is None
            user_type = enums.GUEST if by_email or target is None else target.type
            if entry.access not in enums.USER_TYPE_ROLES.get(user_type, frozenset()):
                raise InvalidOperation(ROLE_NOT_AVAILABLE)
            join_link = False
            if by_email and target is None:
                assert entry.email is not None
                if not valid_email(entry.email):
                    warning = warning or INCORRECT_EMAIL
                    continue
                target = people.add(
                    email=entry.email,
                    first_name="",
                    last_name="",
                    type=enums.GUEST,
                    status=enums.PENDING,
                    activation=enums.ACTIVATION_PENDING,
                    now=portal.now(),
                    created_by=caller.id,
                    culture=culture,
                )
                join_link = True
            elif by_email and target is not None:
                people.relate(caller.id, target.id)
                join_link = target.activation == enums.ACTIVATION_PENDING
            assert target is not None
            existing = access.share(room.id, target.id)
            if existing is not None and existing.access == entry.access:
                continue  # unchanged: no write, no mail
            if entry.access == enums.NONE:
                access.remove_share(room.id, target.id)  # a non-member: nothing to delete
            else:
                access.set_share(room.id, target.id, entry.access, portal.now())
            if join_link:
                portal.store.outbox.send(
                    to=target.email,
                    kind=ROOM_INVITATION,
                    user_id=target.id,
                    room_id=room.id,
                    subject=f"Join the room {room.title}",
                    message=message,
                    link=_invite_link(portal),
                    culture=culture,
                    now=portal.now(),
                )
            elif notify and existing is None:
                # Also for access 0 to a non-member, handled as a new entry (10.6).
                portal.store.outbox.send(
                    to=target.email,
                    kind=ROOM_NOTIFICATION,
                    user_id=target.id,
                    room_id=room.id,
                    subject=f"You were added to the room {room.title}",
                    message=message,
                    link=f"{portal.url}/rooms/shared/{room.id}",
                    culture=culture or target.culture,
                    now=portal.now(),
                )
            if entry.user_id is not None:
                sent_ids.append(target.id)
    return sent_ids, warning


def _apply_group(
    portal: Portal, room: Folder, group_id: str, access: int, allowed: frozenset[int]
) -> None:
    """A group's record (docspace-api.md 12.2): never RoomManager; a new record is also
    checked as a Guest's (the id resolves to LostUser first). Nobody is mailed, whatever
    `notify` says: the notice would go to LostUser, who has no address."""
    if access not in allowed:
        raise InvalidOperation(ROLE_NOT_AVAILABLE)
    shares = portal.store.access
    existing = shares.share(room.id, group_id)
    if existing is None and access not in enums.USER_TYPE_ROLES[enums.GUEST]:
        raise InvalidOperation(ROLE_NOT_AVAILABLE)
    if existing is not None and existing.access == access:
        return
    if access == enums.NONE:
        shares.remove_share(room.id, group_id)
    else:
        shares.set_share(room.id, group_id, access, portal.now())


def _member_dtos(portal: Portal, caller: Person, room: Folder, ids: list[str]) -> list[Any]:
    manage = rights.can_manage(portal.store, caller, room)
    members: list[Any] = []
    for user_id in dict.fromkeys(ids):
        share = portal.store.access.share(room.id, user_id)
        group = group_of(portal, user_id)
        if share is not None and group is not None:
            members.append(portal.dtos.group_share(group, share.access, can_edit=manage))
            continue
        person = portal.store.people.get(user_id)
        if share is not None and person is not None:
            members.append(
                portal.dtos.user_share(person, share.access, is_owner=False, can_edit=manage)
            )
    return members


async def set_room_security(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    invitations = read_invitations(body, "invitations", email_attribute=True)
    notify = body.boolean("notify")
    message, culture = body.string("message"), body.string("culture")
    body.boolean("force")
    if not invitations:
        return success(request, {"error": 0})  # section 9a: nothing changes
    room = portal.store.tree.room(int(request.match_info["id"]))
    if room is None:
        raise NotFound(FOLDER_NOT_FOUND)
    leaving = all(i.user_id == caller.id and i.access == enums.NONE for i in invitations)
    if not leaving and not rights.can_manage(portal.store, caller, room):
        raise Forbidden()
    ids, warning = apply_invitations(
        portal, caller, room, invitations, notify=notify, message=message, culture=culture
    )
    members = _member_dtos(portal, caller, room, ids)
    return success(request, {"members": members, "warning": warning, "error": 0})


def _matches(text: str, *values: str) -> bool:
    return not text or any(text in v.lower() for v in values)


async def get_room_security(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    items = query_items(request)
    page = paging(items)
    kind = query_enum(items, "filterType", "FilterType", "ShareFilterType", enums.SHARE_FILTER) or 0
    text = items.get("filtervalue", "").strip().lower()
    room = portal.store.tree.room(int(request.match_info["id"]))
    if room is None:
        raise NotFound(FOLDER_NOT_FOUND)
    if not rights.can_read(portal.store, caller, room):
        raise Forbidden()
    manage = rights.can_manage(portal.store, caller, room)
    entries: list[dict[str, Any]] = []
    if kind in (0, 16):
        owner = portal.store.people.get(room.created_by)
        if owner is not None and _matches(text, owner.display_name, owner.email):
            entries.append(
                portal.dtos.user_share(owner, enums.READ_WRITE, is_owner=True, can_edit=manage)
            )
        for share in portal.store.access.shares(room.id):
            person = portal.store.people.get(share.user_id)
            if person is not None and _matches(text, person.display_name, person.email):
                entries.append(
                    portal.dtos.user_share(person, share.access, is_owner=False, can_edit=manage)
                )
    if kind in (0, 32):
        entries.extend(group_shares(portal, room.id, manage, text))
    wanted = {
        1: {enums.SUBJECT_INVITATION_LINK},
        2: {enums.SUBJECT_EXTERNAL_LINK, enums.SUBJECT_PRIMARY_LINK},
        4: {enums.SUBJECT_EXTERNAL_LINK},
        8: {enums.SUBJECT_PRIMARY_LINK},
        15: {
            enums.SUBJECT_INVITATION_LINK,
            enums.SUBJECT_EXTERNAL_LINK,
            enums.SUBJECT_PRIMARY_LINK,
        },
    }.get(kind, set())
    now = portal.now()
    internal = rights.can_edit_internal(portal.store, caller, room)
    entries.extend(
        portal.dtos.link_share(link, now, can_edit_internal=internal)
        for link in portal.store.access.links(room.id)
        if link.subject_type in wanted and _matches(text, link.title)
    )
    total = len(entries)
    # The controller sets count = min(total - startIndex, count), total = all matches.
    return success(
        request, page.take(entries), count=min(total - page.start, page.count), total=total
    )


def add_routes(app: web.Application) -> None:
    app.router.add_put(r"/api/2.0/files/rooms/{id:\d+}/share", set_room_security)
    app.router.add_get(r"/api/2.0/files/rooms/{id:\d+}/share", get_room_security)
