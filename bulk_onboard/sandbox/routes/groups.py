"""Groups (docspace-api.md 12.1, 12.3): GET/POST group, GET/DELETE group/{id}, PUT and
DELETE group/{id}/members.

As the server's GroupsController has it: only DocSpace admins (the owner too) create, delete
and change groups (`Action_EditGroups` + `Action_AddRemoveUser`); DocSpace admins and room
admins read them (`Action_ReadGroups`). Names are not trimmed and not unique. POST refuses
the whole group when a member or the manager is unknown, disabled or a guest (400 "The user
could not be found"); PUT group/{id}/members skips such ids silently, so a client compares
the answer's members with what it sent. Deleting a group removes its room shares. No mail
anywhere.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.bodies import EMPTY_GUID, Body, read_body
from bulk_onboard.sandbox.envelopes import (
    USER_NOT_FOUND,
    ArgumentNull,
    BadArgument,
    Forbidden,
    NotFound,
    ValidationFailed,
    conversion_message,
    length_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.query import paging, query_bool, query_items, sort_descending
from bulk_onboard.sandbox.store import Person
from bulk_onboard.sandbox.store.groups import Group

GROUP_NOT_FOUND = "The group could not be found"
NAME_MAX = 128
WHITESPACE_NAME = (
    "The value cannot be an empty string or composed entirely of whitespace. "
    "(Parameter 'GroupName')"
)
GUID = r"{id:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}}"


def _may_edit(caller: Person) -> None:
    """Action_EditGroups and Action_AddRemoveUser without a target: DocSpace admins only."""
    if not caller.is_admin:
        raise Forbidden()


def _may_read(caller: Person) -> None:
    """Action_ReadGroups: DocSpace admins and room admins (a User is denied by the ACL)."""
    if not (caller.is_admin or caller.type == enums.ROOM_ADMIN):
        raise Forbidden()


def _group(portal: Portal, request: web.Request) -> Group:
    group = portal.store.groups.get(request.match_info["id"].lower())
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


def valid_member(portal: Portal, user_id: str) -> bool:
    """ValidateUserAsync: an existing user, not disabled, not a guest."""
    person = portal.store.people.get(user_id)
    return (
        user_id != EMPTY_GUID
        and person is not None
        and person.status != enums.TERMINATED
        and person.type != enums.GUEST
    )


def _ids(body: Body, name: str) -> list[str]:
    items = body.array(name)
    ids: list[str] = []
    for index, item in enumerate(items or []):
        parsed = Body({"id": item}, f"{body.where(name)}[{index}]").guid("id")
        if parsed is None:
            where = f"{body.where(name)}[{index}]"
            raise ValidationFailed({where: [conversion_message(where, "System.Guid")]})
        ids.append(parsed)
    return ids


def _name(body: Body) -> str:
    name = body.string("groupName")
    if name is None:
        raise ArgumentNull("Value cannot be null. (Parameter 'GroupName')")
    if not 1 <= len(name) <= NAME_MAX:  # [StringLength(128, MinimumLength = 1)]
        message = (
            f"The field GroupName must be a string with a minimum length of 1 and a maximum "
            f"length of {NAME_MAX}."
            if name == ""
            else length_message("GroupName", NAME_MAX)
        )
        raise ValidationFailed({"GroupName": [message]})
    if not name.strip():
        raise BadArgument(WHITESPACE_NAME)
    return name


async def get_groups(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    _may_read(caller)
    items = query_items(request)
    page = paging(items)
    text = items.get("filtervalue", "").strip().lower()
    user_id = items.get("userid", "").lower()
    manager = query_bool(items, "manager", "Manager") or False
    groups = portal.store.groups
    found = [g for g in groups.all() if text in g.name.lower()]
    if user_id:
        found = [
            g
            for g in found
            if (g.manager == user_id if manager else user_id in groups.members(g.id))
        ]
    if sort_descending(items):
        found.reverse()
    total = len(found)
    listed = [portal.dtos.group(g, include_members=False) for g in page.take(found)]
    count = min(max(total - page.start, 0), page.count)
    return success(request, listed, count=count, total=total)


async def get_group(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    _may_read(caller)
    include = query_bool(query_items(request), "includemembers", "IncludeMembers")
    group = _group(portal, request)
    return success(request, portal.dtos.group(group, include_members=include is not False))


async def add_group(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    _may_edit(caller)
    body = await read_body(request)
    name = _name(body)
    manager = body.guid("groupManager") or EMPTY_GUID
    members = _ids(body, "members")
    wanted = dict.fromkeys([*members, *([manager] if manager != EMPTY_GUID else [])])
    if any(not valid_member(portal, user_id) for user_id in wanted):
        raise BadArgument(USER_NOT_FOUND)  # nothing is created
    with portal.store.transaction():
        group = portal.store.groups.add(name, portal.now())
        if manager != EMPTY_GUID:
            portal.store.groups.set_manager(group.id, manager)
        for user_id in wanted:
            portal.store.groups.add_member(group.id, user_id)
    saved = portal.store.groups.get(group.id)
    assert saved is not None
    return success(request, portal.dtos.group(saved, include_members=True))


async def add_members(request: web.Request) -> web.Response:
    """PUT group/{id}/members: unknown, disabled, guest and empty ids skipped silently."""
    portal, caller = portal_of(request), caller_of(request)
    _may_edit(caller)
    group = _group(portal, request)
    body = await read_body(request)
    with portal.store.transaction():
        for user_id in _ids(body, "members"):
            if valid_member(portal, user_id):
                portal.store.groups.add_member(group.id, user_id)
    return success(request, portal.dtos.group(group, include_members=True))


async def remove_members(request: web.Request) -> web.Response:
    """DELETE group/{id}/members (a body on DELETE): unknown ids skipped."""
    portal, caller = portal_of(request), caller_of(request)
    _may_edit(caller)
    group = _group(portal, request)
    body = await read_body(request)
    with portal.store.transaction():
        for user_id in _ids(body, "members"):
            portal.store.groups.remove_member(group.id, user_id)
    saved = portal.store.groups.get(group.id)
    assert saved is not None
    return success(request, portal.dtos.group(saved, include_members=True))


async def delete_group(request: web.Request) -> web.Response:
    """DELETE group/{id}: the group, its members and every room share of it; the server
    answers NoContent (204, no body: the result filter wraps object and empty results only)."""
    portal, caller = portal_of(request), caller_of(request)
    _may_edit(caller)
    group = _group(portal, request)
    with portal.store.transaction():
        portal.store.groups.delete(group.id)
        portal.store.access.remove_subject(group.id)
    return web.Response(status=204)


def group_of(portal: Portal, subject_id: str) -> Group | None:
    """The live group a share entry's id names (SetAceObjectAsync's GetGroupInfoAsync)."""
    return portal.store.groups.get(subject_id)


def group_shares(portal: Portal, room_id: int, can_edit: bool, text: str) -> list[dict[str, Any]]:
    """The room's group records as GET rooms/{id}/share lists them."""
    shares: list[dict[str, Any]] = []
    for share in portal.store.access.shares(room_id):
        group = portal.store.groups.get(share.user_id)
        if group is not None and (not text or text in group.name.lower()):
            shares.append(portal.dtos.group_share(group, share.access, can_edit=can_edit))
    return shares


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/2.0/group", get_groups)
    app.router.add_post("/api/2.0/group", add_group)
    app.router.add_get(f"/api/2.0/group/{GUID}", get_group)
    app.router.add_delete(f"/api/2.0/group/{GUID}", delete_group)
    app.router.add_put(f"/api/2.0/group/{GUID}/members", add_members)
    app.router.add_delete(f"/api/2.0/group/{GUID}/members", remove_members)
