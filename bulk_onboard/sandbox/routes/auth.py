"""POST /api/2.0/authentication: user name + password → session token (docspace-api.md §3)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.bodies import read_body
from bulk_onboard.sandbox.envelopes import (
    AUTH_FAILED,
    AuthenticationFailed,
    Forbidden,
    ValidationFailed,
    api_datetime,
    required_message,
)
from bulk_onboard.sandbox.envelopes import success as envelope
from bulk_onboard.sandbox.middleware import login
from bulk_onboard.sandbox.portal import portal_of

SESSION_SECONDS = 30 * 86_400.0


async def authenticate(request: web.Request) -> web.Response:
    portal = portal_of(request)
    body = await read_body(request)
    user_name, password = body.string("userName"), body.string("password")
    body.string("passwordHash")
    body.boolean("session")
    body.string("culture")
    if not user_name:
        raise ValidationFailed({"UserName": [required_message("UserName")]})
    known = portal.store.people.by_email(user_name)
    if known is not None and known.status == enums.TERMINATED:
        raise Forbidden()
    # A wrong password and an unknown user answer alike. passwordHash (a client-side hash
    # with the portal's salt) is not emulated: log in with `password`.
    person = login(portal, user_name, password) if password else None
    if person is None:
        raise AuthenticationFailed(AUTH_FAILED)
    token = secrets.token_urlsafe(48)
    expires = portal.now() + SESSION_SECONDS
    with portal.store.transaction():
        portal.store.people.add_session(token, person.id, expires)
    response = envelope(
        request, {"token": token, "expires": api_datetime(expires), "sms": False, "tfa": False}
    )
    response.set_cookie("asc_auth_key", token, httponly=True, samesite="Lax")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/2.0/authentication", authenticate)
