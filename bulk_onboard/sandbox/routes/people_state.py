"""People state (docspace-api.md 10.5): PUT people/type/{type}, PUT people/status/{status},
DELETE people/{userid} and PUT people/invite (resend an invitation).

Mail: a changed type sends "type changed" to that user; a resend sends the invitation
(activation Pending) or the activation instructions (NotActivated) again; disabling,
enabling and deleting send nothing.
"""

from __future__ import annotations

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import Body, parse_guid, read_body
from bulk_onboard.sandbox.envelopes import (
    USER_NOT_FOUND,
    ArgumentNull,
    BadArgument,
    Forbidden,
    InvalidOperation,
    NotFound,
    ValidationFailed,
    conversion_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.people import confirm_link
from bulk_onboard.sandbox.store import Person
from bulk_onboard.sandbox.store.outbox import ACTIVATION, INVITATION, TYPE_CHANGED

NULL_SOURCE = "Value cannot be null. (Parameter 'source')"
NOT_SUSPENDED = "The user is not suspended"
TYPE_NAMES = {v: k for k, v in enums.EMPLOYEE_TYPE.items()}


def _user_ids(body: Body) -> list[str]:
    items = body.array("userIds")
    if items is None:
        raise ArgumentNull(NULL_SOURCE)
    ids: list[str] = []
    for index, item in enumerate(items):
        parsed = parse_guid(item) if isinstance(item, str) else None
        if parsed is None:
            where = f"{body.where('userIds')}[{index}]"
            raise ValidationFailed({where: [conversion_message(where, "System.Guid")]})
        ids.append(parsed)
    return ids


def _route_enum(request: web.Request, name: str, enum_name: str, table: dict[str, int]) -> int:
    text = request.match_info[name]
    try:
        return enums.parse_query_enum(enum_name, table, text)
    except enums.EnumParseError:
        raise ValidationFailed({name: [f"The value '{text}' is not valid."]}) from None


def _mail_type_changed(portal: Portal, person: Person, new_type: int) -> None:
    portal.store.outbox.send(
        to=person.email,
        kind=TYPE_CHANGED,
        user_id=person.id,
        subject=f"Your user type was changed to {TYPE_NAMES.get(new_type, new_type)}",
        link=f"{portal.url}/accounts/view/{person.user_name}",
        culture=person.culture,
        now=portal.now(),
    )


def raise_type(portal: Portal, caller: Person, target: Person, new_type: int) -> bool:
    """Change a type through UpdateUserTypeAsync; False (nothing done) when it refuses."""
    if not rights.may_change_type(caller, target, new_type):
        return False
    portal.store.people.set_type(target.id, new_type)
    _mail_type_changed(portal, target, new_type)
    return True


async def update_user_type(request: web.Request) -> web.Response:
    """User by user; a refusal is 403 with the earlier users already changed."""
    portal, caller = portal_of(request), caller_of(request)
    new_type = _route_enum(request, "type", "EmployeeType", enums.EMPLOYEE_TYPE)
    body = await read_body(request)
    ids = _user_ids(body)
    body.boolean("resendAll")
    if not (caller.is_admin or (caller.type == enums.ROOM_ADMIN and new_type == enums.USER)):
        raise Forbidden()
    changed: list[Person] = []
    for user_id in ids:
        target = portal.store.people.get(user_id)
        if target is None:
            continue  # LostUser: the change "succeeds" on nobody (inferred)
        with portal.store.transaction():
            if (
                target.status == enums.TERMINATED
                or not rights.can_view_user(portal.store, caller, target)
                or not raise_type(portal, caller, target, new_type)
            ):
                raise Forbidden()
        changed.append(target)
    people = [portal.store.people.get(p.id) for p in changed]
    return success(request, [portal.dtos.employee_full(p) for p in people if p is not None])


async def update_user_status(request: web.Request) -> web.Response:
    """1 Active or 2 Terminated; every user is checked before anything changes."""
    portal, caller = portal_of(request), caller_of(request)
    status = _route_enum(request, "status", "EmployeeStatus", enums.EMPLOYEE_STATUS)
    body = await read_body(request)
    ids = _user_ids(body)
    if status not in (enums.ACTIVE, enums.TERMINATED):
        raise BadArgument("Incorrect status")
    if not caller.is_admin:
        raise Forbidden()
    targets: list[Person] = []
    for user_id in ids:
        target = portal.store.people.get(user_id)
        if (
            target is None
            or target.is_owner
            or target.id == caller.id
            or (target.type == enums.DOCSPACE_ADMIN and not caller.is_owner)
        ):
            raise Forbidden()
        targets.append(target)
    with portal.store.transaction():
        for target in targets:
            if status == enums.TERMINATED:
                portal.store.people.set_status(target.id, enums.TERMINATED)
                portal.store.people.end_sessions(target.id)
            elif target.status == enums.TERMINATED:
                invitee = not target.first_name and not target.last_name
                pending = invitee and target.activation == enums.ACTIVATION_PENDING
                portal.store.people.set_status(
                    target.id, enums.PENDING if pending else enums.ACTIVE
                )
    people = [portal.store.people.get(t.id) for t in targets]
    return success(request, [portal.dtos.employee_full(p) for p in people if p is not None])


async def delete_member(request: web.Request) -> web.Response:
    """Only a disabled user; the rooms they own pass to the caller (no mail)."""
    portal, caller = portal_of(request), caller_of(request)
    key = request.match_info["userid"]
    if not caller.is_admin:
        raise Forbidden()
    user_id = parse_guid(key)
    target = portal.store.people.get(user_id) if user_id else None
    target = target or portal.store.people.by_user_name(key)
    if target is None:
        raise NotFound(USER_NOT_FOUND)
    if target.is_owner:
        raise Forbidden()
    if target.status != enums.TERMINATED:
        raise InvalidOperation(NOT_SUSPENDED)
    if target.type == enums.DOCSPACE_ADMIN and not caller.is_owner:
        raise Forbidden()
    with portal.store.transaction():
        portal.store.people.delete(target.id)
        portal.store.tree.reassign(target.id, caller.id)
    return success(request, portal.dtos.employee_full(target))


def _resend(portal: Portal, person: Person) -> None:
    pending = person.activation == enums.ACTIVATION_PENDING
    portal.store.outbox.send(
        to=person.email,
        kind=INVITATION if pending else ACTIVATION,
        user_id=person.id,
        subject="Join the portal" if pending else "Confirm your e-mail address",
        link=confirm_link(portal, "LinkInvite" if pending else "Activation"),
        culture=person.culture,
        now=portal.now(),
    )


async def resend_invites(request: web.Request) -> web.Response:
    """Policy sensitive_api (5 per 15 min per user and path). Activated and disabled people
    are skipped silently, as are guests a room admin is not related to."""
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    resend_all = body.boolean("resendAll")
    ids = [] if resend_all and body.raw("userIds") is None else _user_ids(body)
    if resend_all and not caller.is_admin:
        raise Forbidden()
    people = portal.store.people
    if resend_all:
        wanted = [p for p in people.all() if p.activation == enums.ACTIVATION_PENDING]
    else:
        wanted = [p for p in (people.get(i) for i in ids) if p is not None]
    visible = [p for p in wanted if rights.can_view_user(portal.store, caller, p)]
    limited = caller.type in (enums.USER, enums.GUEST) and not caller.is_admin
    with portal.store.transaction():
        for person in visible:
            if limited and person.id != caller.id:
                continue
            if person.status == enums.TERMINATED or person.activation == enums.ACTIVATED:
                continue
            _resend(portal, person)
    return success(request, [portal.dtos.employee_full(p) for p in visible])


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/2.0/people/type/{type}", update_user_type)
    app.router.add_put("/api/2.0/people/status/{status}", update_user_status)
    app.router.add_put("/api/2.0/people/invite", resend_invites)
    app.router.add_delete("/api/2.0/people/{userid}", delete_member)
