"""People: POST people, POST people/active, POST people/invite, GET people/email|exists|filter|@self
(docspace-api.md section 5.6)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums, rights
from bulk_onboard.sandbox.bodies import Body, read_body
from bulk_onboard.sandbox.envelopes import (
    EMAIL_TAKEN,
    INCORRECT_EMAIL,
    INCORRECT_NAME,
    USER_NOT_FOUND,
    ArgumentNull,
    BadArgument,
    Forbidden,
    NotFound,
    ValidationFailed,
    conversion_message,
    length_message,
    required_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.routes.query import paging, query_enum, query_enums, query_items
from bulk_onboard.sandbox.store import Person
from bulk_onboard.sandbox.store.outbox import ACTIVATION, INVITATION

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
EMPLOYEE_TYPE_CLR = "ASC.Core.Users.EmployeeType"


def valid_email(email: str) -> bool:
    local = email.split("@", 1)[0]
    return bool(EMAIL_RE.match(email)) and not local.startswith(".") and ".." not in local


def valid_name(name: str) -> bool:
    """The portal's default name rule: letters, marks, apostrophe, space, hyphen."""
    return (
        bool(name)
        and all(unicodedata.category(c)[0] in "LM" or c in "' -" for c in name)
        and bool(name.strip())
    )


def _employee_type(body: Body, name: str = "type") -> int:
    raw = body.raw(name)
    if raw is None:
        return enums.ALL  # MemberRequestDto.Type defaults to All
    try:
        value = enums.parse_string_enum("EmployeeType", enums.EMPLOYEE_TYPE, raw)
    except enums.EnumParseError:
        value = -1
    if value not in enums.EMPLOYEE_TYPE.values():
        where = body.where(name)
        raise ValidationFailed({where: [conversion_message(where, EMPLOYEE_TYPE_CLR)]})
    return value


def stored_type(requested: int) -> int:
    """A person created with All (0) gets no group and is reported as RoomAdmin (inferred)."""
    return enums.ROOM_ADMIN if requested == enums.ALL else requested


def confirm_link(portal: Portal, kind: str) -> str:
    return f"{portal.url}/confirm/{kind}?key={secrets.token_urlsafe(16)}"


@dataclass(frozen=True, slots=True)
class _NewMember:
    email: str
    first: str
    last: str
    requested: int
    password: str | None
    culture: str | None


async def _new_member(
    request: web.Request, may_create: Callable[[Person, int], bool]
) -> _NewMember:
    """MemberRequestDto read and checked as POST people and people/active check it."""
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    email, first, last = body.string("email"), body.string("firstName"), body.string("lastName")
    requested = _employee_type(body)
    password, culture = body.string("password"), body.string("cultureName")
    for flag in ("isUser", "spam", "fromInviteLink"):
        body.boolean(flag)
    errors = {
        field: [length_message(field, 255)]
        for field, value in (("Email", email), ("FirstName", first), ("LastName", last))
        if value is not None and len(value) > 255
    }
    if errors:
        raise ValidationFailed(errors)
    if not may_create(caller, requested):
        raise Forbidden()
    if email is None or not valid_email(email.strip()):
        raise BadArgument(INCORRECT_EMAIL)
    if not valid_name((first or "").strip()) or not valid_name((last or "").strip()):
        raise BadArgument(INCORRECT_NAME)
    assert first is not None and last is not None
    if portal.store.people.by_email(email) is not None:
        raise BadArgument(EMAIL_TAKEN)
    return _NewMember(email.strip(), first.strip(), last.strip(), requested, password, culture)


def _save_pending(portal: Portal, created_by: str, new: _NewMember, culture: str | None) -> Person:
    """The new person saved Active with activation Pending (no password: a random one)."""
    return portal.store.people.add(
        email=new.email,
        first_name=new.first,
        last_name=new.last,
        type=stored_type(new.requested),
        status=enums.ACTIVE,
        activation=enums.ACTIVATION_PENDING,
        now=portal.now(),
        created_by=created_by,
        password=new.password or secrets.token_urlsafe(18),
        culture=culture,
    )


async def add_member(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    new = await _new_member(request, rights.may_create_type)
    with portal.store.transaction():
        # No password: a random one. Either way the address still has to be confirmed,
        # so the account is Active with activation Pending and an activation mail goes out.
        person = _save_pending(portal, caller.id, new, new.culture)
        portal.store.outbox.send(
            to=person.email,
            kind=ACTIVATION,
            user_id=person.id,
            subject="Confirm your e-mail address",
            link=confirm_link(portal, "Activation"),
            culture=new.culture,
            now=portal.now(),
        )
    return success(request, portal.dtos.employee_full(person))


async def add_activated_member(request: web.Request) -> web.Response:
    """POST people/active (UserController.AddMemberAsActivated, hidden from the API docs): a
    person with names, Guest allowed (to admins and room admins: Action_AddRemoveUser), saved
    Active with activation Pending (AddUserAsync without afterInvite) and mailed nothing
    (notify false); `cultureName` is not read."""
    portal, caller = portal_of(request), caller_of(request)
    new = await _new_member(request, rights.may_create_activated)
    with portal.store.transaction():
        person = _save_pending(portal, caller.id, new, None)
    return success(request, portal.dtos.employee_full(person))


async def invite_users(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    body = await read_body(request)
    items = body.objects("invitations")
    culture = body.string("culture")
    if items is None:
        raise ValidationFailed({"Invitations": [required_message("Invitations")]})
    wanted: list[tuple[str, int]] = []
    for item in items:
        email = item.string("email")
        wanted.append(((email or "").strip(), _employee_type(item)))
    if caller.type in (enums.USER, enums.GUEST) and not caller.is_owner:
        raise Forbidden()
    for email, requested in wanted:  # in order: an error stops the batch, earlier ones stay
        with portal.store.transaction():
            _invite_one(portal, caller, email, requested, culture)
    # Every activation-pending user the caller can see, whoever invited them (docspace-api.md
    # 10.5): the answer grows with the portal, so its parts are built once per person.
    store, dtos = portal.store, portal.dtos
    answer = [
        dtos.employee_brief(user_id, name, user_name)
        for user_id, name, user_name, user_type, created_by in store.people.brief_with_activation(
            enums.ACTIVATION_PENDING
        )
        if rights.can_view(store, caller, user_id, user_type, created_by)
    ]
    return success(request, answer, pruned=True)


def _invite_one(
    portal: Portal, caller: Person, email: str, requested: int, culture: str | None
) -> None:
    """docspace-api.md 10.5: an existing address is never mailed; it becomes related to the
    caller and its type may be raised (silently skipped when UpdateUserTypeAsync refuses)."""
    if not rights.may_create_type(caller, requested):
        raise Forbidden()
    if not valid_email(email):
        raise BadArgument(INCORRECT_EMAIL)
    existing = portal.store.people.by_email(email)
    if existing is not None:
        if existing.status == enums.TERMINATED:
            raise BadArgument(f"User disabled: {email}")
        # EmployeeTypeComparer: All ranks below Guest, so "All" never raises anyone.
        if enums.TYPE_RANK.get(requested, -1) > enums.TYPE_RANK.get(existing.type, 0):
            if not rights.may_change_type(caller, existing, requested):
                return  # UpdateUserTypeAsync refused: skipped, no relation either
            portal.store.people.set_type(existing.id, requested)
        portal.store.people.relate(caller.id, existing.id)
        return
    person = portal.store.people.add(
        email=email,
        first_name="",
        last_name="",
        type=stored_type(requested),
        status=enums.PENDING,
        activation=enums.ACTIVATION_PENDING,
        now=portal.now(),
        created_by=caller.id,
        culture=culture,
    )
    portal.store.outbox.send(
        to=person.email,
        kind=INVITATION,
        user_id=person.id,
        subject="Join the portal",
        link=confirm_link(portal, "LinkInvite"),
        culture=culture,
        now=portal.now(),
    )


async def get_by_email(request: web.Request) -> web.Response:
    portal = portal_of(request)
    email = query_items(request).get("email", "").strip()
    if not email:
        raise ArgumentNull("Value cannot be null. (Parameter 'email')")
    person = portal.store.people.by_email(email)
    if person is None:
        raise NotFound(USER_NOT_FOUND)
    # A guest a room admin may not see is a 403, not the profile (docspace-api.md 10.7;
    # UserController.GetProfileByEmail: CanUserViewAnotherUserAsync → SecurityException).
    if not rights.can_view_user(portal.store, caller_of(request), person):
        raise Forbidden()
    return success(request, portal.dtos.employee_full(person))


async def user_exists(request: web.Request) -> web.Response:
    portal = portal_of(request)
    email = query_items(request).get("email", "").strip()
    person = portal.store.people.by_email(email) if email else None
    return success(
        request, {"exists": person is not None, "status": person.status if person else None}
    )


def _filter_match(person: Person, text: str) -> bool:
    haystack = (person.first_name.lower(), person.last_name.lower(), person.email.lower())
    return all(any(term in field for field in haystack) for term in text.lower().split())


def _sort_key(sort_by: str) -> Any:
    key = sort_by.strip().lower()
    if key == "lastname":
        return lambda p: (p.last_name.lower(), p.first_name.lower(), p.seq)
    if key == "email":
        return lambda p: (p.email.lower(), p.seq)
    if key in ("registrationdate", "created"):
        return lambda p: (p.created, p.seq)
    return lambda p: (p.first_name.lower(), p.last_name.lower(), p.seq)  # firstname


async def filter_people(request: web.Request) -> web.Response:
    portal = portal_of(request)
    items = query_items(request)
    page = paging(items)
    status = query_enum(
        items, "employeeStatus", "EmployeeStatus", "EmployeeStatus", enums.EMPLOYEE_STATUS
    )
    activation = query_enum(
        items,
        "activationStatus",
        "ActivationStatus",
        "EmployeeActivationStatus",
        enums.ACTIVATION_STATUS,
    )
    types = query_enums(
        request, "employeeType", "EmployeeType", "EmployeeType", enums.EMPLOYEE_TYPE
    )
    types += query_enums(
        request, "employeeTypes", "EmployeeTypes", "EmployeeType", enums.EMPLOYEE_TYPE
    )
    text = items.get("filtervalue", "").strip()
    # Terminated (disabled) people are listed to DocSpace admins only: without employeeStatus
    # they are left out for everyone else, and employeeStatus=Terminated finds nobody
    # (server common/ASC.Core.Common/Data/DbUserService.cs, GetUsers: `!filter.IsDocSpaceAdmin`).
    docspace_admin = caller_of(request).is_admin
    found = [
        p
        for p in portal.store.people.all()
        if (status is None or p.status & status)
        and (docspace_admin or p.status != enums.TERMINATED)
        and (
            activation is None
            or (p.activation == activation if activation == 0 else p.activation & activation)
        )
        and (not types or (p.type if not p.is_owner else enums.DOCSPACE_ADMIN) in types)
        and (not text or _filter_match(p, text))
    ]
    descending = items.get("sortorder", "").strip().lower() in ("descending", "1", "desc")
    found.sort(key=_sort_key(items.get("sortby", "")), reverse=descending)
    shown = page.take(found)
    return success(
        request, [portal.dtos.employee_full(p) for p in shown], count=len(shown), total=len(found)
    )


async def get_self(request: web.Request) -> web.Response:
    return success(request, portal_of(request).dtos.employee_full(caller_of(request)))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/2.0/people", add_member)
    app.router.add_post("/api/2.0/people/active", add_activated_member)
    app.router.add_post("/api/2.0/people/invite", invite_users)
    app.router.add_get("/api/2.0/people/email", get_by_email)
    app.router.add_get("/api/2.0/people/exists", user_exists)
    app.router.add_get("/api/2.0/people/filter", filter_people)
    app.router.add_get("/api/2.0/people/@self", get_self)
