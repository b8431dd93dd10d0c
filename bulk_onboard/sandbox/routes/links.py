"""Room links: PUT/GET /api/2.0/files/rooms/{id}/links and GET .../link (docspace-api.md 5.5).

`{}` is an invitation link (linkType 0 is the default) with access None: nothing is created
(200, no response), or 403 "The maximum number of links may not exceed 1" when the room has
its invitation link already (section 9e). New external links made here are *additional*
links (at most 5); the primary external link comes from GET .../link (or, for Public and
form-filling rooms, from room creation).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import EMPTY_GUID, Body, read_body
from bulk_onboard.sandbox.envelopes import (
    FOLDER_NOT_FOUND,
    INVALID_OPERATION,
    ROLE_NOT_AVAILABLE,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    conversion_message,
    length_message,
    max_links_message,
    parse_api_datetime,
    range_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.query import query_enum, query_items
from bulk_onboard.sandbox.routes.sharing import read_access
from bulk_onboard.sandbox.store import Folder, Link, Person

EXTERNAL_TITLE = "Shared link"
INVITATION_TITLE = "Invitation link"
FILL_OUT_TITLE = "Link to fill out"  # FillOutExternalLinkTitle; English text inferred
INVITATION_LIFETIME = 7 * 86_400.0  # IndividualLinkExpirationInterval (inferred: 7 days)
MAX_INVITATION_LINKS, MAX_ADDITIONAL_EXTERNAL_LINKS = 1, 5


def new_link(
    room: Folder, subject_type: int, access: int, title: str, now: float, link_id: str | None = None
) -> Link:
    return Link(
        seq=0,
        id=link_id or str(uuid.uuid4()),
        room_id=room.id,
        subject_type=subject_type,
        access=access,
        title=title,
        code=secrets.token_urlsafe(9),
        request_token=secrets.token_urlsafe(32),
        expiration=None,
        password=None,
        deny_download=False,
        internal=False,
        max_use_count=None,
        created=now,
    )


def _default_primary(room: Folder) -> tuple[int, str]:
    if room.room_type == 1:
        return enums.FILL_FORMS, FILL_OUT_TITLE
    return enums.READ, EXTERNAL_TITLE


def create_default_primary_link(portal: Portal, room: Folder) -> Link | None:
    """Public and form-filling rooms are never without their primary link (inferred: it is
    created with the room, and recreated when deleted)."""
    if room.room_type not in (6, 1):
        return None
    access, title = _default_primary(room)
    return portal.store.access.save_link(
        new_link(room, enums.SUBJECT_PRIMARY_LINK, access, title, portal.now())
    )


def _room_for_links(portal: Portal, room_id: int) -> Folder:
    room = portal.store.tree.room(room_id)
    if room is None:
        raise NotFound(FOLDER_NOT_FOUND)
    return room


def _allowed(room: Folder, subject_type: int) -> frozenset[int]:
    assert room.room_type is not None
    roles = enums.ROOM_ROLES[room.room_type]
    return {
        enums.SUBJECT_INVITATION_LINK: roles.invitation_link,
        enums.SUBJECT_EXTERNAL_LINK: roles.external_link,
        enums.SUBJECT_PRIMARY_LINK: roles.primary_link,
    }[subject_type]


def _read_link_type(body: Body) -> int:
    raw = body.raw("linkType")
    if raw is None:
        return 0  # LinkType.Invitation is the default
    try:
        return enums.parse_number_enum("LinkType", raw)
    except enums.EnumParseError:
        where = body.where("linkType")
        raise ValidationFailed(
            {where: [conversion_message(where, "ASC.Files.Core.ApiModels.LinkType")]}
        ) from None


def _read_expiration(body: Body) -> float | None:
    raw = body.string("expirationDate")
    if raw is None or raw == "":
        return None
    parsed = parse_api_datetime(raw)
    if parsed is None:
        where = body.where("expirationDate")
        raise ValidationFailed({where: [conversion_message(where, "ASC.Api.Core.ApiDateTime")]})
    return parsed


async def set_room_link(request: web.Request) -> web.Response:  # noqa: C901  the server's link checks, in its order
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    link_id = body.guid("linkId")
    access = read_access(body)
    link_type = _read_link_type(body)
    title, password = body.string("title"), body.string("password")
    deny_download = body.boolean("denyDownload")
    body.boolean("internal")  # room links are never internal: the server forces false
    expiration = _read_expiration(body)
    max_use = body.integer("maxUseCount")
    errors: dict[str, list[str]] = {}
    if title is not None and len(title) > 255:
        errors["Title"] = [length_message("Title", 255)]
    if password is not None and len(password) > 255:
        errors["Password"] = [length_message("Password", 255)]
    if max_use is not None and not 1 <= max_use <= 1000:
        errors["MaxUseCount"] = [range_message("MaxUseCount", 1, 1000)]
    if errors:
        raise ValidationFailed(errors)
    room = _room_for_links(portal, int(request.match_info["id"]))
    if not rights.can_manage(portal.store, caller, room):
        raise Forbidden()
    if link_type not in (0, 1):
        raise InvalidOperation(INVALID_OPERATION)
    store, now = portal.store.access, portal.now()
    existing = store.link(link_id) if link_id and link_id != EMPTY_GUID else None
    if existing is not None and existing.room_id != room.id:
        existing, link_id = None, None
    subject = (
        existing.subject_type
        if existing
        else (enums.SUBJECT_INVITATION_LINK if link_type == 0 else enums.SUBJECT_EXTERNAL_LINK)
    )
    if access not in _allowed(room, subject):
        raise InvalidOperation(ROLE_NOT_AVAILABLE)
    invitation = subject == enums.SUBJECT_INVITATION_LINK
    with portal.store.transaction():
        if existing is None:
            limit = MAX_INVITATION_LINKS if invitation else MAX_ADDITIONAL_EXTERNAL_LINKS
            if sum(1 for k in store.links(room.id) if k.subject_type == subject) >= limit:
                raise InvalidOperation(max_links_message(limit))
            if access == enums.NONE:
                return success(request, None)  # a share of None creates nothing
            base = new_link(
                room, subject, access, "", now, link_id if link_id != EMPTY_GUID else None
            )
        elif access == enums.NONE:
            store.delete_link(existing.id)
            regenerated = create_default_primary_link(portal, room) if existing.primary else None
            if regenerated is None:
                return success(request, None)
            return success(request, _dto(portal, caller, room, regenerated, now))
        else:
            base = existing
        default_title = (
            INVITATION_TITLE
            if invitation
            else (
                _default_primary(room)[1]
                if subject == enums.SUBJECT_PRIMARY_LINK
                else EXTERNAL_TITLE
            )
        )
        if invitation:
            lifetime = expiration if expiration and expiration > now else now + INVITATION_LIFETIME
        elif subject == enums.SUBJECT_PRIMARY_LINK:
            lifetime = None
        else:  # an expiration in the past is dropped silently for external links
            lifetime = expiration if expiration and expiration > now else None
        saved = store.save_link(
            replace(
                base,
                access=access,
                title=title or default_title,
                expiration=lifetime,
                password=None if invitation else (password.strip() or None if password else None),
                deny_download=False if invitation else deny_download,
                internal=False,
                max_use_count=max_use if invitation else None,
            )
        )
    return success(request, _dto(portal, caller, room, saved, now))


async def get_room_links(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    wanted = query_enum(query_items(request), "type", "Type", "LinkType", enums.LINK_TYPE)
    room = _room_for_links(portal, int(request.match_info["id"]))
    if not rights.can_read(portal.store, caller, room):
        raise Forbidden()
    now = portal.now()
    return success(
        request,
        [
            _dto(portal, caller, room, link, now)
            for link in portal.store.access.links(room.id)
            if wanted is None or link.link_type == wanted
        ],
    )


async def get_primary_link(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    room = _room_for_links(portal, int(request.match_info["id"]))
    if not rights.can_read(portal.store, caller, room):
        raise Forbidden()
    now = portal.now()
    for link in portal.store.access.links(room.id):
        if link.primary:
            return success(request, _dto(portal, caller, room, link, now))
    if not rights.can_manage(portal.store, caller, room):
        raise Forbidden()
    access, _ = _default_primary(room)
    if access not in _allowed(room, enums.SUBJECT_PRIMARY_LINK):
        raise InvalidOperation(ROLE_NOT_AVAILABLE)  # collaboration, VDR and AI rooms
    with portal.store.transaction():
        link = portal.store.access.save_link(
            new_link(room, enums.SUBJECT_PRIMARY_LINK, access, EXTERNAL_TITLE, now)
        )
    return success(request, _dto(portal, caller, room, link, now))


def _dto(portal: Portal, caller: Person, room: Folder, link: Link, now: float) -> dict[str, Any]:
    internal = rights.can_edit_internal(portal.store, caller, room)
    return portal.dtos.link_share(link, now, can_edit_internal=internal)


def add_routes(app: web.Application) -> None:
    app.router.add_put(r"/api/2.0/files/rooms/{id:\d+}/links", set_room_link)
    app.router.add_get(r"/api/2.0/files/rooms/{id:\d+}/links", get_room_links)
    app.router.add_get(r"/api/2.0/files/rooms/{id:\d+}/link", get_primary_link)
