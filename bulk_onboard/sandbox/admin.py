"""Sandbox-only endpoints under /sandbox/ (no auth, not rate limited, not faulted).

GET  /sandbox/state     rooms, folders, files, people, shares, links
GET  /sandbox/outbox    every mail the portal would have sent (?to=, ?kind=)
GET  /sandbox/audit     duplicates and counts
GET  /sandbox/requests  API request counts by route/status, 429s by limiter, faults injected
DELETE /sandbox/requests  zero those counters
POST /sandbox/reset     back to the seeded portal (same owner, token, password)
GET|POST /sandbox/faults  fault rates and the fault script
GET|POST /sandbox/limits  rate-limit numbers at runtime
POST /sandbox/people    add pre-existing people directly, without mail
GET  /s/{code}          a room link's landing page
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.faults import FaultSpecError
from bulk_onboard.sandbox.portal import Portal, portal_of
from bulk_onboard.sandbox.routes.people import stored_type, valid_email
from bulk_onboard.sandbox.store.outbox import ACTIVATION, INVITATION, ROOM_INVITATION
from bulk_onboard.sandbox.wire import api_datetime, json_response


class AdminError(Exception):
    pass


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdminError(f"body is not JSON: {exc}") from None


def _fail(message: str, status: int = 400) -> web.Response:
    return json_response({"error": message}, status=status)


def state_of(portal: Portal) -> dict[str, Any]:
    store = portal.store
    folders = store.tree.all_folders()
    people = {p.id: p for p in store.people.all()}
    return {
        "owner": {"id": portal.seed.owner_id, "email": portal.seed.owner_email},
        "templatesRoomId": portal.seed.templates_room_id,
        "templateIds": portal.seed.template_ids,
        "rooms": [
            {"id": f.id, "title": f.title, "roomType": f.room_type, "tags": list(f.tags),
             "createdBy": f.created_by, "archived": f.parent_id == 2}
            for f in folders if f.is_room
        ],
        "folders": [
            {"id": f.id, "parentId": f.parent_id, "roomId": f.room_id, "title": f.title}
            for f in folders if not f.is_room and not f.is_system
        ],
        "files": [
            {"id": f.id, "folderId": f.folder_id, "title": f.title, "size": f.size,
             "sourceId": f.source_id}
            for f in store.tree.all_files()
        ],
        "people": [
            {"id": p.id, "email": p.email, "firstName": p.first_name, "lastName": p.last_name,
             "type": p.type, "status": p.status, "activationStatus": p.activation,
             "isOwner": p.is_owner}
            for p in people.values()
        ],
        "shares": [
            {"roomId": s.room_id, "userId": s.user_id, "access": s.access,
             "email": people[s.user_id].email if s.user_id in people else None}
            for s in store.access.all_shares()
        ],
        "links": [
            {"id": k.id, "roomId": k.room_id, "linkType": k.link_type, "primary": k.primary,
             "subjectType": k.subject_type, "access": k.access, "title": k.title,
             "shareLink": portal.dtos.share_url(k.code)}
            for k in store.access.all_links()
        ],
    }


def _groups(keys: list[tuple[Any, ...]], ids: list[Any]) -> dict[tuple[Any, ...], list[Any]]:
    grouped: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for key, ident in zip(keys, ids, strict=True):
        grouped[key].append(ident)
    return {k: v for k, v in grouped.items() if len(v) > 1}


def audit_of(portal: Portal) -> dict[str, Any]:
    store = portal.store
    folders = store.tree.all_folders()
    rooms = [f for f in folders if f.is_room]
    plain = [f for f in folders if not f.is_room and not f.is_system]
    files = store.tree.all_files()
    mails = store.outbox.all()
    links = [k for k in store.access.all_links() if k.subject_type == enums.SUBJECT_EXTERNAL_LINK]
    invites = Counter((m.room_id, m.to.lower()) for m in mails if m.kind == ROOM_INVITATION)
    per_address: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mails:
        if m.kind in (ACTIVATION, INVITATION, ROOM_INVITATION):
            per_address[m.to.lower()][m.kind] += 1
    duplicates = {
        "rooms": [{"title": k[0], "ids": v}
                  for k, v in _groups([(r.title,) for r in rooms], [r.id for r in rooms]).items()],
        "folders": [{"parentId": k[0], "title": k[1], "ids": v} for k, v in _groups(
            [(f.parent_id, f.title) for f in plain], [f.id for f in plain]).items()],
        "files": [{"folderId": k[0], "title": k[1], "ids": v} for k, v in _groups(
            [(f.folder_id, f.title) for f in files], [f.id for f in files]).items()],
        "shares": [{"roomId": room, "email": to, "invitations": n}
                   for (room, to), n in invites.items() if n > 1],
        "links": [{"roomId": k[0], "title": k[1], "ids": v} for k, v in _groups(
            [(k.room_id, k.title) for k in links], [k.id for k in links]).items()],
        "mails": [{"email": to, "count": sum(kinds.values()), "kinds": dict(kinds)}
                  for to, kinds in per_address.items() if sum(kinds.values()) > 1],
    }
    people = store.people.all()
    counts = {
        "rooms": len(rooms), "folders": len(plain), "files": len(files),
        "people": len(people),
        "pendingPeople": sum(1 for p in people if p.status == enums.PENDING),
        "shares": len(store.access.all_shares()), "links": len(store.access.all_links()),
        "mails": len(mails), "mailsByKind": dict(Counter(m.kind for m in mails)),
    }
    return {"clean": not any(duplicates.values()), "duplicates": duplicates, "counts": counts,
            "seed": {"templatesRoomId": portal.seed.templates_room_id,
                     "templateIds": portal.seed.template_ids, "ownerId": portal.seed.owner_id}}


async def get_state(request: web.Request) -> web.Response:
    return json_response(state_of(portal_of(request)))


async def get_audit(request: web.Request) -> web.Response:
    return json_response(audit_of(portal_of(request)))


async def get_outbox(request: web.Request) -> web.Response:
    portal = portal_of(request)
    to = request.query.get("to", "").strip().lower()
    kind = request.query.get("kind", "").strip()
    mails = [
        {"seq": m.seq, "to": m.to, "kind": m.kind, "roomId": m.room_id, "userId": m.user_id,
         "subject": m.subject, "message": m.message, "link": m.link, "culture": m.culture,
         "time": api_datetime(m.time)}
        for m in portal.store.outbox.all()
        if (not to or m.to.lower() == to) and (not kind or m.kind == kind)
    ]
    return json_response({"count": len(mails), "mails": mails})


def requests_of(portal: Portal) -> dict[str, Any]:
    stats = portal.stats
    return {
        "total": stats.total,
        "byRoute": dict(stats.by_route),
        "byStatus": dict(stats.by_status),
        "rejected": dict(portal.limiter.rejections),
        "faults": dict(portal.faults.injected),
        "dropped": stats.dropped,
        "unauthenticated": stats.unauthenticated,
        "peakInflight": dict(portal.limiter.peak_inflight),
    }


async def get_requests(request: web.Request) -> web.Response:
    return json_response(requests_of(portal_of(request)))


async def clear_requests(request: web.Request) -> web.Response:
    portal = portal_of(request)
    portal.stats.reset()
    portal.limiter.rejections = dict.fromkeys(portal.limiter.rejections, 0)
    portal.limiter.peak_inflight = dict.fromkeys(portal.limiter.peak_inflight, 0)
    portal.faults.injected = dict.fromkeys(portal.faults.injected, 0)
    return json_response(requests_of(portal))


async def reset(request: web.Request) -> web.Response:
    portal = portal_of(request)
    portal.seed = portal.store.reset(portal.now())
    portal.restore_runtime_settings()
    return json_response({
        "token": portal.seed.token, "ownerEmail": portal.seed.owner_email,
        "templatesRoomId": portal.seed.templates_room_id,
        "templateIds": portal.seed.template_ids,
    })


async def faults(request: web.Request) -> web.Response:
    portal = portal_of(request)
    if request.method == "POST":
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                raise AdminError("body must be an object")
            portal.faults.configure(body)
        except (AdminError, FaultSpecError) as exc:
            return _fail(str(exc))
    return json_response(portal.faults.as_json())


LIMIT_FIELDS = {
    "enabled": ("enabled", bool), "windowlimit": ("window_limit", int),
    "windowseconds": ("window_seconds", float), "maxgetinflight": ("max_get_inflight", int),
    "maxwriteinflight": ("max_write_inflight", int),
    "dailywritelimit": ("daily_write_limit", int),
    "dailywindowseconds": ("daily_window_seconds", float),
}


async def limits(request: web.Request) -> web.Response:
    portal = portal_of(request)
    if request.method == "POST":
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                raise AdminError("body must be an object")
            updates: dict[str, Any] = {}
            for key, value in body.items():
                normal = key.replace("_", "").lower()
                if normal == "resetcounters":
                    continue
                if normal not in LIMIT_FIELDS:
                    raise AdminError(f"unknown limit {key!r}")
                attr, kind = LIMIT_FIELDS[normal]
                if kind is bool:
                    if not isinstance(value, bool):
                        raise AdminError(f"{key} must be true or false")
                elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise AdminError(f"{key} must be a positive number")
                updates[attr] = kind(value)
        except AdminError as exc:
            return _fail(str(exc))
        for attr, value in updates.items():
            setattr(portal.limiter.settings, attr, value)
        if body.get("resetCounters") or body.get("reset_counters"):
            portal.limiter.reset()
    return json_response({"settings": portal.limiter.settings.as_json(),
                          "usage": portal.limiter.usage(),
                          "rejected": dict(portal.limiter.rejections)})


def _person_spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise AdminError("each person must be an object")
    email = str(spec.get("email", "")).strip()
    if not valid_email(email):
        raise AdminError(f"invalid email {email!r}")
    try:
        kind = stored_type(enums.parse_string_enum(
            "EmployeeType", enums.EMPLOYEE_TYPE, spec.get("type", enums.USER)))
        status = enums.parse_string_enum(
            "EmployeeStatus", enums.EMPLOYEE_STATUS, spec.get("status", enums.ACTIVE))
        activation = enums.parse_string_enum(
            "EmployeeActivationStatus", enums.ACTIVATION_STATUS,
            spec.get("activationStatus",
                     enums.ACTIVATION_PENDING if status == enums.PENDING else enums.ACTIVATED))
    except enums.EnumParseError as exc:
        raise AdminError(str(exc)) from None
    if kind not in enums.TYPE_RANK or status not in (enums.ACTIVE, enums.TERMINATED,
                                                      enums.PENDING):
        raise AdminError(f"unsupported type/status for {email}")
    local = email.split("@", 1)[0]
    return {
        "email": email, "first_name": str(spec.get("firstName", local.title())),
        "last_name": str(spec.get("lastName", "")), "type": kind, "status": status,
        "activation": activation, "password": spec.get("password"),
        "culture": spec.get("cultureName"),
    }


async def add_people(request: web.Request) -> web.Response:
    portal = portal_of(request)
    try:
        body = await _json(request)
        items = body.get("people") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise AdminError("send a list of people, or {\"people\": [...]}")
        specs = [_person_spec(item) for item in items]
        emails = [s["email"].lower() for s in specs]
        if len(set(emails)) != len(emails):
            raise AdminError("the same e-mail appears twice")
    except AdminError as exc:
        return _fail(str(exc))
    taken = [e for e in emails if portal.store.people.by_email(e) is not None]
    if taken:
        return _fail(f"already registered: {', '.join(taken)}", status=409)
    with portal.store.transaction():
        created = [portal.store.people.add(now=portal.now(), created_by=portal.seed.owner_id,
                                           **spec) for spec in specs]
    return json_response({"people": [portal.dtos.employee_full(p) for p in created]})


async def share_landing(request: web.Request) -> web.Response:
    portal = portal_of(request)
    link = portal.store.access.link_by_code(request.match_info["code"])
    room = portal.store.tree.folder(link.room_id) if link else None
    if link is None or room is None:
        return web.Response(status=404)
    page = f"<html><body><h1>{html.escape(room.title)}</h1><p>{html.escape(link.title)}</p>"
    return web.Response(text=page + "</body></html>", content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/state", get_state)
    app.router.add_get("/sandbox/audit", get_audit)
    app.router.add_get("/sandbox/outbox", get_outbox)
    app.router.add_get("/sandbox/requests", get_requests)
    app.router.add_delete("/sandbox/requests", clear_requests)
    app.router.add_post("/sandbox/reset", reset)
    app.router.add_route("GET", "/sandbox/faults", faults)
    app.router.add_route("POST", "/sandbox/faults", faults)
    app.router.add_route("GET", "/sandbox/limits", limits)
    app.router.add_route("POST", "/sandbox/limits", limits)
    app.router.add_post("/sandbox/people", add_people)
    app.router.add_get("/s/{code}", share_landing)
