"""Sandbox-only endpoints under /sandbox/: no auth, not rate limited, not faulted, not
counted. Plain JSON (no DocSpace envelope); a refused body answers 400 {"error": "..."}.

GET  /sandbox/state      {owner:{id,email}, templatesRoomId, templateIds, rooms:[{id,title,
                          roomType,tags,createdBy,archived}], folders:[{id,parentId,roomId,title}],
                          files:[{id,folderId,title,size,sourceId}], people:[{id,email,firstName,
                          lastName,type,status,activationStatus,isOwner}], shares:[{roomId,userId,
                          email,access}], links:[{id,roomId,linkType,primary,subjectType,access,
                          title,shareLink}]}
GET  /sandbox/outbox     ?to=&kind= → {count, mails:[{seq,to,kind,roomId,userId,subject,message,
                          link,culture,time}]}; kind: activation | invitation | room_invitation |
                          room_notification | type_changed
GET  /sandbox/audit      {clean, duplicates:{rooms:[{title,ids}], folders:[{parentId,title,ids}],
                          files:[{folderId,title,ids}], shares:[{roomId,email,invitations}],
                          links:[{roomId,title,ids}], mails:[{email,count,kinds}]},
                          counts:{rooms,folders,files,people,pendingPeople,shares,links,mails,
                          mailsByKind}, seed:{templatesRoomId,templateIds,ownerId}}
GET  /sandbox/requests   {total, byRoute:{"POST /api/2.0/files/rooms": n}, byStatus:{"200": n},
                          rejected:{window,concurrency,daily}, faults:{5xx,drop,ambiguous_502,
                          ambiguous_drop,429,delay,late_drop,late_timeout}, dropped,
                          appliedLate, unauthenticated,
                          peakInflight:{GET,write}}
DELETE /sandbox/requests  zero those counters → the same shape
POST /sandbox/reset      back to the seeded portal (same owner, token, password; limits, fault
                          rates, script and counters back to the configuration)
                          → {token, ownerEmail, templatesRoomId, templateIds}
GET|POST /sandbox/faults {rates:{5xx,drop,ambiguous,latency_ms,jitter_ms}, script:[{fault,
                          method,path,regex,times,skip,status,retry_after,ms}], seed, append,
                          clear} → {rates, script (pending rules), injected} (see faults.py)
GET|POST /sandbox/limits {enabled, windowLimit, windowSeconds, maxGetInflight,
                          maxWriteInflight, dailyWriteLimit, dailyWindowSeconds, resetCounters}
                          → {settings, usage:{partition:{windowCount,getInflight,writeInflight,
                          dailyCount,dailyResetAt}}, rejected}
POST /sandbox/people     [{email, firstName?, lastName?, type? (name|int, default User),
                          status? (Active|Pending|Terminated), activationStatus?, password?,
                          cultureName?}] or {people:[...]} → {people:[EmployeeFullDto]}; no mail;
                          an address already registered → 409
DELETE /sandbox/rooms/{id}  the room, its folders, files, members and links removed, as when
                          someone deletes it in DocSpace and empties the trash → {deleted}
POST /sandbox/people/accept  {"email"} → {person: EmployeeFullDto}: the person follows their
                          invitation's join link and sets a password, as a person does in the
                          browser: status Active, activationStatus Activated (1); no mail;
                          unknown address → 404, disabled → 409
POST /sandbox/templates {roomId, title, ownerEmail?} → {id, title}: a room template made from
                          the room at once (see templates.py)
GET  /sandbox/templates  {version, started, dropped, rooms, record}: room-from-template jobs
                          run, requests dropped while one ran, the rooms made, the job record
GET  /s/{code}           a room link's landing page (404 for unknown codes)
/sandbox/webhook         a webhook receiver standing in for a CRM (see webhooks.py); reset
                          forgets its deliveries and scripted failures too
"""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

from bulk_onboard.sandbox import enums
from bulk_onboard.sandbox.audit import audit_of, requests_of, state_of
from bulk_onboard.sandbox.envelopes import api_datetime, json_response
from bulk_onboard.sandbox.faults import FaultSpecError
from bulk_onboard.sandbox.portal import portal_of
from bulk_onboard.sandbox.routes.people import stored_type, valid_email
from bulk_onboard.sandbox.webhooks import WEBHOOKS


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


async def get_state(request: web.Request) -> web.Response:
    return json_response(state_of(portal_of(request)))


async def get_audit(request: web.Request) -> web.Response:
    return json_response(audit_of(portal_of(request)))


async def get_outbox(request: web.Request) -> web.Response:
    portal = portal_of(request)
    to = request.query.get("to", "").strip().lower()
    kind = request.query.get("kind", "").strip()
    mails = [
        {
            "seq": m.seq,
            "to": m.to,
            "kind": m.kind,
            "roomId": m.room_id,
            "userId": m.user_id,
            "subject": m.subject,
            "message": m.message,
            "link": m.link,
            "culture": m.culture,
            "time": api_datetime(m.time),
        }
        for m in portal.store.outbox.all()
        if (not to or m.to.lower() == to) and (not kind or m.kind == kind)
    ]
    return json_response({"count": len(mails), "mails": mails})


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
    request.app[WEBHOOKS].reset()
    return json_response(
        {
            "token": portal.seed.token,
            "ownerEmail": portal.seed.owner_email,
            "templatesRoomId": portal.seed.templates_room_id,
            "templateIds": portal.seed.template_ids,
        }
    )


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
    "enabled": ("enabled", bool),
    "windowlimit": ("window_limit", int),
    "windowseconds": ("window_seconds", float),
    "maxgetinflight": ("max_get_inflight", int),
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
    return json_response(
        {
            "settings": portal.limiter.settings.as_json(),
            "usage": portal.limiter.usage(),
            "rejected": dict(portal.limiter.rejections),
        }
    )


def _person_spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise AdminError("each person must be an object")
    email = str(spec.get("email", "")).strip()
    if not valid_email(email):
        raise AdminError(f"invalid email {email!r}")
    try:
        kind = stored_type(
            enums.parse_string_enum(
                "EmployeeType", enums.EMPLOYEE_TYPE, spec.get("type", enums.USER)
            )
        )
        status = enums.parse_string_enum(
            "EmployeeStatus", enums.EMPLOYEE_STATUS, spec.get("status", enums.ACTIVE)
        )
        activation = enums.parse_string_enum(
            "EmployeeActivationStatus",
            enums.ACTIVATION_STATUS,
            spec.get(
                "activationStatus",
                enums.ACTIVATION_PENDING if status == enums.PENDING else enums.ACTIVATED,
            ),
        )
    except enums.EnumParseError as exc:
        raise AdminError(str(exc)) from None
    if kind not in enums.TYPE_RANK or status not in (enums.ACTIVE, enums.TERMINATED, enums.PENDING):
        raise AdminError(f"unsupported type/status for {email}")
    local = email.split("@", 1)[0]
    return {
        "email": email,
        "first_name": str(spec.get("firstName", local.title())),
        "last_name": str(spec.get("lastName", "")),
        "type": kind,
        "status": status,
        "activation": activation,
        "password": spec.get("password"),
        "culture": spec.get("cultureName"),
    }


async def delete_room(request: web.Request) -> web.Response:
    """A room someone deleted in DocSpace (and emptied the trash): gone with all it held."""
    portal = portal_of(request)
    room_id = int(request.match_info["id"])
    if not portal.store.tree.delete_room(room_id):
        return _fail(f"no room {room_id}")
    return web.json_response({"deleted": room_id})


async def add_people(request: web.Request) -> web.Response:
    portal = portal_of(request)
    try:
        body = await _json(request)
        items = body.get("people") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise AdminError('send a list of people, or {"people": [...]}')
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
        created = [
            portal.store.people.add(now=portal.now(), created_by=portal.seed.owner_id, **spec)
            for spec in specs
        ]
    return json_response({"people": [portal.dtos.employee_full(p) for p in created]})


async def accept_invitation(request: web.Request) -> web.Response:
    portal = portal_of(request)
    try:
        body = await _json(request)
        email = str(body.get("email", "")).strip() if isinstance(body, dict) else ""
        if not email:
            raise AdminError('send {"email": "<the invited address>"}')
    except AdminError as exc:
        return _fail(str(exc))
    person = portal.store.people.by_email(email)
    if person is None:
        return _fail(f"no person has the address {email}", status=404)
    if person.status == enums.TERMINATED:
        return _fail(f"{email} is disabled and cannot accept", status=409)
    with portal.store.transaction():
        portal.store.people.set_status(person.id, enums.ACTIVE)
        portal.store.people.set_activation(person.id, enums.ACTIVATED)
    accepted = portal.store.people.get(person.id)
    assert accepted is not None
    return json_response({"person": portal.dtos.employee_full(accepted)})


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
    app.router.add_delete(r"/sandbox/rooms/{id:\d+}", delete_room)
    app.router.add_post("/sandbox/people/accept", accept_invitation)
    app.router.add_get("/s/{code}", share_landing)
