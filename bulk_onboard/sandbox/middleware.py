"""The path every /api/ request takes, in the server's order: identify the caller, rate
limit by caller (else client IP), latency, injected faults, authorization, the handler,
exception → envelope. /sandbox/ and /s/ requests bypass all of it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bulk_onboard.sandbox import enums, envelopes, faults
from bulk_onboard.sandbox.limits import Rejection
from bulk_onboard.sandbox.portal import CALLER, Portal, portal_of
from bulk_onboard.sandbox.rights import LINK_VISITOR_SEQ
from bulk_onboard.sandbox.routes import links
from bulk_onboard.sandbox.store import ARCHIVE_ROOT_ID, Person

log = logging.getLogger("bulk_onboard.sandbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ANONYMOUS = frozenset(
    {
        ("POST", "/api/2.0/authentication"),
        ("GET", "/api/2.0/files/fileops"),
        ("GET", "/api/2.0/settings/version/build"),
    }
)
# Endpoints under the `sensitive_api` policy (docspace-api.md 7, 10.5).
SENSITIVE_ROUTES = frozenset({("PUT", "/api/2.0/people/invite")})
# Routes an anonymous visitor of a shared link may call with its Request-Token header.
LINK_VISITOR_ROUTES = frozenset(
    {("GET", "/api/2.0/files/{folderId}"), ("GET", "/api/2.0/files/rooms/{id}")}
)
CLIENT_GONE = 499  # counted under this status; nobody is left to receive it


def route_template(request: web.Request) -> str:
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return resource.canonical if resource is not None else "<unmatched>"


def login(portal: Portal, user_name: str, password: str) -> Person | None:
    """The person with this e-mail (or user name) and password, if active."""
    person = portal.store.people.by_email(user_name)
    if person is None:
        person = next((p for p in portal.store.people.all() if p.user_name == user_name), None)
    if person is None or person.password is None or person.status != enums.ACTIVE:
        return None
    return person if hmac.compare_digest(person.password, password) else None


def authenticate(portal: Portal, request: web.Request) -> Person | None:
    """The caller, by the scheme the Authorization header selects (docspace-api.md §3)."""
    header = request.headers.get("Authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    rest = rest.strip()
    if scheme.lower() == "bearer" and rest.startswith("sk-"):
        valid = hmac.compare_digest(rest.encode(), portal.seed.token.encode())
        return portal.owner() if valid else None
    if scheme.lower() == "basic":
        try:
            user_name, _, password = base64.b64decode(rest).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return login(portal, user_name, password)
    if scheme.lower() == "bearer" and rest.count(".") == 2:
        return None  # a JWT: no OAuth2/OIDC provider is configured on this portal
    token = request.cookies.get("asc_auth_key") or (rest if scheme.lower() == "bearer" else header)
    if not token:
        return None
    person = portal.store.people.session_user(token, portal.now())
    return person if person is not None and person.status == enums.ACTIVE else None


def link_visitor(portal: Portal, request: web.Request) -> Person | None:
    """A request without credentials that carries a shared link's Request-Token acts as an
    anonymous visitor of that link (ExternalShare): it reads the link's room with the link's
    access. Expired or password-protected links and archived rooms do not open."""
    token = request.headers.get("Request-Token", "").strip()
    if not token or (request.method, route_template(request)) not in LINK_VISITOR_ROUTES:
        return None
    link = portal.store.access.link_by_request_token(token)
    if link is None or link.subject_type == enums.SUBJECT_INVITATION_LINK or link.password:
        return None
    room = portal.store.tree.folder(link.room_id)
    if link.expiration is not None and link.expiration <= portal.now():
        return None
    if room is None or room.parent_id == ARCHIVE_ROOT_ID:
        return None
    return Person(
        seq=LINK_VISITOR_SEQ,
        id=link.id,
        email="",
        first_name="Anonymous",
        last_name="",
        user_name="",
        type=enums.GUEST,
        status=enums.ACTIVE,
        activation=enums.ACTIVATED,
        is_owner=False,
        password=None,
        culture=None,
        created=link.created,
        created_by=None,
    )


class Dropped(web.Response):
    """Stands for 'no answer': the connection is already closed when this is returned."""


def dropped(request: web.Request) -> web.Response:
    """Close the connection without an answer; the returned response is never delivered."""
    if request.transport is not None:
        request.transport.abort()
    portal_of(request).stats.dropped += 1
    return Dropped(status=502)


def injected(request: web.Request, fault: faults.Fault) -> web.Response:
    if fault.kind in (faults.DROP, faults.AMBIGUOUS_DROP):
        return dropped(request)
    if fault.kind == faults.TOO_MANY:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return web.Response(status=429, headers=headers)
    status = 502 if fault.kind == faults.AMBIGUOUS_502 else fault.status
    if status == 500:
        return envelopes.error_response(envelopes.ServerFault("Internal Server Error"))
    return web.Response(status=status)


async def applied_late(
    portal: Portal, handler: Handler, request: web.Request, fault: faults.Fault
) -> web.Response:
    """The write runs `fault.ms` after the client gave up on it (faults.py: late_drop,
    late_timeout); the client never gets its answer. The body is read first, as the server
    has it before the action runs."""
    await request.read()

    async def apply() -> None:
        await asyncio.sleep(fault.ms / 1000)
        await call_handler(handler, request)
        portal.stats.applied_late += 1

    task = asyncio.get_running_loop().create_task(apply())
    portal.late_writes.add(task)
    task.add_done_callback(portal.late_writes.discard)
    if fault.kind == faults.LATE_TIMEOUT:
        await asyncio.shield(task)  # no answer until the write is in; the client timed out
    return dropped(request)


def client_gone(request: web.Request) -> web.Response:
    """The client closed the connection before its request was read (it was killed, or gave
    up waiting): a one-line note, not a sandbox failure. The answer reaches nobody."""
    log.info("client went away during %s %s", request.method, request.path)
    return web.Response(status=CLIENT_GONE)


async def call_handler(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except envelopes.ValidationFailed as failure:
        return envelopes.validation_response(request, failure)
    except envelopes.ApiError as error:
        return envelopes.error_response(error)
    except envelopes.Unauthenticated:
        return web.Response(status=401)
    except ConnectionResetError:
        return client_gone(request)
    except web.HTTPException as http:  # unmatched route / method: ASP.NET answers no body
        return web.Response(
            status=http.status,
            headers={k: v for k, v in http.headers.items() if k.lower() == "allow"},
        )
    except Exception as exc:  # anything else is a 500 with the exception text
        log.exception("sandbox handler failed")
        return envelopes.error_response(envelopes.ServerFault(str(exc) or type(exc).__name__))


@web.middleware
async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        try:
            return await handler(request)
        except ConnectionResetError:
            return client_gone(request)
    portal = portal_of(request)
    stats = portal.stats
    stats.total += 1
    stats.by_route[f"{request.method} {route_template(request)}"] += 1
    response = await _guarded(portal, request, handler)
    stats.by_status["dropped" if isinstance(response, Dropped) else str(response.status)] += 1
    return response


async def _guarded(portal: Portal, request: web.Request, handler: Handler) -> web.StreamResponse:
    caller = authenticate(portal, request)
    if caller is None and not (
        request.headers.get("Authorization") or request.cookies.get("asc_auth_key")
    ):
        caller = link_visitor(portal, request)
    partition = f"user:{caller.id}" if caller else f"ip:{request.remote}"
    lease = portal.limiter.acquire(partition, request.method)
    if isinstance(lease, Rejection):
        return web.Response(status=429, headers=lease.headers)
    if (request.method, route_template(request)) in SENSITIVE_ROUTES:
        refused = portal.limiter.sensitive(partition, request.path.lower())
        if refused is not None:
            lease.release()
            return web.Response(status=429, headers=refused.headers)
    try:
        fault = portal.faults.choose(request.method, request.path)
        held = fault.ms / 1000 if fault is not None and fault.kind not in faults.LATE else 0.0
        delay = portal.faults.delay_seconds() + held
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is not None and fault.kind in faults.BEFORE:
            return injected(request, fault)
        if (
            caller is None
            and (request.method, route_template(request)) not in ANONYMOUS
            and request.match_info.http_exception is None
        ):
            portal.stats.unauthenticated += 1
            return web.Response(status=401)
        if caller is not None:
            request[CALLER] = caller
        portal.operations.settle(portal.store, portal.now())
        # a room made from a template gets its primary link as POST files/rooms' does
        made = lambda room: links.create_default_primary_link(portal, room)  # noqa: E731
        portal.templates.settle(portal.store, portal.now(), made)
        if fault is not None and fault.kind in faults.LATE:
            return await applied_late(portal, handler, request, fault)
        response = await call_handler(handler, request)
        if fault is not None and fault.kind in faults.AFTER:
            return injected(request, fault)
        return response
    finally:
        lease.release()
