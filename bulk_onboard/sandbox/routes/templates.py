"""Rooms from room templates and the version probe (docspace-api.md 11.1, 11.3, 11.4, 11.6):
POST files/rooms/fromTemplate, GET files/rooms/fromTemplate/status and the anonymous
GET settings/version/build; the sandbox-only POST and GET /sandbox/templates make a template
from a room and tell how many jobs ran and how many requests were dropped.

Both template calls validate only the model (required members, color ≤ 6, cover ≤ 50); every
other problem is the job's `error`. The POST answers with the portal's current record, which
is not necessarily the job just asked for. On a portal older than 3.1 no route matches: 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bulk_onboard.sandbox.bodies import Body, read_body
from bulk_onboard.sandbox.envelopes import (
    ValidationFailed,
    conversion_message,
    json_response,
    length_message,
    required_message,
    success,
)
from bulk_onboard.sandbox.portal import Portal, caller_of, portal_of
from bulk_onboard.sandbox.templates import RoomRequest, is_template, make_template

DOCUMENT_SERVER_VERSION = "8.3.0.1"


def _absent(portal: Portal) -> web.Response | None:
    """An older portal has no such route (ASP.NET answers 404 without a body)."""
    return None if portal.templates.has_templates else web.Response(status=404)


def _optional_bool(body: Body, name: str) -> bool | None:
    return body.boolean(name) if body.raw(name) is not None else None


def _tags(body: Body) -> tuple[str, ...]:
    tags: list[str] = []
    for index, item in enumerate(body.array("tags") or []):
        if not isinstance(item, str):
            where = f"{body.where('tags')}[{index}]"
            raise ValidationFailed({where: [conversion_message(where, "System.String")]})
        tags.append(item.strip())
    return tuple(tags)


def _request(body: Body, owner_id: str) -> RoomRequest:
    template_id, title = body.integer("templateId"), body.string("title")
    color, cover = body.string("color"), body.string("cover")
    body.integer("quota")
    errors: dict[str, list[str]] = {}
    if template_id is None:
        errors["TemplateId"] = [required_message("TemplateId")]
    if title is None:
        errors["Title"] = [required_message("Title")]
    if color is not None and len(color) > 6:
        errors["Color"] = [length_message("Color", 6)]
    if cover is not None and len(cover) > 50:
        errors["Cover"] = [length_message("Cover", 50)]
    tags = _tags(body)
    if errors:
        raise ValidationFailed(errors)
    assert template_id is not None and title is not None
    return RoomRequest(
        owner_id,
        template_id,
        title,
        tags,
        indexing=_optional_bool(body, "indexing"),
        deny_download=_optional_bool(body, "denyDownload"),
        private=_optional_bool(body, "private"),
    )


async def room_from_template(request: web.Request) -> web.Response:
    portal, caller = portal_of(request), caller_of(request)
    if (absent := _absent(portal)) is not None:
        return absent
    job_request = _request(await read_body(request), caller.id)
    job = portal.templates.start(job_request, portal.now())
    return success(request, job.dto())


async def room_from_template_status(request: web.Request) -> web.Response:
    portal = portal_of(request)
    if (absent := _absent(portal)) is not None:
        return absent
    job = portal.templates.status(portal.now())
    return success(request, None if job is None else job.dto())


async def build_version(request: web.Request) -> web.Response:
    portal = portal_of(request)
    versions = {
        "docSpace": portal.templates.version,
        "documentServer": DOCUMENT_SERVER_VERSION,
    }
    return success(request, versions)


async def seed_template(request: web.Request) -> web.Response:
    """POST /sandbox/templates {"roomId", "title"}: a template made from the room at once,
    owned by the portal owner (or by `ownerEmail`)."""
    portal = portal_of(request)
    try:
        data: Any = await request.json()
        room = portal.store.tree.room(int(data["roomId"]))
        title = str(data["title"])
    except (ValueError, KeyError, TypeError):
        return json_response({"error": 'send {"roomId": <room id>, "title": "<title>"}'}, 400)
    owner = portal.owner()
    if data.get("ownerEmail"):
        owner = portal.store.people.by_email(str(data["ownerEmail"])) or owner
    if room is None or is_template(room):
        return json_response({"error": f"no room {data['roomId']}"}, 404)
    with portal.store.transaction():
        template = make_template(portal.store, room, title, owner.id, portal.now())
    return json_response({"id": template.id, "title": template.title})


async def template_jobs(request: web.Request) -> web.Response:
    """GET /sandbox/templates: jobs run, requests dropped, rooms made, the record."""
    jobs = portal_of(request).templates
    record = jobs.record
    return json_response(
        {
            "version": jobs.version,
            "started": jobs.started,
            "dropped": jobs.dropped,
            "rooms": list(jobs.rooms),
            "record": None if record is None else record.dto(),
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/2.0/files/rooms/fromTemplate", room_from_template)
    app.router.add_get("/api/2.0/files/rooms/fromTemplate/status", room_from_template_status)
    app.router.add_get("/api/2.0/settings/version/build", build_version)
    app.router.add_post("/sandbox/templates", seed_template)
    app.router.add_get("/sandbox/templates", template_jobs)
